// npm run bench:up — time from nothing to all `kstack prove` rows green: cold (no cluster: the local
// cluster brought up, images imported, the chart installed, then every row) and warm (cluster running,
// release installed: `kstack up` finds everything in place, then every row), with their ratio. Build
// caches (Go components, images) are warm in both: the first `kstack up` on a machine builds them once.
// Cluster 'prove-bench', removed at the end. Writes docs/benchmarks/up.{json,md} (bench/result.ts); exits 1
// when a row failed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REQUIREMENTS } from '../src/prove/requirements/index.js';
import { Kube } from '../src/kube/kube.js';
import { runProve, type ProveReport } from '../src/prove/run.js';
import { ensureKubectlAndHelm } from '../src/setup/kubectl-layer.js';
import { stackDown, stackUp } from '../src/stack/up.js';
import { controlPlaneDown, nodeFaultControl } from '../src/cluster/control-plane.js';
import { createProgress, formatDuration, silentProgress } from '../src/util/progress.js';
import { startBench, type Figure } from './result.js';

const CLUSTER = 'prove-bench';
const NS = 'webstack';
const RELEASE = 'web';
const progress = createProgress();

interface Run {
  upMs: number;
  proveMs: number;
  totalMs: number;
  report: ProveReport;
}

async function upAndProve(reportDir: string): Promise<Run> {
  const t0 = performance.now();
  const stack = await stackUp({
    namespace: NS,
    release: RELEASE,
    valuesFiles: [],
    clusterName: CLUSTER,
    timeoutMs: 15 * 60_000,
    progress,
  });
  stack.page.stop();
  stack.podwatch?.stop();
  const upMs = performance.now() - t0;
  const { kubectl, helm } = await ensureKubectlAndHelm(progress);
  const kube = new Kube({ kubectl, helm, kubeArgs: stack.kubeArgs, helmArgs: stack.kubeArgs, namespace: NS });
  const report = await runProve({
    rows: REQUIREMENTS,
    kube,
    namespace: NS,
    release: RELEASE,
    cluster: CLUSTER,
    reportDir,
    progress,
    nodes: nodeFaultControl({ name: CLUSTER, progress: silentProgress }),
    // R12 reads the local monitoring that `kstack up` installed.
    ...(stack.monitoring?.prometheusUrl && stack.monitoring.alertmanagerUrl
      ? {
          monitoring: {
            prometheusUrl: stack.monitoring.prometheusUrl,
            alertmanagerUrl: stack.monitoring.alertmanagerUrl,
          },
        }
      : {}),
  });
  const totalMs = performance.now() - t0;
  return { upMs, proveMs: totalMs - upMs, totalMs, report };
}

const rowsLine = (r: ProveReport): string => r.rows.map((x) => `${x.id}:${x.status}`).join(' ');

async function main(): Promise<number> {
  const bench = startBench('up', { cluster: CLUSTER, namespace: NS, release: RELEASE });
  const reportDir = mkdtempSync(join(tmpdir(), 'kstack-bench-up-'));
  try {
    await controlPlaneDown({ name: CLUSTER, progress }); // from nothing
    const cold = await upAndProve(reportDir);
    const warm = await upAndProve(reportDir);
    const line = (name: string, r: Run): string =>
      `${name.padEnd(5)} total ${formatDuration(r.totalMs).padStart(7)}  (kstack ` +
      `up ${formatDuration(r.upMs)}, prove ${formatDuration(r.proveMs)})  ${r.report.summary.pass} ` +
      `pass, ${r.report.summary.fail} fail, ${r.report.summary.skipped} skipped`;
    process.stdout.write('\nkstack up + kstack prove, from nothing to all rows green\n');
    process.stdout.write(`${line('cold', cold)}\n${line('warm', warm)}\n`);
    process.stdout.write(
      `ratio cold/warm: ${(cold.totalMs / warm.totalMs).toFixed(2)}  ` +
        `(kstack up alone: ${(cold.upMs / warm.upMs).toFixed(1)})\n`,
    );
    process.stdout.write(`rows cold: ${rowsLine(cold.report)}\nrows warm: ${rowsLine(warm.report)}\n`);
    for (const r of warm.report.rows)
      process.stdout.write(`  ${r.id.padEnd(3)} ${formatDuration(r.durationMs).padStart(7)}  ${r.title}\n`);
    const green = cold.report.ok && warm.report.ok;
    if (!green)
      process.stdout.write(
        `NOT GREEN: cold ${cold.report.verdict}, warm ${warm.report.verdict} (a ` +
          `failed or skipped row is not green); the times above are not "to green"\n`,
      );
    const runs: [string, Run][] = [
      ['cold', cold],
      ['warm', warm],
    ];
    const runFigures = (key: string, r: Run): Figure[] => [
      {
        key: `${key}.totalSeconds`,
        label: `${key}: kstack up + kstack prove`,
        value: r.totalMs / 1000,
        unit: 's',
        digits: 0,
      },
      { key: `${key}.upSeconds`, label: `${key}: kstack up`, value: r.upMs / 1000, unit: 's', digits: 0 },
      { key: `${key}.proveSeconds`, label: `${key}: kstack prove`, value: r.proveMs / 1000, unit: 's', digits: 0 },
      { key: `${key}.rows`, label: `${key}: rows`, value: rowsLine(r.report) },
      { key: `${key}.skipped`, label: `${key}: rows skipped`, value: r.report.summary.skipped },
    ];
    bench.finish({
      title: 'nothing → all kstack prove rows green, cold and warm',
      figures: [
        ...runFigures('cold', cold),
        ...runFigures('warm', warm),
        { key: 'ratio', label: 'cold ÷ warm, total', value: cold.totalMs / warm.totalMs, unit: '×', digits: 2 },
        { key: 'upRatio', label: 'cold ÷ warm, kstack up alone', value: cold.upMs / warm.upMs, unit: '×', digits: 1 },
        ...warm.report.rows.map((r): Figure => ({
          key: `warm.row.${r.id}.seconds`,
          label: `warm: ${r.id} ${r.title}`,
          value: r.durationMs / 1000,
          unit: 's',
          digits: 0,
        })),
        // R12's alert timings (each judged by prove against the rule's for + scrape + evaluation + grouping).
        ...[
          'member_down_fire_seconds',
          'member_down_resolve_seconds',
          'backup_age_fire_seconds',
          'backup_age_resolve_seconds',
        ].flatMap((m): Figure[] =>
          runs.flatMap(([key, r]) => {
            const v = r.report.rows.find((x) => x.id === 'R12')?.measurements[m];
            return typeof v === 'number'
              ? [
                  {
                    key: `${key}.R12.${m}`,
                    label: `${key}: R12 ${m.replaceAll('_', ' ')}`,
                    value: v,
                    unit: 's',
                    digits: 1,
                  },
                ]
              : [];
          }),
        ),
      ],
      targets: [
        {
          key: 'rowsFailed',
          label: 'rows failed, cold and warm',
          value: cold.report.summary.fail + warm.report.summary.fail,
          op: '<=',
          limit: 0,
        },
      ],
      notes: [
        'Build caches (Go components, images) are warm in both runs: ' +
          'a first run on a new machine adds the one-time builds.',
      ],
    });
    return green ? 0 : 1;
  } finally {
    await stackDown({ namespace: NS, release: RELEASE, clusterName: CLUSTER, all: true, progress }).catch(
      () => undefined,
    );
    rmSync(reportDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
