// How a prove run is shown: a table for the terminal (status coloured on a TTY), report.md for people
// and report.json for machines. Pure: run.ts produces the ProveReport, the CLI writes the files.
import { formatDuration } from '../util/progress.js';
import type { ProveReport, RowOutcome } from './outcome.js';
import type { RowStatus } from './requirements/types.js';

const COLOR: Record<RowStatus, string> = { pass: '\x1b[32m', fail: '\x1b[31m', skipped: '\x1b[33m' };
const LABEL: Record<RowStatus, string> = { pass: 'PASS', fail: 'FAIL', skipped: 'SKIP' };
/** A row's status word: an allowed skip says so, an unasked one does not hide. */
const labelOf = (r: Pick<RowOutcome, 'status' | 'skipAllowed'>): string =>
  r.skipAllowed ? 'SKIP (allowed)' : LABEL[r.status];
const VERDICT: Record<ProveReport['verdict'], string> = { ok: 'OK', failed: 'FAILED', incomplete: 'INCOMPLETE' };

/** The one-line outcome of the run: counts, then OK / FAILED / INCOMPLETE with what to do next. */
export function verdictLine(report: ProveReport): string {
  const s = report.summary;
  const counts = `${s.pass} passed, ${s.fail} failed, ${s.skipped} skipped`;
  const skippedIds = report.rows.filter((r) => r.status === 'skipped' && !r.skipAllowed).map((r) => r.id);
  const allowed = report.rows.filter((r) => r.skipAllowed).map((r) => r.id);
  const allowedNote = allowed.length ? ` (skip allowed by --allow-skip: ${allowed.join(', ')})` : '';
  if (report.verdict === 'incomplete') {
    return (
      `${VERDICT.incomplete}: ${counts}${allowedNote} — ${skippedIds.join(', ')} ` +
      `did not run to a verdict, so the requirements are not proven; enable what ` +
      `the row needs, or accept the skip with --allow-skip ${skippedIds.join(',')}`
    );
  }
  return `${VERDICT[report.verdict]}: ${counts}${allowedNote}`;
}

const width = (s: string): number => Array.from(s).length;
const pad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - width(s)));

/** One line per row: id, status, title, reason (wrapped to `columns` when given). */
export function renderTable(report: ProveReport, opts: { color: boolean; columns?: number }): string {
  const header = ['ROW', 'STATUS', 'REQUIREMENT', 'RESULT'];
  const rows = report.rows.map((r) => [r.id, labelOf(r), r.title, r.reason]);
  const widths = [0, 1, 2].map((i) => Math.max(width(header[i] ?? ''), ...rows.map((r) => width(r[i] ?? ''))));
  const indent = widths.reduce((a, b) => a + b + 2, 0);
  const room = opts.columns ? Math.max(20, opts.columns - indent) : Infinity;
  const line = (cells: string[], status?: RowStatus): string => {
    const [id = '', st = '', title = '', reason = ''] = cells;
    const stText = pad(st, widths[1] ?? 0);
    const coloured = status && opts.color ? `${COLOR[status]}${stText}\x1b[0m` : stText;
    const wrapped = wrap(reason, room);
    const first =
      `${pad(id, widths[0] ?? 0)}  ${coloured}  ${pad(title, widths[2] ?? 0)}  ${wrapped[0] ?? ''}`.trimEnd();
    return [first, ...wrapped.slice(1).map((w) => `${' '.repeat(indent)}${w}`)].join('\n');
  };
  return [
    line(header),
    ...report.rows.map((r, i) => line(rows[i] ?? [], r.status)),
    '',
    verdictLine(report),
    `in ${formatDuration(report.durationMs)} — release '${report.release}' ` +
      `in namespace '${report.namespace}' on ${report.cluster}`,
    '',
  ].join('\n');
}

/** Word-wraps `text` to lines of at most `room` characters (a longer word stays whole). */
export function wrap(text: string, room: number): string[] {
  if (!Number.isFinite(room) || width(text) <= room) return [text];
  const out: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur && width(cur) + 1 + width(word) > room) {
      out.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) out.push(cur);
  return out;
}

const mdEscape = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function rowSection(r: RowOutcome): string {
  const parts = [
    `## ${r.id} ${r.title} — ${labelOf(r)}`,
    '',
    `**Result:** ${r.reason}`,
    '',
    `**What is checked:** ${r.checks}`,
    '',
  ];
  const m = Object.entries(r.measurements);
  if (m.length) {
    parts.push(
      '**Measurements:**',
      '',
      '| measurement | value |',
      '|---|---|',
      ...m.map(([k, v]) => `| ${mdEscape(k)} | ${mdEscape(String(v))} |`),
      '',
    );
  }
  for (const a of r.artifacts) parts.push(a.endsWith('.png') ? `![${a}](${a})` : `Artifact: [${a}](${a})`, '');
  if (r.evidence.length)
    parts.push('**Evidence:**', '', '```', ...r.evidence.map((l) => l.replace(/```/g, "'''")), '```', '');
  parts.push(`_Took ${formatDuration(r.durationMs)}._`, '');
  return parts.join('\n');
}

export function renderMarkdown(report: ProveReport): string {
  return [
    `# kstack prove — release \`${report.release}\` in namespace \`${report.namespace}\``,
    '',
    `Cluster: ${report.cluster} · started ${report.startedAt} · took ${formatDuration(report.durationMs)}`,
    '',
    `**${verdictLine(report)}**`,
    '',
    '| row | status | requirement | result |',
    '|---|---|---|---|',
    ...report.rows.map((r) => `| ${r.id} | ${labelOf(r)} | ${mdEscape(r.title)} | ${mdEscape(r.reason)} |`),
    '',
    ...report.rows.map(rowSection),
  ].join('\n');
}

export function renderJson(report: ProveReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
