// Physical backups with mariadb-backup: `mariadb-backup --backup --stream=mbstream` of a LOCAL server (it
// reads the server's datadir), streamed through zstd and encryption into a multipart upload, while the same
// stream is extracted into a scratch folder, prepared and started as a throw-away mariadbd to read the row
// counts and checksums the manifest records: the source changes while the files are copied, so they can
// only be read from the copy. Every physical backup has thus been restored once before its manifest exists.
// Verify and restore extract, prepare, and then check (verify) or move the files into an empty datadir
// (restore). docs/dr.md, "Physical backups", has the design and its disk cost.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { UserError, messageOf } from '../util/errors.js';
import type { Progress, Step } from '../util/progress.js';
import { backupKey, MANIFEST_OBJECT, mib } from './backup.js';
import { findBackup } from './catalog.js';
import { startChild, type StreamingChild } from './child.js';
import { connectOrExplain, describeTarget, tableStats, userDatabases, type DbTarget } from './db.js';
import { DEFAULT_FRAME_BYTES, type EncryptionKey } from './encrypt.js';
import { newBackupId, parseManifest, type Manifest, type TableStat } from './manifest.js';
import { checkKey, RESTORE_DATADIR_ENV, streamBackupInto } from './restore.js';
import type { ObjectStore } from '../s3/object-store.js';
import { uploadSealed, type SealedObject } from './sealed-upload.js';
import { ownForServer, ScratchDb } from './scratch-db.js';

export const PHYSICAL_OBJECT = 'data.mbstream.zst.enc';

export interface PhysicalPosition {
  binlogFile: string;
  binlogPos: number;
  gtid: string;
}

/**
 * The binlog position mariadb-backup reports on stderr when it has copied everything:
 * "MySQL binlog position: filename 'binlog.000001', position '772', GTID of the last change '0-1-3'".
 * The last such line in `text` wins; undefined when there is none (the server has no binary log).
 */
export function parseBinlogPosition(text: string): PhysicalPosition | undefined {
  const re = /MySQL binlog position: filename '([^']+)', position '(\d+)'(?:, GTID of the last change '([^']*)')?/g;
  let found: PhysicalPosition | undefined;
  for (const m of text.matchAll(re))
    found = { binlogFile: m[1] ?? '', binlogPos: Number(m[2]), gtid: (m[3] ?? '').replace(/\s+/g, '') };
  return found;
}

/** A value for a MariaDB option file, quoted so that '#', spaces, quotes and backslashes survive. */
export function optionFileValue(v: string): string {
  const escaped = v
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `"${escaped}"`;
}

/** The option file mariadb-backup reads its credentials from (the password never goes on the command line). */
export function clientOptionFile(t: DbTarget): string {
  return `[client]\nuser=${optionFileValue(t.user)}\npassword=${optionFileValue(t.password)}\n`;
}

/** Arguments of `mariadb-backup --backup` streaming mbstream to stdout. --defaults-file must come first. */
export function physicalBackupArgs(o: {
  optionFile: string;
  db: DbTarget;
  datadir: string;
  targetDir: string;
  galera: boolean;
}): string[] {
  return [
    `--defaults-file=${o.optionFile}`,
    '--backup',
    '--stream=mbstream',
    `--target-dir=${o.targetDir}`,
    `--datadir=${o.datadir}`,
    ...(o.db.socket ? [`--socket=${o.db.socket}`] : [`--host=${o.db.host}`, `--port=${o.db.port}`, '--protocol=tcp']),
    ...(o.galera ? ['--galera-info'] : []),
  ];
}

/**
 * The datadir a physical restore writes into, resolved: it must be empty or not exist yet (then it is
 * created). Anything in it is refused, and left untouched.
 */
export function emptyDatadir(path: string, field = `--datadir / ${RESTORE_DATADIR_ENV}`): string {
  if (!path) throw new UserError(`${field}: give the empty directory to restore the physical backup into`);
  const dir = resolve(path);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory())
      throw new UserError(
        `${field}: ${dir} is not a directory; give an empty directory (or one that does not exist yet)`,
      );
    const entries = readdirSync(dir).sort();
    if (entries.length > 0) {
      throw new UserError(
        `${field}: ${dir} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, e.g. ${entries
          .slice(0, 3)
          .map((e) => `'${e}'`)
          .join(
            ', ',
          )}); a physical restore only writes into an empty directory: stop mariadbd, move the old datadir away,\
 and run again`,
      );
    }
  } else {
    mkdirSync(dir, { recursive: true });
  }
  return dir;
}

