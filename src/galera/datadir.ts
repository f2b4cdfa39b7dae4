// A new data dir appears all at once or not at all. mariadb-install-db can fail or be killed half-way
// (a pod evicted, a temporary table lost); what it left behind must never look like an initialised data
// dir, or the next start runs a server without system tables or accounts that nobody can log in to. So it
// writes into a staging folder inside the data dir (the same filesystem: a PVC's root cannot be replaced),
// and its entries are moved into place afterwards, `mysql` last: that folder is what marks a data dir as
// initialised (isInitialised).
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Where mariadb-install-db writes, inside the data dir; never present while mariadbd runs. */
export const STAGING_DIR = '.kstack-init';
/** The system database: present only in a data dir whose initialisation finished. */
const MARKER = 'mysql';

/**
 * mariadb-install-db's arguments for a new data dir: root@localhost logs in by password (set by whoever
 * starts the server next), no test database. `user`: the owner of the files when we are root (as non-root
 * the files are simply ours). Its own tmpdir: every mariadbd that starts deletes all `#sql*` files in its
 * tmpdir, so in a shared one another server's start destroys the install's temporary tables.
 */
export function installDbArgs(dataDir: string, tmpDir: string, user: string | undefined): string[] {
  return [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--tmpdir=${tmpDir}`,
    ...(user ? [`--user=${user}`] : []),
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
  ];
}

export function isInitialised(dataDir: string): boolean {
  return existsSync(join(dataDir, MARKER));
}

/** What an interrupted initialisation left: nothing in it is worth keeping. */
export function removeStaging(dataDir: string): void {
  rmSync(join(dataDir, STAGING_DIR), { recursive: true, force: true });
}

/** The order entries are moved in: the marker last, so a crash in between leaves an uninitialised dir. */
export function moveOrder(entries: readonly string[]): string[] {
  return [...entries.filter((e) => e !== MARKER).sort(), ...(entries.includes(MARKER) ? [MARKER] : [])];
}

/**
 * Runs `install(stagingDir)` and moves its result into `dataDir`. An entry of the same name already in the
 * data dir (left by an earlier interrupted attempt: the data dir has no system database, so it is no
 * database) is replaced. Throws, leaving the data dir uninitialised, when the install fails or writes no
 * system database.
 */
export async function initialiseStaged(dataDir: string, install: (stagingDir: string) => Promise<void>): Promise<void> {
  if (isInitialised(dataDir)) throw new Error(`${dataDir} is already initialised`);
  removeStaging(dataDir);
  const staging = join(dataDir, STAGING_DIR);
  try {
    await install(staging);
    const entries = readdirSync(staging);
    if (!entries.includes(MARKER))
      throw new Error(`the data dir initialisation wrote no '${MARKER}' system database into ${staging}`);
    for (const entry of moveOrder(entries)) {
      const target = join(dataDir, entry);
      rmSync(target, { recursive: true, force: true });
      renameSync(join(staging, entry), target);
    }
  } finally {
    removeStaging(dataDir);
  }
}
