// `kstack prove --regions`: the two-region drills (src/region/drills.ts) on the running pair, each judged
// against the objectives of docs/multi-region.md, as rows of a prove report. The run ends where it started:
// the unplanned drill fails back, and the planned drill gives the primary role back.
//   G1 unplanned failover: the whole primary region stopped (nodes and API server), the standby promoted;
//      RTO (loss to the first visit the new primary acknowledges through the global name) and RPO
//      (the oldest acknowledged visit the new primary lacks) against their objectives.
//   G2 split brain: the old primary started again with no kstack region command takes no write from a client
//      and every one of its members records itself fenced; then it is failed back as the standby.
//   G3 planned failover: every visit acknowledged through the global name is on every member of both regions,
//      and the longest gap is within the objective.
// The judges are pure (each measurement against its limit); the drills are the I/O.
import { messageOf } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { plannedDrill, unplannedDrill, type PlannedDrillResult, type UnplannedDrillResult } from '../region/drills.js';
import { requirePair } from '../region/pair.js';
import { summarize, verdictOfRun, type ProveReport, type RowOutcome } from './outcome.js';
import type { Measurement, RowStatus } from './requirements/types.js';

/** The objectives: planned RPO 0 and RTO ≤ 60 s; unplanned RPO ≤ 5 s and RTO ≤ 2 min. */
export interface RegionObjectives {
  plannedRtoSeconds: number;
  unplannedRtoSeconds: number;
  unplannedRpoSeconds: number;
}

export const REGION_OBJECTIVES: RegionObjectives = {
  plannedRtoSeconds: 60,
  unplannedRtoSeconds: 120,
  unplannedRpoSeconds: 5,
};

export interface RegionRow {
  id: 'G1' | 'G2' | 'G3';
  title: string;
  checks: string;
}

export const REGION_ROWS: readonly RegionRow[] = [
  {
    id: 'G1',
    title: 'Unplanned failover: the whole primary region lost',
    checks:
      "A writer asks the page's write path every 0.2 s through the global name (TTL honoured). The primary's " +
      "nodes and API server are stopped; 'region failover --unplanned' promotes the standby. RTO: from the loss " +
      'to the first visit the new primary acknowledges; RPO: the oldest acknowledged visit the new primary lacks.',
  },
  {
    id: 'G2',
    title: 'Split brain: the old primary returns fenced',
    checks:
      'The old primary is started again with no kstack region command. For 15 s a client asks its own page for ' +
      'visits: none may be acknowledged; each of its db members must record itself fenced; the global name ' +
      "answers the new primary. Then 'region failback' makes it the standby again.",
  },
  {
    id: 'G3',
    title: 'Planned failover: no acknowledged write lost',
    checks:
      "Under the same writer, 'region failover --planned' gives the primary role back. Every acknowledged " +
      'visit must be on every member of both regions (RPO 0); the longest gap between visits is the RTO.',
  },
];

export interface Judged {
  status: RowStatus;
  reason: string;
  evidence: string[];
  measurements: Record<string, Measurement>;
}

const sec = (ms: number): number => Math.round(ms / 100) / 10;

/** Every judge's verdict: failed with each reason found, else passed with the one-line summary. */
function judged(
  failed: readonly string[],
  passReason: () => string,
  evidence: string[],
  measurements: Record<string, Measurement>,
): Judged {
  return failed.length
    ? { status: 'fail', reason: failed.join('; '), evidence, measurements }
    : { status: 'pass', reason: passReason(), evidence, measurements };
}

