// npm run bench:regions — the two-region drills on a pair made for the run (primary 'bench-east' with the
// default nodes, standby 'bench-west' with 3): the writer follows the global name (TTL honoured) and asks
// the page's write path every 0.2 s. Baseline: the same writer for the same time with no failover (its
// longest gap is the writer's own cadence). Then a planned failover each way, and an unplanned one each
// way (the whole primary stopped, the standby promoted, the old primary started again with no kstack
// region command and its fence probed, then failed back; the next drill then runs the other way). Writes
// docs/benchmarks/regions.{json,md}; exits 1 when an acknowledged visit was lost in a planned failover or
// the fence let a write through. Both clusters and the pair are removed at the end.
import { setTimeout as sleep } from 'node:timers/promises';
import { REGION_OBJECTIVES } from '../src/prove/regions.js';
import { longestGapMs, startGlobalWriter } from '../src/region/drill.js';
import {
  plannedDrill,
  unplannedDrill,
  type PlannedDrillResult,
  type UnplannedDrillResult,
} from '../src/region/drills.js';
import { pairFile, readPair, requirePair } from '../src/region/pair.js';
import { regionDown } from '../src/region/region-down.js';
import { regionUp } from '../src/region/region-up.js';
import { createProgress } from '../src/util/progress.js';
import { startBench, type Figure, type TargetSpec } from './result.js';

const PRIMARY = 'bench-east';
const STANDBY = 'bench-west';
const progress = createProgress();

/** The objectives `kstack prove --regions` judges by (planned RPO 0, RTO ≤ 60 s; unplanned RPO ≤ 5 s, RTO ≤ 2 min). */
const OBJECTIVES = REGION_OBJECTIVES;

const s = (ms: number | undefined): number => (ms === undefined ? Infinity : ms / 1000);

