// Reachability matrices: what the policies say (expected, from the evaluator) against what probes saw on
// the cluster (observed), cell by cell. Rows are sources, columns are destination:port[/protocol]. Pure
// data in and out: the cluster probe fills an ObservedMatrix, `kstack prove` prints the table or the JSON.
import { UserError } from '../util/errors.js';
import { endpointName, evaluate, type Endpoint, type NetworkModel, type Protocol } from './evaluator.js';

export interface Target {
  to: Endpoint;
  port: number;
  /** Default TCP. */
  protocol?: Protocol;
}

/** "db/web-db-0:3306" for TCP, "kube-system/coredns-0:53/UDP" otherwise. */
export function targetName(t: Target): string {
  const proto = t.protocol ?? 'TCP';
  return `${endpointName(t.to)}:${t.port}${proto === 'TCP' ? '' : `/${proto}`}`;
}

export interface ExpectedCell {
  open: boolean;
  /** The evaluator's explanation. */
  reason: string;
  /** Source and destination are the same pod: NetworkPolicy leaves that case to the implementation. */
  loopback: boolean;
}

export interface ExpectedMatrix {
  rows: string[];
  columns: string[];
  /** cells[row][column], in the order of rows and columns. */
  cells: ExpectedCell[][];
}

export type Observation = 'open' | 'closed' | 'error';

export interface ObservedCell {
  result: Observation;
  /** e.g. the probe's error message or timing. */
  detail?: string;
}

/** Filled by the probe: row name → column name → what it saw. Cells never probed are simply absent. */
export interface ObservedMatrix {
  cells: Record<string, Record<string, ObservedCell>>;
}

export function emptyObserved(): ObservedMatrix {
  return { cells: {} };
}

/** Record one probe result (mutates `observed`: the probe fills one matrix as results arrive). */
export function recordObservation(observed: ObservedMatrix, row: string, column: string, cell: ObservedCell): void {
  (observed.cells[row] ??= {})[column] = cell;
}

/** The expected matrix for every source × target, from the evaluator. Names must be unique. */
export function expectedMatrix(
  model: NetworkModel,
  sources: readonly Endpoint[],
  targets: readonly Target[],
): ExpectedMatrix {
  const rows = uniqueNames(sources.map(endpointName), 'source');
  const columns = uniqueNames(targets.map(targetName), 'target');
  const cells = sources.map((from) =>
    targets.map((t) => {
      const verdict = evaluate(model, { from, to: t.to, port: t.port, protocol: t.protocol ?? 'TCP' });
      return { open: verdict.allowed, reason: verdict.reason, loopback: endpointName(from) === endpointName(t.to) };
    }),
  );
  return { rows, columns, cells };
}

function uniqueNames(names: string[], what: string): string[] {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new UserError(`${what} "${n}" is listed twice`);
    seen.add(n);
  }
  return names;
}

/**
 * match: observed what was expected. mismatch: observed the opposite. error: the probe failed, so the
 * cell proves nothing. missing: never probed. ignored: a loopback mismatch with ignoreLoopback set.
 */
export type CellStatus = 'match' | 'mismatch' | 'error' | 'missing' | 'ignored';

export interface ComparedCell {
  row: string;
  column: string;
  expected: 'open' | 'closed';
  observed?: Observation;
  status: CellStatus;
  reason: string;
  loopback: boolean;
  detail?: string;
}

export interface Comparison {
  rows: string[];
  columns: string[];
  cells: ComparedCell[][];
  /** Every cell that is not a match and not ignored, row by row. */
  diffs: ComparedCell[];
  /** Observed cells whose row or column the expected matrix does not have ("row → column"). */
  unexpected: string[];
  summary: Record<CellStatus, number> & { cells: number };
  /** No diffs and nothing unexpected. */
  ok: boolean;
}

export interface CompareOptions {
  /**
   * Do not count mismatches between a pod and itself. Default true, like the upstream e2e suite: CNI
   * plugins disagree on whether policies apply to a pod's own traffic.
   */
  ignoreLoopback?: boolean;
}

export function compareMatrices(
  expected: ExpectedMatrix,
  observed: ObservedMatrix,
  options: CompareOptions = {},
): Comparison {
  const ignoreLoopback = options.ignoreLoopback ?? true;
  const cells = expected.rows.map((row, r) =>
    expected.columns.map((column, c) => {
      const exp = expected.cells[r]?.[c];
      if (exp === undefined) throw new Error(`expected matrix has no cell [${r}][${c}]`);
      return compareCell(row, column, exp, observed.cells[row]?.[column], ignoreLoopback);
    }),
  );
  const flat = cells.flat();
  const summary = { cells: flat.length, match: 0, mismatch: 0, error: 0, missing: 0, ignored: 0 };
  for (const cell of flat) summary[cell.status] += 1;
  const diffs = flat.filter((cell) => cell.status !== 'match' && cell.status !== 'ignored');
  const unexpected = unexpectedCells(expected, observed);
  return {
    rows: expected.rows,
    columns: expected.columns,
    cells,
    diffs,
    unexpected,
    summary,
    ok: diffs.length === 0 && unexpected.length === 0,
  };
}