/** G1: RTO and RPO of the unplanned failover against the objectives. */
export function judgeUnplanned(u: UnplannedDrillResult, obj: RegionObjectives = REGION_OBJECTIVES): Judged {
  const measurements: Record<string, Measurement> = {
    from: u.from,
    to: u.to,
    acked: u.writer.acked,
    lost: u.lost,
    rpo_seconds: sec(u.rpoMs),
    rpo_objective_seconds: obj.unplannedRpoSeconds,
    rto_objective_seconds: obj.unplannedRtoSeconds,
    promoted_seconds: sec(u.failover.promotedMs),
    drained: u.failover.drained,
  };
  if (u.rtoMs !== undefined) measurements.rto_seconds = sec(u.rtoMs);
  const evidence = [
    `writer: ${u.writer.acked} visits acknowledged, ${u.writer.unanswered} unanswered in ` +
      `${u.writer.seconds.toFixed(0)} s`,
    `failover --unplanned: ${u.failover.drained} received transactions applied, ${u.to} took writes after ` +
      `${sec(u.failover.promotedMs)} s`,
    `${u.to} lacks ${u.lost} acknowledged visit(s) (RPO ${sec(u.rpoMs)} s)`,
  ];
  const failed: string[] = [];
  if (u.rtoMs === undefined) failed.push(`${u.to} acknowledged no visit through the global name after the loss`);
  else if (u.rtoMs > obj.unplannedRtoSeconds * 1000)
    failed.push(`RTO ${sec(u.rtoMs)} s is over the objective of ${obj.unplannedRtoSeconds} s`);
  if (u.rpoMs > obj.unplannedRpoSeconds * 1000)
    failed.push(`RPO ${sec(u.rpoMs)} s (${u.lost} visits lost) is over the objective of ${obj.unplannedRpoSeconds} s`);
  if (u.writer.acked === 0) failed.push('the writer had no visit acknowledged: nothing was measured');
  return judged(
    failed,
    () =>
      `${u.to} took over from ${u.from} in ${sec(u.rtoMs ?? 0)} s (objective ${obj.unplannedRtoSeconds} s), ` +
      `RPO ${sec(u.rpoMs)} s (objective ${obj.unplannedRpoSeconds} s)`,
    evidence,
    measurements,
  );
}

/** G2: the returned old primary took no write, every member fenced, the global name on the new primary. */
export function judgeFence(u: UnplannedDrillResult, newPrimaryEntry: string | undefined): Judged {
  const { fence } = u;
  const notFenced = fence.roles.filter((r) => r !== 'fenced');
  const measurements: Record<string, Measurement> = {
    probes: fence.attempts,
    writes_taken: fence.acknowledged,
    acked_after_stop: u.oldAckedAfterLoss,
    members: fence.roles.length,
    members_fenced: fence.roles.length - notFenced.length,
    return_seconds: sec(u.returnMs),
  };
  if (u.failbackMs !== undefined) measurements.failback_seconds = sec(u.failbackMs);
  const evidence = [
    `${u.from} back after ${sec(u.returnMs)} s; ${fence.attempts} requests to its own page: ` +
      `${fence.acknowledged} acknowledged`,
    `roles its members record: ${fence.roles.join(' ') || '(none answered)'}`,
    `global name answers ${fence.globalAnswer ?? 'nothing'}`,
    u.failbackMs !== undefined
      ? `failback: ${u.from} re-seeded as the standby in ${sec(u.failbackMs)} s`
      : `failback failed: ${u.failbackError ?? '?'}`,
  ];
  const failed: string[] = [];
  if (fence.acknowledged + u.oldAckedAfterLoss > 0)
    failed.push(`${u.from} took ${fence.acknowledged + u.oldAckedAfterLoss} write(s) after it was lost: split brain`);
  if (fence.roles.length === 0) failed.push(`no db member of ${u.from} answered`);
  if (notFenced.length) failed.push(`${notFenced.length} member(s) of ${u.from} do not record the fence`);
  if (fence.attempts === 0) failed.push(`${u.from}'s page was never asked`);
  if (newPrimaryEntry === undefined || fence.globalAnswer !== newPrimaryEntry)
    failed.push(`the global name answers ${fence.globalAnswer ?? 'nothing'}, not ${u.to} (${newPrimaryEntry ?? '?'})`);
  if (u.failbackMs === undefined) failed.push(`failback failed: ${u.failbackError ?? '?'}`);
  return judged(
    failed,
    () =>
      `${u.from} came back fenced on all ${fence.roles.length} members and took 0 of ${fence.attempts} ` +
      `writes; failed back in ${sec(u.failbackMs ?? 0)} s`,
    evidence,
    measurements,
  );
}

