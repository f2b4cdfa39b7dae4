// Point-in-time recovery planning: given a base backup's GTID position and a member's archived binlog
// stream, which files to replay and which mariadb-binlog options stop the replay exactly at the target.
// Pure: an archive with a hole, a target the archive cannot reach, or a target before the backup is an
// error naming what is missing (never a silent skip: a PITR that quietly drops binlogs loses data).
import {
  type ArchivedBinlog,
  type BinlogIndex,
  type Gtid,
  formatGtid,
  formatGtidPosition,
  parseGtid,
} from './binlog.js';

export type PitrTarget =
  | { kind: 'time'; /** Unix seconds; events at or after it are not applied. */ time: number }
  | { kind: 'gtid'; /** The last transaction to apply (inclusive). */ gtid: Gtid }
  | { kind: 'latest' };

export interface PitrPlan {
  /** Files to replay, in order. */
  files: ArchivedBinlog[];
  /** mariadb-binlog options (besides the file names). */
  binlogArgs: string[];
  /** Unix seconds of the last transaction that will be applied (undefined: none after the backup). */
  reachedTime: number | undefined;
  /** True when the target lies beyond the archive's newest transaction: recovery stops at the archive's end. */
  endOfArchive: boolean;
}

/** Parses --to-time: an ISO 8601 date-time with a zone (Z or ±hh:mm) or unix seconds. */
export function parseTargetTime(text: string, field = '--to-time'): number {
  if (/^\d{9,11}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    throw new Error(
      `${field}: '${text}' is not a time; use ISO 8601 with a zone, like 2026-11-25T18:30:00Z, or unix seconds`,
    );
  }
  const ms = Date.parse(text.replace(' ', 'T'));
  if (Number.isNaN(ms)) throw new Error(`${field}: '${text}' is not a valid date`);
  return Math.floor(ms / 1000);
}

/** `--stop-datetime` takes local time; we run mariadb-binlog with TZ=UTC and give it UTC. */
export function mariadbDatetime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

const touches = (f: ArchivedBinlog, pos: ReadonlyMap<number, Gtid>): boolean =>
  Object.entries(f.domains).some(([d, r]) => r.last > (pos.get(Number(d))?.seq ?? 0));

/**
 * Checks that consecutive files leave no hole: inside one generation of the stream (same data dir) the
 * file numbers follow each other; where a new generation starts (numbers restart after the member's data
 * was re-created) the GTIDs of every domain must follow on.
 */
function checkContinuity(files: readonly ArchivedBinlog[]): void {
  for (let i = 1; i < files.length; i++) {
    const prev = files[i - 1];
    const cur = files[i];
    if (!prev || !cur) continue;
    if (cur.number === prev.number + 1) continue;
    if (cur.number > prev.number + 1) {
      throw new Error(
        `the binlog archive has a hole: ${prev.name} is followed by ${cur.name}; the files ` +
          `between were never archived, so recovery past ${prev.name} would lose transactions`,
      );
    }
    for (const [d, r] of Object.entries(cur.domains)) {
      const before = prev.domains[d];
      if (before && r.first !== before.last + 1) {
        throw new Error(
          `the binlog archive has a hole in domain ${d}: ${prev.name} ends at ` +
            `seq ${before.last} and ${cur.name} (a new data dir) starts at ${r.first}`,
        );
      }
    }
  }
}

/**
 * Plans the replay from a backup taken at `backupPosition` (GTID position) to `target`, using the files of
 * one member's archive index.
 */
