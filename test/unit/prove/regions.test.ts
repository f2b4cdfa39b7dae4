// The region rows' judges (prove --regions): each row's break test. The drill results here are made up
// (fakes of what src/region/drills.ts measures, for the pure judges only); the real drills run in the e2e
// group `regions` and in `npm run bench:regions`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { judgeFence, judgePlanned, judgeUnplanned, REGION_OBJECTIVES } from '../../../src/prove/regions.js';
import type { PlannedDrillResult, UnplannedDrillResult } from '../../../src/region/drills.js';
import type { RegionPair } from '../../../src/region/pair.js';

const pair: RegionPair = {
  primary: 'west',
  standby: 'east',
  epoch: 2,
  fenced: [],
  namespace: 'webstack',
  release: 'web',
  entryPoints: { east: '10.77.1.200', west: '10.77.2.200' },
};
const writer = { acked: 120, unanswered: 40, reasons: {}, dnsQueries: 30, seconds: 30 };

/** A fake unplanned drill that met every objective: east lost, west took over in 12 s, RPO 0, fenced. */
function unplanned(over: Partial<UnplannedDrillResult> = {}): UnplannedDrillResult {
  return {
    from: 'east',
    to: 'west',
    failover: { pair, drained: 3, promotedMs: 9000, dnsMs: 10_000, fencedNow: false },
    writer,
    rtoMs: 12_000,
    lost: 0,
    rpoMs: 0,
    oldAckedAfterLoss: 0,
    returnMs: 70_000,
    fence: { attempts: 30, acknowledged: 0, roles: ['fenced', 'fenced', 'fenced'], globalAnswer: '10.77.2.200' },
    failbackMs: 13_000,
    failbackError: undefined,
    ...over,
  };
}

/** A fake planned drill that met every objective. */
function planned(over: Partial<PlannedDrillResult> = {}): PlannedDrillResult {
  return {
    from: 'west',
    to: 'east',
    failover: { pair, caughtUp: 2, writesStoppedMs: 8000, dnsMs: 9000 },
    writer,
    longestGapMs: 9000,
    lost: 0,
    membersChecked: 6,
    ...over,
  };
}

describe('prove --regions judges', () => {
  it('G1 passes within the objectives and fails on a slow RTO, a late RPO or no takeover at all', () => {
    const ok = judgeUnplanned(unplanned());
    assert.equal(ok.status, 'pass', ok.reason);
    assert.match(ok.reason, /west took over from east in 12 s \(objective 120 s\), RPO 0 s/);
    assert.equal(ok.measurements.rto_seconds, 12);
    const slow = judgeUnplanned(unplanned({ rtoMs: 121_000 }));
    assert.equal(slow.status, 'fail');
    assert.match(slow.reason, /RTO 121 s is over the objective of 120 s/);
    const late = judgeUnplanned(unplanned({ rpoMs: 6000, lost: 25 }));
    assert.equal(late.status, 'fail');
    assert.match(late.reason, /RPO 6 s \(25 visits lost\) is over the objective of 5 s/);
    const never = judgeUnplanned(unplanned({ rtoMs: undefined }));
    assert.equal(never.status, 'fail');
    assert.match(never.reason, /west acknowledged no visit through the global name after the loss/);
    assert.equal('rto_seconds' in never.measurements, false);
    assert.equal(judgeUnplanned(unplanned(), { ...REGION_OBJECTIVES, unplannedRtoSeconds: 10 }).status, 'fail');
  });

  it('G2 passes only when the old primary took no write, every member is fenced and the failback worked', () => {
    const ok = judgeFence(unplanned(), '10.77.2.200');
    assert.equal(ok.status, 'pass', ok.reason);
    assert.match(ok.reason, /east came back fenced on all 3 members and took 0 of 30 writes/);
    const split = judgeFence(unplanned({ fence: { ...unplanned().fence, acknowledged: 2 } }), '10.77.2.200');
    assert.equal(split.status, 'fail');
    assert.match(split.reason, /east took 2 write\(s\) after it was lost: split brain/);
    const duringStop = judgeFence(unplanned({ oldAckedAfterLoss: 1 }), '10.77.2.200');
    assert.match(duringStop.reason, /split brain/);
    const open = judgeFence(
      unplanned({ fence: { ...unplanned().fence, roles: ['fenced', 'primary', 'fenced'] } }),
      '10.77.2.200',
    );
    assert.match(open.reason, /1 member\(s\) of east do not record the fence/);
    const silent = judgeFence(unplanned({ fence: { ...unplanned().fence, roles: [] } }), '10.77.2.200');
    assert.match(silent.reason, /no db member of east answered/);
    const wrongName = judgeFence(unplanned(), '10.77.1.200');
    assert.match(wrongName.reason, /the global name answers 10\.77\.2\.200, not west \(10\.77\.1\.200\)/);
    const noFailback = judgeFence(unplanned({ failbackMs: undefined, failbackError: 'no GTID' }), '10.77.2.200');
    assert.equal(noFailback.status, 'fail');
    assert.match(noFailback.reason, /failback failed: no GTID/);
  });

  it('G3 passes with RPO 0 within the RTO objective, and fails on one lost visit or a long gap', () => {
    const ok = judgePlanned(planned());
    assert.equal(ok.status, 'pass', ok.reason);
    assert.match(ok.reason, /west → east with 0 of 120 visits lost on 6 members, longest gap 9 s \(objective 60 s\)/);
    const lost = judgePlanned(planned({ lost: 1 }));
    assert.equal(lost.status, 'fail');
    assert.match(lost.reason, /1 acknowledged visit\(s\) lost \(the objective is RPO 0\)/);
    const long = judgePlanned(planned({ longestGapMs: 61_000 }));
    assert.match(long.reason, /the longest gap 61 s is over the objective of 60 s/);
    const idle = judgePlanned(planned({ writer: { ...writer, acked: 0 }, membersChecked: 0 }));
    assert.match(idle.reason, /the writer had no visit acknowledged: nothing was measured; no member was checked/);
  });
});
