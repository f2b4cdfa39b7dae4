import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isGreen, renderSummary, summarize, type Outcome } from '../../runner/summary.js';

const o = (file: string, name: string, status: Outcome['status'], extra: Partial<Outcome> = {}): Outcome => ({
  file,
  name,
  nesting: 1,
  kind: 'test',
  status,
  durationMs: 10,
  ...extra,
});

describe('test summary', () => {
  it("counts leaf tests, not suites, and sums each file's top-level durations", () => {
    const s = summarize([
      o('a.js', 't1', 'pass'),
      o('a.js', 't2', 'pass'),
      { file: 'a.js', name: 'suite', nesting: 0, kind: 'suite', status: 'pass', durationMs: 5000 },
      o('b.js', 't3', 'fail', { nesting: 0, durationMs: 700, error: 'boom' }),
    ]);
    assert.deepEqual([s.passed, s.failed, s.skipped], [2, 1, 0]);
    assert.deepEqual(
      s.files.map((f) => [f.file, f.tests, f.durationMs]),
      [
        ['a.js', 2, 5000],
        ['b.js', 1, 700],
      ],
      'slowest first',
    );
    assert.deepEqual(s.problems, ['b.js › t3: boom']);
  });

  it('a skipped or todo test is not green and is listed with its reason', () => {
    const s = summarize([
      o('a.js', 't1', 'pass'),
      o('a.js', 't2', 'skip', { error: 'mariadbd missing' }),
      o('a.js', 't3', 'todo'),
    ]);
    assert.equal(s.skipped, 2);
    assert.equal(isGreen(s), false);
    assert.deepEqual(s.problems, ['a.js › t2: skipped (mariadbd missing)', 'a.js › t3: todo']);
  });

  it(
    'a file that failed with no test under it (did not load, ' +
      'or its suite hook failed before any test) counts as one failure',
    () => {
      const s = summarize([
        { file: 'c.js', name: 'c.js', nesting: 0, kind: 'suite', status: 'fail', durationMs: 1, error: 'SyntaxError' },
      ]);
      assert.deepEqual([s.passed, s.failed], [0, 1]);
      assert.equal(isGreen(s), false);
    },
  );

  it('a skipped suite (whose tests are never reported) counts as skipped', () => {
    const s = summarize([
      o('a.js', 't1', 'pass'),
      {
        file: 'a.js',
        name: 'needs mariadbd',
        nesting: 0,
        kind: 'suite',
        status: 'skip',
        durationMs: 0,
        error: 'not installed',
      },
    ]);
    assert.equal(s.skipped, 1);
    assert.equal(isGreen(s), false);
  });

  it("tests cancelled by a failing suite hook fail, and the hook's error is listed", () => {
    const s = summarize([
      o('a.js', 't1', 'fail', { error: 'test did not finish before its parent and was cancelled' }),
      {
        file: 'a.js',
        name: 's1',
        nesting: 0,
        kind: 'suite',
        status: 'fail',
        durationMs: 13,
        error: 'not installed: /usr/sbin/mariadbd',
      },
    ]);
    assert.equal(s.failed, 1);
    assert.ok(s.problems.includes('a.js › s1: not installed: /usr/sbin/mariadbd'), s.problems.join('\n'));
  });

  it('nothing run is not green', () => {
    assert.equal(isGreen(summarize([])), false);
    assert.match(renderSummary(summarize([]), { wallMs: 0 }), /No test ran: that is a failure\./);
  });

  it('ends with the closing line CI reads, after the per-file table', () => {
    const text = renderSummary(
      summarize([o('a.js', 't1', 'pass', { nesting: 0, durationMs: 61_000 }), o('a.js', 't2', 'fail', { error: 'x' })]),
      { wallMs: 125_000, phases: [{ name: 'unit', durationMs: 3000 }] },
    );
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.at(-1), '1 passed, 1 failed, 0 skipped');
    assert.ok(text.includes('a.js') && text.includes('1m01s'), text);
    assert.match(text, /total \(wall clock\)\s+2m05s/);
  });
});
