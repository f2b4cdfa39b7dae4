// R6's judgement of a backup → restore drill (pure): the writes acknowledged before the backup must all be
// restored, the restored writes must be a prefix (no hole), and the RPO is the gap to the newest
// acknowledged write.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { judgeDrill, type MarkerWrite } from '../../../src/prove/requirements/r6-backup.js';

// Writes #1..#10 acknowledged at t = 1000, 4000, 7000, … (every 3 s); the backup starts at t = 10 500
// (after #4); the restore starts at t = 30 500 (after #10).
const writes: MarkerWrite[] = Array.from({ length: 10 }, (_, i) => ({ seq: i + 1, ackedAt: 1000 + i * 3000 }));
const BACKUP = 10_500;
const CUT = 30_500;
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('R6 drill judgement', () => {
  it('passes with everything restored: RPO 0', () => {
    const j = judgeDrill(writes, upTo(10), BACKUP, CUT);
    assert.deepEqual(j, { problems: [], beforeBackup: 4, restored: 10, rpoSeconds: 0 });
  });

  it(
    'passes with only what the backup and the archive held; ' + 'the RPO is the gap to the newest acknowledged write',
    () => {
      const j = judgeDrill(writes, upTo(7), BACKUP, CUT);
      assert.deepEqual(j.problems, []);
      assert.equal(j.rpoSeconds, 9, '#10 at 28 000 minus #7 at 19 000');
    },
  );

  it('fails when a write acknowledged before the backup is missing', () => {
    const j = judgeDrill(writes, upTo(3), BACKUP, CUT);
    assert.match(
      j.problems[0] ?? '',
      /^1 of 4 writes acknowledged before the backup are missing in the restore \(first: #4\)/,
    );
  });

  it('fails on a hole and on rows never written', () => {
    assert.ok(
      judgeDrill(writes, [1, 2, 3, 4, 6], BACKUP, CUT).problems.some((p) =>
        /a hole in the restored writes: #5 is missing but #6 is there/.test(p),
      ),
    );
    assert.ok(
      judgeDrill(writes, [...upTo(10), 99], BACKUP, CUT).problems.some((p) => /never acknowledged here: 99/.test(p)),
    );
  });

  it('fails when no write came before the backup (nothing proven)', () => {
    assert.match(
      judgeDrill(writes, upTo(10), 500, CUT).problems[0] ?? '',
      /no marker write was acknowledged before the backup started/,
    );
  });

  it('ignores writes acknowledged after the cut', () => {
    const j = judgeDrill([...writes, { seq: 11, ackedAt: CUT + 1 }], upTo(10), BACKUP, CUT);
    assert.deepEqual(j, { problems: [], beforeBackup: 4, restored: 10, rpoSeconds: 0 });
  });
});
