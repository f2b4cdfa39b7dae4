// The binlog archiver: on a timer, closes the binlog mariadbd writes to (FLUSH BINARY LOGS) when it holds
// transactions the archive lacks, then ships every closed file not yet archived — encrypted — and records
// it in the stream's index object. It reads the files from the member's data dir (it runs beside
// mariadbd, sharing its volume), so it needs no replication account and no network but the storage's.
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type * as mariadb from 'mariadb';
import {
  type ArchivedBinlog,
  type BinlogIndex,
  type Gtid,
  type ServerBinlog,
  addToIndex,
  binlogKey,
  binlogNumber,
  emptyIndex,
  filesToArchive,
  indexKey,
  indexPosition,
  binlogsPrefix,
  parseGtidPosition,
  parseIndex,
  positionCovered,
  sha256,
  summariseBinlog,
  archiveLagSeconds,
} from './binlog.js';

/** The storage the archive lives in (an S3 bucket in production). */
export interface ArchiveStore {
  put(key: string, body: Buffer): Promise<void>;
  /** undefined when the object does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  /** Keys under a full key prefix. */
  list(prefix: string): Promise<string[]>;
}

/** Client-side encryption of archived files (AES-256-GCM with the backup key). */
export interface Sealer {
  seal(plain: Buffer): Promise<Buffer>;
  open(sealed: Buffer): Promise<Buffer>;
}

export interface ArchiverOptions {
  /** Opens a connection to the member's mariadbd (root or an account with RELOAD and BINLOG MONITOR). */
  connect: () => Promise<mariadb.Connection>;
  /** Directory holding the binlog files (the data dir). */
  binlogDir: string;
  /** Name of this member's stream in the archive (the pod name). */
  stream: string;
  /** Key prefix in the bucket. */
  prefix: string;
  store: ArchiveStore;
  sealer: Sealer;
  now?: () => number;
}

export interface ArchiverStatus {
  /** Files shipped since start. */
  archivedFiles: number;
  archivedBytes: number;
  /** Unix seconds of the newest archived transaction. */
  lastArchivedTransaction: number | undefined;
  lastArchivedGtid: string | undefined;
  /** Unix ms of the last tick that completed without error. */
  lastSuccess: number | undefined;
  errors: number;
  lastError: string | undefined;
  /** Unix ms since when the server holds transactions the archive lacks (undefined: none). */
  behindSince: number | undefined;
}

export class BinlogArchiver {
  private index: BinlogIndex | undefined;
  readonly status: ArchiverStatus = {
    archivedFiles: 0,
    archivedBytes: 0,
    lastArchivedTransaction: undefined,
    lastArchivedGtid: undefined,
    lastSuccess: undefined,
    errors: 0,
    lastError: undefined,
    behindSince: undefined,
  };
  private readonly now: () => number;

  constructor(private readonly opts: ArchiverOptions) {
    this.now = opts.now ?? Date.now;
  }

  private async loadIndex(): Promise<BinlogIndex> {
    if (this.index) return this.index;
    const raw = await this.opts.store.get(indexKey(this.opts.prefix, this.opts.stream));
    this.index = raw ? parseIndex(JSON.parse(raw.toString('utf8')), this.opts.stream) : emptyIndex(this.opts.stream);
    this.noteIndex(this.index);
    return this.index;
  }

  private noteIndex(index: BinlogIndex): void {
    const withTx = index.files.filter((f) => f.transactions > 0);
    const newest = withTx.reduce<ArchivedBinlog | undefined>(
      (a, f) => (a === undefined || (f.lastTime ?? 0) >= (a.lastTime ?? 0) ? f : a),
      undefined,
    );
    this.status.lastArchivedTransaction = newest?.lastTime;
    this.status.lastArchivedGtid = newest?.lastGtid;
  }

  /** Seconds the oldest unarchived transaction has waited (0: all archived). */
  lagSeconds(): number {
    return archiveLagSeconds(this.now(), this.status.behindSince);
  }

