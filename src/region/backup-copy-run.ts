// The I/O of backups across regions (the decisions are in backup-copy.ts): one round copies the primary's
// backup bucket into the copy bucket on the standby's S3 server, streaming each object (multipart, bounded
// memory), a few at a time; and the daemon's loop that runs a round every interval (dns-main.ts starts it).
// A copy appears under its key only when complete (a multipart upload is invisible until completed and is
// aborted on failure), so an interrupted round leaves nothing half-written and the next one completes it.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCAL_S3_BUCKET, localS3Config, localS3Credentials } from '../cluster/addons/local-s3.js';
import { clusterLayout } from '../cluster/layout.js';
import { planClusterNetwork } from '../cluster/nodes/plan.js';
import { ObjectStore } from '../s3/object-store.js';
import { UserError, messageOf } from '../util/errors.js';
import {
  COPY_BUCKET_PREFIX,
  SOURCE_ETAG_META,
  copyBucketName,
  copyIntervalMs,
  keysToInspect,
  nextStatus,
  planBackupCopy,
  readyLast,
  type CopiedObjectInfo,
  type CopyItem,
  type CopyRoundResult,
  type CopyStatus,
} from './backup-copy.js';
import { readPair } from './pair.js';

export interface CopyRoundOptions {
  /** Region names, for the result. */
  from: string;
  to: string;
  /** The primary's backup bucket (prefix '') and the copy bucket on the standby's server (prefix ''). */
  source: ObjectStore;
  target: ObjectStore;
  /** Objects copied at the same time (default 2). */
  concurrency?: number;
  /** Multipart part size of the copies (default 8 MiB; memory ≈ concurrency × 2 parts). */
  partSize?: number;
  signal?: AbortSignal;
  /** Copies' source ETags learnt from earlier rounds (copy ETag → source ETag per key), to spare HEADs. */
  cache?: Map<string, { etag: string; sourceEtag: string }>;
  log?: (line: string) => void;
}

/** Counts the bytes that pass and fails the stream when they are not the size the listing gave. */
class SizeCheck extends Transform {
  private seen = 0;
  constructor(
    private readonly key: string,
    private readonly expected: number,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    cb(
      this.seen === this.expected
        ? null
        : new Error(`${this.key}: read ${this.seen} bytes, the listing said ${this.expected} (changed while copied?)`),
    );
  }
}

