// Two regions, end to end (docs/multi-region.md): a pair of local clusters of its own (e2e-east the primary,
// e2e-west the standby, 3 nodes each) made by `region up`, then `kstack prove --regions` on it: its drills
// run under the global writer (the page's write path through the global name, its TTL honoured, 0.2 s):
//   G1 unplanned: the whole primary region stopped (nodes and API server), the standby promoted;
//   G2 the old primary started again with no kstack region command: it must take no write (split brain)
//      and every member must record itself fenced; then it is failed back as the standby;
//   G3 planned, back again: every acknowledged visit on every member of both regions;
// then `region down` and nothing of either cluster left on the host.
// The timing objectives (planned RTO ≤ 60 s; unplanned RTO ≤ 2 min, RPO ≤ 5 s) are judged by `kstack prove
// --regions` and measured by `npm run bench:regions` (8-18 s RTO, RPO 0: docs/benchmarks/regions.md). Here
// the rows judge against LOOSE bounds, 4× each objective: this group runs niced beside the stack group's
// prove on 2 cores, where a planned failover's longest gap reached 102 s (CI, load average 40). A failover
// that never completes still fails (no visit acknowledged by the new primary). What must never happen is
// judged strictly whatever the load, and asserted again from the rows' measurements: a write taken by the
// fenced old primary, a member without the fence, an acknowledged visit lost in the planned failover, a
// failback that fails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { proveRegions, REGION_OBJECTIVES, REGION_ROWS, type RegionObjectives } from '../../src/prove/regions.js';
import { pairFile, readPair, requirePair } from '../../src/region/pair.js';
import { regionDown } from '../../src/region/region-down.js';
import { regionUp } from '../../src/region/region-up.js';
import { regionStatus } from '../../src/region/regions.js';
import { createProgress } from '../../src/util/progress.js';
import { isRunning } from '../../src/util/process.js';
import { e2eCluster } from '../helpers/e2e-cluster.js';
import { assertNothingLeft } from '../helpers/local-cluster.js';

const progress = createProgress();
// The group's cluster is the primary; the standby is the group's second cluster (test/runner/groups.ts).
const ref = e2eCluster('e2e-east');
const PRIMARY = ref.name;
const STANDBY = 'e2e-west';
// Every region command finds the clusters and the pair file in the state folder: the group's own.
process.env.KSTACK_STATE_DIR = ref.baseDir;
/** 4× each objective of REGION_OBJECTIVES (see above). */
const LOOSE: RegionObjectives = {
  plannedRtoSeconds: 4 * REGION_OBJECTIVES.plannedRtoSeconds,
  unplannedRtoSeconds: 4 * REGION_OBJECTIVES.unplannedRtoSeconds,
  unplannedRpoSeconds: 4 * REGION_OBJECTIVES.unplannedRpoSeconds,
};

describe(`two regions: ${PRIMARY} (primary) and ${STANDBY} (standby), 3 nodes each`, { timeout: 40 * 60_000 }, () => {
  let downDone = false;
  let daemonPid: number | undefined;

  before(async () => {
    await regionUp({
      primary: PRIMARY,
      standby: STANDBY,
      primaryNodes: 3,
      standbyNodes: 3,
      namespace: 'webstack',
      release: 'web',
      valuesFiles: [],
      timeoutMs: 20 * 60_000,
      progress,
    });
    daemonPid = requirePair().dns?.pid;
  });

  after(async () => {
    if (!downDone)
      await regionDown({ progress, regions: [PRIMARY, STANDBY], baseDir: ref.baseDir }).catch(() => undefined);
    ref.removeFolder();
  });

  it('replicates before any drill: the standby follows the primary, read-only, with nothing missing', async () => {
    const status = await regionStatus(progress);
    const standby = status.regions.find((r) => r.region === STANDBY);
    assert.ok(
      standby?.replica?.ioRunning && standby.replica.sqlRunning,
      `the standby replicates: ${JSON.stringify(standby)}`,
    );
    assert.equal(status.regions.find((r) => r.region === PRIMARY)?.role, 'primary');
  });

  it('prove --regions, 4× time bounds: G1 unplanned failover, G2 split brain, G3 planned: PASS', async () => {
    const report = await proveRegions(progress, { objectives: LOOSE });
    const summary = report.rows.map((r) => `${r.id} ${r.status}: ${r.reason}\n  ${r.evidence.join('\n  ')}`).join('\n');
    assert.deepEqual(
      report.rows.map((r) => r.id),
      REGION_ROWS.map((r) => r.id),
      'every row ran',
    );
    for (const r of report.rows) assert.equal(r.status, 'pass', `${r.id} passes\n${summary}`);
    assert.equal(report.verdict, 'ok');
    const [g1, g2, g3] = report.rows.map((r) => r.measurements);
    // G1 (the whole primary stopped): the standby took over; prove judged RTO and RPO against the objectives.
    assert.equal(g1?.from, PRIMARY);
    assert.ok(Number(g1?.acked) > 20, `the writer ran: ${summary}`);
    assert.equal(typeof g1?.rto_seconds, 'number');
    // G2, strictly: the old primary came back with no kstack region command and took no write (split brain),
    // every one of its members recorded the fence, and it was failed back.
    assert.equal(g2?.writes_taken, 0);
    assert.equal(g2?.acked_after_stop, 0);
    assert.ok(Number(g2?.probes) > 10, 'the fence was probed');
    assert.ok(Number(g2?.members) >= 2, 'every db member of the old primary answered');
    assert.equal(g2?.members_fenced, g2?.members);
    assert.equal(typeof g2?.failback_seconds, 'number');
    // G3, strictly: every acknowledged visit on every member of both regions.
    assert.equal(g3?.from, STANDBY);
    assert.equal(g3?.lost, 0);
    assert.ok(Number(g3?.members_checked) >= 4, 'checked on the members of both regions');
    // The pair ends as it began, replicating, nothing fenced.
    const pair = requirePair();
    assert.deepEqual([pair.primary, pair.standby, pair.fenced], [PRIMARY, STANDBY, []]);
    const status = await regionStatus(progress);
    const standby = status.regions.find((r) => r.region === STANDBY);
    assert.ok(standby?.replica?.ioRunning && standby.replica.sqlRunning, `${STANDBY} replicates again`);
  });

  it('region down removes both clusters, the global name and the pair, and leaves nothing on the host', async () => {
    const res = await regionDown({ progress, baseDir: ref.baseDir });
    downDone = true;
    assert.deepEqual([...res.removed].sort(), [PRIMARY, STANDBY].sort());
    assert.equal(readPair(), undefined);
    assert.equal(existsSync(dirname(pairFile())), false, "the pair's folder is removed");
    if (daemonPid !== undefined) assert.equal(isRunning(daemonPid, process.execPath), false, 'the daemon stopped');
    await assertNothingLeft(PRIMARY, ref.baseDir);
    await assertNothingLeft(STANDBY, ref.baseDir);
  });
});
