import { run } from '../util/exec.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import {
  aptFailure,
  installedFromDpkgQuery,
  unavailableMessage,
  updateProblems,
  withoutCandidate,
} from './apt-output.js';

// apt's output is parsed, so it must not be translated; the options bound how long an unreachable
// package index can hold a command up (no retries, short timeouts) and wait for another apt's lock.
const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
const APT_OPTIONS = [
  '-o',
  'Acquire::Retries=0',
  '-o',
  'Acquire::http::Timeout=20',
  '-o',
  'Acquire::https::Timeout=20',
  '-o',
  'DPkg::Lock::Timeout=120',
];

/** Which of `packages` dpkg does not report as installed. */
export async function missingDebianPackages(packages: readonly string[]): Promise<string[]> {
  if (packages.length === 0) return [];
  const res = await run('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...packages], {
    allowFailure: true,
    env: APT_ENV,
  });
  const installed = installedFromDpkgQuery(res.stdout);
  return packages.filter((p) => !installed.has(p.split(':')[0] ?? p));
}

/**
 * Installs the Debian packages that are missing; does nothing (and needs no root) when all are there.
 * Before installing it asks apt whether every one of them can be had, so an unreachable package index
 * or a name no source serves stops the command at once with one line, not halfway through.
 */
export async function ensureDebianPackages(packages: readonly string[], progress: Progress): Promise<void> {
  const missing = await missingDebianPackages(packages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new UserError(
      `missing Debian packages: ${missing.join(' ')}; run 'sudo apt-get ` +
        `install -y ${missing.join(' ')}' (or run kstack as root) and try again`,
    );
  }
  await progress.step(`install Debian packages: ${missing.join(' ')}`, async (step) => {
    step.detail('apt-get update');
    const update = await run('apt-get', [...APT_OPTIONS, 'update', '-q'], {
      env: APT_ENV,
      allowFailure: true,
      timeoutMs: 180_000,
    });
    const problems = updateProblems(`${update.stdout}\n${update.stderr}`);
    if (update.code !== 0 && problems.length === 0) problems.push(`apt-get update exited with ${update.code}`);
    const policy = await run('apt-cache', ['policy', ...missing], { env: APT_ENV, allowFailure: true });
    const unavailable = withoutCandidate(policy.stdout, missing);
    if (unavailable.length) throw new UserError(unavailableMessage(unavailable, problems));
    step.detail('apt-get install');
    const install = await run(
      'apt-get',
      [...APT_OPTIONS, 'install', '-y', '-q', '--no-install-recommends', ...missing],
      { env: APT_ENV, allowFailure: true },
    );
    if (install.code !== 0) {
      throw new UserError(
        `apt-get install ${missing.join(' ')} failed: ${aptFailure(`${install.stdout}\n${install.stderr}`)}; ` +
          `fix that, then run 'apt-get install -y ${missing.join(' ')}' and try again`,
      );
    }
  });
}
