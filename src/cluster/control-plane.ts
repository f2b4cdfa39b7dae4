import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError, messageOf } from '../util/errors.js';
import { acquireLock, type Lock } from '../util/lock.js';
import { isPortFree, pickFreePorts } from '../util/net.js';
import { isRunning, processesMentioning, startDaemon, stopDaemon, executableOf } from '../util/process.js';
import type { Progress } from '../util/progress.js';
import { nodeHostComponents } from '../setup/go-components.js';
import { ensureControlPlaneBinaries } from '../setup/setup.js';
import {
  controlPlaneOrder,
  encryptionConfig,
  type ComponentSpec,
  type ControlPlaneComponent,
  type ControlPlanePorts,
} from './control-plane-spec.js';
import { waitHealthy, type HealthTarget } from './health.js';
import { renderKubeconfig } from './kubeconfig.js';
import { clusterLayout, type ClusterLayout } from './layout.js';
import {
  checkUpOptions,
  componentRunning,
  nodeSettingsFor,
  planUp,
  portInUse,
  portsToCheck,
  rollbackPlan,
  type RollbackPlan,
  type UpPlan,
} from './control-plane-phases.js';
import { DEFAULT_CLUSTER, healthTarget, loadExistingState, pkiOptions } from './status.js';
import { certificatePlan, ensureCertificates, ensureServiceAccountKey, readPem } from './pki.js';
import {
  networkPlanFor,
  nodesAllRunning,
  prepareNodes,
  startNodesAndAddons,
  startOneNode,
  stopNodesAndAddons,
  type PreparedNodes,
} from './nodes/cluster-nodes.js';
import { checkAddressesFree } from './nodes/network.js';
import { stopNodeProcesses } from './nodes/nodes.js';
import { withImages } from './nodes/node-root-template.js';
import type { BuiltImage } from '../images/build.js';
import { freezeNode, killNode, type NodeFaultMode } from './nodes/node-faults.js';
import { readState, writeState, type ClusterState, type NodeSettings, type NodeState } from './state.js';

export { controlPlaneStatus, DEFAULT_CLUSTER, type ComponentStatus, type StatusResult } from './status.js';

const HEALTH_TIMEOUT_MS: Record<ControlPlaneComponent, number> = {
  etcd: 30_000,
  'kube-apiserver': 120_000,
  'kube-controller-manager': 60_000,
  'kube-scheduler': 60_000,
};

export interface UpOptions {
  name?: string;
  /** Fixed port for the API server; a free one is chosen when absent. */
  apiPort?: number;
  /** Also write the admin kubeconfig here (removed again by `down`). */
  kubeconfigPath?: string;
  /** Parent folder of cluster state (tests use a temporary one). */
  baseDir?: string;
  /** Nodes to create with a new cluster (absent: control plane only). Fixed once the cluster exists. */
  nodes?: NodeSettings;
  /**
   * Images new nodes get with the cluster's own (the stack's, say): imported once and hard-linked into each
   * new node, instead of imported into every node afterwards. Not on pull-only nodes.
   */
  preload?: readonly BuiltImage[];
  progress: Progress;
}

export interface UpResult {
  layout: ClusterLayout;
  state: ClusterState;
  server: string;
  kubeconfig: string;
  alreadyRunning: boolean;
  /** Milliseconds from the start of `up` until the API answered ready, and until every component was healthy. */
  timings: { apiReadyMs: number; allHealthyMs: number };
}

function busy(name: string) {
  return (pid: number): string =>
    `another kstack command (pid ${pid}) is already working on cluster ` +
    `'${name}'; wait for it to finish (or stop it) and run again`;
}