async function copyOne(o: CopyRoundOptions, item: CopyItem): Promise<void> {
  if (o.signal?.aborted) throw new Error('stopped');
  const body = await o.source.getStream(item.key);
  const checked = new SizeCheck(item.key, item.size);
  const onAbort = (): void => {
    checked.destroy(new Error('stopped'));
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  body.once('error', (err) => checked.destroy(err));
  body.pipe(checked);
  try {
    await o.target.putStream(item.key, checked, {
      partSize: o.partSize ?? 8 * 1024 * 1024,
      queueSize: 2,
      metadata: { [SOURCE_ETAG_META]: item.etag },
    });
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    body.destroy();
  }
}

/** Runs `work` over `items`, at most `limit` at a time; returns the keys that failed with their errors. */
async function pool(
  items: readonly CopyItem[],
  limit: number,
  work: (item: CopyItem) => Promise<void>,
): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as CopyItem;
      try {
        await work(item);
      } catch (err) {
        failed.set(item.key, messageOf(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return failed;
}

/**
 * One round: lists both buckets, plans (backup-copy.ts), copies, then the folders' manifests and indexes,
 * then deletes what the retention rule says. Per-object failures are reported in the result and retried by
 * the next round; a failure to list either side fails the round (an unreadable source never reads as empty).
 */
export async function copyRound(o: CopyRoundOptions): Promise<CopyRoundResult> {
  const started = new Date();
  const log = o.log ?? (() => undefined);
  await o.target.ensureBucket();
  // Unfinished uploads an interrupted round left (older than an hour, so a round running now is spared).
  await o.target.abortUploads('', new Date(Date.now() - 3_600_000));
  const [source, listed] = await Promise.all([o.source.list(''), o.target.list('')]);
  const cache = o.cache ?? new Map<string, { etag: string; sourceEtag: string }>();
  const copy: CopiedObjectInfo[] = listed.map((c) => {
    const known = cache.get(c.key);
    return known && known.etag === c.etag ? { ...c, sourceEtag: known.sourceEtag } : c;
  });
  for (const key of keysToInspect(source, copy)) {
    const head = await o.target.head(key);
    const recorded = head?.metadata[SOURCE_ETAG_META];
    const entry = copy.find((c) => c.key === key);
    if (entry && head && recorded) {
      entry.sourceEtag = recorded;
      cache.set(key, { etag: head.etag, sourceEtag: recorded });
    }
  }
  const plan = planBackupCopy(source, copy);
  let bytes = 0;
  const work = async (item: CopyItem): Promise<void> => {
    await copyOne(o, item);
    bytes += item.size;
    log(`copied ${item.key} (${item.size} bytes, ${item.why})`);
  };
  const failed = await pool(plan.copy, o.concurrency ?? 2, work);
  const last = readyLast(plan, new Set(failed.keys()));
  for (const [key, err] of await pool(last, o.concurrency ?? 2, work)) failed.set(key, err);
  const errors = [...failed].map(([key, err]) => `${key}: ${err}`);
  let removed = 0;
  if (plan.remove.length > 0 && !o.signal?.aborted) {
    // Manifests first, in a call of their own: an interrupted deletion never leaves a manifest without its dump.
    const manifests = plan.remove.filter((r) => r.key.endsWith('/manifest.json')).map((r) => r.key);
    const others = plan.remove.filter((r) => !r.key.endsWith('/manifest.json')).map((r) => r.key);
    try {
      if (manifests.length > 0) await o.target.delete(manifests);
      if (others.length > 0) await o.target.delete(others);
      removed = plan.remove.length;
      for (const r of plan.remove) log(`removed ${r.key}: ${r.why}`);
    } catch (err) {
      errors.push(`deleting: ${messageOf(err)}`);
    }
  }
  const pending = failed.size + plan.copyLast.length - last.length;
  return {
    from: o.from,
    to: o.to,
    bucket: o.target.cfg.bucket,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    ok: errors.length === 0 && pending === 0,
    objects: source.length,
    unchanged: plan.unchanged,
    copied: plan.copy.length + last.length - failed.size,
    bytes,
    removed,
    kept: plan.keep.length,
    pending,
    errors,
  };
}

/** A region's local S3 server (its cluster's MinIO on the bridge gateway) with one of its buckets. */
export function regionStore(region: string, bucket: string, clusters?: string): ObjectStore {
  const layout = clusterLayout(region, clusters);
  const creds = localS3Credentials(layout, false);
  if (!creds)
    throw new UserError(
      `region '${region}' has no local S3 server credentials (${layout.config}); ` +
        "is its cluster up ('kstack region up')?",
    );
  const { gateway } = planClusterNetwork(region, { count: 3 });
  return new ObjectStore(
    { ...localS3Config(gateway, creds, ''), bucket },
    { maxAttempts: 3, requestTimeoutMs: 120_000 },
  );
}

/** One round from the pair's primary to its standby, on the two regions' own S3 servers. */
export async function copyPairBackups(
  pair: { primary: string; standby: string },
  opts: Pick<CopyRoundOptions, 'signal' | 'cache' | 'log'> & { clusters?: string } = {},
): Promise<CopyRoundResult> {
  const source = regionStore(pair.primary, LOCAL_S3_BUCKET, opts.clusters);
  const target = regionStore(pair.standby, copyBucketName(pair.primary, 'the pair file'), opts.clusters);
  try {
    const { signal, cache, log } = opts;
    return await copyRound({
      from: pair.primary,
      to: pair.standby,
      source,
      target,
      ...(signal ? { signal } : {}),
      ...(cache ? { cache } : {}),
      ...(log ? { log } : {}),
    });
  } finally {
    source.destroy();
    target.destroy();
  }
}

export const copyStatusFile = (dir: string): string => join(dir, 'backup-copy.json');

export function readCopyStatus(dir: string): CopyStatus {
  const file = copyStatusFile(dir);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CopyStatus;
  } catch {
    return {};
  }
}

export function writeCopyStatus(dir: string, status: CopyStatus): void {
  const file = copyStatusFile(dir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(status, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** A failed round, as recorded: the error instead of counts. */
export function failedRound(from: string, to: string, bucket: string, started: Date, err: unknown): CopyRoundResult {
  return {
    from,
    to,
    bucket,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    ok: false,
    objects: 0,
    unchanged: 0,
    copied: 0,
    bytes: 0,
    removed: 0,
    kept: 0,
    pending: 0,
    errors: [messageOf(err)],
  };
}

export interface CopyLoopOptions {
  /** One round; its errors are caught, recorded and retried at the next interval. */
  round: (signal: AbortSignal) => Promise<CopyRoundResult | undefined>;
  intervalMs: number;
  signal: AbortSignal;
  onResult: (r: CopyRoundResult) => void;
  onError: (err: unknown) => void;
}

/** Rounds one at a time, `intervalMs` apart (from the end of one to the start of the next), until aborted. */
export async function runCopyLoop(o: CopyLoopOptions): Promise<void> {
  while (!o.signal.aborted) {
    try {
      const r = await o.round(o.signal);
      if (r) o.onResult(r);
    } catch (err) {
      o.onError(err);
    }
    try {
      await sleep(o.intervalMs, undefined, { signal: o.signal });
    } catch {
      return; // aborted
    }
  }
}

/**
 * The daemon's copy loop (dns-main.ts): every interval, from whichever region the pair file names primary to
 * the other; each round's result goes to backup-copy.json beside the daemon's status and to its log. Never
 * throws: the DNS answers do not depend on it.
 */
export function startPairCopyLoop(
  pairPath: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<void> {
  const cache = new Map<string, { etag: string; sourceEtag: string }>();
  const say = (line: string): void => {
    process.stdout.write(`${new Date().toISOString()} backups: ${line}\n`);
  };
  let intervalMs = 30_000;
  try {
    intervalMs = copyIntervalMs(env);
  } catch (err) {
    say(`${messageOf(err)}; copying every 30 s`);
  }
  // The clusters beside the pair file (<clusters>/.regions/pair.json), whose S3 servers hold the buckets.
  const clusters = join(pairPath, '..', '..');
  let status = readCopyStatus(dir);
  const record = (r: CopyRoundResult): void => {
    status = nextStatus(status, r);
    try {
      writeCopyStatus(dir, status);
    } catch (err) {
      say(`cannot write ${copyStatusFile(dir)}: ${messageOf(err)}`);
    }
  };
  return runCopyLoop({
    intervalMs,
    signal,
    round: async (s) => {
      const pair = readPair(pairPath);
      if (!pair) return undefined;
      const started = new Date();
      try {
        return await copyPairBackups(pair, { signal: s, cache, log: say, clusters });
      } catch (err) {
        return failedRound(pair.primary, pair.standby, `${COPY_BUCKET_PREFIX}${pair.primary}`, started, err);
      }
    },
    onResult: (r) => {
      if (!r.ok || r.copied > 0 || r.removed > 0)
        say(
          `${r.from} → ${r.to}: ${r.copied} copied, ${r.removed} removed, ${r.pending} pending` +
            (r.errors.length > 0 ? `; ${r.errors.slice(0, 3).join('; ')}` : ''),
        );
      record(r);
    },
    onError: (err) => {
      say(`round failed: ${messageOf(err)}`);
    },
  }).catch((err: unknown) => {
    say(`copy loop stopped: ${messageOf(err)}`);
  });
}