async function main(): Promise<number> {
  if (readPair())
    throw new Error(`a pair of regions already runs here (${pairFile()}); the bench makes its own: remove that one`);
  const bench = startBench('regions', { primary: PRIMARY, standby: STANDBY, standbyNodes: 3, writeIntervalMs: 200 });
  try {
    await regionUp({
      primary: PRIMARY,
      standby: STANDBY,
      standbyNodes: 3,
      namespace: 'webstack',
      release: 'web',
      valuesFiles: [],
      timeoutMs: 20 * 60_000,
      progress,
    });
    const pair = requirePair();
    const baseWriter = startGlobalWriter({ dnsServer: `127.0.0.1:${pair.dns?.port ?? 0}` });
    await sleep(16_000);
    const baseline = await baseWriter.stop();
    const planned: PlannedDrillResult[] = [];
    const unplanned: UnplannedDrillResult[] = [];
    planned.push(await progress.step('planned failover east → west', () => plannedDrill(progress)));
    planned.push(await progress.step('planned failover west → east', () => plannedDrill(progress)));
    // Each unplanned drill ends with the failback, which leaves the old primary as the standby: the next one
    // runs the other way.
    unplanned.push(await progress.step('unplanned failover east → west', () => unplannedDrill(progress)));
    unplanned.push(await progress.step('unplanned failover west → east', () => unplannedDrill(progress)));
    const baseGap = longestGapMs(baseline.acked) / 1000;
    const figures: Figure[] = [
      {
        key: 'baseline.longestGap',
        label: 'baseline: longest gap between visits',
        value: baseGap,
        unit: 's',
        digits: 1,
      },
      { key: 'baseline.acked', label: 'baseline: visits acknowledged in 16 s', value: baseline.acked.length },
    ];
    const targets: TargetSpec[] = [];
    planned.forEach((p, i) => {
      const k = `planned${i + 1}`;
      const name = `planned ${p.from} → ${p.to}`;
      figures.push(
        {
          key: `${k}.paused`,
          label: `${name}: writes paused`,
          value: p.failover.writesStoppedMs / 1000,
          unit: 's',
          digits: 1,
        },
        {
          key: `${k}.globalName`,
          label: `${name}: global name answered the new primary`,
          value: p.failover.dnsMs / 1000,
          unit: 's',
          digits: 1,
        },
        {
          key: `${k}.longestGap`,
          label: `${name}: longest gap between acknowledged visits`,
          value: p.longestGapMs / 1000,
          unit: 's',
          digits: 1,
        },
        {
          key: `${k}.gapRatio`,
          label: `${name}: longest gap ÷ baseline's`,
          value: p.longestGapMs / 1000 / Math.max(baseGap, 0.2),
          unit: '×',
          digits: 1,
        },
        {
          key: `${k}.acked`,
          label: `${name}: visits acknowledged (checked on ${p.membersChecked} members)`,
          value: p.writer.acked,
        },
      );
      targets.push(
        { key: `${k}.lost`, label: `${name}: acknowledged visits lost (RPO)`, value: p.lost, op: '<=', limit: 0 },
        {
          key: `${k}.rto`,
          label: `${name}: RTO (longest gap)`,
          value: p.longestGapMs / 1000,
          op: '<=',
          limit: OBJECTIVES.plannedRtoSeconds,
          unit: 's',
        },
      );
    });
    unplanned.forEach((u, i) => {
      const k = `unplanned${i + 1}`;
      const name = `unplanned ${u.from} → ${u.to}`;
      figures.push(
        {
          key: `${k}.promoted`,
          label: `${name}: new primary took writes, after the command started`,
          value: u.failover.promotedMs / 1000,
          unit: 's',
          digits: 1,
        },
        {
          key: `${k}.return`,
          label: `${name}: old primary's db Ready again after its cluster up`,
          value: u.returnMs / 1000,
          unit: 's',
          digits: 0,
        },
        {
          key: `${k}.fenceProbes`,
          label: `${name}: requests to the returned old primary's page`,
          value: u.fence.attempts,
        },
        { key: `${k}.fenceRoles`, label: `${name}: roles its members recorded`, value: u.fence.roles.join(' ') },
        {
          key: `${k}.failback`,
          label: `${name}: failback (re-seed)`,
          value: u.failbackMs === undefined ? `failed: ${u.failbackError ?? '?'}` : u.failbackMs / 1000,
          unit: 's',
          digits: 0,
        },
        {
          key: `${k}.dnsQueries`,
          label:
            `${name}: writer's DNS queries in ${u.writer.seconds.toFixed(0)} s ` +
            '(TTL 2 s; a name without an answer is asked again each time)',
          value: u.writer.dnsQueries,
        },
      );
      targets.push(
        {
          key: `${k}.rto`,
          label: `${name}: RTO (loss to the first visit the new primary acknowledged)`,
          value: s(u.rtoMs),
          op: '<=',
          limit: OBJECTIVES.unplannedRtoSeconds,
          unit: 's',
        },
        {
          key: `${k}.rpo`,
          label: `${name}: RPO (oldest acknowledged visit lost, before the loss)`,
          value: u.rpoMs / 1000,
          op: '<=',
          limit: OBJECTIVES.unplannedRpoSeconds,
          unit: 's',
        },
        {
          key: `${k}.fence`,
          label: `${name}: writes the returned old primary took`,
          value: u.fence.acknowledged + u.oldAckedAfterLoss,
          op: '<=',
          limit: 0,
        },
        {
          key: `${k}.failbackFailed`,
          label: `${name}: failbacks that failed`,
          value: u.failbackMs === undefined ? 1 : 0,
          op: '<=',
          limit: 0,
        },
        {
          key: `${k}.fenced`,
          label: `${name}: members of the old primary not fenced`,
          value: u.fence.roles.filter((r) => r !== 'fenced').length,
          op: '<=',
          limit: 0,
        },
      );
    });
    bench.finish({
      title: 'two regions: planned and unplanned failover under the global writer, the fence, failback',
      figures,
      targets,
      notes: [
        'Both regions are local clusters on one 2-core machine; the writer asks http://www.webstack.test/api/info ' +
          "every 0.2 s through the pair's CoreDNS (TTL 2 s), one request at a time, 2 s timeout, no retry.",
        'A planned failover is checked on every member of both regions; an unplanned one on every member of the ' +
          'new primary (the old primary is re-seeded by the failback, which drops what it alone had).',
        'Unplanned: the old primary is stopped with kstack cluster stop (nodes and API server); it is started ' +
          'again with kstack cluster up, and no kstack region command runs before its fence is probed.',
      ],
      details: { planned, unplanned, baseline: { acked: baseline.acked.length, reasons: baseline.reasons } },
    });
    const broken =
      planned.some((p) => p.lost > 0) || unplanned.some((u) => u.fence.acknowledged + u.oldAckedAfterLoss > 0);
    return broken ? 1 : 0;
  } finally {
    // The pair's daemon, both clusters and the pair's files, as `kstack region down` removes them.
    await regionDown({ progress, regions: [PRIMARY, STANDBY] }).catch(() => undefined);
  }
}

process.exitCode = await main();
