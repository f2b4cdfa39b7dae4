// Runs the test tiers and ends with one summary for CI: a per-file duration table and the closing line
// `N passed, N failed, N skipped`. A skipped test is not green: the run fails (a missing tool must fail
// its test with the tool's name, never skip). Phases, one `node --test` each:
//   unit         pure logic, files in parallel; then `go vet ./...` and `go test ./...` in the tools/
//                modules with Go tests (runner/go-checks.ts), counted like the node tests;
//   integration  against one real control plane started here and removed after, whatever the outcome;
//   e2e groups   test/runner/groups.ts: each group's files in order on one local cluster they share,
//                removed after the group. The groups run side by side (each on its own cluster, output
//                lines prefixed with the group's name); KSTACK_E2E_PARALLEL=1 runs them one after another.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { controlPlaneDown, controlPlaneUp } from '../src/cluster/control-plane.js';
import { pairFile } from '../src/region/pair.js';
import { regionDown } from '../src/region/region-down.js';
import { createProgress } from '../src/util/progress.js';
import { repoRoot } from '../src/util/paths.js';
import { TEST_ENV } from './helpers/env.js';
import { GO_TEST_MODULES, runGoChecks, wantsGoModule } from './runner/go-checks.js';
import { planE2e } from './runner/groups.js';
import { isGreen, renderSummary, summarize, type Outcome } from './runner/summary.js';

const tiers = ['unit', 'integration', 'e2e'] as const;
type Tier = (typeof tiers)[number];

function testFiles(tier: Tier): string[] {
  const dir = join(repoRoot, 'dist', 'test', tier);
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) => {
      const p = join(d, f);
      // Only compiled tests whose source still exists: tsc leaves the output of a deleted test behind.
      const source = join(repoRoot, relative(join(repoRoot, 'dist'), p)).replace(/\.js$/, '.ts');
      return statSync(p).isDirectory() ? walk(p) : f.endsWith('.test.js') && existsSync(source) ? [p] : [];
    });
  try {
    return walk(dir).sort();
  } catch {
    return [];
  }
}

interface Phase {
  name: string;
  files: string[];
  env?: NodeJS.ProcessEnv;
  concurrency?: number;
  /** One `node --test` per file, in the order given (node --test sorts the files it is given). */
  inOrder?: boolean;
  /** tools/ modules whose `go vet` and `go test` run after the phase's files. */
  goModules?: readonly string[];
  setup?: () => Promise<NodeJS.ProcessEnv>;
  teardown?: () => Promise<void>;
  /** Phases with the same key that follow each other run at the same time; `prefix` marks their output. */
  parallel?: { key: string; prefix: string };
  /** A short name other phases' `after` can give (an e2e group's name). */
  id?: string;
  /** Within those, starts when the phase with this id has ended (one lane after another). */
  after?: string;
  /** CPU niceness of the phase's test processes and all they start (clusters included): 0 unless given. */
  nice?: number;
}

const workDir = mkdtempSync(join(tmpdir(), 'kstack-test-'));
const progress = createProgress();
let stopping = false;
const running = new Set<ChildProcess>();
const forward = (sig: NodeJS.Signals): void => {
  stopping = true;
  for (const c of running) c.kill(sig);
};
process.on('SIGINT', forward).on('SIGTERM', forward);

/** Writes text line by line with a prefix (phases that run side by side), or as it is. */
function writer(prefix: string | undefined): (text: string) => void {
  if (prefix === undefined)
    return (text) => {
      process.stdout.write(text);
    };
  let partial = '';
  return (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    if (lines.length) process.stdout.write(lines.map((l) => `${prefix} ${l}\n`).join(''));
  };
}

