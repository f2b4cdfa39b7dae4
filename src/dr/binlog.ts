// MariaDB binary logs as the archiver and point-in-time recovery see them: GTIDs, the events of one
// binlog file (read straight from its bytes: no mariadb-binlog process per file), and the archive index
// that records, per shipped file, which transactions it holds and when they ran. Pure.
import { createHash } from 'node:crypto';

/** A MariaDB GTID: domain-server-sequence. */
export interface Gtid {
  domain: number;
  server: number;
  seq: number;
}

export function parseGtid(text: string, field = 'GTID'): Gtid {
  const m = /^(\d+)-(\d+)-(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`${field}: '${text}' is not a GTID; use domain-server-sequence, like 0-1-42`);
  return { domain: Number(m[1]), server: Number(m[2]), seq: Number(m[3]) };
}

export const formatGtid = (g: Gtid): string => `${g.domain}-${g.server}-${g.seq}`;

/**
 * A GTID position (@@gtid_binlog_pos, the backup's position): the last GTID of each domain, comma
 * separated. Empty text is the empty position (nothing applied yet).
 */
export function parseGtidPosition(text: string, field = 'GTID position'): Map<number, Gtid> {
  const pos = new Map<number, Gtid>();
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const g = parseGtid(part, field);
    if (pos.has(g.domain)) throw new Error(`${field}: domain ${g.domain} appears twice in '${text}'`);
    pos.set(g.domain, g);
  }
  return pos;
}

export const formatGtidPosition = (pos: ReadonlyMap<number, Gtid>): string =>
  [...pos.values()]
    .sort((a, b) => a.domain - b.domain)
    .map(formatGtid)
    .join(',');

/** Per domain: the first and last transaction of a binlog file. */
export interface DomainRange {
  first: number;
  last: number;
  server: number;
}

/** What one binlog file holds; the archive index stores one per shipped file. */
export interface BinlogSummary {
  /** Transactions (GTID events) in the file. */
  transactions: number;
  /** Per domain (as a string key, for JSON): first and last sequence number. */
  domains: Record<string, DomainRange>;
  firstGtid: string | undefined;
  lastGtid: string | undefined;
  /** Unix seconds of the first and last transaction (binlog timestamps have 1 s resolution). */
  firstTime: number | undefined;
  lastTime: number | undefined;
  /** Unix seconds the file was started (its first event with a time). */
  created: number;
  /** True when the file ends with a rotate or stop event, i.e. the server closed it. */
  closed: boolean;
  /** Bytes after the last complete event (a file cut short by a crash or still being written). */
  trailingBytes: number;
}

const MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
const HEADER = 19;
const EV = { STOP: 3, ROTATE: 4, FORMAT_DESCRIPTION: 15, GTID: 162 } as const;

/** Reads a binlog file's events (header fields and GTIDs) and summarises it. Throws on a file that is no binlog. */
export function summariseBinlog(buf: Buffer): BinlogSummary {
  if (buf.length < MAGIC.length || !buf.subarray(0, 4).equals(MAGIC))
    throw new Error('not a MariaDB binlog file (bad magic number)');
  const domains: Record<string, DomainRange> = {};
  let transactions = 0;
  let firstGtid: string | undefined;
  let lastGtid: string | undefined;
  let firstTime: number | undefined;
  let lastTime: number | undefined;
  let created = 0;
  let closed = false;
  let off = 4;
  while (off + HEADER <= buf.length) {
    const timestamp = buf.readUInt32LE(off);
    const type = buf.readUInt8(off + 4);
    const serverId = buf.readUInt32LE(off + 5);
    const size = buf.readUInt32LE(off + 9);
    if (size < HEADER) throw new Error(`binlog event at byte ${off} has an impossible size ${size}`);
    if (off + size > buf.length) break;
    // The file's start: its first event with a time (MariaDB leaves the format description event of a
    // rotated file at 0; the Gtid_list / checkpoint events right after it carry the time).
    if (created === 0 && timestamp !== 0) created = timestamp;
    if (type === EV.GTID && size >= HEADER + 12) {
      const seq = Number(buf.readBigUInt64LE(off + HEADER));
      const domain = buf.readUInt32LE(off + HEADER + 8);
      const gtid = formatGtid({ domain, server: serverId, seq });
      firstGtid ??= gtid;
      lastGtid = gtid;
      firstTime ??= timestamp;
      transactions++;
      const d = domains[String(domain)];
      if (d) {
        d.last = seq;
        d.server = serverId;
      } else domains[String(domain)] = { first: seq, last: seq, server: serverId };
    }
    if (transactions > 0 && type !== EV.ROTATE && type !== EV.STOP) lastTime = Math.max(lastTime ?? 0, timestamp);
    if (type === EV.ROTATE || type === EV.STOP) closed = true;
    off += size;
  }
  return {
    transactions,
    domains,
    firstGtid,
    lastGtid,
    firstTime,
    lastTime,
    created,
    closed,
    trailingBytes: buf.length - off,
  };
}

