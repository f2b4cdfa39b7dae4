import { run } from '../util/exec.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';

/** Which of `packages` dpkg does not report as installed. */
export async function missingDebianPackages(packages: readonly string[]): Promise<string[]> {
  if (packages.length === 0) return [];
  const res = await run('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...packages], { allowFailure: true });
  const installed = new Set(
    res.stdout.split('\n').filter((l) => l.endsWith(' installed')).map((l) => l.split(' ')[0] ?? ''),
  );
  return packages.filter((p) => !installed.has(p.split(':')[0] ?? p));
}

/** Installs the Debian packages that are missing; does nothing (and needs no root) when all are there. */
export async function ensureDebianPackages(packages: readonly string[], progress: Progress): Promise<void> {
  const missing = await missingDebianPackages(packages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new UserError(`missing Debian packages: ${missing.join(' ')}; run 'sudo apt-get install -y ${missing.join(' ')}' (or run kstack as root) and try again`);
  }
  await progress.step(`install Debian packages: ${missing.join(' ')}`, async (step) => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    step.detail('apt-get update');
    await run('apt-get', ['update', '-q'], { env });
    step.detail('apt-get install');
    await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
  });
}
