// Backups across regions (docs/multi-region.md, "Backups across regions"): the primary region's backup bucket
// copied into a bucket of its own on the standby region's S3 server, so that a region lost with its storage
// can still be restored elsewhere. On a cloud this is cross-region replication of the bucket (S3 CRR, a GCS
// dual-region bucket). This file is the pure part: the copy's bucket name, what a round copies, in which
// order, and which deletions of the source the copy follows. backup-copy-run.ts does the I/O.
import { UserError } from '../util/errors.js';
import { checkRegionName } from './pair.js';

/** The copy of region R's backups, on the other region's S3 server; never mixed into that region's own bucket. */
export const COPY_BUCKET_PREFIX = 'kstack-backups-from-';

export function copyBucketName(region: string, flag = '--from-region'): string {
  return `${COPY_BUCKET_PREFIX}${checkRegionName(region, flag)}`;
}

/** The Secret holding region R's backup key in the other region's namespace (region up copies it there). */
export const KEY_SECRET_PREFIX = 'kstack-backup-key-from-';

export function copyKeySecretName(region: string, flag = '--from-region'): string {
  return `${KEY_SECRET_PREFIX}${checkRegionName(region, flag)}`;
}

/** User metadata on every copied object: the source's ETag (a multipart copy's own ETag differs). */
export const SOURCE_ETAG_META = 'kstack-source-etag';

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
}

export interface CopiedObjectInfo extends ObjectInfo {
  /** The source ETag recorded on the copy, when read (only needed when `etag` differs from the source's). */
  sourceEtag?: string;
}

export interface CopyItem extends ObjectInfo {
  why: 'missing' | 'size differs' | 'content differs';
}

export interface CopyPlan {
  /** Copied first, `concurrency` at a time. */
  copy: CopyItem[];
  /**
   * Copied only after every `copy` item of the same folder succeeded in the same round: a backup's
   * `manifest.json` (a backup exists only if its manifest does) and a binlog stream's `index.json`.
   */
  copyLast: CopyItem[];
  /** Deleted in the copy, manifests first (as the source's retention does). */
  remove: { key: string; why: string }[];
  /** In the copy but no longer in the source, and kept; with the reason. */
  keep: { key: string; why: string }[];
  unchanged: number;
}

/** Objects that other objects of their folder must precede in the copy. */
const LAST = new Set(['manifest.json', 'index.json']);

export const folderOf = (key: string): string => key.slice(0, key.lastIndexOf('/') + 1);
const baseName = (key: string): string => key.slice(key.lastIndexOf('/') + 1);

/** `<prefix>/backups/<id>/<object>` → the backups folder and the id; undefined for any other key. */
export function backupFolder(key: string): { base: string; id: string } | undefined {
  const m = /^((?:.*\/)?backups\/)([^/]+)\/[^/]+$/.exec(key);
  return m ? { base: m[1] ?? '', id: m[2] ?? '' } : undefined;
}

/** Same content: same size and the same ETag, or the source's ETag recorded on the copy. */
export function sameContent(source: ObjectInfo, copy: CopiedObjectInfo): boolean {
  return source.size === copy.size && (source.etag === copy.etag || source.etag === copy.sourceEtag);
}

/**
 * Copies whose ETag differs from the source's with the same size: the I/O reads the source ETag recorded on
 * them (HEAD) before planning, since a multipart copy's own ETag depends on its part size.
 */
export function keysToInspect(source: readonly ObjectInfo[], copy: readonly CopiedObjectInfo[]): string[] {
  const src = new Map(source.map((o) => [o.key, o]));
  return copy
    .filter((c) => {
      const s = src.get(c.key);
      return s !== undefined && c.sourceEtag === undefined && s.size === c.size && s.etag !== c.etag;
    })
    .map((c) => c.key);
}

/**
 * What one round does. Copies every source object the copy lacks or holds with other content. Deletions
 * follow the source's retention, never more: an object the source no longer has is deleted in the copy only
 * when it lies in a backup folder (`…/backups/<id>/`) whose manifest the source no longer has, while the source
 * holds a complete backup (a manifest) newer than `<id>` under the same `…/backups/`. The source's retention
 * always keeps its newest backup, so a source that lost its storage (empty, or only unfinished folders) makes
 * the copy delete nothing. Objects outside backup folders (binlogs and their indexes, which the source never
 * deletes) are never deleted in the copy. Nothing here ever touches the source.
 */
