// Bench results (pure parts): verdicts on measured values, how figures print, the markdown and JSON pages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatMeasured,
  formatValue,
  isDirty,
  judge,
  overall,
  renderJson,
  renderMarkdown,
  resultsDir,
  targetLine,
  targetOf,
  type BenchResult,
} from '../../../bench/result.js';

const result = (over: Partial<BenchResult> = {}): BenchResult => ({
  bench: 'dr',
  title: 'backup vs baseline',
  command: 'npm run bench:dr',
  commit: { sha: '0123456789abcdef0123456789abcdef01234567', dirty: false },
  date: '2026-11-27T10:00:00.000Z',
  durationSeconds: 754,
  host: {
    nproc: 2,
    memoryMiB: 24105,
    kernel: '6.1.0-1',
    node: '20.19.5',
    loadAverageStart: [1.5, 1, 0.5],
    loadAverageEnd: [2, 1.25, 0.75],
  },
  parameters: { sizeMib: 1024, rounds: 3 },
  figures: [
    { key: 'baseline.MiBps', label: 'baseline throughput', value: 124.6, unit: 'MiB/s', digits: 1 },
    { key: 'backup.MiBps', label: 'backup throughput', value: 99.4, unit: 'MiB/s', digits: 1 },
  ],
  targets: [
    targetOf({
      key: 'throughputRatio',
      label: 'backup throughput ÷ baseline',
      value: 99.4 / 124.6,
      op: '>=',
      limit: 0.8,
      unit: '×',
      digits: 2,
    }),
  ],
  verdict: 'not met',
  notes: ['Medians of 3 alternating rounds.'],
  details: { runs: [1.23456, 2] },
  ...over,
});

describe('bench verdicts', () => {
  it('judges 99.4 vs 124.6 MiB/s (0.798) against ≥ 0.8 as not met, although it rounds to 0.80', () => {
    const ratio = 99.4 / 124.6;
    assert.equal(Number(ratio.toFixed(2)), 0.8, 'the rounded value the old bench compared');
    assert.equal(judge(ratio, '>=', 0.8), 'not met');
    const t = targetOf({
      key: 'r',
      label: 'backup throughput ÷ baseline',
      value: ratio,
      op: '>=',
      limit: 0.8,
      unit: '×',
      digits: 2,
    });
    assert.equal(t.verdict, 'not met');
    // Printed with enough decimals not to read as met.
    assert.equal(formatMeasured(t), '0.798×');
    assert.equal(targetLine(t), 'backup throughput ÷ baseline: 0.798× (target ≥ 0.8×) NOT MET');
  });

  it('keeps the short form when rounding does not change the reading', () => {
    assert.equal(
      formatMeasured(targetOf({ key: 'r', label: 'r', value: 0.8412, op: '>=', limit: 0.8, unit: '×', digits: 2 })),
      '0.84×',
    );
    assert.equal(
      formatMeasured(targetOf({ key: 'r', label: 'r', value: 0.8, op: '>=', limit: 0.8, unit: '×', digits: 2 })),
      '0.80×',
    );
  });

  it('judges each operator on the exact value, edges included', () => {
    assert.equal(judge(60, '<=', 60), 'met');
    assert.equal(judge(60.04, '<=', 60), 'not met'); // reads as 60.0 s at one decimal
    assert.equal(
      formatMeasured(targetOf({ key: 'rpo', label: 'RPO', value: 60.04, op: '<=', limit: 60, unit: 's', digits: 1 })),
      '60.04 s',
    );
    assert.equal(judge(5000.4 / 1000, '<=', 5), 'not met'); // bench:db rounded the ms before comparing
    assert.equal(judge(9.999, '<', 10), 'met');
    assert.equal(judge(10, '<', 10), 'not met');
    assert.equal(judge(1, '>', 1), 'not met');
    assert.equal(judge(1.0001, '>', 1), 'met');
  });

  it('never passes a value that was not measured', () => {
    assert.equal(judge(NaN, '<=', 60), 'not met');
    assert.equal(judge(Infinity, '>=', 0.8), 'not met');
    assert.equal(
      formatMeasured(targetOf({ key: 'x', label: 'x', value: NaN, op: '<=', limit: 60, unit: 's', digits: 1 })),
      'NaN s',
    );
  });

  it('an overall verdict: met only when every target is', () => {
    const met = targetOf({ key: 'a', label: 'a', value: 1, op: '<=', limit: 2 });
    const missed = targetOf({ key: 'b', label: 'b', value: 3, op: '<=', limit: 2 });
    assert.equal(overall([met]), 'met');
    assert.equal(overall([met, missed]), 'not met');
    assert.equal(overall([]), 'no targets');
  });
});

