// What every bench writes: docs/benchmarks/<name>.json (machine-readable) and <name>.md (a short table),
// with the commit, the date, the host, the parameters, every figure and each target's verdict.
// Verdicts are judged on the measured value, never on a rounded one: a rounded display only decides how
// a number is printed (bench:dr once printed "0.8× (target ≥ 0.8×) OK" for a ratio of 0.798).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { repoRoot } from '../src/util/paths.js';
import { formatDuration } from '../src/util/progress.js';

export type Op = '<=' | '<' | '>=' | '>';
export type Verdict = 'met' | 'not met';
export type FigureValue = number | string | boolean;

export interface Figure {
  /** Stable name for machines, e.g. `backup.MiBps`. */
  key: string;
  /** What a human reads in the table. */
  label: string;
  value: FigureValue;
  unit?: string;
  /** Decimals shown (numbers only); the JSON keeps the measured value. */
  digits?: number;
}

export interface TargetSpec {
  key: string;
  label: string;
  /** The measured value, unrounded. */
  value: number;
  op: Op;
  limit: number;
  unit?: string;
  digits?: number;
}

export interface Target extends TargetSpec {
  verdict: Verdict;
}

export interface HostFacts {
  nproc: number;
  memoryMiB: number;
  kernel: string;
  node: string;
  /** 1, 5 and 15 min load averages at the start and at the end: the machine is shared. */
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

export interface BenchResult {
  bench: string;
  title: string;
  command: string;
  commit: { sha: string; dirty: boolean };
  /** When the run started, ISO 8601. */
  date: string;
  durationSeconds: number;
  host: HostFacts;
  parameters: Record<string, FigureValue>;
  figures: Figure[];
  targets: Target[];
  /** met when every target is met; `no targets` when the bench has none. */
  verdict: Verdict | 'no targets';
  notes: string[];
  /** Raw per-run data (runs, CPU splits…), for whoever digs deeper. */
  details: Record<string, unknown>;
}

/** Whether `value op limit` holds, on the values as given (pure). */
export function judge(value: number, op: Op, limit: number): Verdict {
  if (!Number.isFinite(value)) return 'not met';
  const ok = op === '<=' ? value <= limit : op === '<' ? value < limit : op === '>=' ? value >= limit : value > limit;
  return ok ? 'met' : 'not met';
}

export function targetOf(spec: TargetSpec): Target {
  return { ...spec, verdict: judge(spec.value, spec.op, spec.limit) };
}

/** The overall verdict of a set of targets (pure). */
export function overall(targets: readonly Target[]): Verdict | 'no targets' {
  if (targets.length === 0) return 'no targets';
  return targets.every((t) => t.verdict === 'met') ? 'met' : 'not met';
}

const defaultDigits = (value: number): number => (Number.isInteger(value) ? 0 : 2);

/** A figure's value as printed (pure). */
export function formatValue(value: FigureValue, digits?: number, unit?: string): string {
  const text =
    typeof value === 'number'
      ? Number.isFinite(value)
        ? value.toFixed(digits ?? defaultDigits(value))
        : String(value)
      : typeof value === 'boolean'
        ? value
          ? 'yes'
          : 'no'
        : value;
  return withUnit(text, unit);
}

const withUnit = (text: string, unit?: string): string =>
  !unit ? text : unit === '×' || unit === '%' ? `${text}${unit}` : `${text} ${unit}`;

/**
 * The measured value of a target as printed: rounded to `digits`, with more decimals (up to 6) when the
 * rounded number would read as the other verdict (0.798 against ≥ 0.8 prints 0.798, not 0.80) (pure).
 */
export function formatMeasured(t: Target): string {
  let digits = t.digits ?? defaultDigits(t.value);
  while (digits < 6 && Number.isFinite(t.value) && judge(Number(t.value.toFixed(digits)), t.op, t.limit) !== t.verdict)
    digits++;
  return formatValue(t.value, digits, t.unit);
}

const opText: Record<Op, string> = { '<=': '≤', '<': '<', '>=': '≥', '>': '>' };

export function formatTarget(t: TargetSpec): string {
  // A limit is a chosen number: printed as written (0.8, not 0.80).
  return `${opText[t.op]} ${withUnit(String(t.limit), t.unit)}`;
}

/** One console line per target (pure). */
export function targetLine(t: Target): string {
  return `${t.label}: ${formatMeasured(t)} (target ${formatTarget(t)}) ${t.verdict === 'met' ? 'met' : 'NOT MET'}`;
}

/**
 * `git status --porcelain` output for the measured folders says whether the work tree differs from the commit (pure).
 */
export function isDirty(porcelain: string): boolean {
  return porcelain.split('\n').some((l) => l.trim() !== '');
}

/** The folders whose changes change what a bench measures. */
export const MEASURED_PATHS = ['src', 'bench', 'charts', 'tools'] as const;

function commitOf(root: string): { sha: string; dirty: boolean } {
  const git = (args: string[]): string =>
    execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    return {
      sha: git(['rev-parse', 'HEAD']).trim(),
      dirty: isDirty(git(['status', '--porcelain', '--', ...MEASURED_PATHS])),
    };
  } catch {
    // Not a git checkout (an unpacked archive): say so rather than invent a commit.
    return { sha: 'unknown', dirty: true };
  }
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The markdown page for a result (pure). */
export function renderMarkdown(r: BenchResult): string {
  const h = r.host;
  const lines = [
    `# bench:${r.bench} — ${r.title}`,
    '',
    `\`${r.command}\` at commit \`${r.commit.sha.slice(0, 12)}` +
      `\`${r.commit.dirty ? ` with uncommitted changes in ${MEASURED_PATHS.map((p) => `${p}/`).join(' ')}` : ''}` +
      `, ` +
      `started ${r.date}, took ${formatDuration(r.durationSeconds * 1000)}. ` +
      `Host: ${h.nproc} CPUs, ${formatValue(h.memoryMiB / 1024, 1)} GiB memory, Linux ${h.kernel}, Node ${h.node}, ` +
      `load average ${h.loadAverageStart.map((x) => x.toFixed(2)).join(' ')} at ` +
      `the start, ${h.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')} at the end.`,
    '',
  ];
  const params = Object.entries(r.parameters);
  if (params.length) lines.push(`Parameters: ${params.map(([k, v]) => `${k} = ${formatValue(v)}`).join(', ')}.`, '');
  if (r.targets.length) {
    lines.push('| target | measured | wanted | verdict |', '|---|---|---|---|');
    for (const t of r.targets)
      lines.push(
        `| ${cell(t.label)} | ${cell(formatMeasured(t))} | ${cell(formatTarget(t))} ` +
          `| ${t.verdict === 'met' ? 'met' : '**not met**'} |`,
      );
    lines.push('');
  }
  lines.push('| figure | value |', '|---|---|');
  for (const f of r.figures) lines.push(`| ${cell(f.label)} | ${cell(formatValue(f.value, f.digits, f.unit))} |`);
  lines.push('');
  for (const n of r.notes) lines.push(n, '');
  lines.push(`Every figure, unrounded, with the per-run data: [${r.bench}.json](${r.bench}.json).`, '');
  return lines.join('\n');
}

/** The JSON document: figures keyed by name so a script reads `figures['backup.MiBps'].value` (pure). */
export function renderJson(r: BenchResult): string {
  const figures = Object.fromEntries(
    r.figures.map((f) => [f.key, { label: f.label, value: f.value, ...(f.unit ? { unit: f.unit } : {}) }]),
  );
  const targets = r.targets.map((t) => ({
    key: t.key,
    label: t.label,
    value: t.value,
    op: t.op,
    limit: t.limit,
    ...(t.unit ? { unit: t.unit } : {}),
    verdict: t.verdict,
  }));
  return `${JSON.stringify({ ...r, figures, targets }, null, 2)}\n`;
}

export interface Outcome {
  title: string;
  figures: Figure[];
  targets?: TargetSpec[];
  notes?: string[];
  details?: Record<string, unknown>;
}

export interface Bench {
  /** Judges the targets, writes both files, prints the verdicts; true when every target is met. */
  finish(outcome: Outcome): boolean;
}

/** Where results go: docs/benchmarks/, or BENCH_RESULTS_DIR (a trial run that should not replace them). */
export function resultsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BENCH_RESULTS_DIR ? resolve(env.BENCH_RESULTS_DIR) : join(repoRoot, 'docs', 'benchmarks');
}

