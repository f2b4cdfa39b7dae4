// The node half of a local cluster: what `up` adds after the control plane is healthy (nodes, add-ons,
// the local-path provisioner), and what `stop`/`down` remove from the host again.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureGoBinaries } from '../../setup/go-build.js';
import { nodeHostComponents } from '../../setup/go-components.js';
import { ensureKubectlAndHelm } from '../../setup/kubectl-layer.js';
import type { GoBinaries } from '../../setup/setup.js';
import { run } from '../../util/exec.js';
import { UserError } from '../../util/errors.js';
import { repoRoot } from '../../util/paths.js';
import { executableOf, startDaemon, stopDaemon } from '../../util/process.js';
import type { Progress } from '../../util/progress.js';
import { clusterImages, imageRecipes } from '../../images/recipes.js';
import type { BuiltImage } from '../../images/build.js';
import { apiserverToKubeletRBAC, coreDNS, localPathStorage, PROVISIONER_USER } from '../addons/manifests.js';
import { ensureLocalS3 } from '../addons/local-s3.js';
import { LB_USER, loadBalancerRBAC } from '../addons/load-balancer.js';
import { crdsFromModules, MONITORING_CRD_SOURCES } from '../addons/crds.js';
import { checkSecondaryNetwork, secondaryNetworkCRDs, secondaryNetworkRBAC } from '../addons/multinet.js';
import { runCanary } from '../addons/netpol-canary-run.js';
import { renderKubeconfig } from '../kubeconfig.js';
import type { ClusterLayout } from '../layout.js';
import { ensureCertificates, readPem } from '../pki.js';
import type { ClusterState, NodeComponent, NodeSettings } from '../state.js';
import { nodeAgents, nodeComponentOrder, nodeLogFile, type NodeAgent } from './node-agents.js';
import { clusterImagesFor, importMissingImages, nodesDown, nodesUp, removeImage } from './nodes.js';
import { nodeLayout } from './node-layout.js';
import { DEFAULT_DB_TAINT, planClusterNetwork, type ClusterNetworkPlan } from './plan.js';

/** 2 web + 3 db nodes: the smallest cluster that can lose any one node (plan.ts nodeRoles). */
export const DEFAULT_NODE_COUNT = 5;

export interface PreparedNodes {
  binaries: GoBinaries;
  images: BuiltImage[];
  kubectl: string;
}

export function networkPlanFor(cluster: string, settings: NodeSettings): ClusterNetworkPlan {
  return planClusterNetwork(cluster, {
    count: settings.count,
    ...(settings.dbTaint ? { dbTaint: settings.dbTaint } : {}),
  });
}

export function defaultNodeSettings(count = DEFAULT_NODE_COUNT): NodeSettings {
  planClusterNetwork('check', { count }); // validates the count with a clear error
  return { count, dbTaint: DEFAULT_DB_TAINT };
}

/** Everything nodes need that can be built before any state is written: binaries, images, kubectl. */
export async function prepareNodes(progress: Progress): Promise<PreparedNodes> {
  // Already built with the control plane's binaries (one request combines the builds); this finds them.
  const binaries = (await ensureGoBinaries(nodeHostComponents, progress)) as GoBinaries;
  const images = await clusterImagesFor(clusterImages, progress);
  const { kubectl } = await ensureKubectlAndHelm(progress);
  return { binaries, images, kubectl };
}

const volumesDir = (layout: ClusterLayout): string => join(layout.root, 'volumes');

function adminKubectl(kubectl: string, layout: ClusterLayout) {
  return async (args: string[], input?: string): Promise<string> =>
    (await run(kubectl, ['--kubeconfig', layout.kubeconfig, ...args], input !== undefined ? { input } : {})).stdout;
}

const apply = (objects: object[]): string => objects.map((o) => JSON.stringify(o)).join('\n');

/**
 * Whether a Ready transition (second precision) happened at or after `since` (milliseconds): a
 * transition from before the nodes (re)started is stale.
 */
export function readySince(lastTransitionTime: string, since: number): boolean {
  return Date.parse(lastTransitionTime) >= Math.floor(since / 1000) * 1000;
}

/** True when every node process and the provisioner of the cluster are running. */
export function nodesAllRunning(layout: ClusterLayout, state: ClusterState): boolean {
  if (!state.nodeSettings) return true;
  const alive = (e: { pid: number; binary: string } | undefined): boolean =>
    e !== undefined && executableOf(e.pid) === e.binary;
  const net = networkPlanFor(layout.name, state.nodeSettings);
  return (
    alive(state.addons?.provisioner) &&
    alive(state.addons?.s3) &&
    alive(state.addons?.lb) &&
    net.nodes.every((n) => {
      const entry = state.nodes?.find((s) => s.name === n.name);
      return nodeComponentOrder.every((c) => alive(entry?.components[c as NodeComponent]));
    })
  );
}

