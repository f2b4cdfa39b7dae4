// Verify: every backup proves it restores. Download the newest (or a given) backup, load it into a
// throw-away mariadbd (a physical one: extract and prepare its files, start the throw-away mariadbd on
// them), compare row counts and checksums with the manifest, and record the outcome next to the manifest
// (verification.json; its verifiedAt is backup_verified_timestamp).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError, messageOf } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { VERIFICATION_OBJECT, backupKey } from './backup.js';
import { findBackup } from './catalog.js';
import type { DbTarget } from './db.js';
import type { EncryptionKey } from './encrypt.js';
import { parseVerification, type Verification } from './manifest.js';
import { extractPhysical, prepareDatadir, startOnCopy } from './physical.js';
import { checkKey, compareWithManifest, loadDump } from './restore.js';
import type { ObjectStore } from '../s3/object-store.js';
import { ScratchDb } from './scratch-db.js';

export interface VerifyOptions {
  store: ObjectStore;
  key: EncryptionKey;
  progress: Progress;
  backupId?: string;
  /** Where the throw-away server's folder goes (default: the system temp dir). */
  workDir?: string;
  now?: () => Date;
}

/**
 * Verifies one backup and records the result. Resolves with the record when the backup is good; throws a
 * UserError (after recording the failure) when it is truncated, corrupted, wrongly keyed or does not match.
 */
export async function runVerify(opts: VerifyOptions): Promise<Verification> {
  const now = opts.now ?? (() => new Date());
  const manifest = await findBackup(opts.store, opts.backupId);
  const t0 = performance.now();
  const record = async (ok: boolean, problems: string[], restoredInto: string): Promise<Verification> => {
    const v = parseVerification({
      format: 1,
      backupId: manifest.id,
      ok,
      verifiedAt: now().toISOString(),
      durationMs: Math.round(performance.now() - t0),
      restoredInto,
      problems,
    });
    await opts.store.putBytes(
      backupKey(opts.store, manifest.id, VERIFICATION_OBJECT),
      `${JSON.stringify(v, null, 2)}\n`,
    );
    return v;
  };
  // A key that is not the backup's key is a configuration problem, not a bad backup: it fails loudly
  // but does not overwrite what an earlier verification with the right key found.
  try {
    checkKey(manifest, opts.key);
  } catch (err) {
    throw new UserError(`backup ${manifest.id} FAILED verification: ${messageOf(err)}`);
  }
  let scratch: ScratchDb | undefined;
  let copyDir: string | undefined;
  let restoredInto = 'a throw-away mariadbd';
  try {
    if (manifest.kind === 'physical') {
      // A physical backup is the server's files: extract and prepare them, then start the throw-away server on them.
      const dir = mkdtempSync(join(opts.workDir ?? tmpdir(), 'kstack-verify-'));
      copyDir = dir;
      chmodSync(dir, 0o755);
      await opts.progress.step(`download, check and extract backup ${manifest.id}`, (step) =>
        extractPhysical(opts.store, manifest, opts.key, join(dir, 'data'), step),
      );
      await opts.progress.step('prepare it (apply the redo log)', () => prepareDatadir(join(dir, 'data')));
      scratch = await opts.progress.step('start a throw-away mariadbd on it', () => startOnCopy(dir));
    } else {
      scratch = await opts.progress.step('start a throw-away mariadbd', () =>
        ScratchDb.start({ dir: mkdtempSync(join(opts.workDir ?? tmpdir(), 'kstack-verify-')) }),
      );
    }
    const conn = await scratch.connect();
    try {
      const [row] = await conn.query<{ v: string }[]>('SELECT @@version AS v');
      restoredInto = `throw-away mariadbd ${row?.v ?? '?'}`;
    } finally {
      await conn.end();
    }
    const target: DbTarget = { socket: scratch.socket, host: '', port: 0, user: 'root', password: '' };
    if (manifest.kind === 'logical')
      await opts.progress.step(`load backup ${manifest.id} into it`, (step) =>
        loadDump(opts.store, manifest, opts.key, target, step),
      );
    const { problems } = await opts.progress.step('compare row counts and checksums with the manifest', () =>
      compareWithManifest(target, manifest),
    );
    if (problems.length > 0) {
      await record(false, problems, restoredInto).catch(() => undefined);
      throw new UserError(
        `backup ${manifest.id} FAILED verification: ${problems.slice(0, 5).join('; ')}` +
          (problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''),
      );
    }
    return await record(true, [], restoredInto);
  } catch (err) {
    if (err instanceof UserError && err.message.includes('FAILED verification')) throw err;
    await record(false, [messageOf(err)], restoredInto).catch(() => undefined);
    throw new UserError(`backup ${manifest.id} FAILED verification: ${messageOf(err)}`);
  } finally {
    await scratch?.stop(true);
    if (copyDir) rmSync(copyDir, { recursive: true, force: true });
  }
}
