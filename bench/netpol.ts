// npm run bench:netpol: how long NetworkPolicy takes to converge on the local cluster. There are 10 pods
// across the 3 nodes, each listening on 3 TCP ports, and every pod probes every pod:port (10 × 30
// cells). Baseline, measured in the same run: one full probe round with no policies (all open), the
// fastest a change could ever be seen. Then, several times: apply default-deny + allow rules and time
// until the observed matrix equals the evaluator's; delete them and time until all is open again.
// Printed: the medians and their ratio to the baseline round. No target: the figures describe the engine.
// Writes docs/benchmarks/netpol.{json,md} (bench/result.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubectlRunner } from '../src/cluster/addons/netpol-canary-run.js';
import { controlPlaneDown, controlPlaneUp } from '../src/cluster/control-plane.js';
import { defaultNodeSettings } from '../src/cluster/nodes/cluster-nodes.js';
import { expectedMatrix, type Target } from '../src/netpol/matrix.js';
import { buildModel, podEndpoint } from '../src/netpol/evaluator.js';
import { probePod } from '../src/netpol/probe-pods.js';
import {
  compareAndRender,
  listModelInput,
  resolveTargets,
  runProbes,
  type KubectlRunner,
  type ProbeSource,
} from '../src/netpol/probe.js';
import { ensureKubectlAndHelm } from '../src/setup/kubectl-layer.js';
import { run } from '../src/util/exec.js';
import { createProgress, formatDuration } from '../src/util/progress.js';
import { startBench } from './result.js';

const NAME = 'netpol-bench';
const NS = 'np-bench';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const NODES = ['web-1', 'db-1', 'db-2'];
const PORTS = [80, 3306, 8080];
const PODS = Array.from({ length: 10 }, (_, i) => ({
  name: `p${i}`,
  role: i < 3 ? 'web' : i < 5 ? 'db' : 'other',
  node: NODES[i % NODES.length] ?? 'web-1',
}));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

const policies = (): object[] => [
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'default-deny', namespace: NS },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'web-to-db', namespace: NS },
    spec: {
      podSelector: { matchLabels: { role: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { role: 'web' } } }], ports: [{ port: 3306 }] }],
    },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'web-egress', namespace: NS },
    spec: {
      podSelector: { matchLabels: { role: 'web' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { role: 'db' } } }], ports: [{ port: 3306 }] }],
    },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'web-ingress-80', namespace: NS },
    spec: {
      podSelector: { matchLabels: { role: 'web' } },
      policyTypes: ['Ingress'],
      ingress: [{ ports: [{ port: 80 }] }],
    },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'other-egress-web', namespace: NS },
    spec: {
      podSelector: { matchLabels: { role: 'other' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { role: 'web' } } }], ports: [{ port: 80 }] }],
    },
  },
];

