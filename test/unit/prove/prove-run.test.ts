// kstack prove's pure parts: row selection (--only), running rows with fake checks (a throwing row
// fails, never passes; read-only rows run first, the report keeps R1…R13 order), and the report as
// a terminal table, Markdown and JSON.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REQUIREMENTS, runOrder } from '../../../src/prove/requirements/index.js';
import {
  pass,
  fail,
  skipped,
  verdictOf,
  type Requirement,
  type Verdict,
} from '../../../src/prove/requirements/types.js';
import { renderJson, renderMarkdown, renderTable, wrap } from '../../../src/prove/report.js';
import { defaultReportDir, selectRows, type ProveReport } from '../../../src/prove/run.js';
import { UserError } from '../../../src/util/errors.js';
import { runFake } from '../../helpers/prove-fakes.js';

/** A row whose check is a fake: it returns (or throws) what the test says and records one evidence line. */
const fakeRow = (id: string, mutates: boolean, result: Verdict | Error, order: string[]): Requirement => ({
  id,
  title: `fake ${id}`,
  checks: `fake check ${id}`,
  mutates,
  check: (_ctx, ev) => {
    order.push(id);
    ev.add(`$ fake command for ${id}`);
    ev.measure('n', 1);
    if (result instanceof Error) return Promise.reject(result);
    return Promise.resolve(result);
  },
});

describe('prove: row selection', () => {
  it('has R1 … R13 in order, each with a title and what it checks', () => {
    assert.deepEqual(
      REQUIREMENTS.map((r) => r.id),
      ['R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13'],
    );
    for (const r of REQUIREMENTS) assert.ok(r.title.length > 5 && r.checks.length > 40, r.id);
  });

  it('--only picks rows case-insensitively with spaces, in table order; none given: all', () => {
    assert.deepEqual(
      selectRows(REQUIREMENTS, ' r6, R5 ').map((r) => r.id),
      ['R5', 'R6'],
    );
    assert.equal(selectRows(REQUIREMENTS, undefined).length, 13);
  });

  it('--only refuses unknown or empty names, naming them and the rows there are', () => {
    assert.throws(
      () => selectRows(REQUIREMENTS, 'R5,R14'),
      (e: Error) => e instanceof UserError && /unknown row R14/.test(e.message) && /R1, R2/.test(e.message),
    );
    assert.throws(() => selectRows(REQUIREMENTS, 'R5,'), UserError);
    assert.throws(() => selectRows(REQUIREMENTS, ''), UserError);
  });

  it('runs read-only rows before the ones that change the release', () => {
    assert.deepEqual(
      runOrder(REQUIREMENTS).map((r) => r.id),
      ['R1', 'R4', 'R5', 'R7', 'R8', 'R10', 'R2', 'R3', 'R6', 'R9', 'R11', 'R12', 'R13'],
    );
  });
});

describe('prove: running rows', () => {
  it('collects each verdict with its evidence; a throwing check is a failure with the error as evidence', async () => {
    const order: string[] = [];
    const rows = [
      fakeRow('R1', false, pass('fine'), order),
      fakeRow('R2', true, new Error('kubectl exploded\nsecond line'), order),
      fakeRow('R3', false, skipped('no capability'), order),
    ];
    const report = await runFake(rows);
    assert.deepEqual(order, ['R1', 'R3', 'R2'], 'read-only rows first');
    assert.deepEqual(
      report.rows.map((r) => [r.id, r.status]),
      [
        ['R1', 'pass'],
        ['R2', 'fail'],
        ['R3', 'skipped'],
      ],
      'reported in table order',
    );
    const r2 = report.rows[1];
    assert.equal(r2?.reason, 'could not check: kubectl exploded');
    assert.deepEqual(r2?.evidence, ['$ fake command for R2', 'error: kubectl exploded\nsecond line']);
    assert.deepEqual(report.summary, { pass: 1, fail: 1, skipped: 1 });
    assert.equal(report.ok, false);
  });

  it('a skipped row is not a pass: the run is incomplete unless that skip was allowed', async () => {
    const order: string[] = [];
    const rows = [
      fakeRow('R1', false, pass('a'), order),
      fakeRow('R7', false, skipped('networks.secondary.enabled is false'), order),
    ];
    const report = await runFake(rows);
    assert.equal(report.verdict, 'incomplete');
    assert.equal(report.ok, false);
    const allowed = await runFake(rows, { allowSkip: ['R7'] });
    assert.equal(allowed.verdict, 'ok');
    assert.equal(allowed.rows[1]?.skipAllowed, true);
  });

  it('verdictOf: no problems passes; problems fail with the first and a count', () => {
    assert.deepEqual(verdictOf([], 'ok'), pass('ok'));
    assert.deepEqual(verdictOf(['a'], 'ok'), fail('a'));
    assert.deepEqual(verdictOf(['a', 'b', 'c'], 'ok'), fail('a (and 2 more: see evidence)'));
  });
});

