// The Go half of the unit phase: `go vet ./...` and `go test ./...` in each tools/ module with Go tests of
// its own, reported as outcomes like the node tests (one row per Go package in the per-file table, one
// for vet), so a failing or skipped Go test fails the run the same way. Go is the one kstack builds with
// (src/setup/go-build.ts: KSTACK_GO or `go` on PATH, checked against the module's go directive), in the
// same environment as the builds, so the module and build caches the setup filled are reused and nothing
// is downloaded once setup has run. No Go toolchain is a failure naming it, never a skip.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findGo, goBuildEnv, type GoToolchain } from '../../src/setup/go-build.js';
import { goDirective, goModuleDir, readGoMod, toolsDir } from '../../src/setup/versions.js';
import type { Outcome } from './summary.js';

/**
 * The tools/ modules whose Go tests `npm test` runs. Listed, not discovered, so a module whose tests
 * disappear fails ("ran no test") instead of dropping out; test/unit/runner/go-checks.test.ts checks
 * that every module with a _test.go file is here.
 */
export const GO_TEST_MODULES: readonly string[] = ['multinet'];

/** The tools/ modules that have Go test files of their own. */
export function goModulesWithTests(dir: string = toolsDir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'go.mod')))
    .filter((e) =>
      (readdirSync(join(dir, e.name), { recursive: true }) as string[]).some((f) => f.endsWith('_test.go')),
    )
    .map((e) => e.name)
    .sort();
}

/** Whether `npm test -- unit PART…` selects a module's Go checks: no part given, or a part within tools/<module>. */
export function wantsGoModule(module: string, only: readonly string[]): boolean {
  const path = `tools/${module}`;
  return only.length === 0 || only.some((o) => path.includes(o) || o.startsWith(`${path}/`));
}

/** The module path a go.mod declares (`module kstack.local/tools/multinet`). */
export function goModulePath(goMod: string): string | undefined {
  return /^module\s+(\S+)\s*$/m.exec(goMod)?.[1];
}

interface GoTestEvent {
  Action?: string;
  Package?: string;
  ImportPath?: string;
  Test?: string;
  Output?: string;
  Elapsed?: number;
}

function parseEvent(line: string): GoTestEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as GoTestEvent;
  } catch {
    return undefined;
  }
}

/** What of `go test -json` output the terminal shows: what `go test -v` prints, less the === RUN/PAUSE/CONT lines. */
export function goOutputToShow(line: string): string | undefined {
  const e = parseEvent(line);
  if (!e) return line === '' ? undefined : `${line}\n`;
  if ((e.Action !== 'output' && e.Action !== 'build-output') || e.Output === undefined) return undefined;
  return /^=== (RUN|PAUSE|CONT|NAME)\b/.test(e.Output) ? undefined : e.Output;
}

