// Restore: stream a backup from storage through decryption and decompression into one MariaDB server.
// Galera-awareness (restore one member, bootstrap it, let the others SST) is the chart's job; this restores
// into the one server it is given. Point-in-time recovery hooks in after the dump is loaded.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError, messageOf } from '../util/errors.js';
import type { Progress, Step } from '../util/progress.js';
import { mib } from './backup.js';
import { findBackup } from './catalog.js';
import { startChild } from './child.js';
import {
  checksumAlgorithmOf,
  clientArgs,
  clientEnv,
  connect,
  describeTarget,
  tableStats,
  type ChecksumAlgorithm,
  type DbTarget,
} from './db.js';
import { BackupIntegrityError, DecryptStream, type EncryptionKey } from './encrypt.js';
import { compareTables, type Manifest, type TableStat } from './manifest.js';
import type { ObjectStore } from '../s3/object-store.js';

/**
 * Where a physical backup is restored to (an empty directory that becomes the datadir); --datadir on the command line.
 */
export const RESTORE_DATADIR_ENV = 'KSTACK_DR_RESTORE_DATADIR';

/** Counts and hashes the stored bytes, and fails the stream at its end when they differ from the manifest. */
class StoredObjectCheck extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  constructor(private readonly manifest: Manifest) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    const m = this.manifest;
    if (this.bytes !== m.object.bytes) {
      done(
        new BackupIntegrityError(
          `backup ${m.id}: the stored dump has ${this.bytes} bytes, the manifest says ${m.object.bytes}: ` +
            `it is ${this.bytes < m.object.bytes ? 'truncated' : 'corrupted'}; use another backup`,
        ),
      );
      return;
    }
    const sum = this.hash.digest('hex');
    if (sum !== m.object.sha256) {
      done(
        new BackupIntegrityError(
          `backup ${m.id}: the stored dump's sha256 is ${sum}, the manifest ` +
            `says ${m.object.sha256}: it is corrupted; use another backup`,
        ),
      );
      return;
    }
    done();
  }
}

/** Fails early with a clear message when the key cannot be the backup's key. */
export function checkKey(manifest: Manifest, key: EncryptionKey): void {
  if (manifest.object.encryption.keyId !== key.id) {
    throw new BackupIntegrityError(
      `backup ${manifest.id} was encrypted with key id ${manifest.object.encryption.keyId}, but ` +
        `the key given has id ${key.id}: wrong encryption key; use the key the backup was made with`,
    );
  }
}

/**
 * Reads the whole stored object and checks its size and sha256 against the manifest, keeping nothing:
 * a restore into a real server checks first, so a damaged backup never half-applies.
 */
export async function checkStoredObject(store: ObjectStore, manifest: Manifest, step?: Step): Promise<void> {
  const src = await store.getStream(manifest.object.key);
  const check = new StoredObjectCheck(manifest);
  await pipeline(src, check, async (s: AsyncIterable<Buffer>) => {
    for await (const _ of s) step?.detail(`checked ${mib(check.bytes)} of ${mib(manifest.object.bytes)}`);
  });
}

/** The program a stored backup is streamed into, and the words its progress and failure use. */
export interface BackupConsumer {
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  what: string;
  /** Progress verb ("loaded", "extracted"). */
  progressVerb: string;
  /** Prefix of a failure message ("restoring backup X into Y"). */
  failure: string;
}

/**
 * Streams a stored backup object into a program: storage → size/sha256 check → decrypt → zstd -d → the
 * program's stdin. zstd's stdout is handed to the program directly, so the plain bytes never pass through Node.
 */
export async function streamBackupInto(
  store: ObjectStore,
  manifest: Manifest,
  key: EncryptionKey,
  consumer: BackupConsumer,
  step?: Step,
): Promise<void> {
  checkKey(manifest, key);
  const src = await store.getStream(manifest.object.key);
  const check = new StoredObjectCheck(manifest);
  const decrypt = new DecryptStream(key, `backup ${manifest.id}`);
  const zstd = startChild('zstd', ['-q', '-d', '-c'], { what: 'zstd -d' });
  const zin = zstd.proc.stdin;
  const zout = zstd.proc.stdout;
  if (!zin || !zout) throw new Error('zstd has no stdin/stdout pipe');
  const program = startChild(consumer.cmd, consumer.args, {
    env: consumer.env,
    stdin: zout,
    stdout: 'ignore',
    what: consumer.what,
  });
  const ticker = setInterval(() => {
    step?.detail(`${consumer.progressVerb} ${mib(check.bytes)} of ${mib(manifest.object.bytes)}`);
  }, 1000);
  try {
    const parts = [program.exited, zstd.exited, pipeline(src, check, decrypt, zin)];
    // Once anything fails, stop the rest so nothing waits forever on a pipe.
    for (const p of parts)
      p.catch(() => {
        program.kill();
        zstd.kill();
        src.destroy();
      });
    const settled = await Promise.allSettled(parts);
    // The cause comes first: an integrity error, then the program's
    // own error, then zstd; broken pipes are consequences.
    const failed = settled
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as unknown);
    const cause = failed.find((e) => e instanceof UserError) ?? failed[0];
    if (cause !== undefined) {
      if (cause instanceof UserError) throw cause;
      throw new UserError(`${consumer.failure} failed: ${messageOf(cause)}`);
    }
  } finally {
    clearInterval(ticker);
  }
}