async function main(): Promise<void> {
  const bench = startBench('netpol', {
    runs: RUNS,
    pods: PODS.length,
    ports: PORTS.length,
    nodes: NODES.length,
    probeTimeoutSeconds: 2,
  });
  const progress = createProgress();
  const baseDir = mkdtempSync(join(tmpdir(), 'kstack-bench-netpol-'));
  const { kubectl } = await ensureKubectlAndHelm(progress);
  try {
    const cluster = await controlPlaneUp({ name: NAME, baseDir, nodes: defaultNodeSettings(), progress });
    const k: KubectlRunner = kubectlRunner(kubectl, cluster.kubeconfig);
    const kc = async (args: string[], input?: string): Promise<void> => {
      await run(kubectl, ['--kubeconfig', cluster.kubeconfig, ...args], input === undefined ? {} : { input });
    };
    const objects = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      ...PODS.map((p) =>
        probePod({
          namespace: NS,
          name: p.name,
          labels: { role: p.role },
          node: p.node,
          tcpPorts: PORTS.map((port) => ({ port })),
        }),
      ),
    ];
    await kc(['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
    await kc(['-n', NS, 'wait', '--for=condition=Ready', 'pods', '--all', '--timeout=180s']);

    const sources: ProbeSource[] = PODS.map((p) => ({ namespace: NS, pod: p.name }));
    const targets: Target[] = PODS.flatMap((p) => PORTS.map((port) => ({ to: podEndpoint(NS, p.name), port })));
    const round = async (): Promise<{ ok: boolean; ms: number; text: string }> => {
      const t0 = performance.now();
      const input = await listModelInput(k, [NS]);
      const expected = expectedMatrix(
        buildModel(input),
        sources.map((s) => podEndpoint(s.namespace, s.pod)),
        targets,
      );
      const observed = await runProbes(k, sources, resolveTargets(targets, input.pods), {
        timeoutSeconds: 2,
        concurrency: 4,
      });
      const { comparison, differences } = compareAndRender(expected, observed);
      return {
        ok: comparison.ok,
        ms: performance.now() - t0,
        text: `${comparison.summary.match}/${comparison.summary.cells} cells as expected\n${differences}`,
      };
    };
    // Rounds under default-deny are slow (closed cells wait out the probe timeout because rejections do
    // not reach the source), so each convergence also reports how long its matching round took and when
    // it started: the engine was in force somewhere between the start of the last mismatching round and
    // the end of the matching one.
    interface Convergence {
      ms: number;
      rounds: number;
      matchingRoundMs: number;
      matchingRoundStartMs: number;
    }
    const converge = async (what: string): Promise<Convergence> => {
      const t0 = performance.now();
      for (let rounds = 1; ; rounds++) {
        const start = performance.now() - t0;
        const r = await round();
        if (r.ok) return { ms: performance.now() - t0, rounds, matchingRoundMs: r.ms, matchingRoundStartMs: start };
        if (performance.now() - t0 > 120_000)
          throw new Error(`${what}: no convergence in 120 s; last round: ${r.text}`);
        await sleep(250);
      }
    };

    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await round();
      if (!r.ok) throw new Error(`baseline round without policies does not match: ${r.text}`);
      baseline.push(r.ms);
    }
    const enforce: Convergence[] = [];
    const reopen: Convergence[] = [];
    for (let i = 0; i < RUNS; i++) {
      await kc(
        ['apply', '-f', '-'],
        policies()
          .map((o) => JSON.stringify(o))
          .join('\n'),
      );
      enforce.push(await converge('policies applied'));
      await kc(['-n', NS, 'delete', 'networkpolicy', '--all']);
      reopen.push(await converge('policies deleted'));
    }
    const b = median(baseline);
    const e = median(enforce.map((c) => c.ms));
    const r = median(reopen.map((c) => c.ms));
    const detail = (cs: Convergence[]): string =>
      cs
        .map(
          (c) =>
            `${formatDuration(c.ms)} = ${c.rounds} round(s), the matching ` +
            `one ${formatDuration(c.matchingRoundStartMs)} → +${formatDuration(c.matchingRoundMs)}`,
        )
        .join('; ');
    const cells = sources.length * targets.length;
    console.log(
      `\nNetworkPolicy convergence, ${PODS.length} pods × ${PORTS.length} ` +
        `ports = ${cells} cells per round, ${RUNS} runs (medians):`,
    );
    console.log(
      `  baseline: one probe round, no policies          ${formatDuration(b)}   ` +
        `(all: ${baseline.map(formatDuration).join(', ')})`,
    );
    console.log(
      `  apply policies → observed == expected           ${formatDuration(e)}   (${(e / b).toFixed(2)}× baseline)`,
    );
    console.log(`      ${detail(enforce)}`);
    console.log(
      `      a round under these policies: ${formatDuration(median(enforce.map((c) => c.matchingRoundMs)))} ` +
        `(${(median(enforce.map((c) => c.matchingRoundMs)) / b).toFixed(2)}× ` +
        `baseline) — the floor for seeing any change`,
    );
    console.log(
      `  delete policies → all open again                ${formatDuration(r)}   (${(r / b).toFixed(2)}× baseline)`,
    );
    console.log(`      ${detail(reopen)}`);
    const m = median(enforce.map((c) => c.matchingRoundMs));
    bench.finish({
      title: 'NetworkPolicy convergence on the local cluster (kube-router)',
      figures: [
        { key: 'cells', label: 'cells per probe round (pods × pods × ports)', value: cells },
        {
          key: 'baseline.seconds',
          label: `baseline: one probe round, no policies (median of ${RUNS})`,
          value: b / 1000,
          unit: 's',
          digits: 1,
        },
        {
          key: 'enforce.seconds',
          label: 'apply policies → observed matrix == expected (median)',
          value: e / 1000,
          unit: 's',
          digits: 1,
        },
        { key: 'enforce.ratio', label: 'apply policies → match ÷ baseline', value: e / b, unit: '×', digits: 2 },
        {
          key: 'enforce.rounds',
          label: 'apply policies: probe rounds until the match (median)',
          value: median(enforce.map((c) => c.rounds)),
        },
        {
          key: 'enforce.matchingRoundSeconds',
          label: 'a probe round under the policies (closed cells wait out the timeout; median)',
          value: m / 1000,
          unit: 's',
          digits: 1,
        },
        {
          key: 'reopen.seconds',
          label: 'delete policies → all open again (median)',
          value: r / 1000,
          unit: 's',
          digits: 1,
        },
        { key: 'reopen.ratio', label: 'delete policies → all open ÷ baseline', value: r / b, unit: '×', digits: 2 },
        {
          key: 'reopen.rounds',
          label: 'delete policies: probe rounds until all open (median)',
          value: median(reopen.map((c) => c.rounds)),
        },
      ],
      notes: [`Each convergence: ${detail(enforce)} (apply); ${detail(reopen)} (delete).`],
      details: { baselineMs: baseline, enforce, reopen },
    });
  } finally {
    await controlPlaneDown({ name: NAME, baseDir, progress }).catch(() => undefined);
    rmSync(baseDir, { recursive: true, force: true });
  }
}

await main();
