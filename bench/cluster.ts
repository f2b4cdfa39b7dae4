// npm run bench:cluster — control-plane start times, cold (new cluster: certificates, etcd init, RBAC
// bootstrap) and warm (stopped cluster resumed), against a baseline measured in the same run: the same
// etcd and kube-apiserver binaries started directly with the same flags, polled until /readyz answers.
// The ratio warm/baseline is kstack's own overhead on top of what the binaries need.
// Writes docs/benchmarks/cluster.{json,md} (bench/result.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneDown, controlPlaneStop, controlPlaneUp } from '../src/cluster/control-plane.js';
import { defaultNodeSettings, prepareNodes } from '../src/cluster/nodes/cluster-nodes.js';
import { controlPlaneSpecs } from '../src/cluster/control-plane-spec.js';
import { waitHealthy } from '../src/cluster/health.js';
import { clusterLayout } from '../src/cluster/layout.js';
import { readState } from '../src/cluster/state.js';
import { ensureControlPlaneBinaries } from '../src/setup/setup.js';
import { formatDuration, createProgress, silentProgress } from '../src/util/progress.js';
import { startDaemon, stopDaemon } from '../src/util/process.js';
import { startBench, type Figure, type TargetSpec } from './result.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARM_TARGET_MS = 10_000;
/** Nodes of the whole-cluster part: the default topology. */
const N = defaultNodeSettings().count;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

async function baselineStart(baseDir: string, name: string): Promise<number> {
  const layout = clusterLayout(name, baseDir);
  const state = readState(layout.stateFile);
  if (!state) throw new Error('no state to start from');
  const binaries = await ensureControlPlaneBinaries(silentProgress);
  const specs = controlPlaneSpecs({ layout, ports: state.ports, binaries, network: state.network }).slice(0, 2);
  const started = performance.now();
  const pids: [number, string][] = [];
  try {
    for (const spec of specs) {
      pids.push([
        startDaemon({ binary: spec.binary, args: spec.args, logFile: join(layout.logs, `baseline-${spec.name}.log`) }),
        spec.binary,
      ]);
    }
    const api = specs[1];
    if (!api) throw new Error('no api server spec');
    const res = await waitHealthy(
      { url: api.healthURL, caFile: api.healthCA, clientCert: 'admin', pkiDir: layout.pki },
      { timeoutMs: 120_000 },
    );
    if (!res.ok) throw new Error(`baseline API server not ready: ${res.reason ?? ''}`);
    return performance.now() - started;
  } finally {
    for (const [pid, binary] of pids.reverse()) await stopDaemon(pid, binary);
  }
}

interface Part {
  figures: Figure[];
  targets: TargetSpec[];
}

