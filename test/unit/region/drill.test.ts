// The drill's judges: what a failover is measured by, from the writer's acknowledged visits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  firstAckAfterMs,
  longestGapMs,
  missingVisits,
  readVisit,
  rpoMs,
  type AckedVisit,
} from '../../../src/region/drill.js';

const v = (id: string, region: string, at: number): AckedVisit => ({ id, region, at });
const acked = [v('a', 'east', 1000), v('b', 'east', 1200), v('c', 'west', 9200), v('d', 'west', 9400)];

describe('the drill judges', () => {
  it('reads a visit id and the region, or why there is none', () => {
    assert.deepEqual(readVisit({ region: 'west', data: { values: { visitId: 'ab12' } } }, 5), v('ab12', 'west', 5));
    assert.deepEqual(readVisit({ region: 'east', data: { message: 'the database is read-only' } }, 5), {
      reason: 'the database is read-only',
    });
    assert.deepEqual(readVisit(undefined, 5), { reason: 'no visit id in the answer' });
    assert.deepEqual(readVisit({ data: { values: { visitId: '' } } }, 5), { reason: 'no visit id in the answer' });
  });

  it('the longest gap between acknowledged visits is the outage clients saw', () => {
    assert.equal(longestGapMs(acked), 8000);
    assert.equal(longestGapMs(acked, 9000), 200, 'only from the given time on');
    assert.equal(longestGapMs([]), 0);
  });

  it('the RTO runs to the first visit the new primary acknowledged', () => {
    assert.equal(firstAckAfterMs(acked, 'west', 1100), 8100);
    assert.equal(firstAckAfterMs(acked, 'east', 1300), undefined, 'the old primary acknowledged none after');
  });

  it('missing visits and the RPO in time', () => {
    const missing = missingVisits(acked, new Set(['a', 'c', 'd']));
    assert.deepEqual(
      missing.map((m) => m.id),
      ['b'],
    );
    assert.equal(rpoMs(missing, 1500), 300, 'from the oldest missing visit to the loss');
    assert.equal(rpoMs([], 1500), 0);
  });
});
