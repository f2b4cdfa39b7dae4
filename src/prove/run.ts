// `kstack prove`: runs the selected requirement rows in order against one release and collects their
// results. A row that throws is a failure ("could not check: …"), never a pass.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { messageOf, UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { removeClients } from './requirements/in-cluster.js';
import { runOrder } from './requirements/index.js';
import { Kube } from '../kube/kube.js';
import { renderJson, renderMarkdown } from './report.js';
import { Evidence, type ProveContext, type Requirement, type RowResult } from './requirements/types.js';

export { resolveTarget, type ProveTarget } from './target.js';

export interface RowOutcome extends RowResult {
  id: string;
  title: string;
  checks: string;
  durationMs: number;
}

export interface ProveReport {
  kind: 'ProveReport';
  release: string;
  namespace: string;
  cluster: string;
  startedAt: string;
  durationMs: number;
  rows: RowOutcome[];
  summary: { pass: number; fail: number; skipped: number };
  ok: boolean;
}

/**
 * The rows `--only` names (e.g. "R5,r6, R10"), in the table's order; all rows without it. Unknown or
 * empty names are a UserError listing the ids there are.
 */
export function selectRows<R extends { id: string }>(all: readonly R[], only: string | undefined): R[] {
  if (only === undefined) return [...all];
  const wanted = only.split(',').map((s) => s.trim().toUpperCase());
  const ids = all.map((r) => r.id);
  const unknown = wanted.filter((w) => !ids.includes(w));
  if (wanted.length === 0 || unknown.length > 0 || wanted.some((w) => w === '')) {
    throw new UserError(`--only '${only}': ${unknown.length ? `unknown row ${unknown.filter(Boolean).join(', ') || '(empty)'}` : 'no rows named'}; the rows are ${ids.join(', ')} (comma-separated, e.g. --only R5,R6)`);
  }
  return all.filter((r) => wanted.includes(r.id));
}

export function summarize(rows: readonly RowOutcome[]): ProveReport['summary'] {
  return {
    pass: rows.filter((r) => r.status === 'pass').length,
    fail: rows.filter((r) => r.status === 'fail').length,
    skipped: rows.filter((r) => r.status === 'skipped').length,
  };
}

export interface RunProveOptions {
  rows: readonly Requirement[];
  kube: Kube;
  namespace: string;
  release: string;
  cluster: string;
  reportDir: string;
  progress: Progress;
}

export async function runProve(opts: RunProveOptions): Promise<ProveReport> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const outcomes: RowOutcome[] = [];
  for (const row of runOrder(opts.rows)) {
    const ev = new Evidence();
    const t0 = Date.now();
    const verdict = await opts.progress.step(`${row.id} ${row.title}`, async (step) => {
      const ctx: ProveContext = {
        kube: opts.kube, namespace: opts.namespace, release: opts.release, reportDir: opts.reportDir,
        note: (text) => { step.detail(text); },
      };
      try {
        return await row.check(ctx, ev);
      } catch (err) {
        ev.add(`error: ${messageOf(err)}`);
        return { status: 'fail' as const, reason: `could not check: ${messageOf(err).split('\n')[0] ?? ''}` };
      }
    });
    outcomes.push({
      id: row.id, title: row.title, checks: row.checks, durationMs: Date.now() - t0,
      status: verdict.status, reason: verdict.reason,
      evidence: ev.lines, measurements: ev.measurements, artifacts: ev.artifacts,
    });
  }
  await removeClients(opts.kube);
  const order = opts.rows.map((r) => r.id);
  outcomes.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  const summary = summarize(outcomes);
  return {
    kind: 'ProveReport', release: opts.release, namespace: opts.namespace, cluster: opts.cluster,
    startedAt, durationMs: Date.now() - started, rows: outcomes, summary, ok: summary.fail === 0,
  };
}

/** out/prove-20261125-181500 under `cwd`. */
export function defaultReportDir(cwd: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return resolve(cwd, 'out', `prove-${stamp}`);
}

export function prepareReportDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UserError(`--report ${dir}: cannot create the folder (${messageOf(err)}); choose a writable folder`);
  }
  return dir;
}

/** Writes report.md and report.json into the report folder; returns their paths. */
export function writeReport(dir: string, report: ProveReport): { markdown: string; json: string } {
  const markdown = join(dir, 'report.md');
  const json = join(dir, 'report.json');
  writeFileSync(markdown, renderMarkdown(report));
  writeFileSync(json, renderJson(report));
  return { markdown, json };
}