/** A controller kstack runs on the host for the cluster: its own client certificate, RBAC user and log. */
interface HostController {
  key: 'provisioner' | 'lb';
  user: string;
  /** Certificate and kubeconfig name, and the log file's name. */
  name: string;
  /** The compiled entry point under dist/src. */
  script: string[];
  args: string[];
}

/** Starts a host controller unless it runs (the local-path provisioner, the load balancer). */
async function ensureHostController(layout: ClusterLayout, state: ClusterState, c: HostController): Promise<void> {
  const entry = state.addons?.[c.key];
  if (entry && executableOf(entry.pid) === entry.binary) return;
  await ensureCertificates(layout.pki, [
    { name: c.name, commonName: c.user, signer: 'ca', usage: ['client'], days: 365 },
  ]);
  const kubeconfig = join(layout.config, `${c.name}.kubeconfig`);
  writeFileSync(
    kubeconfig,
    renderKubeconfig({
      clusterName: layout.name,
      server: `https://127.0.0.1:${state.ports.apiserver}`,
      caPem: readPem(layout.pki, 'ca.crt'),
      user: c.user,
      clientCertPem: readPem(layout.pki, `${c.name}.crt`),
      clientKeyPem: readPem(layout.pki, `${c.name}.key`),
    }),
    { mode: 0o600 },
  );
  const script = join(repoRoot, 'dist', 'src', ...c.script);
  if (!existsSync(script))
    throw new UserError(`${script} is missing; run the command through ./kstack so the TypeScript is compiled`);
  const pid = startDaemon({
    binary: process.execPath,
    args: [script, kubeconfig, ...c.args],
    logFile: join(layout.logs, `${c.name}.log`),
  });
  state.addons = { ...state.addons, [c.key]: { pid, binary: process.execPath } };
}

/** Starts the host-side local-path provisioner. */
async function ensureProvisioner(layout: ClusterLayout, state: ClusterState): Promise<void> {
  mkdirSync(volumesDir(layout), { recursive: true });
  await ensureHostController(layout, state, {
    key: 'provisioner',
    user: PROVISIONER_USER,
    name: 'local-path-provisioner',
    script: ['cluster', 'addons', 'provisioner-main.js'],
    args: [volumesDir(layout)],
  });
}

/**
 * Starts the load balancer controller (addons/load-balancer.ts). Per-connection multipath hashing is a
 * setting of the host's network namespace: without it every connection from one client would take the
 * same node.
 */
async function ensureLoadBalancer(layout: ClusterLayout, state: ClusterState, net: ClusterNetworkPlan): Promise<void> {
  await run('sysctl', ['-q', '-w', 'net.ipv4.fib_multipath_hash_policy=1']);
  await ensureHostController(layout, state, {
    key: 'lb',
    user: LB_USER,
    name: 'load-balancer',
    script: ['cluster', 'addons', 'lb-main.js'],
    args: [net.bridge, net.nodeSubnet, net.nodes.map((n) => `${n.name}=${n.ip}`).join(',')],
  });
}

/**
 * Nodes, add-ons and the provisioner; waits until the nodes are Ready and DNS answers, then proves that
 * NetworkPolicy is enforced on every node (the canary) and refuses to report Ready otherwise.
 */