const sampleReport = (): ProveReport => ({
  kind: 'ProveReport',
  release: 'web',
  namespace: 'webstack',
  cluster: "local cluster 'kstack'",
  startedAt: '2026-11-25T18:00:00.000Z',
  durationMs: 61_000,
  rows: [
    {
      id: 'R1',
      title: 'Nodes Ready',
      checks: 'nodes',
      status: 'pass',
      reason: '3 nodes Ready (a|b)',
      evidence: ['$ kubectl get nodes', '  web-1 Ready'],
      measurements: { nodes: 3 },
      artifacts: [],
      durationMs: 500,
    },
    {
      id: 'R4',
      title: 'Page shows pod IP',
      checks: 'page',
      status: 'fail',
      reason: 'web-abcde: its page does not show Host-abcde',
      evidence: ['```oops'],
      measurements: {},
      artifacts: ['screenshot.png'],
      durationMs: 9000,
    },
    {
      id: 'R7',
      title: 'Galera over a secondary network',
      checks: 'multus',
      status: 'skipped',
      reason: 'no Multus on this cluster',
      evidence: [],
      measurements: {},
      artifacts: [],
      durationMs: 100,
    },
  ],
  summary: { pass: 1, fail: 1, skipped: 1 },
  verdict: 'failed',
  ok: false,
});

describe('prove: the report', () => {
  it('terminal table: one aligned line per row with status words, a summary; colour only when asked', () => {
    const plain = renderTable(sampleReport(), { color: false });
    const lines = plain.split('\n');
    assert.match(lines[0] ?? '', /^ROW\s+STATUS\s+REQUIREMENT\s+RESULT$/);
    assert.match(lines[1] ?? '', /^R1\s+PASS\s+Nodes Ready\s+3 nodes Ready \(a\|b\)$/);
    assert.match(lines[2] ?? '', /^R4\s+FAIL\s+Page shows pod IP/);
    assert.match(lines[3] ?? '', /^R7\s+SKIP\s+/);
    assert.equal((lines[1] ?? '').indexOf('PASS'), (lines[3] ?? '').indexOf('SKIP'));
    assert.match(plain, /FAILED: 1 passed, 1 failed, 1 skipped\nin 1m01s/);
    assert.ok(!plain.includes('\x1b['), 'no escape codes');
    const coloured = renderTable(sampleReport(), { color: true });
    assert.ok(coloured.includes('\x1b[31mFAIL'), 'FAIL in red');
    assert.ok(coloured.includes('\x1b[32mPASS'), 'PASS in green');
  });

  it('wraps long results under the result column when the terminal is narrow', () => {
    assert.deepEqual(wrap('aa bb cc dd', 5), ['aa bb', 'cc dd']);
    const narrow = renderTable(sampleReport(), { color: false, columns: 70 });
    const rowLines = narrow.split('\n').filter((l) => /^(R\d|\s{20})/.test(l));
    assert.ok(rowLines.length >= 4 && rowLines.every((l) => l.length <= 70), narrow);
    assert.match(narrow, /\n {46}not show Host-abcde\n/, 'continuation under the result column');
  });

  it('Markdown: summary table, one section per row with evidence, measurements and the screenshot', () => {
    const md = renderMarkdown(sampleReport());
    assert.match(md, /\*\*FAILED: 1 passed, 1 failed, 1 skipped\*\*/);
    assert.match(md, /\| R4 \| FAIL \| Page shows pod IP \| web-abcde: its page does not show Host-abcde \|/);
    assert.match(md, /## R1 Nodes Ready — PASS/);
    assert.match(md, /\| nodes \| 3 \|/);
    assert.match(md, /!\[screenshot.png\]\(screenshot.png\)/);
    assert.ok(md.includes('| 3 nodes Ready (a\\|b) |'), 'pipes escaped in table cells');
    assert.doesNotMatch(md, /```oops/, 'evidence cannot close the code block');
  });

  it('JSON: the whole report, parseable', () => {
    const back = JSON.parse(renderJson(sampleReport())) as ProveReport;
    assert.equal(back.kind, 'ProveReport');
    assert.equal(back.rows[2]?.reason, 'no Multus on this cluster');
  });

  it('default folder: out/prove-<UTC time> under the working folder', () => {
    assert.equal(defaultReportDir('/w', new Date('2026-11-25T18:15:00Z')), '/w/out/prove-20261125-181500');
  });
});