/** One shipped binlog file in the archive index. */
export interface ArchivedBinlog extends BinlogSummary {
  /** File name on the server (mariadb-bin.000042). */
  name: string;
  /** Its number (42). */
  number: number;
  /** Object key of the encrypted file. */
  key: string;
  /** Size and sha256 of the plain file. */
  size: number;
  sha256: string;
  archivedAt: number;
}

/** The archive index of one member's binlog stream: every shipped file, oldest first. */
export interface BinlogIndex {
  version: 1;
  stream: string;
  files: ArchivedBinlog[];
}

export const emptyIndex = (stream: string): BinlogIndex => ({ version: 1, stream, files: [] });

export function binlogNumber(name: string): number {
  const m = /\.(\d{6,})$/.exec(name);
  if (!m) throw new Error(`'${name}' is not a binlog file name (expected <base>.<6+ digits>)`);
  return Number(m[1]);
}

/** Where the archive keeps a member's stream: <prefix>/binlogs/<stream>/… */
export const binlogsPrefix = (prefix: string): string =>
  `${prefix.replace(/\/+$/, '')}${prefix === '' ? '' : '/'}binlogs/`;
export const streamPrefix = (prefix: string, stream: string): string => `${binlogsPrefix(prefix)}${stream}/`;
export const indexKey = (prefix: string, stream: string): string => `${streamPrefix(prefix, stream)}index.json`;
/**
 * Object key of a file: its name plus its creation time, so a member whose data
 * was re-created (SST, restore) never overwrites older files of the same name.
 */
export const binlogKey = (prefix: string, stream: string, name: string, created: number): string =>
  `${streamPrefix(prefix, stream)}${name}.${created}`;

/** A file the server lists (SHOW BINARY LOGS), with its creation time once read. */
export interface ServerBinlog {
  name: string;
  size: number;
}

/**
 * The closed files not yet archived, oldest first. The newest listed file is the one the server writes to
 * (never shipped); a file counts as archived when the index has its name with the same creation time —
 * so files of a re-created data dir, which reuse names, are shipped again.
 */
export function filesToArchive(
  listed: readonly ServerBinlog[],
  index: BinlogIndex,
  createdOf: (name: string) => number | undefined,
): string[] {
  const closed = [...listed].sort((a, b) => binlogNumber(a.name) - binlogNumber(b.name)).slice(0, -1);
  const have = new Set(index.files.map((f) => `${f.name}@${f.created}`));
  return closed
    .filter((f) => {
      const created = createdOf(f.name);
      return created === undefined || !have.has(`${f.name}@${created}`);
    })
    .map((f) => f.name);
}

export function parseIndex(raw: unknown, stream: string): BinlogIndex {
  if (
    typeof raw !== 'object' ||
    raw === null ||
    (raw as { version?: unknown }).version !== 1 ||
    !Array.isArray((raw as { files?: unknown }).files)
  ) {
    throw new Error(`binlog index of ${stream}: not a version 1 index; it was written by another tool or is damaged`);
  }
  return raw as BinlogIndex;
}

export function addToIndex(index: BinlogIndex, entry: ArchivedBinlog): BinlogIndex {
  const files = index.files.filter((f) => !(f.name === entry.name && f.created === entry.created));
  files.push(entry);
  files.sort((a, b) => a.created - b.created || a.number - b.number);
  return { ...index, files };
}

export const sha256 = (buf: Buffer): string => createHash('sha256').update(buf).digest('hex');

/**
 * The archive's lag: how long the oldest transaction the server has logged but the archive has not has
 * been waiting (0 when everything logged is archived). `behindSince` is when the archiver first saw the
 * server's position move past the archive's.
 */
export function archiveLagSeconds(now: number, behindSince: number | undefined): number {
  return behindSince === undefined ? 0 : Math.max(0, (now - behindSince) / 1000);
}

/** True when every transaction of `server` (a GTID position) is in `archived` (a GTID position). */
export function positionCovered(server: ReadonlyMap<number, Gtid>, archived: ReadonlyMap<number, Gtid>): boolean {
  for (const [d, g] of server) {
    const a = archived.get(d);
    if (!a || a.seq < g.seq) return false;
  }
  return true;
}

/** The archive's position: per domain, the last transaction of the newest file holding that domain. */
export function indexPosition(index: BinlogIndex): Map<number, Gtid> {
  const pos = new Map<number, Gtid>();
  for (const f of index.files) {
    for (const [d, r] of Object.entries(f.domains)) {
      const domain = Number(d);
      const cur = pos.get(domain);
      if (!cur || cur.seq <= r.last) pos.set(domain, { domain, server: r.server, seq: r.last });
    }
  }
  return pos;
}