/** G3: RPO 0 on every member of both regions, the longest gap within the objective. */
export function judgePlanned(p: PlannedDrillResult, obj: RegionObjectives = REGION_OBJECTIVES): Judged {
  const measurements: Record<string, Measurement> = {
    from: p.from,
    to: p.to,
    acked: p.writer.acked,
    lost: p.lost,
    members_checked: p.membersChecked,
    rto_seconds: sec(p.longestGapMs),
    rto_objective_seconds: obj.plannedRtoSeconds,
    writes_paused_seconds: sec(p.failover.writesStoppedMs),
    global_name_seconds: sec(p.failover.dnsMs),
  };
  const evidence = [
    `writer: ${p.writer.acked} visits acknowledged, ${p.writer.unanswered} unanswered`,
    `failover --planned: writes paused ${sec(p.failover.writesStoppedMs)} s, ${p.failover.caughtUp} transactions ` +
      `caught up, global name on ${p.to} after ${sec(p.failover.dnsMs)} s`,
    `checked on ${p.membersChecked} members of both regions: ${p.lost} acknowledged visit(s) missing`,
  ];
  const failed: string[] = [];
  if (p.lost > 0) failed.push(`${p.lost} acknowledged visit(s) lost (the objective is RPO 0)`);
  if (p.longestGapMs > obj.plannedRtoSeconds * 1000)
    failed.push(`the longest gap ${sec(p.longestGapMs)} s is over the objective of ${obj.plannedRtoSeconds} s`);
  if (p.writer.acked === 0) failed.push('the writer had no visit acknowledged: nothing was measured');
  if (p.membersChecked === 0) failed.push('no member was checked');
  return judged(
    failed,
    () =>
      `${p.from} → ${p.to} with 0 of ${p.writer.acked} visits lost on ${p.membersChecked} members, ` +
      `longest gap ${sec(p.longestGapMs)} s (objective ${obj.plannedRtoSeconds} s)`,
    evidence,
    measurements,
  );
}

function outcome(row: RegionRow, judged: Judged, durationMs: number): RowOutcome {
  return { ...row, ...judged, artifacts: [], durationMs };
}

function couldNotCheck(row: RegionRow, err: unknown, durationMs: number): RowOutcome {
  const text = messageOf(err);
  return outcome(
    row,
    {
      status: 'fail',
      reason: `could not check: ${text.split('\n')[0] ?? ''}`,
      evidence: [`error: ${text}`],
      measurements: {},
    },
    durationMs,
  );
}

/**
 * Runs the drills on the pair and judges them: G1 and G2 from the unplanned drill (which fails back), G3
 * from a planned failover that gives the primary role back. A drill that throws fails its rows, never skips.
 */
export async function proveRegions(
  progress: Progress,
  opts: { objectives?: RegionObjectives } = {},
): Promise<ProveReport> {
  const objectives = opts.objectives ?? REGION_OBJECTIVES;
  const [g1, g2, g3] = REGION_ROWS as [RegionRow, RegionRow, RegionRow];
  const started = Date.now();
  const pair = requirePair();
  const rows: RowOutcome[] = [];
  let t0 = Date.now();
  try {
    const u = await progress.step(`${g1.id}+${g2.id} unplanned failover ${pair.primary} → ${pair.standby}`, () =>
      unplannedDrill(progress),
    );
    const half = (Date.now() - t0) / 2;
    rows.push(outcome(g1, judgeUnplanned(u, objectives), half));
    rows.push(outcome(g2, judgeFence(u, requirePair().entryPoints[u.to]), half));
  } catch (err) {
    rows.push(couldNotCheck(g1, err, Date.now() - t0), couldNotCheck(g2, err, 0));
  }
  t0 = Date.now();
  try {
    const now = requirePair();
    const p = await progress.step(`${g3.id} planned failover ${now.primary} → ${now.standby}`, () =>
      plannedDrill(progress),
    );
    rows.push(outcome(g3, judgePlanned(p, objectives), Date.now() - t0));
  } catch (err) {
    rows.push(couldNotCheck(g3, err, Date.now() - t0));
  }
  const verdict = verdictOfRun(rows);
  return {
    kind: 'ProveReport',
    release: pair.release,
    namespace: pair.namespace,
    cluster: `${pair.primary} + ${pair.standby} (regions)`,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    rows,
    summary: summarize(rows),
    verdict,
    ok: verdict === 'ok',
  };
}
