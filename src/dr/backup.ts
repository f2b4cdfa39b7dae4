// One logical backup: mariadb-dump → zstd → encryption → multipart upload, nothing staged on disk, with a
// manifest written last and only on success. The consistency design (why the counts and checksums in the
// manifest describe exactly the rows in the dump) is in docs/dr.md.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import type * as mariadb from 'mariadb';
import { UserError, messageOf } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { startChild, type StreamingChild } from './child.js';
import {
  clientArgs,
  clientEnv,
  connectOrExplain,
  describeTarget,
  tableStats,
  userDatabases,
  type DbTarget,
} from './db.js';
import { DEFAULT_FRAME_BYTES, type EncryptionKey } from './encrypt.js';
import { newBackupId, parseManifest, type Manifest } from './manifest.js';
import type { ObjectStore } from '../s3/object-store.js';
import { uploadSealed, type SealedObject } from './sealed-upload.js';

export const DUMP_OBJECT = 'dump.sql.zst.enc';
export const MANIFEST_OBJECT = 'manifest.json';
export const VERIFICATION_OBJECT = 'verification.json';

export function backupKey(store: ObjectStore, id: string, name: string): string {
  return store.key('backups', id, name);
}

export interface BackupOptions {
  db: DbTarget;
  store: ObjectStore;
  key: EncryptionKey;
  progress: Progress;
  /** Member name recorded in the manifest (pod name in the cluster). */
  member?: string;
  now?: () => Date;
  partSize?: number;
  frameBytes?: number;
  zstdLevel?: number;
  mariadbDump?: string;
  zstd?: string;
  /**
   * Per-table content checksums (default true). false records row counts only (checksum ''): the
   * checksum pass reads every row once more on the server, which costs as much CPU as the dump.
   */
  checksums?: boolean;
  /** Called with the bytes uploaded so far (progress for callers that show their own). */
  onUploaded?: (bytes: number) => void;
}

export interface DumpPosition {
  binlogFile: string;
  binlogPos: number;
}

/**
 * Reads the binlog position mariadb-dump --master-data=2 writes into the head of the dump
 * ("-- CHANGE MASTER TO MASTER_LOG_FILE='binlog.000001', MASTER_LOG_POS=1203;").
 */
export function parseDumpPosition(head: string): DumpPosition | undefined {
  const m = /^-- CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+);/m.exec(head);
  return m ? { binlogFile: m[1] ?? '', binlogPos: Number(m[2]) } : undefined;
}

/**
 * mariadb-dump --verbose writes "-- Setting savepoint..." to stderr once its transaction (and, with
 * --master-data, its binlog position) is taken, and "-- Retrieving table structure …" when it starts on the
 * first table: either means its snapshot exists and our read lock can go.
 */
export function dumpSnapshotTaken(stderrLine: string): boolean {
  return /^-- (Setting savepoint|Retrieving table structure)/.test(stderrLine);
}

/** mariadb-dump --verbose's progress lines: chatter, not errors. */
export const DUMP_VERBOSE_LINE = /^-- /;

