// The drills' writer, its pure parts: the script refuses what it would put into SQL unchecked, the log
// parses back into attempts, and the judge finds lost acknowledged writes and the longest outage.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { judgeWrites, parseWriterLog, writerScript } from '../../../src/prove/writer.js';
import { judgeFullCrash } from '../../../src/prove/requirements/r2-galera.js';

describe('drill writer', () => {
  it('refuses a table name that is not a plain identifier', () => {
    assert.throws(
      () => writerScript({ table: 'x; DROP TABLE y', intervalMs: 200, timeoutMs: 2000 }),
      /lowercase letters/,
    );
    assert.match(writerScript({ table: 'kstack_w1', intervalMs: 200, timeoutMs: 2000 }), /INSERT INTO kstack_w1/);
  });
  it('carries a marker in every INSERT only when asked, and refuses one that is not plain', () => {
    const plain = writerScript({ table: 'kstack_w1', intervalMs: 200, timeoutMs: 2000 });
    assert.doesNotMatch(plain, /note/);
    const marked = writerScript({ table: 'kstack_w1', intervalMs: 200, timeoutMs: 2000, marker: 'kstackR13m1' });
    assert.match(marked, /INSERT INTO kstack_w1 \(seq, at, note\) VALUES \(\?, NOW\(3\), \?\)', \[n, 'kstackR13m1'\]/);
    assert.match(marked, /note VARCHAR\(64\)/);
    assert.throws(
      () => writerScript({ table: 'kstack_w1', intervalMs: 200, timeoutMs: 2000, marker: "x'); DROP" }),
      /writer marker/,
    );
  });
  it('parses acks, failures, ready, done and a setup error', () => {
    const log = parseWriterLog('ready\nack 2 1000\nfail 1 900 ECONNREFUSED\nack 3 1200\ndone\n');
    assert.deepEqual(
      log.attempts.map((a) => [a.seq, a.ok, a.at]),
      [
        [1, false, 900],
        [2, true, 1000],
        [3, true, 1200],
      ],
    );
    assert.equal(log.attempts[0]?.error, 'ECONNREFUSED');
    assert.ok(log.ready && log.done);
    assert.equal(parseWriterLog('error Access denied for user', '').error, 'Access denied for user');
  });
  it(
    'judges: an acknowledged write missing from the read-back is lost; ' +
      'the outage is the longest gap between acknowledgements',
    () => {
      const attempts = [
        { seq: 1, ok: true, at: 0 },
        { seq: 2, ok: true, at: 200 },
        { seq: 3, ok: false, at: 2400 },
        { seq: 4, ok: false, at: 2600 },
        { seq: 5, ok: true, at: 7000 },
        { seq: 6, ok: true, at: 7200 },
      ];
      const j = judgeWrites(attempts, new Set([1, 2, 4, 5]));
      assert.deepEqual(j.lost, [6]);
      assert.equal(j.unacknowledgedPresent, 1, 'seq 4 committed though its client saw a failure: not a loss');
      assert.equal(j.longestOutageMs, 6800);
      assert.deepEqual(j.outage, { from: 200, to: 7000 });
      assert.equal(
        judgeWrites(
          [
            { seq: 1, ok: false, at: 0 },
            { seq: 2, ok: false, at: 5000 },
          ],
          new Set(),
        ).longestOutageMs,
        5000,
        'never acknowledged: the whole run',
      );
    },
  );
});

describe('R2 full crash judgement', () => {
  const j = judgeWrites(
    [
      { seq: 1, ok: true, at: 0 },
      { seq: 2, ok: true, at: 9000 },
    ],
    new Set([1, 2]),
  );
  it('passes with every acknowledged write on every member and writes after the recovery', () => {
    assert.deepEqual(
      judgeFullCrash(
        j,
        new Map([
          ['db-0', []],
          ['db-1', []],
        ]),
        true,
        5,
      ),
      [],
    );
  });
  it('names the member that lacks acknowledged writes, and writes that never resumed', () => {
    assert.deepEqual(
      judgeFullCrash(
        j,
        new Map([
          ['db-0', []],
          ['db-1', [7, 8]],
        ]),
        true,
        0,
      ),
      [
        'db-1 lacks 2 acknowledged writes (first: #7)',
        'no write was acknowledged through the db Service after the members were back',
      ],
    );
  });
});
