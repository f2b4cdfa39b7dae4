// What the test command says at the end: counts and a per-file duration table, from the outcomes the
// reporter (reporter.ts) collects. Pure, so the rules (a skip is never green, nothing run is a failure)
// are unit-tested (test/unit/runner/summary.test.ts).

/** One finished test or suite, as the reporter records it. */
export interface Outcome {
  file: string;
  name: string;
  /** 0 for a file's top-level tests and suites. */
  nesting: number;
  kind: 'test' | 'suite';
  status: 'pass' | 'fail' | 'skip' | 'todo';
  durationMs: number;
  /** For failures: the error on one line (at most 600 characters). */
  error?: string;
}

export interface FileRow {
  file: string;
  tests: number;
  failed: number;
  skipped: number;
  durationMs: number;
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  files: FileRow[];
  /** Failed or skipped leaf tests, "file › name: reason". */
  problems: string[];
}

/** Counts leaf tests (suites are containers) and sums each file's top-level durations. */
export function summarize(outcomes: readonly Outcome[]): Summary {
  const files = new Map<string, FileRow>();
  const row = (file: string): FileRow => {
    let r = files.get(file);
    if (!r) {
      r = { file, tests: 0, failed: 0, skipped: 0, durationMs: 0 };
      files.set(file, r);
    }
    return r;
  };
  let passed = 0,
    failed = 0,
    skipped = 0;
  const problems: string[] = [];
  for (const o of outcomes) {
    const r = row(o.file);
    if (o.nesting === 0) r.durationMs += o.durationMs;
    if (o.kind === 'suite') {
      // A skipped suite reports none of its tests: it counts as one skip. A suite that failed in a hook
      // reports its tests as failed ("cancelled"); its own error says why, so it is listed (not counted).
      if (o.status === 'skip' || o.status === 'todo') {
        skipped++;
        r.skipped++;
        problems.push(`${o.file} › ${o.name}: suite skipped${o.error ? ` (${o.error})` : ''}`);
      } else if (o.status === 'fail' && o.error) problems.push(`${o.file} › ${o.name}: ${o.error}`);
      continue;
    }
    r.tests++;
    if (o.status === 'pass') passed++;
    else if (o.status === 'fail') {
      failed++;
      r.failed++;
      problems.push(`${o.file} › ${o.name}: ${o.error ?? 'failed'}`);
    } else {
      skipped++;
      r.skipped++;
      problems.push(
        `${o.file} › ${o.name}: ${o.status === 'todo' ? 'todo' : 'skipped'}${o.error ? ` (${o.error})` : ''}`,
      );
    }
  }
  // A file whose suite failed with no test reported under it still fails the run, once.
  for (const o of outcomes) {
    if (o.kind === 'suite' && o.status === 'fail' && o.nesting === 0 && (files.get(o.file)?.tests ?? 0) === 0) {
      failed++;
      row(o.file).failed++;
    }
  }
  return { passed, failed, skipped, files: [...files.values()].sort((a, b) => b.durationMs - a.durationMs), problems };
}

/** The run is green only with something run, nothing failed and nothing skipped. */
export function isGreen(s: Summary): boolean {
  return s.failed === 0 && s.skipped === 0 && s.passed > 0;
}

function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** The per-file table (slowest first), the problems, and the closing line CI reads. */
export function renderSummary(
  s: Summary,
  opts: { wallMs: number; phases?: readonly { name: string; durationMs: number }[] },
): string {
  const width = Math.max(4, ...s.files.map((f) => f.file.length));
  const lines = [
    '',
    'Per-file durations (slowest first):',
    `  ${'file'.padEnd(width)}  tests  failed  skipped  duration`,
  ];
  for (const f of s.files) {
    lines.push(
      `  ${f.file.padEnd(width)}  ${String(f.tests).padStart(5)}  ${String(f.failed).padStart(6)}` +
        `  ${String(f.skipped).padStart(7)}  ${clock(f.durationMs).padStart(8)}`,
    );
  }
  if (opts.phases?.length) {
    lines.push('', 'Phases:');
    for (const p of opts.phases) lines.push(`  ${p.name.padEnd(width)}  ${clock(p.durationMs).padStart(8)}`);
  }
  lines.push(`  ${'total (wall clock)'.padEnd(width)}  ${clock(opts.wallMs).padStart(8)}`);
  if (s.problems.length) {
    lines.push('', 'Not green:');
    for (const p of s.problems) lines.push(`  ✖ ${p}`);
  }
  if (s.passed === 0 && s.failed === 0) lines.push('', 'No test ran: that is a failure.');
  lines.push('', `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  return `${lines.join('\n')}\n`;
}