export async function startNodesAndAddons(
  layout: ClusterLayout,
  state: ClusterState,
  prepared: PreparedNodes,
  progress: Progress,
): Promise<void> {
  if (!state.nodeSettings) throw new Error('startNodesAndAddons: cluster has no node settings');
  const net = networkPlanFor(layout.name, state.nodeSettings);
  const kubectl = adminKubectl(prepared.kubectl, layout);
  const agentObjects = nodeAgents.flatMap((a: NodeAgent) => a.clusterObjects?.() ?? []);
  const crds = await secondaryNetworkCRDs();
  const monitoringCrds = await crdsFromModules(MONITORING_CRD_SOURCES);
  await kubectl(
    ['apply', '--server-side', '--force-conflicts', '--field-manager=kstack', '-f', '-'],
    apply([...apiserverToKubeletRBAC(), ...agentObjects, ...secondaryNetworkRBAC(), ...loadBalancerRBAC()]),
  );
  await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=kstack', '-f', '-'], crds.yaml);
  await kubectl(
    ['apply', '--server-side', '--force-conflicts', '--field-manager=kstack', '-f', '-'],
    monitoringCrds.yaml,
  );
  // On nodes whose containers were all gone, Ready statuses from before are stale.
  const containersGoneAt = await nodesUp(
    { layout, state, net, binaries: prepared.binaries, kubectl, progress },
    prepared.images,
  );
  await progress.step('add-ons: CoreDNS, local-path storage, load balancer', async (step) => {
    await kubectl(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=kstack', '-f', '-'],
      apply([...coreDNS(net.dnsServiceIP), ...localPathStorage()]),
    );
    await ensureProvisioner(layout, state);
    await ensureLoadBalancer(layout, state, net);
    const deadline = Date.now() + 120_000;
    for (;;) {
      // A CoreDNS pod Ready now: on a node whose containers were gone, only a transition since then counts.
      const out = await kubectl([
        '-n',
        'kube-system',
        'get',
        'pods',
        '-l',
        'k8s-app=kube-dns',
        '-o',
        'jsonpath={range .items[*]}{.spec.nodeName}={.status.conditions[?(@.type=="Ready")' +
          '].status}={.status.conditions[?(@.type=="Ready")].lastTransitionTime}{"\\n"}{end}',
      ]);
      const fresh = out.split('\n').some((l) => {
        const [node = '', ready = '', since = ''] = l.split('=');
        return ready === 'True' && readySince(since, containersGoneAt.get(node) ?? 0);
      });
      if (fresh) return;
      step.detail('waiting for CoreDNS to be ready');
      if (Date.now() > deadline)
        throw new UserError(
          `CoreDNS did not become ready in 2 minutes; see 'kubectl -n kube-system describe pods -l k8s-app=kube-dns'`,
        );
      await sleep(500);
    }
  });
  await progress.step(`local S3 server (MinIO) on ${net.gateway}`, async () => {
    const s3 = await ensureLocalS3(layout, net.gateway, prepared.binaries.minio, state.addons?.s3);
    state.addons = { ...state.addons, s3 };
  });
  await progress.step('secondary network: net1 on every node (multinet, whereabouts)', async (step) => {
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crds.names.map((n) => `crd/${n}`)]);
    await checkSecondaryNetwork(kubectl, net, layout, (t) => {
      step.detail(t);
    });
  });
  await progress.step('NetworkPolicy enforced on every node (canary)', async (step) => {
    const result = await runCanary(
      {
        kubectl: prepared.kubectl,
        kubeconfig: layout.kubeconfig,
        nodes: net.nodes.map((n) => ({
          name: n.name,
          netns: n.netns,
          log: nodeLogFile(nodeLayout(layout, n.name), 'kube-router'),
          engineRunning: () => {
            const e = state.nodes?.find((s) => s.name === n.name)?.components['kube-router'];
            return e !== undefined && executableOf(e.pid) === e.binary;
          },
        })),
      },
      step,
    );
    step.detail(`deny took ${result.denyMs} ms, reopen ${result.reopenMs} ms`);
  });
  // The canary's nginx is also the stack's web image: on a pull-only cluster no node may hold it.
  if (state.nodeSettings.pullOnly)
    await progress.step("pull-only nodes (--no-preload): the canary's nginx image removed", async () => {
      for (const n of net.nodes) await removeImage(nodeLayout(layout, n.name), imageRecipes.nginx);
    });
}

/**
 * Stops everything nodes put on the host: the provisioner, node processes and containers, mounts,
 * cgroups, network namespaces, the bridge and iptables rules. Works from the cluster name alone when
 * the state is unreadable (every name it removes is derived from the cluster name).
 */
export async function stopNodesAndAddons(layout: ClusterLayout, state: ClusterState | undefined): Promise<void> {
  for (const key of ['provisioner', 'lb'] as const) {
    const c = state?.addons?.[key];
    if (c) await stopDaemon(c.pid, c.binary);
  }
  const s3 = state?.addons?.s3;
  if (s3) await stopDaemon(s3.pid, s3.binary, 10_000);
  if (state?.addons) state.addons = {};
  const settings: NodeSettings = state?.nodeSettings ?? { count: 9 };
  const net = networkPlanFor(layout.name, settings);
  await nodesDown(layout, state, net);
  if (state?.nodes) state.nodes = state.nodes.map((n) => ({ name: n.name, components: {} }));
}

/**
 * Brings one node back (`kstack cluster node start`): thaws a frozen node, or restarts containerd and the
 * agents of a killed one, and waits until it is Ready with a lease renewed by its new kubelet.
 */
export async function startOneNode(
  layout: ClusterLayout,
  state: ClusterState,
  prepared: PreparedNodes,
  name: string,
  progress: Progress,
): Promise<void> {
  if (!state.nodeSettings) throw new Error('startOneNode: cluster has no node settings');
  const net = networkPlanFor(layout.name, state.nodeSettings);
  await nodesUp(
    {
      layout,
      state,
      net,
      binaries: prepared.binaries,
      kubectl: adminKubectl(prepared.kubectl, layout),
      progress,
      only: name,
    },
    // No canary runs here, so a pull-only node gets back only what the cluster itself needs.
    state.nodeSettings.pullOnly ? prepared.images.filter((i) => i.name !== imageRecipes.nginx.name) : prepared.images,
  );
}

/** Imports images into every node's containerd that does not hold them yet (the stack's images). */
export async function importImagesIntoCluster(
  layout: ClusterLayout,
  state: ClusterState,
  images: readonly BuiltImage[],
): Promise<void> {
  if (!state.nodeSettings) throw new UserError(`cluster '${layout.name}' has no nodes to import images into`);
  // Nodes import in parallel: each has its own containerd, and the work is mostly disk and hashing.
  await Promise.all(
    networkPlanFor(layout.name, state.nodeSettings).nodes.map((node) =>
      importMissingImages(nodeLayout(layout, node.name), images),
    ),
  );
}
