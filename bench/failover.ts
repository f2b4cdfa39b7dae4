// npm run bench:failover — what losing a node costs, measured as kstack prove R11 measures it (page
// requests at 20/s through the load-balanced URL, a write every 0.2 s through the db Service, each on a
// new connection with a 2 s timeout and no retry): a db node and the busiest web node, each frozen (a
// hung machine) and killed (a power loss) for 60 s and started again; and, as the baseline of the same
// run, the same load for the same time with no node stopped. Cluster 'failover-bench' (the default 5
// nodes), removed at the end. Writes docs/benchmarks/failover.{json,md} (bench/result.ts); exits 1 when an
// acknowledged write was lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFaultControl } from '../src/cluster/control-plane.js';
import { Kube } from '../src/kube/kube.js';
import {
  busiestWebNode,
  dbNodeOfMember0,
  FREEZE_SECONDS,
  NODE_LOSS_OBJECTIVES,
  nodeLossPhase,
  type NodeLossFault,
  type PhaseResult,
} from '../src/prove/requirements/r11-node-loss.js';
import { readIntent } from '../src/prove/requirements/release.js';
import { Evidence, type ProveContext } from '../src/prove/requirements/types.js';
import { ensureKubectlAndHelm } from '../src/setup/kubectl-layer.js';
import { stackDown, stackUp } from '../src/stack/up.js';
import { createProgress, silentProgress } from '../src/util/progress.js';
import { startBench, type Figure, type TargetSpec } from './result.js';

const CLUSTER = 'failover-bench';
const NS = 'webstack';
const RELEASE = 'web';
const progress = createProgress();

interface Case {
  key: string;
  role: 'db' | 'web';
  fault: NodeLossFault;
}

const CASES: readonly Case[] = [
  { key: 'baseline', role: 'db', fault: { mode: 'none', downSeconds: FREEZE_SECONDS } },
  { key: 'db.freeze', role: 'db', fault: { mode: 'freeze', downSeconds: FREEZE_SECONDS } },
  { key: 'db.kill', role: 'db', fault: { mode: 'kill', downSeconds: FREEZE_SECONDS } },
  { key: 'web.freeze', role: 'web', fault: { mode: 'freeze', downSeconds: FREEZE_SECONDS } },
  { key: 'web.kill', role: 'web', fault: { mode: 'kill', downSeconds: FREEZE_SECONDS } },
];

const outageSeconds = (p: PhaseResult): number => p.writes.longestOutageMs / 1000;

async function main(): Promise<number> {
  const bench = startBench('failover', { cluster: CLUSTER, downSeconds: FREEZE_SECONDS, pageRate: 20 });
  const reportDir = mkdtempSync(join(tmpdir(), 'kstack-bench-failover-'));
  try {
    const stack = await stackUp({
      namespace: NS,
      release: RELEASE,
      valuesFiles: [],
      clusterName: CLUSTER,
      timeoutMs: 15 * 60_000,
      progress,
    });
    if (stack.page.kind !== 'load-balancer')
      throw new Error(`the page is not behind the load balancer: ${stack.page.url}`);
    const { kubectl, helm } = await ensureKubectlAndHelm(progress);
    const kube = new Kube({ kubectl, helm, kubeArgs: stack.kubeArgs, helmArgs: stack.kubeArgs, namespace: NS });
    const results = new Map<string, PhaseResult>();
    for (const c of CASES) {
      const ev = new Evidence();
      const ctx: ProveContext = {
        kube,
        namespace: NS,
        release: RELEASE,
        intent: await readIntent(kube, RELEASE),
        reportDir,
        note: () => undefined,
        nodes: nodeFaultControl({ name: CLUSTER, progress: silentProgress }),
      };
      const r = await progress.step(
        `${c.key}: ${c.fault.mode} a ${c.role} node for ${c.fault.downSeconds} s under load`,
        () =>
          nodeLossPhase(
            ctx,
            ev,
            c.role,
            stack.page.url,
            (byHost) => (c.role === 'db' ? dbNodeOfMember0(ctx) : busiestWebNode(ctx, byHost)),
            c.fault,
          ),
      );
      results.set(c.key, r);
      process.stdout.write(
        `${c.key.padEnd(10)} node ${r.node.padEnd(6)} page ` +
          `failed ${String(r.page.failedPercent).padStart(5)}%  longest write ` +
          `outage ${outageSeconds(r).toFixed(1).padStart(5)} s  ` +
          `lost ${r.lost}  back after ${r.recoverySeconds ?? 'never'} s\n`,
      );
    }
    const base = results.get('baseline');
    const figures: Figure[] = [];
    const targets: TargetSpec[] = [];
    for (const [key, r] of results) {
      figures.push(
        { key: `${key}.node`, label: `${key}: node`, value: r.node },
        {
          key: `${key}.failedPagePercent`,
          label: `${key}: failed page requests`,
          value: r.page.failedPercent,
          unit: '%',
          digits: 2,
        },
        {
          key: `${key}.writeOutageSeconds`,
          label: `${key}: longest write outage`,
          value: outageSeconds(r),
          unit: 's',
          digits: 1,
        },
        {
          key: `${key}.recoverySeconds`,
          label: `${key}: pods back after the node returned`,
          value: r.recoverySeconds ?? -1,
          unit: 's',
          digits: 1,
        },
      );
      if (key === 'baseline' || !base) continue;
      figures.push({
        key: `${key}.outageRatio`,
        label: `${key}: longest write outage ÷ baseline's (same load, no node stopped)`,
        value: outageSeconds(r) / Math.max(outageSeconds(base), 0.2),
        unit: '×',
        digits: 1,
      });
      targets.push(
        { key: `${key}.writesLost`, label: `${key}: acknowledged writes lost`, value: r.lost, op: '<=', limit: 0 },
        {
          key: `${key}.writeOutage`,
          label: `${key}: longest write outage`,
          value: outageSeconds(r),
          op: '<=',
          limit: NODE_LOSS_OBJECTIVES.writeOutageSeconds,
          unit: 's',
        },
        {
          key: `${key}.failedPage`,
          label: `${key}: failed page requests`,
          value: r.page.failedPercent,
          op: '<=',
          limit: NODE_LOSS_OBJECTIVES.failedPagePercent,
          unit: '%',
        },
        {
          key: `${key}.recovery`,
          label: `${key}: pods back`,
          value: r.recoverySeconds ?? Infinity,
          op: '<=',
          limit: NODE_LOSS_OBJECTIVES.recoverySeconds,
          unit: 's',
        },
      );
    }
    bench.finish({
      title: 'losing a node: a db node and the busiest web node, frozen and killed for 60 s under load',
      figures,
      targets,
      notes: [
        'Nodes are network namespaces on one kernel: kill ends every process of the node at once, ' +
          'but its network namespace and files stay (as a disk survives a power cut).',
        'The baseline runs the same load for the same time with no node stopped; ' +
          'ratios divide by its longest write outage (at least 0.2 s, the write interval).',
      ],
    });
    return [...results.values()].some((r) => r.lost > 0) ? 1 : 0;
  } finally {
    await stackDown({ namespace: NS, release: RELEASE, clusterName: CLUSTER, all: true, progress }).catch(
      () => undefined,
    );
    rmSync(reportDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