export function planPitr(
  index: BinlogIndex,
  backupPosition: ReadonlyMap<number, Gtid>,
  target: PitrTarget,
  backupTime?: number,
): PitrPlan {
  const all = [...index.files].sort((a, b) => a.created - b.created || a.number - b.number);
  if (target.kind === 'gtid') {
    const b = backupPosition.get(target.gtid.domain);
    if (b && b.seq >= target.gtid.seq) {
      throw new Error(
        `--to-gtid ${formatGtid(target.gtid)} is not after the backup's ` +
          `position ${formatGtidPosition(backupPosition)}: choose an older backup (--backup ID)`,
      );
    }
  }
  if (target.kind === 'time' && backupTime !== undefined && target.time < backupTime) {
    throw new Error(
      `--to-time ${new Date(target.time * 1000).toISOString()} is before the backup finished ` +
        `(${new Date(backupTime * 1000).toISOString()}): choose an older backup (--backup ID)`,
    );
  }
  const startAt = all.findIndex((f) => touches(f, backupPosition));
  if (startAt < 0) {
    // Nothing after the backup was archived: the backup alone is the recovery point.
    if (target.kind === 'gtid')
      throw new Error(
        `--to-gtid ${formatGtid(target.gtid)}: the archive of ${index.stream} holds no ` +
          `transaction after the backup's position ${formatGtidPosition(backupPosition)}`,
      );
    return { files: [], binlogArgs: [], reachedTime: undefined, endOfArchive: true };
  }
  const first = all[startAt];
  // The first file replayed must start at or before the transaction right after the backup, per domain.
  if (first) {
    for (const [d, r] of Object.entries(first.domains)) {
      const b = backupPosition.get(Number(d))?.seq ?? 0;
      if (r.first > b + 1 && startAt === 0) {
        throw new Error(
          `the binlog archive of ${index.stream} starts at ${d}-${r.server}-${r.first}, ` +
            `but the backup ends at ${formatGtidPosition(backupPosition)}: ` +
            `transactions ${d}-…-${b + 1}…${r.first - 1} were never archived; use a newer backup`,
        );
      }
    }
  }
  let endAt = all.length - 1;
  let endOfArchive = true;
  if (target.kind === 'time') {
    const i = all.findIndex((f, k) => k >= startAt && f.lastTime !== undefined && f.lastTime >= target.time);
    if (i >= 0) {
      endAt = i;
      endOfArchive = false;
    }
  } else if (target.kind === 'gtid') {
    const d = String(target.gtid.domain);
    const i = all.findIndex(
      (f, k) =>
        k >= startAt &&
        (f.domains[d]?.first ?? Infinity) <= target.gtid.seq &&
        (f.domains[d]?.last ?? -1) >= target.gtid.seq,
    );
    if (i < 0) {
      const last = [...all].reverse().find((f) => f.domains[d]);
      throw new Error(
        `--to-gtid ${formatGtid(target.gtid)} is not in the archive of ${index.stream}${
          last
            ? ` (domain ${d} is archived up to ${d}-${last.domains[d]?.server ?? 0}-${last.domains[d]?.last ?? 0})`
            : ` (no transaction of domain ${d} is archived)`
        }`,
      );
    }
    endAt = i;
    endOfArchive = false;
  }
  const files = all.slice(startAt, endAt + 1);
  checkContinuity(all.slice(startAt > 0 ? startAt - 1 : 0, endAt + 1));
  const binlogArgs: string[] = [];
  if (backupPosition.size > 0) binlogArgs.push(`--start-position=${formatGtidPosition(backupPosition)}`);
  let reachedTime = files.at(-1)?.lastTime;
  if (target.kind === 'time' && !endOfArchive) {
    binlogArgs.push(`--stop-datetime=${mariadbDatetime(target.time)}`);
    reachedTime = target.time - 1;
  } else if (target.kind === 'gtid') {
    binlogArgs.push(`--stop-position=${formatGtid(target.gtid)}`);
  }
  return { files, binlogArgs, reachedTime, endOfArchive };
}

/** A base backup as PITR needs it (from the backup manifest). */
export interface BackupRef {
  id: string;
  gtidPosition: string;
  finishedAt: number;
}

/** The newest backup that finished before the target (time) or whose position precedes it (GTID). */
export function chooseBackup<T extends BackupRef>(backups: readonly T[], target: PitrTarget): T {
  const sorted = [...backups].sort((a, b) => b.finishedAt - a.finishedAt);
  const ok = sorted.find((b) => {
    if (target.kind === 'latest') return true;
    if (target.kind === 'time') return b.finishedAt <= target.time;
    const pos = parseGtidPositionLoose(b.gtidPosition).get(target.gtid.domain);
    return !pos || pos.seq < target.gtid.seq;
  });
  if (!ok) {
    throw new Error(
      backups.length === 0
        ? 'no backup in the storage: run `kstack backup now` first'
        : 'no backup precedes the target; the oldest backup is newer than the point you asked for',
    );
  }
  return ok;
}

function parseGtidPositionLoose(text: string): Map<number, Gtid> {
  const m = new Map<number, Gtid>();
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const g = parseGtid(part);
    m.set(g.domain, g);
  }
  return m;
}

/**
 * Every db member archives its own stream with the same GTIDs. The plan taken is the one of the stream
 * that can serve the target and reaches furthest (a member that was down has a shorter stream); when no
 * stream can, the error says why for each.
 */
export function planFromStreams(
  indexes: readonly BinlogIndex[],
  backupPosition: ReadonlyMap<number, Gtid>,
  target: PitrTarget,
  backupTime?: number,
): PitrPlan & { stream: string } {
  if (indexes.length === 0) {
    if (target.kind === 'latest')
      return { stream: '', files: [], binlogArgs: [], reachedTime: undefined, endOfArchive: true };
    throw new Error(
      'no binlog archive in the storage: point-in-time recovery needs ' +
        'backup.binlog.enabled; restore without --to-time/--to-gtid to get the backup itself',
    );
  }
  const tried: { stream: string; plan?: PitrPlan; error?: string }[] = indexes.map((ix) => {
    try {
      return { stream: ix.stream, plan: planPitr(ix, backupPosition, target, backupTime) };
    } catch (err) {
      return { stream: ix.stream, error: err instanceof Error ? err.message : String(err) };
    }
  });
  const ok = tried.filter((t): t is { stream: string; plan: PitrPlan } => t.plan !== undefined);
  if (ok.length === 0)
    throw new Error(
      `no binlog stream can serve this recovery:\n${tried.map((t) => `  ${t.stream}: ${t.error ?? ''}`).join('\n')}`,
    );
  const score = (p: PitrPlan): number => (p.endOfArchive ? (p.reachedTime ?? 0) : Number.MAX_SAFE_INTEGER);
  const best = ok.reduce((a, b) => (score(b.plan) > score(a.plan) ? b : a));
  return { stream: best.stream, ...best.plan };
}
