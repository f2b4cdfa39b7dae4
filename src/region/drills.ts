// The two-region drills (docs/multi-region.md), run on a pair made by `kstack region up`: a planned
// failover under the global writer, and an unplanned one where the whole primary region is stopped (its
// nodes and its API server), the standby promoted, the old primary started again with no kstack region
// command, its fence checked from where a client stands, and then failed back. Each returns what it
// measured; the caller judges (the bench against the objectives, the e2e strictly on what must never happen).
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1StatefulSet } from '@kubernetes/client-node';
import { controlPlaneStop, controlPlaneUp } from '../cluster/control-plane.js';
import { componentSelector, type List } from '../kube/kube.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import {
  firstAckAfterMs,
  longestGapMs,
  missingVisits,
  readVisit,
  rpoMs,
  startGlobalWriter,
  type AckedVisit,
  type WriterReport,
} from './drill.js';
import { globalDnsDir, readDnsStatus } from './global-name.js';
import { pairFile, requirePair, type RegionPair } from './pair.js';
import {
  failback,
  memberSession,
  plannedFailover,
  readyMembers,
  regionKube,
  unplannedFailover,
  visitsOnMembers,
  type FailoverResult,
  type UnplannedResult,
} from './regions.js';
import { scalarText } from './replication.js';

export interface WriterSummary {
  acked: number;
  unanswered: number;
  reasons: Record<string, number>;
  dnsQueries: number;
  seconds: number;
}

const summary = (r: WriterReport): WriterSummary => ({
  acked: r.acked.length,
  unanswered: r.unanswered,
  reasons: r.reasons,
  dnsQueries: r.dnsQueries,
  seconds: (r.stoppedAt - r.startedAt) / 1000,
});

function dnsServerOf(pair: RegionPair): string {
  if (!pair.dns) throw new UserError("the pair has no global name DNS server; run 'kstack region up' again");
  return `127.0.0.1:${pair.dns.port}`;
}

/** Acknowledged visits each Ready member of `region` lacks, by member. */
async function lostOn(pair: RegionPair, region: string, acked: readonly AckedVisit[], progress: Progress) {
  const kube = await regionKube(region, pair.namespace, progress);
  const found = await visitsOnMembers(
    kube,
    pair.release,
    region,
    acked.map((v) => v.id),
  );
  return [...found].map(([member, have]) => ({ member, missing: missingVisits(acked, have) }));
}

export interface PlannedDrillResult {
  from: string;
  to: string;
  failover: FailoverResult;
  writer: WriterSummary;
  longestGapMs: number;
  /** Acknowledged visits missing on any member of either region (must be 0). */
  lost: number;
  membersChecked: number;
}

/** A switchover under the writer: every acknowledged visit must be on every member of both regions. */
export async function plannedDrill(
  progress: Progress,
  opts: { leadMs?: number; tailMs?: number; timeoutMs?: number } = {},
): Promise<PlannedDrillResult> {
  const pair = requirePair();
  const writer = startGlobalWriter({ dnsServer: dnsServerOf(pair) });
  let report: WriterReport | undefined;
  let failover: FailoverResult;
  try {
    await sleep(opts.leadMs ?? 8000);
    failover = await plannedFailover(progress, { timeoutMs: opts.timeoutMs ?? 120_000 });
    await sleep(opts.tailMs ?? 8000);
  } finally {
    report = await writer.stop();
  }
  const checks = [
    ...(await lostOn(pair, pair.standby, report.acked, progress)),
    ...(await lostOn(pair, pair.primary, report.acked, progress)),
  ];
  const lost = new Set(checks.flatMap((c) => c.missing.map((m) => m.id)));
  return {
    from: pair.primary,
    to: pair.standby,
    failover,
    writer: summary(report),
    longestGapMs: longestGapMs(report.acked),
    lost: lost.size,
    membersChecked: checks.length,
  };
}

export interface FenceProbe {
  /** Requests to the old primary's own page after it came back. */
  attempts: number;
  /** Of them, visits it acknowledged (must be 0: a write taken by a fenced region is split brain). */
  acknowledged: number;
  /** The role each of its db members records. */
  roles: string[];
  /** What the global name answered at the end (must be the new primary's entry point). */
  globalAnswer: string | null;
}

export interface UnplannedDrillResult {
  from: string;
  to: string;
  failover: UnplannedResult;
  writer: WriterSummary;
  /** From the loss to the first visit the new primary acknowledged through the global name. */
  rtoMs: number | undefined;
  /** Acknowledged visits the new primary lacks, and how old the oldest was at the loss. */
  lost: number;
  rpoMs: number;
  /** Visits the old primary acknowledged once it was stopped (must be 0; during the stop it still runs). */
  oldAckedAfterLoss: number;
  /** From `kstack cluster up` of the old primary to its db members Ready again. */
  returnMs: number;
  fence: FenceProbe;
  /** The failback's time, or why it failed (the figures above stand either way). */
  failbackMs: number | undefined;
  failbackError: string | undefined;
}