async function choosePorts(requestedApiPort: number | undefined): Promise<ControlPlanePorts> {
  if (requestedApiPort !== undefined && !(await isPortFree(requestedApiPort))) {
    throw new UserError(
      `--api-port ${requestedApiPort}: 127.0.0.1:${requestedApiPort} ` +
        `is already in use; choose another port or stop what listens there`,
    );
  }
  const avoid = new Set(requestedApiPort !== undefined ? [requestedApiPort] : []);
  const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler] = await pickFreePorts(5, '127.0.0.1', avoid);
  if (
    etcdClient === undefined ||
    etcdPeer === undefined ||
    apiserver === undefined ||
    controllerManager === undefined ||
    scheduler === undefined
  ) {
    throw new Error('could not find free ports on 127.0.0.1');
  }
  return { etcdClient, etcdPeer, apiserver: requestedApiPort ?? apiserver, controllerManager, scheduler };
}

/** Whether a recorded process still runs: the pid is alive and runs that binary. */
const runs = (entry: { pid: number; binary: string }): boolean => isRunning(entry.pid, entry.binary);

/** Writes certificates, keys, the encryption config and kubeconfigs that are not there yet. */
async function ensureClusterFiles(layout: ClusterLayout, state: ClusterState): Promise<void> {
  for (const dir of [layout.logs, layout.config]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  await ensureCertificates(layout.pki, certificatePlan(pkiOptions(state)));
  await ensureServiceAccountKey(layout.pki);
  const encryption = join(layout.config, 'encryption.yaml');
  if (!existsSync(encryption))
    writeFileSync(encryption, encryptionConfig(randomBytes(32).toString('base64')), { mode: 0o600 });
  const server = `https://127.0.0.1:${state.ports.apiserver}`;
  const ca = readPem(layout.pki, 'ca.crt');
  const write = (file: string, user: string, cert: string): void => {
    writeFileSync(
      file,
      renderKubeconfig({
        clusterName: layout.name,
        server,
        caPem: ca,
        user,
        clientCertPem: readPem(layout.pki, `${cert}.crt`),
        clientKeyPem: readPem(layout.pki, `${cert}.key`),
      }),
      { mode: 0o600 },
    );
  };
  write(layout.kubeconfig, 'kstack-admin', 'admin');
  write(join(layout.config, 'controller-manager.kubeconfig'), 'system:kube-controller-manager', 'controller-manager');
  write(join(layout.config, 'scheduler.kubeconfig'), 'system:kube-scheduler', 'scheduler');
}

function lastLogLines(file: string, count = 5): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Ensure binaries: every binary and image is built or found before
 * any state is touched, so a missing toolchain leaves nothing behind.
 */
async function ensureBuilt(
  progress: Progress,
  nodeSettings: NodeSettings | undefined,
): Promise<{ binaries: Record<ControlPlaneComponent, string>; prepared: PreparedNodes | undefined }> {
  const binaries = await ensureControlPlaneBinaries(progress, nodeSettings ? nodeHostComponents : []);
  const prepared = nodeSettings ? await prepareNodes(progress) : undefined;
  return { binaries, prepared };
}

/** For a new cluster: checks that the nodes' addresses are free, and chooses its ports. */
async function reserveAddresses(
  cluster: string,
  nodeSettings: NodeSettings | undefined,
  apiPort: number | undefined,
): Promise<{ createdAt: string; ports: ControlPlanePorts }> {
  if (nodeSettings) await checkAddressesFree(networkPlanFor(cluster, nodeSettings));
  const createdAt = new Date().toISOString();
  return { createdAt, ports: await choosePorts(apiPort) };
}

/** Fails when a port of a component about to start is taken by another program. */
async function checkPortsFree(cluster: string, plan: UpPlan): Promise<void> {
  for (const { component, port } of portsToCheck(plan.toStart, plan.state.ports)) {
    if (!(await isPortFree(port))) throw portInUse(cluster, component, port);
  }
}

/** Write state and certificates (and the user's copy of the admin kubeconfig). */
async function writeClusterFiles(layout: ClusterLayout, state: ClusterState, opts: UpOptions): Promise<void> {
  mkdirSync(layout.root, { recursive: true, mode: 0o700 });
  writeState(layout.stateFile, state);
  await opts.progress.step('certificates and configuration', () => ensureClusterFiles(layout, state));
  if (opts.kubeconfigPath) {
    mkdirSync(dirname(opts.kubeconfigPath), { recursive: true });
    writeFileSync(opts.kubeconfigPath, readFileSync(layout.kubeconfig), { mode: 0o600 });
    state.userKubeconfig = opts.kubeconfigPath;
  }
}

/**
 * Start components: each one that is not running starts and must turn healthy before the next.
 * Records what it started in `startedNow` (for the rollback); returns when the API server was ready,
 * in milliseconds since `started`.
 */
async function startComponents(
  layout: ClusterLayout,
  state: ClusterState,
  specs: readonly ComponentSpec[],
  progress: Progress,
  started: number,
  startedNow: ComponentSpec[],
): Promise<number> {
  let apiReadyMs = 0;
  for (const spec of specs) {
    if (componentRunning(state, spec.name, runs)) {
      if (spec.name === 'kube-apiserver') apiReadyMs = performance.now() - started;
      continue;
    }
    await progress.step(`start ${spec.name}`, async (step) => {
      const logFile = join(layout.logs, `${spec.name}.log`);
      const pid = startDaemon({ binary: spec.binary, args: spec.args, logFile });
      startedNow.push(spec);
      state.components[spec.name] = { pid, binary: spec.binary };
      writeState(layout.stateFile, state);
      const result = await waitHealthy(healthTarget(layout, spec), {
        timeoutMs: HEALTH_TIMEOUT_MS[spec.name],
        giveUp: () => (isRunning(pid, spec.binary) ? undefined : 'the process exited'),
        onAttempt: (last) => {
          step.detail(last.status ? `HTTP ${last.status}` : 'waiting for it to listen');
        },
      });
      if (!result.ok) {
        throw new UserError(
          `${spec.name} did not become healthy: ${result.reason ?? result.body}. ` +
            `Last lines of ${logFile}:\n${lastLogLines(logFile)}`,
        );
      }
    });
    if (spec.name === 'kube-apiserver') apiReadyMs = performance.now() - started;
  }
  return apiReadyMs;
}

/** Wait healthy: the controller-manager has created the default service account. */
async function waitForDefaultServiceAccount(layout: ClusterLayout, server: string, progress: Progress): Promise<void> {
  await progress.step('wait for the default service account', async () => {
    const target: HealthTarget = {
      url: `${server}/api/v1/namespaces/default/serviceaccounts/default`,
      caFile: join(layout.pki, 'ca.crt'),
      clientCert: 'admin',
      pkiDir: layout.pki,
    };
    const result = await waitHealthy(target, { timeoutMs: 60_000 });
    if (!result.ok)
      throw new UserError(
        `the controller-manager did not create the default service ` +
          `account: ${result.reason ?? ''}; see ${layout.logs}/kube-controller-manager.log`,
      );
  });
}

/** Nodes and add-ons; the state is saved whatever the outcome (it records the node processes). */
async function startNodes(
  layout: ClusterLayout,
  state: ClusterState,
  prepared: PreparedNodes,
  progress: Progress,
): Promise<void> {
  try {
    await startNodesAndAddons(layout, state, prepared, progress);
  } finally {
    writeState(layout.stateFile, state);
  }
}

/** Carries out a rollback plan (control-plane-phases.ts decides what it holds). */
async function rollBack(layout: ClusterLayout, state: ClusterState, plan: RollbackPlan): Promise<void> {
  if (plan.stopNodesAndAddons) await stopNodesAndAddons(layout, state).catch(() => undefined);
  for (const name of plan.stop) {
    const entry = state.components[name];
    if (entry) await stopDaemon(entry.pid, entry.binary);
  }
  const stopped = new Set<string>(plan.stop);
  state.components = Object.fromEntries(Object.entries(state.components).filter(([name]) => !stopped.has(name)));
  if (plan.removeUserKubeconfig) rmSync(plan.removeUserKubeconfig, { force: true });
  if (plan.removeClusterFolder) rmSync(layout.root, { recursive: true, force: true });
  else if (plan.saveState && existsSync(layout.root)) writeState(layout.stateFile, state);
}

/**
 * Brings the control plane up, or completes it when some components are down. Safe to run twice: a
 * healthy cluster is left alone. On failure, whatever this call started is stopped again, and a cluster
 * that did not exist before is removed completely.
 *
 * The phases, in order: validate the options against the saved cluster, ensure binaries, plan (reuse the
 * saved state, or choose addresses and ports for a new cluster; what to start), check the ports, write
 * state and certificates, start components, wait healthy, start nodes and add-ons. A failure in the last
 * four rolls back as rollbackPlan (control-plane-phases.ts) decides.
 */
export async function controlPlaneUp(opts: UpOptions): Promise<UpResult> {
  const started = performance.now();
  const layout = clusterLayout(opts.name ?? DEFAULT_CLUSTER, opts.baseDir);
  mkdirSync(dirname(layout.lockFile), { recursive: true });
  const lock: Lock = acquireLock(layout.lockFile, busy(layout.name));
  try {
    const existing = loadExistingState(layout);
    checkUpOptions(layout.name, opts, existing);
    const nodeSettings = nodeSettingsFor(existing, opts);
    const built = await ensureBuilt(opts.progress, nodeSettings);
    const { binaries } = built;
    const prepared =
      built.prepared && opts.preload && !nodeSettings?.pullOnly
        ? { ...built.prepared, images: withImages(built.prepared.images, opts.preload) }
        : built.prepared;
    const reserved = existing ? undefined : await reserveAddresses(layout.name, nodeSettings, opts.apiPort);
    const plan = planUp({
      layout,
      existing,
      nodeSettings,
      binaries,
      ...(reserved ? { fresh: reserved } : {}),
      isRunning: runs,
    });
    const { state, server } = plan;
    await checkPortsFree(layout.name, plan);
    const nodesWereComplete = !nodeSettings || nodesAllRunning(layout, state);
    const startedNow: ComponentSpec[] = [];
    let apiReadyMs: number;
    try {
      await writeClusterFiles(layout, state, opts);
      apiReadyMs = await startComponents(layout, state, plan.specs, opts.progress, started, startedNow);
      await waitForDefaultServiceAccount(layout, server, opts.progress);
      writeState(layout.stateFile, state);
      if (prepared) await startNodes(layout, state, prepared, opts.progress);
    } catch (err) {
      await rollBack(
        layout,
        state,
        rollbackPlan({
          fresh: plan.fresh,
          withNodes: prepared !== undefined,
          started: startedNow.map((s) => s.name),
          userKubeconfig: state.userKubeconfig,
          keepFailed: process.env.KSTACK_KEEP_FAILED === '1',
        }),
      );
      throw err;
    }
    return {
      layout,
      state,
      server,
      kubeconfig: layout.kubeconfig,
      alreadyRunning: plan.toStart.length === 0 && nodesWereComplete,
      timings: { apiReadyMs, allHealthyMs: performance.now() - started },
    };
  } finally {
    lock.release();
  }
}

export interface DownOptions {
  name?: string;
  baseDir?: string;
  progress: Progress;
}

/** Stops the cluster's processes: first the recorded ones, newest first, then anything else run from its folder. */
async function stopAll(layout: ClusterLayout, state: ClusterState | undefined, progress: Progress): Promise<void> {
  await progress.step(`stop cluster '${layout.name}'`, async (step) => {
    // Nodes first (their kubelets talk to the API server); an unreadable state gets the generic teardown.
    // A node teardown that fails must not leave the control plane running: stop it, then report.
    let nodeFailure: unknown;
    if (!state || state.nodeSettings) {
      step.detail('nodes');
      try {
        await stopNodesAndAddons(layout, state);
      } catch (err) {
        nodeFailure = err;
      }
    }
    for (const name of [...controlPlaneOrder].reverse()) {
      const entry = state?.components[name];
      if (!entry) continue;
      step.detail(name);
      await stopDaemon(entry.pid, entry.binary);
    }
    // Whatever else still runs from this cluster's folder (e.g. after a corrupt state.json) goes too.
    for (const pid of processesMentioning(`${layout.root}/`)) {
      const binary = executableOf(pid);
      if (binary) await stopDaemon(pid, binary);
    }
    if (nodeFailure !== undefined) throw nodeFailure instanceof Error ? nodeFailure : new Error(messageOf(nodeFailure));
  });
}

/** Stops every process of the cluster and removes all its files. Works on a corrupt state too. */
export async function controlPlaneDown(opts: DownOptions): Promise<{ existed: boolean }> {
  const layout = clusterLayout(opts.name ?? DEFAULT_CLUSTER, opts.baseDir);
  if (!existsSync(layout.root)) return { existed: false };
  const lock = acquireLock(layout.lockFile, busy(layout.name));
  try {
    let state: ClusterState | undefined;
    try {
      state = readState(layout.stateFile);
    } catch {
      state = undefined;
    }
    await stopAll(layout, state, opts.progress);
    if (
      state?.userKubeconfig &&
      existsSync(state.userKubeconfig) &&
      existsSync(layout.kubeconfig) &&
      readFileSync(state.userKubeconfig, 'utf8') === readFileSync(layout.kubeconfig, 'utf8')
    ) {
      rmSync(state.userKubeconfig, { force: true });
    }
    rmSync(layout.root, { recursive: true, force: true });
    return { existed: true };
  } finally {
    lock.release();
  }
}

/**
 * Stops every process but keeps certificates and data, so the next `up` resumes the same cluster. Returns
 * the cluster's node settings (none: a control plane only), which say how to resume it.
 */
export async function controlPlaneStop(opts: DownOptions): Promise<{ existed: boolean; nodeSettings?: NodeSettings }> {
  const layout = clusterLayout(opts.name ?? DEFAULT_CLUSTER, opts.baseDir);
  if (!existsSync(layout.root)) return { existed: false };
  const lock = acquireLock(layout.lockFile, busy(layout.name));
  try {
    const state = loadExistingState(layout);
    if (!state) return { existed: false };
    await stopAll(layout, state, opts.progress);
    state.components = {};
    writeState(layout.stateFile, state);
    return { existed: true, ...(state.nodeSettings ? { nodeSettings: state.nodeSettings } : {}) };
  } finally {
    lock.release();
  }
}

/**
 * Stops one component and forgets it, keeping everything else running (fault drills and tests);
 * the next `up` starts it again on the same ports.
 */
export async function controlPlaneStopComponent(
  opts: DownOptions & { component: ControlPlaneComponent },
): Promise<void> {
  const layout = clusterLayout(opts.name ?? DEFAULT_CLUSTER, opts.baseDir);
  const lock = acquireLock(layout.lockFile, busy(layout.name));
  try {
    const state = loadExistingState(layout);
    const entry = state?.components[opts.component];
    if (!state || !entry) throw new UserError(`${opts.component} of cluster '${layout.name}' is not running`);
    await stopDaemon(entry.pid, entry.binary);
    state.components = Object.fromEntries(Object.entries(state.components).filter(([name]) => name !== opts.component));
    writeState(layout.stateFile, state);
  } finally {
    lock.release();
  }
}

/**
 * Restarts one node's containerd and agents (kubelet, kube-proxy, …
 * see nodes/node-agents.ts; running containers survive, as on a real
 * node whose agents restart), then completes the cluster like `up` does.
 */
export async function restartNode(opts: DownOptions & { node: string }): Promise<UpResult> {
  const layout = clusterLayout(opts.name ?? DEFAULT_CLUSTER, opts.baseDir);
  const lock = acquireLock(layout.lockFile, busy(layout.name));
  try {
    const { state, entry } = nodeOfCluster(layout, opts.node);
    await opts.progress.step(`stop node ${opts.node}'s agents`, async () => {
      await stopNodeProcesses(entry);
      writeState(layout.stateFile, state);
    });
  } finally {
    lock.release();
  }
  return controlPlaneUp({
    progress: opts.progress,
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.baseDir ? { baseDir: opts.baseDir } : {}),
  });
}