/** Streams the backup into the server: storage → size/sha256 check → decrypt → zstd -d → mariadb. */
export async function loadDump(
  store: ObjectStore,
  manifest: Manifest,
  key: EncryptionKey,
  target: DbTarget,
  step?: Step,
): Promise<void> {
  await streamBackupInto(
    store,
    manifest,
    key,
    {
      cmd: 'mariadb',
      args: [...clientArgs(target), '--binary-mode', '--max-allowed-packet=1G'],
      env: clientEnv(target),
      what: `mariadb (loading into ${describeTarget(target)})`,
      progressVerb: 'loaded',
      failure: `restoring backup ${manifest.id} into ${describeTarget(target)}`,
    },
    step,
  );
}

/** The databases a manifest covers. */
export function manifestDatabases(manifest: Manifest): string[] {
  return [...new Set(Object.keys(manifest.tables).map((t) => t.slice(0, t.indexOf('.'))))].sort();
}

/** The checksum algorithm a manifest's tables were recorded with (one per backup). */
export function manifestChecksumAlgorithm(manifest: Manifest): ChecksumAlgorithm {
  const recorded = Object.values(manifest.tables).find((t) => t.checksum !== '');
  return recorded ? checksumAlgorithmOf(recorded.checksum) : 'none';
}

/** Row counts and checksums of the restored tables, compared with the manifest: [] when they agree. */
export async function compareWithManifest(
  target: DbTarget,
  manifest: Manifest,
): Promise<{ problems: string[]; actual: Record<string, TableStat> }> {
  const conn = await connect(target);
  try {
    const actual = await tableStats(conn, manifestDatabases(manifest), manifestChecksumAlgorithm(manifest));
    return { problems: compareTables(manifest.tables, actual), actual };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

export interface RestoreOptions {
  store: ObjectStore;
  key: EncryptionKey;
  target: DbTarget;
  progress: Progress;
  /** A backup id; the newest complete backup when undefined. */
  backupId?: string;
  /** The manifest, when the caller has already read it (then backupId is not looked up again). */
  manifest?: Manifest;
  /** Check size and sha256 of the stored object before touching the server (default true). */
  precheck?: boolean;
  /**
   * Point-in-time recovery: runs after the dump is loaded, with the position the dump ends at
   * (manifest.position); applies binlogs from there up to a timestamp or GTID.
   */
  afterDump?: (ctx: { manifest: Manifest; target: DbTarget; progress: Progress }) => Promise<void>;
}

export interface RestoreResult {
  manifest: Manifest;
  durationMs: number;
  /**
   * Differences between the restored tables and the manifest (checked only without afterDump: PITR changes the data).
   */
  problems: string[];
}

/**
 * Restores a backup into one server: the databases in the backup are dropped and recreated from it
 * (other databases are left alone), then the PITR hook runs, if any.
 */
export async function runRestore(opts: RestoreOptions): Promise<RestoreResult> {
  const t0 = performance.now();
  const manifest = opts.manifest ?? (await findBackup(opts.store, opts.backupId));
  if (manifest.kind === 'physical')
    throw new UserError(
      `backup ${manifest.id} is a physical backup (the server's files); restore it into an ` +
        `empty datadir with --datadir DIR (or ${RESTORE_DATADIR_ENV}) and start mariadbd on it`,
    );
  checkKey(manifest, opts.key);
  if (opts.precheck ?? true) {
    await opts.progress.step(
      `check backup ${manifest.id} (${mib(manifest.object.bytes)}) against its manifest`,
      (step) => checkStoredObject(opts.store, manifest, step),
    );
  }
  await opts.progress.step(`restore backup ${manifest.id} into ${describeTarget(opts.target)}`, (step) =>
    loadDump(opts.store, manifest, opts.key, opts.target, step),
  );
  let problems: string[] = [];
  if (opts.afterDump) {
    const hook = opts.afterDump;
    await opts.progress.step(`point-in-time recovery from ${manifest.position.gtid || 'the dump position'}`, () =>
      hook({ manifest, target: opts.target, progress: opts.progress }),
    );
  } else {
    problems = await opts.progress.step(
      'compare row counts and checksums with the manifest',
      async () => (await compareWithManifest(opts.target, manifest)).problems,
    );
    if (problems.length > 0)
      throw new UserError(
        `backup ${manifest.id} was loaded but does not match its manifest: ${problems.slice(0, 5).join('; ')}`,
      );
  }
  return { manifest, durationMs: Math.round(performance.now() - t0), problems };
}