/** One `node --test` over `files`: spec output on the terminal, outcomes appended to a JSON-lines file. */
function runNodeTest(
  phase: Phase,
  files: readonly string[],
  env: NodeJS.ProcessEnv,
  outcomesFile: string,
): Promise<number> {
  const reporter = join(repoRoot, 'dist', 'test', 'runner', 'reporter.js');
  const args = [
    '--enable-source-maps',
    '--test',
    ...(phase.concurrency !== undefined ? [`--test-concurrency=${phase.concurrency}`] : []),
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${outcomesFile}`,
    ...files,
  ];
  const prefix = phase.parallel?.prefix;
  return new Promise((resolvePromise) => {
    // `nice` before node: every process the tests start (a cluster's daemons, its pods) inherits it.
    const [command, commandArgs] = phase.nice
      ? ['nice', ['-n', String(phase.nice), process.execPath, ...args]]
      : [process.execPath, args];
    const child = spawn(command, commandArgs, {
      stdio: prefix === undefined ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      env,
      cwd: repoRoot,
    });
    running.add(child);
    if (prefix !== undefined) {
      const out = writer(prefix);
      const err = writer(prefix);
      child.stdout?.setEncoding('utf8').on('data', out);
      child.stderr?.setEncoding('utf8').on('data', err);
    }
    child.on('close', (code) => {
      running.delete(child);
      resolvePromise(code ?? 1);
    });
  });
}

function readOutcomes(file: string): Outcome[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Outcome);
  } catch {
    return [];
  }
}

function phasesFor(selected: readonly Tier[], only: readonly string[]): Phase[] {
  const pick = (tier: Tier): string[] =>
    testFiles(tier).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
  const phases: Phase[] = [];
  const unit = selected.includes('unit') ? pick('unit') : [];
  const goModules = selected.includes('unit') ? GO_TEST_MODULES.filter((m) => wantsGoModule(m, only)) : [];
  if (unit.length || goModules.length) phases.push({ name: 'unit', files: unit, concurrency: 2, goModules });
  const integration = selected.includes('integration') ? pick('integration') : [];
  if (integration.length) {
    const baseDir = join(workDir, 'integration');
    phases.push({
      // Two files at a time: most of their time is waiting (restarts, timeouts, Galera joins), so two
      // fit on 2 cores (7m53s → 4m59s, all green, in the same CI environment).
      name: 'integration',
      files: integration,
      concurrency: 2,
      setup: async () => ({
        [TEST_ENV.kubeconfig]: (await controlPlaneUp({ name: 'shared', baseDir, progress })).kubeconfig,
      }),
      teardown: async () => {
        await controlPlaneDown({ name: 'shared', baseDir, progress });
      },
    });
  }
  const e2e = selected.includes('e2e') ? pick('e2e') : [];
  const byName = new Map(e2e.map((f) => [basename(f, '.test.js'), f]));
  for (const { group, files } of planE2e([...byName.keys()])) {
    const baseDir = join(workDir, `e2e-${group.name}`);
    phases.push({
      id: group.name,
      name: `e2e ${group.name} (cluster ${group.cluster}; budget ${group.budgetMinutes} min)`,
      files: files.map((f) => byName.get(f) ?? f),
      concurrency: 1,
      inOrder: true,
      env: { [TEST_ENV.e2eCluster]: group.cluster, [TEST_ENV.e2eBaseDir]: baseDir },
      ...(process.env.KSTACK_E2E_PARALLEL === '1' || !group.sideBySide
        ? {}
        : {
            parallel: { key: 'e2e', prefix: `[${group.name}]` },
            ...(group.after !== undefined ? { after: group.after } : {}),
          }),
      ...(group.nice !== undefined ? { nice: group.nice } : {}),
      // The files bring the cluster up (idempotently); whatever they leave is removed here: a pair of
      // regions' daemon (stopped by its pid) with both clusters, and every cluster of the group.
      teardown: async () => {
        const clusters = [group.cluster, ...(group.moreClusters ?? [])];
        if (existsSync(pairFile({ KSTACK_STATE_DIR: baseDir }))) await regionDown({ progress, baseDir });
        for (const name of clusters) await controlPlaneDown({ name, baseDir, progress });
      },
    });
  }
  return phases;
}

interface PhaseResult {
  name: string;
  exitCode: number;
  outcomes: Outcome[];
  durationMs: number;
}

/** Sets up, runs and tears down one phase; a phase that cannot start fails as a whole, named. */
async function runPhase(phase: Phase, i: number): Promise<PhaseResult> {
  const t0 = performance.now();
  const out = writer(phase.parallel?.prefix);
  const outcomes: Outcome[] = [];
  let exitCode = 0;
  const go = phase.goModules?.length
    ? `, then go vet and go test in ${phase.goModules.map((m) => `tools/${m}`).join(', ')}`
    : '';
  out(`\n━━ ${phase.name}: ${phase.files.length} file(s)${go}\n`);
  try {
    const extra = phase.setup ? await phase.setup() : {};
    const env = { ...process.env, ...phase.env, ...extra };
    // No files (a run narrowed to a Go module): no `node --test`, which would look for tests itself.
    const batches = phase.files.length === 0 ? [] : phase.inOrder ? phase.files.map((f) => [f]) : [phase.files];
    for (const [j, batch] of batches.entries()) {
      if (stopping) break;
      const outcomesFile = join(workDir, `outcomes-${i}-${j}.jsonl`);
      if (phase.inOrder) out(`── ${batch.map((f) => relative(repoRoot, f)).join(' ')}\n`);
      exitCode |= await runNodeTest(phase, batch, env, outcomesFile);
      outcomes.push(...readOutcomes(outcomesFile));
    }
    for (const module of phase.goModules ?? []) {
      if (stopping) break;
      const goOutcomes = await runGoChecks(module, {
        write: out,
        track: (child) => {
          if (child) {
            running.add(child);
            child.on('close', () => running.delete(child));
          }
        },
      });
      if (goOutcomes.some((o) => o.status === 'fail')) exitCode |= 1;
      outcomes.push(...goOutcomes);
    }
  } catch (err) {
    exitCode |= 1;
    outcomes.push({
      file: phase.name,
      name: 'phase setup',
      nesting: 0,
      kind: 'test',
      status: 'fail',
      durationMs: 0,
      error: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err),
    });
  } finally {
    await phase.teardown?.().catch((err: unknown) => {
      process.stderr.write(`teardown of ${phase.name} failed: ${String(err)}\n`);
    });
  }
  return { name: phase.name, exitCode, outcomes, durationMs: performance.now() - t0 };
}

/** A phase that never started (the run was stopped while it waited for the one before it in its lane). */
function skippedPhase(phase: Phase): PhaseResult {
  return { name: phase.name, exitCode: 1, outcomes: [], durationMs: 0 };
}

async function main(): Promise<number> {
  const arg = process.argv[2] ?? 'all';
  const selected: Tier[] = arg === 'all' ? [...tiers] : (tiers as readonly string[]).includes(arg) ? [arg as Tier] : [];
  if (selected.length === 0) {
    process.stderr.write(`unknown test tier '${arg}': use ${tiers.join(', ')} or all\n`);
    return 2;
  }
  // Further arguments narrow the run to files whose path contains one of them (e.g. `integration chart/db/`).
  const only = process.argv.slice(3);
  const phases = phasesFor(selected, only);
  if (phases.length === 0) {
    process.stderr.write(`no test file of ${selected.join(', ')} matches ${only.join(', ')}\n`);
    return 2;
  }
  const started = performance.now();
  const outcomes: Outcome[] = [];
  const timings: { name: string; durationMs: number }[] = [];
  let exitCodes = 0;
  // Consecutive phases with the same parallel key run at once; every other phase alone, in order.
  const waves: { phase: Phase; index: number }[][] = [];
  phases.forEach((phase, index) => {
    const last = waves.at(-1);
    const key = phase.parallel?.key;
    if (key !== undefined && last?.[0]?.phase.parallel?.key === key) last.push({ phase, index });
    else waves.push([{ phase, index }]);
  });
  for (const wave of waves) {
    if (stopping) break;
    // A phase `after` another of its wave starts when that one has ended, in its lane; the others at once.
    const byId = new Map<string, Promise<PhaseResult>>();
    const start = (phase: Phase, index: number): Promise<PhaseResult> => {
      const before = phase.after === undefined ? undefined : byId.get(phase.after);
      const result = before
        ? before.then(() => (stopping ? skippedPhase(phase) : runPhase(phase, index)))
        : runPhase(phase, index);
      if (phase.id !== undefined) byId.set(phase.id, result);
      return result;
    };
    const results = await Promise.all(wave.map(({ phase, index }) => start(phase, index)));
    for (const r of results) {
      exitCodes |= r.exitCode;
      outcomes.push(...r.outcomes);
      timings.push({ name: r.name, durationMs: r.durationMs });
    }
  }
  const summary = summarize(outcomes);
  process.stdout.write(renderSummary(summary, { wallMs: performance.now() - started, phases: timings }));
  return exitCodes !== 0 || !isGreen(summary) || stopping ? 1 : 0;
}

try {
  process.exitCode = await main();
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