  /** One round: flush if needed, ship every closed file the archive lacks. Returns the files shipped. */
  async tick(): Promise<string[]> {
    const started = this.now();
    try {
      const shipped = await this.round(started);
      this.status.lastSuccess = this.now();
      this.status.lastError = undefined;
      return shipped;
    } catch (err) {
      this.status.errors++;
      this.status.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }

  private async round(started: number): Promise<string[]> {
    const index = await this.loadIndex();
    const conn = await this.opts.connect();
    const shipped: string[] = [];
    try {
      const serverPos = await binlogPosition(conn);
      if (positionCovered(serverPos, indexPosition(index))) {
        this.status.behindSince = undefined;
      } else {
        this.status.behindSince ??= started;
        await conn.query('FLUSH BINARY LOGS');
      }
      const listed = (await conn.query<{ Log_name: string; File_size: number | bigint }[]>('SHOW BINARY LOGS')).map(
        (r): ServerBinlog => ({ name: r.Log_name, size: Number(r.File_size) }),
      );
      const created = new Map<string, number>();
      // Every closed file's start time (names repeat after a data dir is re-created).
      for (const f of [...listed].sort((a, b) => binlogNumber(a.name) - binlogNumber(b.name)).slice(0, -1)) {
        created.set(
          f.name,
          await fileCreated(
            join(this.opts.binlogDir, f.name),
            summariseBinlog(await readHead(join(this.opts.binlogDir, f.name), 4096)).created,
          ),
        );
      }
      const createdOf = (name: string): number | undefined => created.get(name);
      const todo = filesToArchive(listed, index, createdOf);
      for (const name of todo) {
        const plain = await readFile(join(this.opts.binlogDir, name));
        const summary = { ...summariseBinlog(plain), created: created.get(name) ?? 0 };
        const key = binlogKey(this.opts.prefix, this.opts.stream, name, summary.created);
        await this.opts.store.put(key, await this.opts.sealer.seal(plain));
        const entry: ArchivedBinlog = {
          ...summary,
          name,
          number: binlogNumber(name),
          key,
          size: plain.length,
          sha256: sha256(plain),
          archivedAt: Math.floor(this.now() / 1000),
        };
        this.index = addToIndex(this.index ?? index, entry);
        // The index is written after each file: a crash between two files loses no record of the first.
        await this.opts.store.put(
          indexKey(this.opts.prefix, this.opts.stream),
          Buffer.from(JSON.stringify(this.index, null, 1)),
        );
        this.noteIndex(this.index);
        this.status.archivedFiles++;
        this.status.archivedBytes += plain.length;
        shipped.push(name);
      }
      if (!serverPos.size || positionCovered(serverPos, indexPosition(this.index ?? index))) {
        // Everything logged when the round began is archived; what came in since waits from `started` on.
        this.status.behindSince = positionCovered(await binlogPosition(conn), indexPosition(this.index ?? index))
          ? undefined
          : started;
      }
    } finally {
      await conn.end().catch(() => undefined);
    }
    return shipped;
  }

  /** Prometheus text exposition of the archiver's state. */
  metrics(): string {
    const s = this.status;
    const lines = [
      '# HELP kstack_binlog_archive_lag_seconds Seconds the oldest ' +
        'binlogged transaction not yet archived has waited (0: all archived).',
      '# TYPE kstack_binlog_archive_lag_seconds gauge',
      `kstack_binlog_archive_lag_seconds{stream="${this.opts.stream}"} ${this.lagSeconds().toFixed(3)}`,
      '# HELP kstack_binlog_last_archived_transaction_timestamp_seconds Time of the newest archived transaction.',
      '# TYPE kstack_binlog_last_archived_transaction_timestamp_seconds gauge',
      `kstack_binlog_last_archived_transaction_timestamp_seconds{stream="` +
        `${this.opts.stream}"} ${s.lastArchivedTransaction ?? 0}`,
      '# HELP kstack_binlog_archive_last_success_timestamp_seconds Time of the last archiving round that completed.',
      '# TYPE kstack_binlog_archive_last_success_timestamp_seconds gauge',
      `kstack_binlog_archive_last_success_timestamp_seconds{stream="${this.opts.stream}` +
        `"} ${s.lastSuccess === undefined ? 0 : Math.floor(s.lastSuccess / 1000)}`,
      '# HELP kstack_binlog_archived_files_total Binlog files shipped since the archiver started.',
      '# TYPE kstack_binlog_archived_files_total counter',
      `kstack_binlog_archived_files_total{stream="${this.opts.stream}"} ${s.archivedFiles}`,
      '# HELP kstack_binlog_archived_bytes_total Bytes of binlog shipped since the archiver started.',
      '# TYPE kstack_binlog_archived_bytes_total counter',
      `kstack_binlog_archived_bytes_total{stream="${this.opts.stream}"} ${s.archivedBytes}`,
      '# HELP kstack_binlog_archive_errors_total Archiving rounds that failed.',
      '# TYPE kstack_binlog_archive_errors_total counter',
      `kstack_binlog_archive_errors_total{stream="${this.opts.stream}"} ${s.errors}`,
    ];
    return lines.join('\n') + '\n';
  }
}

async function binlogPosition(conn: mariadb.Connection): Promise<Map<number, Gtid>> {
  const rows = await conn.query<{ pos: string | null }[]>('SELECT @@GLOBAL.gtid_binlog_pos AS pos');
  return parseGtidPosition(rows[0]?.pos ?? '');
}

/** A file without any timed event (only a format description at time 0) starts when it was last written. */
async function fileCreated(path: string, fromEvents: number): Promise<number> {
  return fromEvents !== 0 ? fromEvents : Math.floor((await stat(path)).mtimeMs / 1000);
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Reads a stream's index from the store (empty when nothing was archived yet). */
export async function readIndex(store: ArchiveStore, prefix: string, stream: string): Promise<BinlogIndex> {
  const raw = await store.get(indexKey(prefix, stream));
  return raw ? parseIndex(JSON.parse(raw.toString('utf8')), stream) : emptyIndex(stream);
}

/** Every member stream archived under the prefix, with its index. */
export async function readAllIndexes(store: ArchiveStore, prefix: string): Promise<BinlogIndex[]> {
  const base = binlogsPrefix(prefix);
  const streams = (await store.list(base))
    .filter((k) => k.endsWith('/index.json'))
    .map((k) => k.slice(base.length, -'/index.json'.length))
    .filter((s) => s !== '' && !s.includes('/'));
  return Promise.all(streams.map((s) => readIndex(store, prefix, s)));
}
