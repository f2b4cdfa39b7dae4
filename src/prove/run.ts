// `kstack prove`: runs the selected requirement rows in order against one release and collects their
// results. A row that throws is a failure ("could not check: …"), never a pass; a skipped row leaves the
// run INCOMPLETE (exit 2) unless the user allowed that skip (--allow-skip). Before each row the release
// must be settled (rollouts done, nothing terminating), so a prove right after a change judges the new state.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { messageOf, UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { removeClients } from './requirements/in-cluster.js';
import { runOrder } from './requirements/index.js';
import { Kube } from '../kube/kube.js';
import { renderJson, renderMarkdown } from './report.js';
import { readIntent, type ReleaseIntent } from './requirements/release.js';
import { waitForSettledRelease } from './requirements/settle.js';
import {
  Evidence,
  type MonitoringEndpoints,
  type NodeControl,
  type ProveContext,
  type Requirement,
  type RowResult,
} from './requirements/types.js';
import { summarize, verdictOfRun, type ProveReport, type RowOutcome } from './outcome.js';

export { resolveTarget, type ProveTarget } from './target.js';
export {
  exitStatusOf,
  summarize,
  verdictOfRun,
  type ProveReport,
  type ProveVerdict,
  type RowOutcome,
} from './outcome.js';

/**
 * The rows `--only` names (e.g. "R5,r6, R10"), in the table's order; all rows without it. Unknown or
 * empty names are a UserError listing the ids there are.
 */
export function selectRows<R extends { id: string }>(
  all: readonly R[],
  only: string | undefined,
  flag = '--only',
): R[] {
  if (only === undefined) return [...all];
  const wanted = only.split(',').map((s) => s.trim().toUpperCase());
  const ids = all.map((r) => r.id);
  const unknown = wanted.filter((w) => !ids.includes(w));
  if (wanted.length === 0 || unknown.length > 0 || wanted.some((w) => w === '')) {
    throw new UserError(
      `${flag} ` +
        `'${only}': ` +
        (unknown.length ? `unknown row ${unknown.filter(Boolean).join(', ') || '(empty)'}` : 'no rows named') +
        `; the rows are ${ids.join(', ')} (comma-separated, e.g. ${flag} R5,R6)`,
    );
  }
  return all.filter((r) => wanted.includes(r.id));
}

export interface RunProveOptions {
  rows: readonly Requirement[];
  kube: Kube;
  namespace: string;
  release: string;
  cluster: string;
  reportDir: string;
  progress: Progress;
  /** Rows whose skip the user accepts (--allow-skip); validated by selectRows' rules. */
  allowSkip?: readonly string[];
  /** The release's intent; read from helm when not given. */
  intent?: ReleaseIntent;
  /** Node failures on demand (kstack's local cluster); rows that need them fail without. */
  nodes?: NodeControl;
  /** Prometheus and Alertmanager of the cluster (R12). */
  monitoring?: MonitoringEndpoints;
  /** Waits until the release is settled; returns why it is not (the row then fails). Default: the real wait. */
  settle?: (ctx: ProveContext, ev: Evidence) => Promise<string | undefined>;
}

export async function runProve(opts: RunProveOptions): Promise<ProveReport> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const intent = opts.intent ?? (await readIntent(opts.kube, opts.release));
  const settle = opts.settle ?? waitForSettledRelease;
  const allowSkip = new Set(opts.allowSkip ?? []);
  const outcomes: RowOutcome[] = [];
  for (const row of runOrder(opts.rows)) {
    const ev = new Evidence();
    const t0 = Date.now();
    const verdict = await opts.progress.step(`${row.id} ${row.title}`, async (step) => {
      const ctx: ProveContext = {
        kube: opts.kube,
        namespace: opts.namespace,
        release: opts.release,
        reportDir: opts.reportDir,
        intent,
        note: (text) => {
          step.detail(text);
        },
        ...(opts.nodes ? { nodes: opts.nodes } : {}),
        ...(opts.monitoring ? { monitoring: opts.monitoring } : {}),
      };
      let v: { status: RowResult['status']; reason: string };
      try {
        const unsettled = await settle(ctx, ev);
        v = unsettled !== undefined ? { status: 'fail', reason: unsettled } : await row.check(ctx, ev);
      } catch (err) {
        ev.add(`error: ${messageOf(err)}`);
        v = { status: 'fail', reason: `could not check: ${messageOf(err).split('\n')[0] ?? ''}` };
      }
      if (v.status !== 'pass') step.outcome?.(v.status === 'fail' ? 'failed' : 'skipped');
      return v;
    });
    outcomes.push({
      id: row.id,
      title: row.title,
      checks: row.checks,
      durationMs: Date.now() - t0,
      status: verdict.status,
      reason: verdict.reason,
      evidence: ev.lines,
      measurements: ev.measurements,
      artifacts: ev.artifacts,
      ...(verdict.status === 'skipped' && allowSkip.has(row.id) ? { skipAllowed: true } : {}),
    });
  }
  await removeClients(opts.kube);
  const order = opts.rows.map((r) => r.id);
  outcomes.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  const summary = summarize(outcomes);
  const verdict = verdictOfRun(outcomes);
  return {
    kind: 'ProveReport',
    release: opts.release,
    namespace: opts.namespace,
    cluster: opts.cluster,
    startedAt,
    durationMs: Date.now() - started,
    rows: outcomes,
    summary,
    verdict,
    ok: verdict === 'ok',
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