/** Call when the bench starts: the date, the commit and the load are taken now. */
export function startBench(name: string, parameters: Record<string, FigureValue>): Bench {
  const date = new Date();
  const t0 = performance.now();
  const commit = commitOf(repoRoot);
  const loadAverageStart = loadavg();
  const command = [
    'npm run',
    `bench:${name}`,
    ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
  ].join(' ');
  return {
    finish(outcome) {
      const targets = (outcome.targets ?? []).map(targetOf);
      const result: BenchResult = {
        bench: name,
        title: outcome.title,
        command,
        commit,
        date: date.toISOString(),
        durationSeconds: (performance.now() - t0) / 1000,
        host: {
          nproc: availableParallelism(),
          memoryMiB: Math.round(totalmem() / 1048576),
          kernel: release(),
          node: process.versions.node,
          loadAverageStart,
          loadAverageEnd: loadavg(),
        },
        parameters,
        figures: outcome.figures,
        targets,
        verdict: overall(targets),
        notes: outcome.notes ?? [],
        details: outcome.details ?? {},
      };
      const dir = resultsDir();
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${name}.json`), renderJson(result));
      writeFileSync(join(dir, `${name}.md`), renderMarkdown(result));
      for (const t of targets) process.stdout.write(`target: ${targetLine(t)}\n`);
      const shown = relative(process.cwd(), dir) || '.';
      process.stdout.write(
        `wrote ${join(shown, `${name}.json`)} and ${name}.md ` +
          `(commit ${commit.sha.slice(0, 12)}${commit.dirty ? ', dirty' : ''})\n`,
      );
      return result.verdict !== 'not met';
    },
  };
}