/** The first line that says something: not a go test framing line (=== RUN, --- FAIL) nor a `# package` header. */
function firstMessage(lines: readonly string[]): string | undefined {
  for (const chunk of lines) {
    for (const l of chunk.split('\n')) {
      const t = l.trim();
      if (t && !/^(=== |--- |# )/.test(t) && t !== 'FAIL' && t !== 'PASS') return t.slice(0, 300);
    }
  }
  return undefined;
}

const vetName = 'go vet ./...';
const testName = 'go test ./...';

/** The outcome of one `go vet ./...`: one test, failed with vet's first finding when it exited non-zero. */
export function goVetOutcome(label: string, code: number, output: readonly string[], durationMs: number): Outcome {
  const base = { file: `${label}: ${vetName}`, name: vetName, nesting: 0, kind: 'test' as const, durationMs };
  return code === 0
    ? { ...base, status: 'pass' }
    : { ...base, status: 'fail', error: firstMessage(output) ?? `go vet exited with ${code}` };
}

interface GoTestRun {
  /** e.g. 'tools/multinet' */
  label: string;
  /** The module path of its go.mod, e.g. 'kstack.local/tools/multinet'. */
  modulePath: string;
  /** stdout of `go test -json`, line by line. */
  lines: readonly string[];
  stderr: readonly string[];
  code: number;
}

/**
 * Outcomes from one `go test -json ./...`. Each Go package is a "file" (tools/<module>/<dir>: go test);
 * a test with subtests is a suite (its subtests are the counted tests), unless it failed on its own while
 * every subtest passed, when it counts as a failed test. A package that failed with no failed test (it did
 * not build, or crashed outside a test), a go test that failed before testing anything, and a run that ran
 * no test at all each add one failure.
 */
export function goTestOutcomes(run: GoTestRun): Outcome[] {
  interface TestState {
    pkg: string;
    name: string;
    status?: 'pass' | 'fail' | 'skip';
    elapsed: number;
    output: string[];
  }
  const tests = new Map<string, TestState>();
  const pkgs = new Map<string, { status?: string; output: string[] }>();
  const build = new Map<string, string[]>();
  for (const line of run.lines) {
    const e = parseEvent(line);
    if (!e) continue;
    if (e.Action === 'build-output' && e.ImportPath) {
      const pkg = e.ImportPath.split(' ')[0] ?? e.ImportPath;
      build.set(pkg, [...(build.get(pkg) ?? []), e.Output ?? '']);
      continue;
    }
    if (!e.Package) continue;
    if (e.Test !== undefined) {
      const key = `${e.Package}\0${e.Test}`;
      let t = tests.get(key);
      if (!t) {
        t = { pkg: e.Package, name: e.Test, elapsed: 0, output: [] };
        tests.set(key, t);
      }
      if (e.Action === 'output' && e.Output !== undefined) t.output.push(e.Output);
      if (e.Action === 'pass' || e.Action === 'fail' || e.Action === 'skip') {
        t.status = e.Action;
        t.elapsed = e.Elapsed ?? 0;
      }
    } else {
      let p = pkgs.get(e.Package);
      if (!p) {
        p = { output: [] };
        pkgs.set(e.Package, p);
      }
      if (e.Action === 'output' && e.Output !== undefined) p.output.push(e.Output);
      if (e.Action === 'pass' || e.Action === 'fail' || e.Action === 'skip') p.status = e.Action;
    }
  }
  const fileOf = (pkg: string): string => {
    const rel =
      pkg === run.modulePath ? '' : pkg.startsWith(`${run.modulePath}/`) ? pkg.slice(run.modulePath.length) : ` ${pkg}`;
    return `${run.label}${rel}: go test`;
  };
  const outcomes: Outcome[] = [];
  const all = [...tests.values()];
  for (const t of all) {
    const children = all.filter((c) => c.pkg === t.pkg && c.name.startsWith(`${t.name}/`));
    const status = t.status ?? 'fail';
    const failedOnItsOwn = status === 'fail' && !children.some((c) => c.status !== 'pass' && c.status !== 'skip');
    const kind = children.length > 0 && !failedOnItsOwn ? 'suite' : 'test';
    const error = t.status === undefined ? 'did not finish' : status === 'pass' ? undefined : firstMessage(t.output);
    outcomes.push({
      file: fileOf(t.pkg),
      name: t.name,
      nesting: t.name.split('/').length - 1,
      kind,
      status,
      durationMs: t.elapsed * 1000,
      ...(error !== undefined ? { error } : {}),
    });
  }
  const failedIn = (pkg: string): boolean =>
    outcomes.some((o) => o.file === fileOf(pkg) && o.kind === 'test' && o.status === 'fail');
  for (const [pkg, p] of pkgs) {
    if (p.status === 'fail' && !failedIn(pkg)) {
      outcomes.push({
        file: fileOf(pkg),
        name: 'go test (package)',
        nesting: 0,
        kind: 'test',
        status: 'fail',
        durationMs: 0,
        error: firstMessage(build.get(pkg) ?? []) ?? firstMessage(p.output) ?? 'failed',
      });
    }
  }
  const moduleFile = `${run.label}: ${testName}`;
  if (run.code !== 0 && !outcomes.some((o) => o.status === 'fail')) {
    outcomes.push({
      file: moduleFile,
      name: testName,
      nesting: 0,
      kind: 'test',
      status: 'fail',
      durationMs: 0,
      error: firstMessage(run.stderr) ?? `go test exited with ${run.code}`,
    });
  }
  if (!outcomes.some((o) => o.kind === 'test')) {
    outcomes.push({
      file: moduleFile,
      name: testName,
      nesting: 0,
      kind: 'test',
      status: 'fail',
      durationMs: 0,
      error: `ran no test in ${run.label}`,
    });
  }
  return outcomes;
}

export interface GoCheckIo {
  write: (text: string) => void;
  /** Told of the running go process (undefined when it ended), so the runner can pass a signal on to it. */
  track: (child: ChildProcess | undefined) => void;
}

function runGo(
  go: GoToolchain,
  args: readonly string[],
  cwd: string,
  io: GoCheckIo,
  onLine: (line: string, stream: 'stdout' | 'stderr') => void,
): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn(go.binary, args, { cwd, env: goBuildEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    io.track(child);
    const partial = { stdout: '', stderr: '' };
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (partial[stream] + chunk).split('\n');
        partial[stream] = lines.pop() ?? '';
        for (const l of lines) onLine(l, stream);
      });
    }
    child.on('error', (err) => {
      onLine(`${go.binary}: ${err.message}`, 'stderr');
    });
    child.on('close', (code, signal) => {
      io.track(undefined);
      for (const stream of ['stdout', 'stderr'] as const) if (partial[stream]) onLine(partial[stream], stream);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

/** Runs `go vet ./...` then `go test ./...` in tools/<module>; the outcomes say whether they passed. */
export async function runGoChecks(module: string, io: GoCheckIo): Promise<Outcome[]> {
  const label = `tools/${module}`;
  const dir = goModuleDir(module);
  const goMod = readGoMod(module);
  const modulePath = goModulePath(goMod) ?? label;
  let go: GoToolchain;
  try {
    go = await findGo(goDirective(goMod) ?? '0');
  } catch (err) {
    // No toolchain (or too old a one): both checks fail, with findGo's message naming the program.
    const error = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    io.write(`✖ ${label}: ${error}\n`);
    return [vetName, testName].map((name) => ({
      file: `${label}: ${name}`,
      name,
      nesting: 0,
      kind: 'test' as const,
      status: 'fail' as const,
      durationMs: 0,
      error,
    }));
  }

  io.write(`── ${label}: ${vetName} (${go.version})\n`);
  const vetStart = performance.now();
  const vetOutput: string[] = [];
  const vetCode = await runGo(go, ['vet', '-trimpath', './...'], dir, io, (line) => {
    vetOutput.push(line);
    io.write(`${line}\n`);
  });
  const outcomes = [goVetOutcome(label, vetCode, vetOutput, performance.now() - vetStart)];

  io.write(`── ${label}: ${testName} (${go.version})\n`);
  const lines: string[] = [];
  const stderr: string[] = [];
  // -count=1: the tests run every time (they take milliseconds; the compiled packages stay cached).
  const code = await runGo(go, ['test', '-trimpath', '-count=1', '-json', './...'], dir, io, (line, stream) => {
    if (stream === 'stderr') {
      stderr.push(line);
      io.write(`${line}\n`);
      return;
    }
    lines.push(line);
    const show = goOutputToShow(line);
    if (show !== undefined) io.write(show);
  });
  outcomes.push(...goTestOutcomes({ label, modulePath, lines, stderr, code }));
  return outcomes;
}