/** Copies `src` into every one of `outs` (waiting for the slowest), counting bytes; ends them all at its end. */
export async function tee(src: Readable, outs: readonly Writable[], onBytes?: (n: number) => void): Promise<void> {
  // A holder, not a variable: the error handlers set it between awaits.
  const state: { failure?: Error; wake?: () => void } = {};
  const onError = (err: Error): void => {
    state.failure ??= err;
    state.wake?.();
  };
  const check = (): void => {
    if (state.failure) throw state.failure;
  };
  for (const o of outs) o.on('error', onError);
  for await (const chunk of src as AsyncIterable<Buffer>) {
    check();
    onBytes?.(chunk.length);
    const waits = outs.filter((o) => !o.write(chunk)).map((o) => once(o, 'drain'));
    if (waits.length > 0) {
      await Promise.race([
        Promise.all(waits),
        new Promise<void>((r) => {
          state.wake = r;
        }),
      ]);
      state.wake = undefined;
    }
    check();
  }
  for (const o of outs) o.end();
}

interface ServerInfo {
  version: string;
  datadir: string;
  galera: boolean;
  logBin: boolean;
  databases: string[];
}

/**
 * What the live server says about itself; refuses a Galera
 * member that is not Synced and a server with no user databases.
 */
async function serverInfo(db: DbTarget): Promise<ServerInfo> {
  const conn = await connectOrExplain(db);
  try {
    const [vars] = await conn.query<{ version: string; datadir: string; wsrep: string | null; logBin: number }[]>(
      'SELECT @@version AS version, @@datadir AS datadir, (SELECT VARIABLE_VALUE FROM ' +
        "information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'WSREP_ON') AS wsrep, @@log_bin AS logBin",
    );
    if (!vars) throw new Error('no answer to SELECT @@version');
    const galera = vars.wsrep === 'ON';
    if (galera) {
      const st = await conn.query<{ Value: string }[]>("SHOW GLOBAL STATUS LIKE 'wsrep_local_state'");
      const state = st[0]?.Value;
      if (state !== '4')
        throw new UserError(
          `the member ${describeTarget(db)} is not Synced (wsrep_local_state=` +
            `${state ?? 'unknown'}, want 4); back up from a Synced member`,
        );
    }
    const databases = await userDatabases(conn);
    if (databases.length === 0)
      throw new UserError(
        `the server ${describeTarget(db)} has no databases besides the system ones; nothing to back up`,
      );
    return { version: vars.version, datadir: vars.datadir, galera, logBin: vars.logBin === 1, databases };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** `mariadb-backup --prepare`: applies the redo log copied with the files, so the folder is a consistent datadir. */
export async function prepareDatadir(dir: string, mariadbBackup = 'mariadb-backup'): Promise<void> {
  const p = startChild(mariadbBackup, ['--no-defaults', '--prepare', `--target-dir=${dir}`], {
    stdin: 'ignore',
    stdout: 'ignore',
    what: 'mariadb-backup --prepare',
  });
  try {
    await p.exited;
  } catch (err) {
    throw new UserError(
      `preparing the copied datadir ${dir} failed: ${messageOf(err)}; the backup ` +
        `cannot be made consistent (use another backup, or run the backup again)`,
    );
  }
}

/**
 * A throw-away mariadbd on a prepared copy: no grant checks (the copy
 * has the source's accounts), no networking, no events, no replication.
 */
export async function startOnCopy(folder: string): Promise<ScratchDb> {
  ownForServer(join(folder, 'data'));
  return ScratchDb.start({ dir: folder, extra: ['skip-grant-tables', 'skip-slave-start', 'event-scheduler=OFF'] });
}

/** Row counts and checksums of the user databases of a prepared copy (folder/data), and its GTID position. */
async function statsOfCopy(
  folder: string,
  checksums: boolean,
): Promise<{ tables: Record<string, TableStat>; gtid: string }> {
  const db = await startOnCopy(folder);
  try {
    const conn = await db.connect();
    try {
      const tables = await tableStats(conn, await userDatabases(conn), checksums ? 'crc32c' : 'none');
      const [row] = await conn.query<{ g: string }[]>('SELECT @@gtid_current_pos AS g');
      return { tables, gtid: row?.g ?? '' };
    } finally {
      await conn.end().catch(() => undefined);
    }
  } finally {
    await db.stop(false);
  }
}

export interface PhysicalBackupOptions {
  /** A LOCAL server: mariadb-backup reads its datadir. */
  db: DbTarget;
  store: ObjectStore;
  key: EncryptionKey;
  progress: Progress;
  /** The server's datadir as seen here (default: the server's @@datadir). */
  datadir?: string;
  /** Where the scratch copy goes (default: the system temp dir); needs room for one datadir. */
  workDir?: string;
  member?: string;
  now?: () => Date;
  partSize?: number;
  frameBytes?: number;
  zstdLevel?: number;
  checksums?: boolean;
  mariadbBackup?: string;
  onUploaded?: (bytes: number) => void;
}

/** Takes one physical backup; returns its manifest. On failure nothing claims success and the error says what to do. */
export async function runPhysicalBackup(opts: PhysicalBackupOptions): Promise<Manifest> {
  const { store, progress } = opts;
  const now = opts.now ?? (() => new Date());
  const started = now();
  const t0 = performance.now();
  const id = newBackupId(started, randomBytes(3).toString('hex'));
  const dataKey = backupKey(store, id, PHYSICAL_OBJECT);
  const frameBytes = opts.frameBytes ?? DEFAULT_FRAME_BYTES;
  const mariadbBackup = opts.mariadbBackup ?? 'mariadb-backup';

  await store.abortUploads(store.key('backups') + '/', new Date(started.getTime() - 3600_000)).catch(() => 0);

  return progress.step(`physical backup ${id} → s3://${store.cfg.bucket}/${dataKey}`, async (step) => {
    const children: StreamingChild[] = [];
    let work: string | undefined;
    try {
      step.detail('asking the server for its datadir');
      const info = await serverInfo(opts.db);
      const datadir = opts.datadir ?? info.datadir;
      if (!existsSync(join(datadir, 'mysql'))) {
        throw new UserError(
          `the server's datadir ${datadir} is not on this machine (no ${join(datadir, 'mysql')}): ` +
            `a physical backup must run where the server's files are (inside the ` +
            `db pod); pass --datadir if they are mounted elsewhere, or take a logical backup`,
        );
      }
      work = mkdtempSync(join(opts.workDir ?? tmpdir(), 'kstack-physical-'));
      chmodSync(work, 0o755);
      const copy = join(work, 'data');
      const streamTmp = join(work, 'stream');
      mkdirSync(copy);
      mkdirSync(streamTmp);
      const optionFile = join(work, 'client.cnf');
      writeFileSync(optionFile, clientOptionFile(opts.db), { mode: 0o600 });

      let position: PhysicalPosition | undefined;
      let copying = '';
      const backup = startChild(
        mariadbBackup,
        physicalBackupArgs({ optionFile, db: opts.db, datadir, targetDir: streamTmp, galera: info.galera }),
        {
          stdin: 'ignore',
          what: 'mariadb-backup --backup',
          onStderrLine: (l) => {
            position = parseBinlogPosition(l) ?? position;
            const f = /(?:Copying|Streaming) (\S+)/.exec(l);
            if (f?.[1]) copying = f[1];
          },
        },
      );
      children.push(backup);
      const zstd = startChild('zstd', ['-q', '-c', `-${opts.zstdLevel ?? 3}`], { what: 'zstd' });
      children.push(zstd);
      const extract = startChild('mbstream', ['-x', '-C', copy], {
        stdout: 'ignore',
        what: 'mbstream -x (the scratch copy)',
      });
      children.push(extract);
      const stdout = backup.proc.stdout;
      const zin = zstd.proc.stdin;
      const zout = zstd.proc.stdout;
      const xin = extract.proc.stdin;
      if (!stdout || !zin || !zout || !xin) throw new Error('child process pipes missing');

      let raw = 0;
      const feed = tee(stdout, [zin, xin], (n) => {
        raw += n;
      });
      feed.catch(() => undefined);
      // A mariadb-backup that fails must fail the stream, not seal a complete-looking object.
      const beforeFinal = async (): Promise<void> => {
        await feed;
        await backup.exited;
        await zstd.exited;
      };
      let uploaded = 0;
      const ticker = setInterval(() => {
        step.detail(`streamed ${mib(raw)}, uploaded ${mib(uploaded)}${copying ? ` (${copying})` : ''}`);
      }, 1000);
      let stored: SealedObject;
      try {
        stored = await uploadSealed(zout, {
          store,
          objectKey: dataKey,
          key: opts.key,
          frameBytes,
          beforeFinal,
          partSize: opts.partSize,
          onUploaded: (n) => {
            uploaded = n;
            opts.onUploaded?.(n);
          },
        });
      } catch (err) {
        for (const c of children) c.kill();
        throw err;
      } finally {
        clearInterval(ticker);
      }
      await extract.exited;
      if (info.logBin && !position)
        throw new UserError(
          'mariadb-backup did not report its binlog position ("MySQL ' +
            'binlog position: ..."); the copy cannot be matched to a position',
        );

      step.detail('preparing the scratch copy (applying the redo log)');
      await prepareDatadir(copy, mariadbBackup);
      step.detail('reading row counts and checksums from the prepared copy');
      const stats = await statsOfCopy(work, opts.checksums ?? true);
      const storedSize = await store.size(dataKey);
      if (storedSize !== stored.bytes)
        throw new UserError(
          `backup ${id}: the storage holds ${storedSize ?? 'no'} bytes ` +
            `for the data, ${stored.bytes} were sent; run the backup again`,
        );
      const manifest: Manifest = parseManifest({
        format: 1,
        id,
        kind: 'physical',
        status: 'complete',
        startedAt: started.toISOString(),
        finishedAt: now().toISOString(),
        durationMs: Math.round(performance.now() - t0),
        server: { version: info.version, member: opts.member ?? describeTarget(opts.db) },
        position: {
          gtid: position?.gtid ?? stats.gtid,
          binlogFile: position?.binlogFile ?? null,
          binlogPos: position?.binlogPos ?? null,
        },
        object: {
          key: dataKey,
          bytes: stored.bytes,
          sha256: stored.sha256,
          dumpBytes: raw,
          compression: 'zstd',
          encryption: { algorithm: 'AES-256-GCM-framed', keyId: opts.key.id, frameBytes },
        },
        tables: stats.tables,
      } satisfies Manifest);
      await store.putBytes(backupKey(store, id, MANIFEST_OBJECT), `${JSON.stringify(manifest, null, 2)}\n`);
      step.detail(
        `${mib(raw)} streamed → ${mib(stored.bytes)} stored, ${Object.keys(stats.tables).length} ` +
          `tables, GTID ${manifest.position.gtid || '(none)'}`,
      );
      return manifest;
    } catch (err) {
      for (const c of children) c.kill();
      if (err instanceof UserError && err.message.startsWith(`backup ${id}`)) throw err;
      throw new UserError(
        `backup ${id} failed, no manifest was written (this backup does ` +
          `not exist; its partial upload is aborted): ${messageOf(err)}`,
      );
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });
}

/**
 * Streams a physical backup out of storage into `dir`: storage → size/sha256 check → decrypt → zstd -d → mbstream -x.
 */
export async function extractPhysical(
  store: ObjectStore,
  manifest: Manifest,
  key: EncryptionKey,
  dir: string,
  step?: Step,
): Promise<void> {
  checkKey(manifest, key);
  mkdirSync(dir, { recursive: true });
  await streamBackupInto(
    store,
    manifest,
    key,
    {
      cmd: 'mbstream',
      args: ['-x', '-C', dir],
      what: `mbstream -x (into ${dir})`,
      progressVerb: 'extracted',
      failure: `extracting backup ${manifest.id} into ${dir}`,
    },
    step,
  );
}

export interface PhysicalRestoreOptions {
  store: ObjectStore;
  key: EncryptionKey;
  /** An empty (or not yet existing) directory that becomes the datadir. */
  datadir: string;
  progress: Progress;
  backupId?: string;
  /** The manifest, when the caller has already read it. */
  manifest?: Manifest;
  mariadbBackup?: string;
}

export interface PhysicalRestoreResult {
  manifest: Manifest;
  datadir: string;
  durationMs: number;
}

/**
 * Restores a physical backup into an empty datadir: extract and prepare next to it (same filesystem),
 * then `mariadb-backup --move-back`. The server is not started: start mariadbd on the datadir. A failure
 * leaves the datadir empty again.
 */
export async function runPhysicalRestore(opts: PhysicalRestoreOptions): Promise<PhysicalRestoreResult> {
  const t0 = performance.now();
  const manifest = opts.manifest ?? (await findBackup(opts.store, opts.backupId));
  if (manifest.kind !== 'physical')
    throw new UserError(
      `backup ${manifest.id} is a logical backup; it restores into a ` +
        `running server (KSTACK_DR_DB_*), not into a datadir: drop --datadir`,
    );
  checkKey(manifest, opts.key);
  const datadir = emptyDatadir(opts.datadir);
  const staging = mkdtempSync(join(dirname(datadir), '.kstack-restore-'));
  try {
    await opts.progress.step(
      `download, check and extract backup ${manifest.id} (${mib(manifest.object.bytes)})`,
      (step) => extractPhysical(opts.store, manifest, opts.key, staging, step),
    );
    await opts.progress.step('prepare it (apply the redo log)', () => prepareDatadir(staging, opts.mariadbBackup));
    await opts.progress.step(`move it into ${datadir}`, async () => {
      const mv = startChild(
        opts.mariadbBackup ?? 'mariadb-backup',
        ['--no-defaults', '--move-back', `--target-dir=${staging}`, `--datadir=${datadir}`],
        { stdin: 'ignore', stdout: 'ignore', what: 'mariadb-backup --move-back' },
      );
      await mv.exited;
      ownForServer(datadir);
    });
    return { manifest, datadir, durationMs: Math.round(performance.now() - t0) };
  } catch (err) {
    // The datadir was empty: leave it so, never a half-restored server.
    for (const e of readdirSync(datadir)) rmSync(join(datadir, e), { recursive: true, force: true });
    if (err instanceof UserError) throw err;
    throw new UserError(
      `restoring backup ${manifest.id} into ${datadir} failed (the directory is empty again): ${messageOf(err)}`,
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
