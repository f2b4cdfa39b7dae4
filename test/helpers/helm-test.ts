// `helm test` as an e2e step: runs a release's test hooks (charts/webstack/templates/tests/) and reports each
// test pod's phase and log, so a test can assert on every test and print why one failed.
//
//   const r = await runHelmTest(kube, 'web');           // kube: a Kube on the release's namespace
//   assert.ok(r.ok, r.perTest.map((t) => `${t.name}: ${t.phase}\n${t.log}`).join('\n'));
//
// Helm runs the tests one by one (by hook weight) and STOPS at the first that fails; the test pods are
// kept (hook-delete-policy before-hook-creation), so a later test's pod may still be there from an earlier
// run. A pod whose uid did not change during this run is reported as phase 'NotRun', never as its old phase
// (which `helm test --logs` would print as if it had just run).
import { parseAllDocuments } from 'yaml';
import { Kube } from '../../src/kube/kube.js';

export interface HelmTestResult {
  /** helm test exited 0 and every test that was asked for ran and Succeeded. */
  ok: boolean;
  perTest: { name: string; phase: string; log: string }[];
  /** helm's own output (stdout and stderr): the TEST SUITE blocks and its error line. */
  output: string;
  durationMs: number;
}

export interface HelmTestOptions {
  /** Only these test pods (helm test --filter name=…); default: every test hook of the release. */
  only?: string[];
  /** helm test --timeout, in seconds (default 300). */
  timeoutSeconds?: number;
}

/**
 * The names of the Pods among a release's hooks (`helm get hooks`)
 * that are test hooks, in helm's run order (weight, then name). Pure.
 */
export function testHookPods(hooksYaml: string): string[] {
  const found: { name: string; weight: number }[] = [];
  for (const doc of parseAllDocuments(hooksYaml)) {
    const o = doc.toJS() as {
      kind?: string;
      metadata?: { name?: string; annotations?: Record<string, string> };
    } | null;
    const annotations = o?.metadata?.annotations ?? {};
    const hooks = (annotations['helm.sh/hook'] ?? '').split(',').map((h) => h.trim());
    if (o?.kind === 'Pod' && o.metadata?.name && hooks.includes('test'))
      found.push({ name: o.metadata.name, weight: Number(annotations['helm.sh/hook-weight'] ?? 0) || 0 });
  }
  return found.sort((a, b) => a.weight - b.weight || a.name.localeCompare(b.name)).map((f) => f.name);
}

interface PodState {
  uid: string;
  phase: string;
}

/**
 * Each test's phase for this run: its pod's phase when the pod is new (its uid differs from before the run),
 * 'NotRun' when it is the same pod as before (or none before and none after). Pure.
 */
export function phasesOfRun(
  names: readonly string[],
  before: ReadonlyMap<string, PodState>,
  after: ReadonlyMap<string, PodState>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of names) {
    const now = after.get(name);
    if (!now) out.set(name, 'NotRun');
    else if (before.get(name)?.uid === now.uid) out.set(name, 'NotRun');
    else out.set(name, now.phase || 'Unknown');
  }
  return out;
}

async function podStates(kube: Kube, names: readonly string[]): Promise<Map<string, PodState>> {
  const out = new Map<string, PodState>();
  for (const name of names) {
    const r = await kube.kubectl(['get', 'pod', name, '-o', 'jsonpath={.metadata.uid} {.status.phase}'], {
      allowFailure: true,
    });
    if (r.code !== 0) continue;
    const [uid = '', phase = ''] = r.stdout.trim().split(' ');
    out.set(name, { uid, phase });
  }
  return out;
}

/**
 * `helm test <release>` in `namespace` (default: the Kube's), with each test's phase and log. Never throws
 * for a failing test: `ok` is false and the failing test's log says why.
 */
export async function runHelmTest(
  kube: Kube,
  release: string,
  namespace: string = kube.namespace,
  opts: HelmTestOptions = {},
): Promise<HelmTestResult> {
  const k = namespace === kube.namespace ? kube : new Kube({ ...kube.opts, namespace });
  const started = Date.now();
  const hooks = await k.helm(['get', 'hooks', release]);
  const all = testHookPods(hooks.stdout);
  const names = opts.only ? all.filter((n) => opts.only?.includes(n)) : all;
  if (names.length === 0)
    throw new Error(
      `release ${release} in ${namespace} has no test ` +
        `hooks${opts.only ? ` named ${opts.only.join(', ')}` : ''} (tests.enabled?)`,
    );
  const before = await podStates(k, names);
  const timeout = opts.timeoutSeconds ?? 300;
  const run = await k.helm(
    ['test', release, '--timeout', `${timeout}s`, ...(opts.only ?? []).flatMap((n) => ['--filter', `name=${n}`])],
    { allowFailure: true, timeoutMs: (timeout + 60) * 1000 },
  );
  const after = await podStates(k, names);
  const phases = phasesOfRun(names, before, after);
  const perTest: HelmTestResult['perTest'] = [];
  for (const name of names) {
    const phase = phases.get(name) ?? 'NotRun';
    const log =
      phase === 'NotRun'
        ? '(not run this time: helm stops at the first failing test)'
        : (await k.kubectl(['logs', name], { allowFailure: true })).stdout.trimEnd();
    perTest.push({ name, phase, log });
  }
  return {
    ok: run.code === 0 && perTest.every((t) => t.phase === 'Succeeded'),
    perTest,
    output: `${run.stdout}${run.stderr}`.trimEnd(),
    durationMs: Date.now() - started,
  };
}