/** The cluster's state and the node's entry, or a UserError naming the nodes there are. */
function nodeOfCluster(layout: ClusterLayout, node: string): { state: ClusterState; entry: NodeState } {
  const state = loadExistingState(layout);
  if (!state?.nodeSettings)
    throw new UserError(`cluster '${layout.name}' has no nodes; start one with 'kstack cluster up'`);
  const names = networkPlanFor(layout.name, state.nodeSettings).nodes.map((n) => n.name);
  if (!names.includes(node))
    throw new UserError(`node '${node}' is not part of cluster '${layout.name}': its nodes are ${names.join(', ')}`);
  state.nodes ??= [];
  let entry = state.nodes.find((n) => n.name === node);
  if (!entry) {
    entry = { name: node, components: {} };
    state.nodes.push(entry);
  }
  return { state, entry };
}

/**
 * Stops a node on purpose, as a fault drill: `freeze` stops every process of it (a hung or partitioned
 * machine), `kill` kills them all at once (a power loss; its files and volumes stay). Returns how many
 * processes were stopped. `node start` (or `cluster up`) brings it back.
 */
export async function stopNodeOnDemand(
  opts: DownOptions & { node: string; mode: NodeFaultMode },
): Promise<{ processes: number }> {
  const layout = clusterLayout(opts.name ?? DEFAULT_CLUSTER, opts.baseDir);
  const lock = acquireLock(layout.lockFile, busy(layout.name));
  try {
    const { state, entry } = nodeOfCluster(layout, opts.node);
    if (entry.fault)
      throw new UserError(
        `node '${opts.node}' is already stopped (${entry.fault.mode}, ` +
          `since ${entry.fault.since}); start it with 'kstack cluster node start ${opts.node}'`,
      );
    const processes =
      opts.mode === 'freeze' ? await freezeNode(layout, entry, opts.node) : await killNode(layout, entry, opts.node);
    entry.fault = { mode: opts.mode, since: new Date().toISOString() };
    writeState(layout.stateFile, state);
    return { processes };
  } finally {
    lock.release();
  }
}