export function planBackupCopy(source: readonly ObjectInfo[], copy: readonly CopiedObjectInfo[]): CopyPlan {
  const src = new Map(source.map((o) => [o.key, o]));
  const dst = new Map(copy.map((o) => [o.key, o]));
  const plan: CopyPlan = { copy: [], copyLast: [], remove: [], keep: [], unchanged: 0 };
  for (const s of [...source].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const d = dst.get(s.key);
    if (d && sameContent(s, d)) {
      plan.unchanged++;
      continue;
    }
    const why: CopyItem['why'] = !d ? 'missing' : d.size !== s.size ? 'size differs' : 'content differs';
    (LAST.has(baseName(s.key)) ? plan.copyLast : plan.copy).push({ key: s.key, size: s.size, etag: s.etag, why });
  }
  // The newest complete backup per backups folder in the source.
  const newest = new Map<string, string>();
  for (const s of source) {
    const f = backupFolder(s.key);
    if (f && baseName(s.key) === 'manifest.json' && (newest.get(f.base) ?? '') < f.id) newest.set(f.base, f.id);
  }
  const removeManifests: CopyPlan['remove'] = [];
  const removeOthers: CopyPlan['remove'] = [];
  for (const d of copy) {
    if (src.has(d.key)) continue;
    const f = backupFolder(d.key);
    if (!f) {
      plan.keep.push({ key: d.key, why: 'not in a backup folder: only backup folders follow the retention' });
      continue;
    }
    if (src.has(`${f.base}${f.id}/manifest.json`)) {
      plan.keep.push({ key: d.key, why: `backup ${f.id} is still complete in the source` });
      continue;
    }
    const newer = newest.get(f.base);
    if (newer === undefined || newer <= f.id) {
      plan.keep.push({
        key: d.key,
        why: `the source has no complete backup newer than ${f.id} (a source that lost its storage looks so)`,
      });
      continue;
    }
    const item = { key: d.key, why: `backup ${f.id} was removed in the source, which holds the newer ${newer}` };
    (baseName(d.key) === 'manifest.json' ? removeManifests : removeOthers).push(item);
  }
  plan.remove = [...removeManifests, ...removeOthers];
  return plan;
}

/** `copyLast` items whose folder had no failed copy this round (the rest wait for the next round). */
export function readyLast(plan: CopyPlan, failed: ReadonlySet<string>): CopyItem[] {
  const failedFolders = new Set([...failed].map(folderOf));
  return plan.copyLast.filter((c) => !failedFolders.has(folderOf(c.key)));
}

/** What a round did, as the daemon records it (backup-copy.json) and `kstack region backups` shows it. */
export interface CopyRoundResult {
  from: string;
  to: string;
  bucket: string;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  /** Objects in the source, and how many the copy already held with the same content. */
  objects: number;
  unchanged: number;
  copied: number;
  bytes: number;
  removed: number;
  kept: number;
  /** Objects left for the next round (a failed copy, or a manifest whose folder had one). */
  pending: number;
  errors: string[];
}

/** The daemon's record: the last round, and the last one that left nothing pending. */
export interface CopyStatus {
  last?: CopyRoundResult;
  lastComplete?: CopyRoundResult;
}

export function nextStatus(prev: CopyStatus, round: CopyRoundResult): CopyStatus {
  return {
    last: round,
    ...(round.ok ? { lastComplete: round } : prev.lastComplete ? { lastComplete: prev.lastComplete } : {}),
  };
}

/** The interval of the daemon's rounds from KSTACK_REGION_BACKUP_COPY_SECONDS (default 30, 1…86400). */
export function copyIntervalMs(env: NodeJS.ProcessEnv): number {
  const name = 'KSTACK_REGION_BACKUP_COPY_SECONDS';
  const raw = env[name];
  if (raw === undefined || raw === '') return 30_000;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 86_400)
    throw new UserError(`${name}: must be a whole number of seconds from 1 to 86400; got '${raw}'`);
  return Number(raw) * 1000;
}

/** One line for people: when the last round ran and what it did. */
export function formatCopyStatus(status: CopyStatus, now: Date): string {
  const ago = (iso: string): string => `${Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000))} s ago`;
  const r = status.last;
  if (!r) return 'backups across regions: no copy round has run yet\n';
  const lines = [
    `backups across regions: ${r.from} → ${r.to}, bucket ${r.bucket} on ${r.to}'s S3 server`,
    `  last round: ${r.ok ? 'complete' : 'incomplete'}, finished ${ago(r.finishedAt)}: ${r.objects} object(s) in ` +
      `the source, ${r.unchanged} already copied, ${r.copied} copied (${r.bytes} bytes), ${r.removed} removed, ` +
      `${r.kept} kept, ${r.pending} pending`,
    ...r.errors.slice(0, 5).map((e) => `  error: ${e}`),
  ];
  const c = status.lastComplete;
  lines.push(
    c
      ? `  last complete copy: finished ${ago(c.finishedAt)} (${c.objects} object(s), ${c.from} → ${c.to})`
      : '  no round has completed yet',
  );
  return `${lines.join('\n')}\n`;
}
