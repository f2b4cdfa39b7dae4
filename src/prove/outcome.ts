// What a prove run produced: each row's outcome, the report, and the verdict over all rows (ok, failed,
// incomplete) with its exit status. Pure data and rules, shared by the runner and the renderers.
import type { RowResult } from './requirements/types.js';

export interface RowOutcome extends RowResult {
  id: string;
  title: string;
  checks: string;
  durationMs: number;
  /** Set when the row skipped and the user allowed it (--allow-skip): the skip does not make the run incomplete. */
  skipAllowed?: boolean;
}

/** ok: every row passed (or skipped where allowed); failed: a row failed; incomplete: a row skipped unasked. */
export type ProveVerdict = 'ok' | 'failed' | 'incomplete';

export interface ProveReport {
  kind: 'ProveReport';
  release: string;
  namespace: string;
  cluster: string;
  startedAt: string;
  durationMs: number;
  rows: RowOutcome[];
  summary: { pass: number; fail: number; skipped: number };
  verdict: ProveVerdict;
  /** verdict === 'ok'. */
  ok: boolean;
}

/** The process exit status for a verdict: 0 ok, 1 a row failed, 2 a row skipped without --allow-skip. */
export const exitStatusOf = (v: ProveVerdict): number => (v === 'ok' ? 0 : v === 'failed' ? 1 : 2);

/** Pure: failed beats incomplete; a skip the user allowed does not count. */
export function verdictOfRun(rows: readonly Pick<RowOutcome, 'status' | 'skipAllowed'>[]): ProveVerdict {
  if (rows.some((r) => r.status === 'fail')) return 'failed';
  if (rows.some((r) => r.status === 'skipped' && r.skipAllowed !== true)) return 'incomplete';
  return 'ok';
}

export function summarize(rows: readonly RowOutcome[]): ProveReport['summary'] {
  return {
    pass: rows.filter((r) => r.status === 'pass').length,
    fail: rows.filter((r) => r.status === 'fail').length,
    skipped: rows.filter((r) => r.status === 'skipped').length,
  };
}