/** Brings a node stopped by stopNodeOnDemand back, and waits until it is Ready. */
export async function startNodeOnDemand(opts: DownOptions & { node: string }): Promise<{ wasStopped: boolean }> {
  const layout = clusterLayout(opts.name ?? DEFAULT_CLUSTER, opts.baseDir);
  const lock = acquireLock(layout.lockFile, busy(layout.name));
  try {
    const { state, entry } = nodeOfCluster(layout, opts.node);
    const wasStopped = entry.fault !== undefined;
    const prepared = await prepareNodes(opts.progress);
    try {
      await startOneNode(layout, state, prepared, opts.node, opts.progress);
    } finally {
      writeState(layout.stateFile, state);
    }
    return { wasStopped };
  } finally {
    lock.release();
  }
}

/** Node failures on demand for drills (kstack prove R11, the failover bench): stop and start by node name. */
export function nodeFaultControl(opts: DownOptions): {
  readonly fault: 'freeze';
  stop(node: string, mode: NodeFaultMode | 'drain'): Promise<void>;
  start(node: string): Promise<void>;
} {
  const cluster = { ...(opts.name ? { name: opts.name } : {}), ...(opts.baseDir ? { baseDir: opts.baseDir } : {}) };
  return {
    fault: 'freeze',
    stop: async (node, mode) => {
      if (mode === 'drain') throw new Error('nodeFaultControl: a local node is frozen or killed, not drained');
      await stopNodeOnDemand({ ...cluster, progress: opts.progress, node, mode });
    },
    start: async (node) => {
      await startNodeOnDemand({ ...cluster, progress: opts.progress, node });
    },
  };
}