async function main(): Promise<void> {
  const bench = startBench('cluster', { runs: RUNS, nodes: defaultNodeSettings().count });
  const progress = createProgress();
  await ensureControlPlaneBinaries(progress);
  const baseDir = mkdtempSync(join(tmpdir(), 'kstack-bench-'));
  const name = 'bench';
  let controlPlane: Part;
  try {
    const cold = await controlPlaneUp({ name, baseDir, progress: silentProgress });
    await controlPlaneStop({ name, baseDir, progress: silentProgress });
    const warm: { api: number; all: number }[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      baseline.push(await baselineStart(baseDir, name));
      const up = await controlPlaneUp({ name, baseDir, progress: silentProgress });
      warm.push({ api: up.timings.apiReadyMs, all: up.timings.allHealthyMs });
      await controlPlaneStop({ name, baseDir, progress: silentProgress });
      process.stderr.write(
        `  run ${i + 1}/${RUNS}: baseline ${formatDuration(baseline.at(-1) ?? 0)}, ` +
          `warm API ${formatDuration(up.timings.apiReadyMs)}, all ${formatDuration(up.timings.allHealthyMs)}\n`,
      );
    }
    const warmApi = median(warm.map((w) => w.api));
    const warmAll = median(warm.map((w) => w.all));
    const base = median(baseline);
    const rows: [string, string, string][] = [
      ['baseline: etcd + kube-apiserver started directly, to /readyz', formatDuration(base), '1.00×'],
      [
        'cold: new cluster, to API ready',
        formatDuration(cold.timings.apiReadyMs),
        `${(cold.timings.apiReadyMs / base).toFixed(2)}×`,
      ],
      [
        'cold: new cluster, to all components healthy + default SA',
        formatDuration(cold.timings.allHealthyMs),
        `${(cold.timings.allHealthyMs / base).toFixed(2)}×`,
      ],
      [
        `warm: resume stopped cluster, to API ready (median of ${RUNS})`,
        formatDuration(warmApi),
        `${(warmApi / base).toFixed(2)}×`,
      ],
      [
        `warm: resume stopped cluster, to all healthy (median of ${RUNS})`,
        formatDuration(warmAll),
        `${(warmAll / base).toFixed(2)}×`,
      ],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write(`\ncontrol-plane start (ratio against the baseline measured in this run)\n`);
    for (const [label, value, ratio] of rows)
      process.stdout.write(`  ${label.padEnd(w)}  ${value.padStart(8)}  ${ratio.padStart(7)}\n`);
    const s = (ms: number): number => ms / 1000;
    controlPlane = {
      figures: [
        {
          key: 'baseline.seconds',
          label: 'baseline: etcd + kube-apiserver started directly, to /readyz',
          value: s(base),
          unit: 's',
          digits: 2,
        },
        {
          key: 'cold.apiReadySeconds',
          label: 'cold: new cluster, to API ready',
          value: s(cold.timings.apiReadyMs),
          unit: 's',
          digits: 2,
        },
        {
          key: 'cold.apiReadyRatio',
          label: 'cold: new cluster, to API ready ÷ baseline',
          value: cold.timings.apiReadyMs / base,
          unit: '×',
          digits: 2,
        },
        {
          key: 'cold.allHealthySeconds',
          label: 'cold: new cluster, to all components healthy + default SA',
          value: s(cold.timings.allHealthyMs),
          unit: 's',
          digits: 2,
        },
        {
          key: 'cold.allHealthyRatio',
          label: 'cold: … ÷ baseline',
          value: cold.timings.allHealthyMs / base,
          unit: '×',
          digits: 2,
        },
        {
          key: 'warm.apiReadySeconds',
          label: `warm: resume stopped cluster, to API ready (median of ${RUNS})`,
          value: s(warmApi),
          unit: 's',
          digits: 2,
        },
        {
          key: 'warm.apiReadyRatio',
          label: 'warm: to API ready ÷ baseline',
          value: warmApi / base,
          unit: '×',
          digits: 2,
        },
        {
          key: 'warm.allHealthySeconds',
          label: `warm: resume stopped cluster, to all healthy (median of ${RUNS})`,
          value: s(warmAll),
          unit: 's',
          digits: 2,
        },
        {
          key: 'warm.allHealthyRatio',
          label: 'warm: to all healthy ÷ baseline',
          value: warmAll / base,
          unit: '×',
          digits: 2,
        },
      ],
      targets: [
        {
          key: 'warm.apiReadySeconds',
          label: 'warm start to a usable API',
          value: s(warmApi),
          op: '<',
          limit: WARM_TARGET_MS / 1000,
          unit: 's',
          digits: 2,
        },
      ],
    };
  } finally {
    await controlPlaneDown({ name, baseDir, progress: silentProgress });
  }
  const nodes = await nodesBench(baseDir, progress);
  rmSync(baseDir, { recursive: true, force: true });
  bench.finish({
    title:
      `control-plane start, cold and warm, against the same binaries ` +
      `started directly; a ${N}-node cluster to Ready with DNS`,
    figures: [...controlPlane.figures, ...nodes.figures],
    targets: [...controlPlane.targets, ...nodes.targets],
  });
}

/**
 * Whole cluster: control plane + the default nodes (5) + CoreDNS ready, cold (binaries and images cached, no state)
 * and warm (a stopped cluster resumed). The baseline is the control plane alone, started cold in the
 * same run, so the ratio is what nodes add.
 */
async function nodesBench(baseDir: string, progress: ReturnType<typeof createProgress>): Promise<Part> {
  const name = 'bench-nodes';
  await prepareNodes(progress); // builds images once, outside the timings
  try {
    const baseline = await controlPlaneUp({ name: 'bench-cp', baseDir, progress: silentProgress });
    await controlPlaneDown({ name: 'bench-cp', baseDir, progress: silentProgress });
    const cold = await controlPlaneUp({ name, baseDir, nodes: defaultNodeSettings(), progress: silentProgress });
    await controlPlaneStop({ name, baseDir, progress: silentProgress });
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const up = await controlPlaneUp({ name, baseDir, progress: silentProgress });
      warm.push(up.timings.allHealthyMs);
      await controlPlaneStop({ name, baseDir, progress: silentProgress });
      process.stderr.write(`  nodes run ${i + 1}/${RUNS}: warm ${formatDuration(up.timings.allHealthyMs)}\n`);
    }
    const base = baseline.timings.allHealthyMs;
    const w = median(warm);
    process.stdout.write(
      `\nlocal cluster with ${N} nodes, to all nodes Ready and CoreDNS ` +
        `ready (ratio against a cold control plane alone, this run)\n`,
    );
    process.stdout.write(
      `  baseline: control plane only, cold            ${formatDuration(base).padStart(8)}    1.00×\n`,
    );
    process.stdout.write(
      `  cold: ${N} nodes, no state (images cached)       ` +
        `${formatDuration(cold.timings.allHealthyMs).padStart(8)}  ` +
        `${(cold.timings.allHealthyMs / base).toFixed(2).padStart(6)}×\n`,
    );
    process.stdout.write(
      `  warm: stopped ${N}-node cluster resumed ` +
        `(median) ${formatDuration(w).padStart(8)}  ${(w / base).toFixed(2).padStart(6)}×\n`,
    );
    return {
      figures: [
        {
          key: 'nodes.baselineSeconds',
          label: 'baseline: control plane only, cold',
          value: base / 1000,
          unit: 's',
          digits: 2,
        },
        {
          key: 'nodes.coldSeconds',
          label: `cold: ${N} nodes, no state (images cached), to all Ready + CoreDNS`,
          value: cold.timings.allHealthyMs / 1000,
          unit: 's',
          digits: 2,
        },
        {
          key: 'nodes.coldRatio',
          label: `cold: ${N} nodes ÷ control plane alone`,
          value: cold.timings.allHealthyMs / base,
          unit: '×',
          digits: 2,
        },
        {
          key: 'nodes.warmSeconds',
          label: `warm: stopped ${N}-node cluster resumed (median of ${RUNS})`,
          value: w / 1000,
          unit: 's',
          digits: 2,
        },
        {
          key: 'nodes.warmRatio',
          label: `warm: ${N} nodes ÷ control plane alone`,
          value: w / base,
          unit: '×',
          digits: 2,
        },
      ],
      targets: [
        {
          key: 'nodes.warmSeconds',
          label: `warm bring-up of ${N} Ready nodes with DNS`,
          value: w / 1000,
          op: '<=',
          limit: 60,
          unit: 's',
          digits: 2,
        },
      ],
    };
  } finally {
    await controlPlaneDown({ name, baseDir, progress: silentProgress });
  }
}

await main();