/** zstd -vv's status lines: chatter, not errors. */
export const ZSTD_STATUS_LINE =
  /^(\*\*\* |--\w|Using std|Decompression will require|\/\*stdin\*\\\s*:\s*(\d|\(|Completed))/;

/** The exact sizes zstd -vv reports when it is done: "/*stdin*\ : 35.12% (1073741824 B => 377045678 B, …)". */
export function parseZstdSizes(line: string): { in: number; out: number } | undefined {
  const m = /\(\s*(\d+) B =>\s*(\d+) B/.exec(line);
  return m ? { in: Number(m[1]), out: Number(m[2]) } : undefined;
}

/** Keeps a copy of the first `limit` bytes that pass through. */
class KeepHead extends Transform {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    if (this.kept < this.limit) {
      const part = chunk.subarray(0, this.limit - this.kept);
      this.chunks.push(Buffer.from(part));
      this.kept += part.length;
    }
    done(null, chunk);
  }
  head(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/**
 * The first (up to) `limit` characters of the dump, decompressed from the start of zstd's output (a cut-off
 * stream decodes as far as it goes; zstd's complaint about the missing rest is expected and ignored).
 */
export async function decodeDumpHead(compressedHead: Buffer, zstdBin: string, limit = 1_000_000): Promise<string> {
  const child = spawn(zstdBin, ['-q', '-d', '-c'], { stdio: ['pipe', 'pipe', 'ignore'] });
  let text = '';
  const done = new Promise<void>((resolve) => {
    child.on('error', () => {
      resolve();
    });
    child.on('close', () => {
      resolve();
    });
  });
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    text += c;
    if (text.length >= limit) child.kill('SIGKILL');
  });
  child.stdin.on('error', () => undefined);
  child.stdin.end(compressedHead);
  await done;
  return text.slice(0, limit);
}

/** Bytes a running process has read so far (/proc/PID/io), for progress; undefined when unknown. */
function bytesReadBy(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^rchar:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function rate(bytes: number, ms: number): string {
  return `${(bytes / 1048576 / Math.max(ms / 1000, 0.001)).toFixed(1)} MiB/s`;
}

export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

interface Snapshot {
  conn: mariadb.Connection;
  gtid: string;
  binlog: DumpPosition | null;
  version: string;
  databases: string[];
}

/** Opens our snapshot session under a global read lock (released by the caller once the dump has its snapshot). */
async function openSnapshot(db: DbTarget): Promise<Snapshot> {
  const conn = await connectOrExplain(db);
  try {
    const [vars] = await conn.query<{ version: string; wsrep: string | null; logBin: number }[]>(
      'SELECT @@version AS version, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES ' +
        "WHERE VARIABLE_NAME = 'WSREP_ON') AS wsrep, @@log_bin AS logBin",
    );
    if (!vars) throw new Error('no answer to SELECT @@version');
    if (vars.wsrep === 'ON') {
      const st = await conn.query<{ Value: string }[]>("SHOW GLOBAL STATUS LIKE 'wsrep_local_state'");
      const state = st[0]?.Value;
      if (state !== '4')
        throw new UserError(
          `the member ${describeTarget(db)} is not Synced (wsrep_local_state=` +
            `${state ?? 'unknown'}, want 4); back up from a Synced member`,
        );
    }
    await conn.query('SET SESSION lock_wait_timeout = 60');
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const databases = await userDatabases(conn);
    if (databases.length === 0)
      throw new UserError(
        `the server ${describeTarget(db)} has no databases besides the system ones; nothing to back up`,
      );
    await conn.query('FLUSH TABLES WITH READ LOCK');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const [pos] = await conn.query<{ binlogPos: string; currentPos: string }[]>(
      'SELECT @@gtid_binlog_pos AS binlogPos, @@gtid_current_pos AS currentPos',
    );
    let binlog: DumpPosition | null = null;
    if (vars.logBin === 1) {
      const [ms] = await conn.query<{ File: string; Position: unknown }[]>('SHOW MASTER STATUS');
      if (ms) binlog = { binlogFile: ms.File, binlogPos: Number(ms.Position) };
    }
    return {
      conn,
      gtid: (vars.logBin === 1 ? pos?.binlogPos : pos?.currentPos) ?? '',
      binlog,
      version: vars.version,
      databases,
    };
  } catch (err) {
    await conn.end().catch(() => undefined);
    throw err;
  }
}

/** Takes one backup; returns its manifest. On failure nothing claims success and the error says what to do. */
export async function runBackup(opts: BackupOptions): Promise<Manifest> {
  const { store, progress } = opts;
  const now = opts.now ?? (() => new Date());
  const started = now();
  const t0 = performance.now();
  const id = newBackupId(started, randomBytes(3).toString('hex'));
  const dumpKey = backupKey(store, id, DUMP_OBJECT);
  const frameBytes = opts.frameBytes ?? DEFAULT_FRAME_BYTES;

  // Leftovers of runs that died while the storage was unreachable (their abort could not reach it).
  await store.abortUploads(store.key('backups') + '/', new Date(started.getTime() - 3600_000)).catch(() => 0);

  return progress.step(`backup ${id} → s3://${store.cfg.bucket}/${dumpKey}`, async (step) => {
    step.detail('taking the snapshot');
    const snap = await openSnapshot(opts.db);
    let locked = true;
    const unlock = async (): Promise<void> => {
      if (!locked) return;
      locked = false;
      await snap.conn.query('UNLOCK TABLES');
    };
    const children: StreamingChild[] = [];
    try {
      // The dump goes from mariadb-dump straight into zstd (one pipe, not through Node); Node sees only the
      // compressed stream. mariadb-dump's verbose stderr says when its snapshot exists.
      let unlockDone: Promise<void> = Promise.resolve();
      const dump = startChild(
        opts.mariadbDump ?? 'mariadb-dump',
        [
          ...clientArgs(opts.db),
          '--verbose',
          '--single-transaction',
          '--quick',
          '--routines',
          '--triggers',
          '--events',
          '--hex-blob',
          '--add-drop-database',
          ...(snap.binlog ? ['--master-data=2', '--gtid'] : []),
          '--databases',
          ...snap.databases,
        ],
        {
          env: clientEnv(opts.db),
          stdin: 'ignore',
          what: 'mariadb-dump',
          stderrNoise: DUMP_VERBOSE_LINE,
          onStderrLine: (line) => {
            if (locked && dumpSnapshotTaken(line)) unlockDone = unlock();
          },
        },
      );
      children.push(dump);
      const dumpOut = dump.proc.stdout;
      if (!dumpOut) throw new Error('mariadb-dump has no stdout pipe');
      let sizes: { in: number; out: number } | undefined;
      const zstdBin = opts.zstd ?? 'zstd';
      const zstd = startChild(zstdBin, ['-c', `-${opts.zstdLevel ?? 3}`, '-vv'], {
        stdin: dumpOut,
        what: 'zstd',
        stderrNoise: ZSTD_STATUS_LINE,
        onStderrLine: (line) => {
          sizes = parseZstdSizes(line) ?? sizes;
        },
      });
      children.push(zstd);
      // If mariadb-dump ends without saying so (it failed early), the lock must still go.
      dump.exited
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          if (locked) unlockDone = unlock();
        });

      const stats = (async () => {
        // Our snapshot is fixed at START TRANSACTION; the counts can be read while the dump streams.
        await new Promise<void>((resolve) => {
          const w = (): void => {
            if (!locked) resolve();
            else setTimeout(w, 20);
          };
          w();
        });
        await unlockDone;
        return tableStats(snap.conn, snap.databases, opts.checksums === false ? 'none' : 'crc32c');
      })();
      stats.catch(() => undefined);

      const zout = zstd.proc.stdout;
      if (!zout) throw new Error('zstd has no stdout pipe');
      const compressedHead = new KeepHead(1024 * 1024);

      const beforeFinal = async (): Promise<void> => {
        await dump.exited;
        await zstd.exited;
        await unlockDone;
        if (snap.binlog) {
          const dumpPosition = parseDumpPosition(await decodeDumpHead(compressedHead.head(), zstdBin));
          if (!dumpPosition)
            throw new UserError(
              'mariadb-dump did not write its binlog position (--master-data); ' +
                'the dump cannot be matched to the recorded position',
            );
          if (dumpPosition.binlogFile !== snap.binlog.binlogFile || dumpPosition.binlogPos !== snap.binlog.binlogPos) {
            throw new UserError(
              `the dump's snapshot (${dumpPosition.binlogFile}:${dumpPosition.binlogPos}) ` +
                `differs from the recorded one (${snap.binlog.binlogFile}:${snap.binlog.binlogPos}); ` +
                `either the dump reached another server than the snapshot session ` +
                `(KSTACK_DR_DB_HOST must name one member, not a load-balanced Service) or ` +
                `a commit slipped past the read lock; fix the host or run the backup again`,
            );
          }
        }
      };
      let lastUploaded = 0;
      let lastDumped = 0;
      const ticker = setInterval(() => {
        const ms = performance.now() - t0;
        lastDumped = bytesReadBy(zstd.proc.pid) ?? lastDumped;
        step.detail(`dumped ${mib(lastDumped)}, uploaded ${mib(lastUploaded)} (${rate(lastDumped, ms)})`);
      }, 1000);
      let stored: SealedObject;
      try {
        stored = await uploadSealed(zout, {
          store,
          objectKey: dumpKey,
          key: opts.key,
          frameBytes,
          beforeFinal,
          stages: [compressedHead],
          partSize: opts.partSize,
          onUploaded: (n) => {
            lastUploaded = n;
            opts.onUploaded?.(n);
          },
        });
      } catch (err) {
        for (const c of children) c.kill();
        throw asBackupError(err, id);
      } finally {
        clearInterval(ticker);
      }

      step.detail('checking the stored object and the table statistics');
      const tables = await stats;
      if (!sizes)
        throw new UserError(
          `backup ${id}: zstd did not report how many bytes it compressed (zstd ` +
            `-vv); use the zstd this image ships (1.5) and run the backup again`,
        );
      const dumpBytes = sizes.in;
      const storedSize = await store.size(dumpKey);
      if (storedSize !== stored.bytes)
        throw new UserError(
          `backup ${id}: the storage holds ${storedSize ?? 'no'} bytes ` +
            `for the dump, ${stored.bytes} were sent; run the backup again`,
        );
      const finished = now();
      const manifest: Manifest = parseManifest({
        format: 1,
        id,
        kind: 'logical',
        status: 'complete',
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        durationMs: Math.round(performance.now() - t0),
        server: { version: snap.version, member: opts.member ?? describeTarget(opts.db) },
        position: {
          gtid: snap.gtid,
          binlogFile: snap.binlog?.binlogFile ?? null,
          binlogPos: snap.binlog?.binlogPos ?? null,
        },
        object: {
          key: dumpKey,
          bytes: stored.bytes,
          sha256: stored.sha256,
          dumpBytes,
          compression: 'zstd',
          encryption: { algorithm: 'AES-256-GCM-framed', keyId: opts.key.id, frameBytes },
        },
        tables,
      } satisfies Manifest);
      // Last: only now does the backup exist.
      await store.putBytes(backupKey(store, id, MANIFEST_OBJECT), `${JSON.stringify(manifest, null, 2)}\n`);
      step.detail(
        `${mib(dumpBytes)} dumped → ${mib(stored.bytes)} ` +
          `stored, ${Object.keys(tables).length} tables, GTID ${snap.gtid || '(none)'}`,
      );
      return manifest;
    } catch (err) {
      for (const c of children) c.kill();
      throw asBackupError(err, id);
    } finally {
      await unlock().catch(() => undefined);
      await snap.conn.rollback().catch(() => undefined);
      await snap.conn.end().catch(() => undefined);
    }
  });
}

function asBackupError(err: unknown, id: string): UserError {
  if (err instanceof UserError && err.message.startsWith(`backup ${id}`)) return err;
  return new UserError(
    `backup ${id} failed, no manifest was written (this backup does ` +
      `not exist; its partial upload is aborted): ${messageOf(err)}`,
  );
}
