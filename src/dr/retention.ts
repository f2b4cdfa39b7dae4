// Retention: which backups to delete. The decision is a pure function (unit-tested); applying it deletes
// each backup's manifest first, so an interrupted deletion never leaves a manifest without its dump.
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { MANIFEST_OBJECT, backupKey } from './backup.js';
import { listCatalog, type CatalogEntry } from './catalog.js';
import { backupIdTime } from './manifest.js';
import type { ObjectStore } from '../s3/object-store.js';

export interface RetentionPolicy {
  /** Always keep the newest N complete backups (≥ 1). */
  keepLast: number;
  /** Also keep every complete backup younger than this many days (0 = count only). */
  keepDays: number;
  /** Folders without a manifest (failed runs) are removed once older than this (a running backup is younger). */
  incompleteGraceHours?: number;
}

export interface RetentionItem {
  id: string;
  complete: boolean;
  verifiedOk: boolean;
}

export interface RetentionDecision {
  keep: { id: string; why: string }[];
  remove: { id: string; why: string }[];
}

export function parseRetentionPolicy(env: NodeJS.ProcessEnv): RetentionPolicy {
  const int = (name: string, def: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    if (!/^\d+$/.test(raw) || Number(raw) < min)
      throw new UserError(`${name}: must be a whole number ≥ ${min}; got '${raw}'`);
    return Number(raw);
  };
  return {
    keepLast: int('KSTACK_DR_RETENTION_COUNT', 7, 1),
    keepDays: int('KSTACK_DR_RETENTION_MAX_AGE_DAYS', 14, 0),
    incompleteGraceHours: int('KSTACK_DR_INCOMPLETE_GRACE_HOURS', 24, 1),
  };
}

/**
 * Decides what to keep: the newest `keepLast` complete backups, every complete backup younger than
 * `keepDays`, and always the newest backup whose verification passed (even when it is older than all
 * of those). Incomplete folders are removed after the grace period.
 */
export function decideRetention(
  items: readonly RetentionItem[],
  policy: RetentionPolicy,
  now: Date,
): RetentionDecision {
  if (!Number.isInteger(policy.keepLast) || policy.keepLast < 1)
    throw new UserError(`retention keepLast must be ≥ 1; got ${policy.keepLast}`);
  if (!Number.isFinite(policy.keepDays) || policy.keepDays < 0)
    throw new UserError(`retention keepDays must be ≥ 0; got ${policy.keepDays}`);
  const graceMs = (policy.incompleteGraceHours ?? 24) * 3600_000;
  const sorted = [...items].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)); // newest first
  const complete = sorted.filter((i) => i.complete);
  const newestVerified = complete.find((i) => i.verifiedOk)?.id;
  const keep: RetentionDecision['keep'] = [];
  const remove: RetentionDecision['remove'] = [];
  const ageMs = (id: string): number => now.getTime() - backupIdTime(id).getTime();
  complete.forEach((item, index) => {
    if (index < policy.keepLast) keep.push({ id: item.id, why: `one of the newest ${policy.keepLast}` });
    else if (ageMs(item.id) < policy.keepDays * 86_400_000)
      keep.push({ id: item.id, why: `younger than ${policy.keepDays} days` });
    else if (item.id === newestVerified) keep.push({ id: item.id, why: 'the newest verified backup' });
    else
      remove.push({
        id: item.id,
        why: `older than ${policy.keepDays} days and not among the newest ${policy.keepLast}`,
      });
  });
  for (const item of sorted.filter((i) => !i.complete)) {
    if (ageMs(item.id) >= graceMs) remove.push({ id: item.id, why: 'a failed backup (no manifest)' });
    else keep.push({ id: item.id, why: 'no manifest yet (may still be running)' });
  }
  return { keep, remove };
}

export function retentionItems(entries: readonly CatalogEntry[]): RetentionItem[] {
  return entries.map((e) => ({
    id: e.id,
    complete: e.manifest !== undefined,
    verifiedOk: e.verification?.ok === true,
  }));
}

/** Applies the policy to the storage: returns the decision that was carried out. */
export async function runRetention(
  store: ObjectStore,
  policy: RetentionPolicy,
  progress: Progress,
  now: Date = new Date(),
): Promise<RetentionDecision> {
  return progress.step('apply retention', async (step) => {
    const entries = await listCatalog(store);
    const decision = decideRetention(retentionItems(entries), policy, now);
    const byId = new Map(entries.map((e) => [e.id, e]));
    let n = 0;
    for (const r of decision.remove) {
      const e = byId.get(r.id);
      if (!e) continue;
      const mk = backupKey(store, r.id, MANIFEST_OBJECT);
      if (e.keys.includes(mk)) await store.delete([mk]);
      await store.delete(e.keys.filter((k) => k !== mk));
      step.detail(`deleted ${++n}/${decision.remove.length}: ${r.id} (${r.why})`);
    }
    return decision;
  });
}