function compareCell(
  row: string,
  column: string,
  exp: ExpectedCell,
  obs: ObservedCell | undefined,
  ignoreLoopback: boolean,
): ComparedCell {
  const expected = exp.open ? 'open' : 'closed';
  const base = { row, column, expected, reason: exp.reason, loopback: exp.loopback } as const;
  if (obs === undefined) return { ...base, status: 'missing' };
  const withObs = { ...base, observed: obs.result, ...(obs.detail === undefined ? {} : { detail: obs.detail }) };
  if (obs.result === 'error') return { ...withObs, status: 'error' };
  if (obs.result === expected) return { ...withObs, status: 'match' };
  return { ...withObs, status: exp.loopback && ignoreLoopback ? 'ignored' : 'mismatch' };
}

function unexpectedCells(expected: ExpectedMatrix, observed: ObservedMatrix): string[] {
  const rows = new Set(expected.rows);
  const columns = new Set(expected.columns);
  return Object.entries(observed.cells).flatMap(([row, byColumn]) =>
    Object.keys(byColumn)
      .filter((column) => !rows.has(row) || !columns.has(column))
      .map((column) => `${row} → ${column}`),
  );
}

// ---------------------------------------------------------------------------------------------------
// Output.

const MARK: Record<Observation | 'missing', string> = { open: '✓', closed: '✗', error: 'E', missing: '?' };

/** One cell of the text table: the expected mark, or "expected≠observed" when they differ. */
export function cellText(cell: ComparedCell): string {
  const exp = MARK[cell.expected];
  switch (cell.status) {
    case 'match':
      return exp;
    case 'missing':
      return `${exp}≠?`;
    case 'ignored':
      return `${exp}≠${MARK[cell.observed ?? 'missing']}*`;
    case 'mismatch':
    case 'error':
      return `${exp}≠${MARK[cell.observed ?? 'missing']}`;
  }
}

/** Width in terminal columns; every character we print is one column wide (✓ ✗ ≠ included). */
const width = (s: string): number => Array.from(s).length;
const pad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - width(s)));

/**
 * A readable table: rows = sources, columns = destination:port. Given only an expected matrix, cells are
 * ✓/✗; given a comparison, mismatches read "✓≠✗" (expected open, observed closed) and so on.
 */
export function formatTable(matrix: ExpectedMatrix | Comparison): string {
  const comparison = 'summary' in matrix ? matrix : undefined;
  const texts = matrix.rows.map((_, r) =>
    matrix.columns.map((__, c) => {
      if (comparison) return cellText(comparison.cells[r]?.[c] as ComparedCell);
      return (matrix as ExpectedMatrix).cells[r]?.[c]?.open ? MARK.open : MARK.closed;
    }),
  );
  const firstWidth = Math.max(0, ...matrix.rows.map(width));
  const colWidths = matrix.columns.map((col, c) => Math.max(width(col), ...texts.map((row) => width(row[c] ?? ''))));
  const line = (first: string, cells: string[]): string =>
    [pad(first, firstWidth), ...cells.map((t, c) => pad(t, colWidths[c] ?? 0))].join('  ').trimEnd();
  const lines = [line('', matrix.columns), ...matrix.rows.map((row, r) => line(row, texts[r] ?? []))];
  lines.push('', comparison ? legendWithSummary(comparison) : '✓ open  ✗ closed (expected by the policies)');
  return lines.join('\n');
}

function legendWithSummary(c: Comparison): string {
  const s = c.summary;
  const parts = [`${s.match} as expected`];
  if (s.mismatch) parts.push(`${s.mismatch} mismatched`);
  if (s.error) parts.push(`${s.error} probe errors`);
  if (s.missing) parts.push(`${s.missing} not probed`);
  if (s.ignored) parts.push(`${s.ignored} loopback mismatches ignored`);
  const legend = '✓ open  ✗ closed  E probe error  ? not probed  a≠b: expected a, observed b  *: loopback, not counted';
  const unexpected = c.unexpected.length ? `\nobserved cells outside the matrix: ${c.unexpected.join(', ')}` : '';
  return `${legend}\n${s.cells} cells: ${parts.join(', ')} — ${c.ok ? 'OK' : 'FAILED'}${unexpected}`;
}

/** The JSON form of a comparison (for -o json and the test artifacts); stable field order. */
export interface ReachabilityReport {
  kind: 'ReachabilityReport';
  ok: boolean;
  summary: Comparison['summary'];
  columns: string[];
  rows: { source: string; cells: Omit<ComparedCell, 'row'>[] }[];
  diffs: ComparedCell[];
  unexpected: string[];
}

export function toReport(c: Comparison): ReachabilityReport {
  return {
    kind: 'ReachabilityReport',
    ok: c.ok,
    summary: c.summary,
    columns: c.columns,
    rows: c.rows.map((source, r) => ({ source, cells: (c.cells[r] ?? []).map(({ row: _row, ...cell }) => cell) })),
    diffs: c.diffs,
    unexpected: c.unexpected,
  };
}