describe('bench figures and pages', () => {
  it('formats values with their units', () => {
    assert.equal(formatValue(124.56, 1, 'MiB/s'), '124.6 MiB/s');
    assert.equal(formatValue(0.8412, 2, '×'), '0.84×');
    assert.equal(formatValue(42), '42');
    assert.equal(formatValue(1.23456), '1.23');
    assert.equal(formatValue(true), 'yes');
    assert.equal(formatValue('1.22.1'), '1.22.1');
  });

  it('says whether the measured folders have uncommitted changes', () => {
    assert.equal(isDirty(''), false);
    assert.equal(isDirty('\n'), false);
    assert.equal(isDirty(' M bench/dr.ts\n'), true);
  });

  it('renders the markdown page: commit, date, host, parameters, targets with verdicts, figures', () => {
    const md = renderMarkdown(result());
    assert.match(md, /^# bench:dr — backup vs baseline\n/);
    assert.match(md, /`npm run bench:dr` at commit `0123456789ab`, started 2026-11-27T10:00:00.000Z, took 12m34s\./);
    assert.match(
      md,
      /Host: 2 CPUs, 23\.5 GiB memory, Linux 6\.1\.0-1, Node 20\.19\.5, load average 1\.50 1\.00 0\.50 at the start/,
    );
    assert.match(md, /Parameters: sizeMib = 1024, rounds = 3\./);
    assert.ok(md.includes('| backup throughput ÷ baseline | 0.798× | ≥ 0.8× | **not met** |'), md);
    assert.ok(md.includes('| baseline throughput | 124.6 MiB/s |'));
    assert.ok(md.includes('Medians of 3 alternating rounds.'));
    assert.ok(md.includes('[dr.json](dr.json)'));
    assert.doesNotMatch(md, /uncommitted/);
  });

  it('marks a dirty work tree and escapes table cells', () => {
    const md = renderMarkdown(
      result({
        commit: { sha: 'abc', dirty: true },
        figures: [{ key: 'b', label: 'mariadb-dump | zstd', value: 1 }],
        targets: [],
      }),
    );
    assert.match(md, /at commit `abc` with uncommitted changes in src\/ bench\/ charts\/ tools\//);
    assert.ok(md.includes('| mariadb-dump \\| zstd | 1 |'));
    assert.doesNotMatch(md, /\| target \| measured/);
  });

  it('writes unrounded figures keyed by name, and each target with its verdict, into the JSON', () => {
    const doc = JSON.parse(renderJson(result())) as {
      figures: Record<string, { label: string; value: number; unit?: string }>;
      targets: { key: string; value: number; op: string; limit: number; verdict: string }[];
      commit: { sha: string; dirty: boolean };
      verdict: string;
      details: { runs: number[] };
    };
    assert.deepEqual(doc.figures['backup.MiBps'], { label: 'backup throughput', value: 99.4, unit: 'MiB/s' });
    assert.equal(doc.targets[0]?.value, 99.4 / 124.6);
    assert.equal(doc.targets[0]?.verdict, 'not met');
    assert.equal(doc.commit.dirty, false);
    assert.equal(doc.verdict, 'not met');
    assert.deepEqual(doc.details.runs, [1.23456, 2]);
  });

  it('goes to docs/benchmarks unless BENCH_RESULTS_DIR says otherwise', () => {
    assert.match(resultsDir({}), /docs\/benchmarks$/);
    assert.equal(resultsDir({ BENCH_RESULTS_DIR: '/tmp/trial' }), '/tmp/trial');
  });
});