async function dbMembersReady(region: string, namespace: string, release: string, progress: Progress) {
  const kube = await regionKube(region, namespace, progress);
  const sets = await kube.json<List<V1StatefulSet>>(['get', 'statefulsets', '-l', componentSelector(release, 'db')]);
  const want = sets.items.reduce((n, s) => n + (s.spec?.replicas ?? 0), 0);
  return want > 0 && (await readyMembers(kube, release)).length >= want;
}

/** Asks the old primary's own page for visits and reads each member's recorded role: the fence, seen. */
async function probeFence(pair: RegionPair, region: string, entry: string, progress: Progress): Promise<FenceProbe> {
  let attempts = 0;
  let acknowledged = 0;
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    attempts++;
    try {
      const res = await fetch(`http://${entry}/api/info`, { signal: AbortSignal.timeout(2000) });
      if ('id' in readVisit(await res.json(), Date.now())) acknowledged++;
    } catch {
      // no answer is no write taken
    }
    await sleep(500);
  }
  const kube = await regionKube(region, pair.namespace, progress);
  const roles: string[] = [];
  for (const member of await readyMembers(kube, pair.release)) {
    const rows = await memberSession(kube, member).query('SELECT role FROM `kstack_region`.`state` WHERE id = 1');
    roles.push(scalarText(rows[0]?.role) || 'none');
  }
  return { attempts, acknowledged, roles, globalAnswer: readDnsStatus(globalDnsDir(pairFile()))?.answer ?? null };
}

/**
 * The whole primary region is lost (its nodes and API server stopped, nothing of it reachable), the standby
 * promoted, the old primary started again with no kstack region command (its fence must hold), then
 * failed back as the new standby.
 */
export async function unplannedDrill(
  progress: Progress,
  opts: { leadMs?: number; tailMs?: number; timeoutMs?: number; returnTimeoutMs?: number } = {},
): Promise<UnplannedDrillResult> {
  const pair = requirePair();
  const from = pair.primary;
  const to = pair.standby;
  const oldEntry = pair.entryPoints[from];
  if (!oldEntry) throw new UserError(`the pair records no entry point for ${from}`);
  const writer = startGlobalWriter({ dnsServer: dnsServerOf(pair) });
  let report: WriterReport | undefined;
  let failover: UnplannedResult;
  let lostAt = 0;
  let downAt = 0;
  let nodeSettings: Awaited<ReturnType<typeof controlPlaneStop>>['nodeSettings'];
  try {
    await sleep(opts.leadMs ?? 8000);
    lostAt = Date.now();
    nodeSettings = (await controlPlaneStop({ name: from, progress })).nodeSettings;
    downAt = Date.now();
    failover = await unplannedFailover(progress, { timeoutMs: opts.timeoutMs ?? 120_000, force: false });
    // The clients find the new primary by the global name: wait for its first acknowledged visit.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !writer.acked().some((v) => v.region === to && v.at >= lostAt)) await sleep(500);
    await sleep(opts.tailMs ?? 5000);
  } finally {
    report = await writer.stop();
  }
  const checks = await lostOn(requirePair(), to, report.acked, progress);
  const missing = new Map(checks.flatMap((c) => c.missing.map((m) => [m.id, m] as const)));
  const lost = [...missing.values()];
  const returnStarted = Date.now();
  await progress.step(`${from} comes back (no kstack region command)`, async (step) => {
    await controlPlaneUp({ name: from, progress, ...(nodeSettings ? { nodes: nodeSettings } : {}) });
    const deadline = Date.now() + (opts.returnTimeoutMs ?? 600_000);
    for (;;) {
      if (await dbMembersReady(from, pair.namespace, pair.release, progress).catch(() => false)) return;
      if (Date.now() > deadline) throw new UserError(`${from}'s db members did not become Ready again`);
      step.detail('waiting for its db members');
      await sleep(2000);
    }
  });
  const returnMs = Date.now() - returnStarted;
  const fence = await progress.step(`${from}'s fence, from a client`, () =>
    probeFence(requirePair(), from, oldEntry, progress),
  );
  let failbackMs: number | undefined;
  let failbackError: string | undefined;
  try {
    failbackMs = (await failback(progress, { timeoutMs: 600_000 })).ms;
  } catch (err) {
    failbackError = (err as Error).message;
  }
  return {
    from,
    to,
    failover,
    writer: summary(report),
    rtoMs: firstAckAfterMs(report.acked, to, lostAt),
    lost: lost.length,
    rpoMs: rpoMs(lost, lostAt),
    oldAckedAfterLoss: report.acked.filter((v) => v.region === from && v.at > downAt).length,
    returnMs,
    fence,
    failbackMs,
    failbackError,
  };
}
