// Integration tests run real programs. When one is not installed the test FAILS, naming what is missing
// and what installs it: under `npm test` nothing skips (a skipped test would look green).
import { existsSync } from 'node:fs';
import { before } from 'node:test';

export const GALERA_LIBRARY = '/usr/lib/galera/libgalera_smm.so';

/** The files of `paths` that do not exist. */
export function missingFiles(paths: readonly string[]): string[] {
  return paths.filter((p) => !existsSync(p));
}

/** Call first inside a describe: its tests fail (in a before hook) naming each missing file. */
export function requireFiles(
  paths: readonly string[],
  hint = "run './kstack setup' (it installs the Debian packages the tests use)",
): void {
  before(() => {
    const missing = missingFiles(paths);
    if (missing.length) throw new Error(`not installed: ${missing.join(', ')}; ${hint}`);
  });
}
