import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../util/exec.js';
import { UserError } from '../../util/errors.js';
import { executableOf, processesMentioning, startDaemon, stopDaemon } from '../../util/process.js';
import type { Progress } from '../../util/progress.js';
import type { GoBinaries } from '../../setup/setup.js';
import { buildImage, type BuiltImage } from '../../images/build.js';
import type { ImageName } from '../../images/recipes.js';
import { renderKubeconfig } from '../kubeconfig.js';
import type { ClusterLayout } from '../layout.js';
import { ensureCertificates, nodeCertificatePlan, readPem } from '../pki.js';
import type { ClusterState, NodeComponent, NodeState } from '../state.js';
import { writeNodeCni } from '../addons/multinet.js';
import { setUpHostNetwork, setUpNodeNetwork, tearDownNetwork } from './network.js';
import { containerdConfig, cniConfig, nodeResolvConf } from './node-config.js';
import {
  agentKubeconfig,
  nodeAgents,
  nodeComponentOrder,
  nodeLogFile,
  type AgentContext,
  type NodeAgent,
} from './node-agents.js';
import { cgroupRootName, nodeLayout, type NodeLayout } from './node-layout.js';

export { cgroupRootName };
import { thawNode } from './node-faults.js';
import {
  CONTAINERD,
  containerdAnswers,
  ensureRootTemplate,
  seedNodeRoot,
  type RootTemplate,
} from './node-root-template.js';
import type { ClusterNetworkPlan, NodePlan } from './plan.js';
import {
  ensureCgroupRoot,
  ensureInotifyInstances,
  mountsBelow,
  pidsInCgroup,
  removeCgroupRoot,
  unmountBelow,
} from './host-resources.js';

/** Restarts of one process while its node comes up, before `up` gives up (backoff 1, 2, 4, 8, 16 s). */
export const MAX_RESTARTS_PER_UP = 5;

/** Pure: what to do about a process that exited, given its restarts so far in this `up`. */
export function restartDecision(r: { count: number; nextAt: number }, now: number): 'restart' | 'wait' | 'give up' {
  if (r.count >= MAX_RESTARTS_PER_UP) return 'give up';
  return now < r.nextAt ? 'wait' : 'restart';
}

/** Pure: the retry record after a restart: one more, and the next allowed after 1 s × 2^count. */
export function nextRetry(r: { count: number; nextAt: number }, now: number): { count: number; nextAt: number } {
  return { count: r.count + 1, nextAt: now + 1000 * 2 ** r.count };
}

export interface NodesContext {
  layout: ClusterLayout;
  state: ClusterState;
  net: ClusterNetworkPlan;
  binaries: GoBinaries;
  /** Admin kubeconfig, to create Node objects and wait for readiness. */
  kubectl: (args: string[], input?: string) => Promise<string>;
  progress: Progress;
  /** Bring up only this node (`kstack cluster node start`); the others are left as they are. */
  only?: string;
}

function nodeState(state: ClusterState, name: string): NodeState {
  state.nodes ??= [];
  let entry = state.nodes.find((n) => n.name === name);
  if (!entry) {
    entry = { name, components: {} };
    state.nodes.push(entry);
  }
  return entry;
}

function running(entry: { pid: number; binary: string } | undefined): boolean {
  return entry !== undefined && executableOf(entry.pid) === entry.binary;
}

/** Starts a program inside the node's network namespace; nsenter execs it, keeping the pid. */
async function startInNode(
  node: NodePlan,
  binary: string,
  args: string[],
  logFile: string,
): Promise<{ pid: number; binary: string }> {
  const pid = startDaemon({
    binary: '/usr/bin/nsenter',
    args: [`--net=/run/netns/${node.netns}`, '--', binary, ...args],
    logFile,
  });
  // nsenter execs the program; on a busy machine that can take a moment.
  for (let i = 0; i < 1000 && executableOf(pid) !== binary; i++) {
    if (executableOf(pid) === undefined) break;
    await sleep(10);
  }
  if (executableOf(pid) !== binary) {
    const tail = existsSync(logFile)
      ? readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-3).join('\n')
      : '(no log)';
    throw new UserError(`${binary} did not start on node ${node.name}; last lines of ${logFile}:\n${tail}`);
  }
  return { pid, binary };
}

const agents: readonly NodeAgent[] = nodeAgents;

function agentContext(
  layout: ClusterLayout,
  net: ClusterNetworkPlan,
  node: NodePlan,
  nl: NodeLayout,
  agent: NodeAgent,
): AgentContext {
  return {
    net,
    node,
    nl,
    pki: layout.pki,
    cgroupRoot: `/${cgroupRootName(layout.name, node.name)}`,
    kubeconfig: agentKubeconfig(nl, agent.name),
  };
}

/**
 * Writes every file a node needs (configs, kubeconfigs, CNI, certificates) for containerd and every agent. Idempotent.
 */
async function writeNodeFiles(ctx: NodesContext, node: NodePlan, nl: NodeLayout): Promise<void> {
  const { layout, state, net } = ctx;
  for (const d of [
    nl.root,
    nl.containerdRoot,
    nl.containerdState,
    nl.runcRoot,
    nl.cniConfDir,
    nl.cniDataDir,
    nl.kubeletRoot,
    nl.podLogs,
    nl.logs,
  ]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
  }
  await ensureCertificates(layout.pki, [...nodeCertificatePlan(node), ...nodeAgents.map((a) => a.identity(node).cert)]);
  const server = `https://${net.gateway}:${state.ports.apiserver}`;
  const ca = readPem(layout.pki, 'ca.crt');
  writeFileSync(nl.containerdConfig, containerdConfig(nl));
  writeFileSync(join(nl.cniConfDir, '10-kstack.conflist'), cniConfig(net, node, nl));
  await writeNodeCni({
    layout,
    net,
    node,
    nl,
    server,
    plugins: { multinet: ctx.binaries.multinet, whereabouts: ctx.binaries.whereabouts },
  });
  writeFileSync(nl.resolvConf, nodeResolvConf());
  for (const agent of agents) {
    const { user, cert } = agent.identity(node);
    const actx = agentContext(layout, net, node, nl, agent);
    writeFileSync(
      actx.kubeconfig,
      renderKubeconfig({
        clusterName: layout.name,
        server,
        caPem: ca,
        user,
        clientCertPem: readPem(layout.pki, `${cert.name}.crt`),
        clientKeyPem: readPem(layout.pki, `${cert.name}.key`),
      }),
      { mode: 0o600 },
    );
    for (const f of agent.files?.(actx) ?? []) writeFileSync(f.path, f.content, { mode: 0o600 });
  }
}

/** The Node object kstack registers before the kubelet starts: pod CIDR, role labels and taints are ours to set. */
export function nodeObject(node: NodePlan): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        ...node.labels,
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
      },
    },
    spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR], taints: node.taints.map((t) => ({ ...t })) },
  };
}

async function waitForContainerd(nl: NodeLayout, node: NodePlan): Promise<void> {
  if (await containerdAnswers(nl.containerdSocket, 200)) return;
  throw new UserError(
    `containerd on node ${node.name} did not answer on ${nl.containerdSocket}; see ${join(nl.logs, 'containerd.log')}`,
  );
}

/** Images every node's containerd must hold, built (cached) once for the cluster. */
export async function clusterImagesFor(names: readonly ImageName[], progress: Progress): Promise<BuiltImage[]> {
  const out: BuiltImage[] = [];
  for (const n of names) out.push(await buildImage(n, progress));
  return out;
}

/** Imports an image into one node's containerd (namespace k8s.io, where the kubelet looks). */
export async function importImage(image: BuiltImage, containerdSocket: string): Promise<void> {
  await run('sh', [
    '-c',
    'tar -C "$1" -cf - . | ctr --address "$2" --namespace k8s.io images import -',
    'import',
    image.dir,
    containerdSocket,
  ]);
}

/** The build key of the image a node's containerd holds under its name (absent: none imported). */
const imageStamp = (nl: NodeLayout, name: string): string => join(nl.root, `image-${name}.key`);

/** Whether the node's containerd has run before (its metadata database exists). */
function hasContainerdRoot(nl: NodeLayout): boolean {
  return existsSync(join(nl.containerdRoot, 'io.containerd.metadata.v1.bolt', 'meta.db'));
}

/** Imports images a node does not have yet (by the manifest digest containerd reports). */
export async function importMissingImages(nl: NodeLayout, images: readonly BuiltImage[]): Promise<void> {
  const listed = (await run('ctr', ['--address', nl.containerdSocket, '--namespace', 'k8s.io', 'images', 'ls', '-q']))
    .stdout;
  const have = new Set(listed.split('\n').filter(Boolean));
  for (const image of images) {
    const stamp = imageStamp(nl, image.name);
    const current = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';
    if (have.has(image.ref) && current === image.key) continue;
    await importImage(image, nl.containerdSocket);
    writeFileSync(stamp, image.key);
  }
}

/**
 * Removes an image from one node's containerd and waits for its content to be garbage collected, so a
 * later pull of the same content must fetch it again (what `cluster up --no-preload` promises).
 */
export async function removeImage(nl: NodeLayout, image: { name: string; ref: string }): Promise<void> {
  await run('ctr', ['--address', nl.containerdSocket, '--namespace', 'k8s.io', 'images', 'rm', '--sync', image.ref], {
    allowFailure: true,
  });
  rmSync(imageStamp(nl, image.name), { force: true });
}

/**
 * Brings every node up, or completes nodes that are partly down: network, containerd, images, kubelet,
 * kube-proxy; then waits until each reports Ready. Safe to run again. Returns, per node whose containers
 * were all gone (a stopped node), when its runtime started: pod statuses older than that are stale.
 */
export async function nodesUp(ctx: NodesContext, images: readonly BuiltImage[]): Promise<Map<string, number>> {
  const { layout, state, net, binaries, progress } = ctx;
  const selected = net.nodes.filter((n) => ctx.only === undefined || n.name === ctx.only);
  const startContainerd = (node: NodePlan, nl: NodeLayout): Promise<{ pid: number; binary: string }> =>
    startInNode(node, CONTAINERD, ['--config', nl.containerdConfig], nodeLogFile(nl, 'containerd'));
  const startAgent = (node: NodePlan, nl: NodeLayout, agent: NodeAgent): Promise<{ pid: number; binary: string }> =>
    startInNode(
      node,
      binaries[agent.component],
      agent.args(agentContext(layout, net, node, nl, agent)),
      nodeLogFile(nl, agent.name),
    );
  await progress.step('node network', async () => {
    ensureInotifyInstances();
    await setUpHostNetwork(layout.name, net, state.ports.apiserver);
    for (const node of selected) await setUpNodeNetwork(net, node);
  });
  // A node whose containerd never ran gets the images as hard links to a root they were imported into once;
  // when that cannot be (another file system), importMissingImages below imports them as before.
  let template: Promise<RootTemplate> | undefined;
  const seedFromTemplate = async (nl: NodeLayout): Promise<void> => {
    template ??= ensureRootTemplate(images, importImage, progress);
    const seeded = await seedNodeRoot(await template, nl.containerdRoot);
    if (seeded) for (const image of (await template).images) writeFileSync(imageStamp(nl, image.name), image.key);
  };
  const agentsStartedAt = new Map<string, number>();
  const containersGoneAt = new Map<string, number>();
  for (const node of selected) {
    const nl = nodeLayout(layout, node.name);
    const entry = nodeState(state, node.name);
    // Bringing a node up ends a failure made on demand: a frozen node is thawed, a killed one restarted below.
    if (entry.fault?.mode === 'freeze') thawNode(layout, entry, node.name);
    delete entry.fault;
    await progress.step(`node ${node.name} (${node.role}, ${node.ip}, pods ${node.podCIDR})`, async (step) => {
      await writeNodeFiles(ctx, node, nl);
      ensureCgroupRoot(cgroupRootName(layout.name, node.name));
      await ctx.kubectl(
        ['apply', '--server-side', '--force-conflicts', '--field-manager=kstack', '-f', '-'],
        JSON.stringify(nodeObject(node)),
      );
      if (!running(entry.components.containerd) && !hasContainerdRoot(nl)) {
        step.detail('images (hard links to the images imported once for every node)');
        await seedFromTemplate(nl);
      }
      if (!running(entry.components.containerd)) {
        step.detail('containerd');
        // Without live shims every container of this node is gone: pod statuses from before are stale.
        if (processesMentioning(nl.containerdSocket).length === 0) containersGoneAt.set(node.name, Date.now() - 1000);
        entry.components.containerd = await startContainerd(node, nl);
      }
      await waitForContainerd(nl, node);
      step.detail('images');
      await importMissingImages(nl, images);
      for (const agent of agents.filter((a) => !a.afterNodeReady)) {
        if (running(entry.components[agent.name as NodeComponent])) continue;
        step.detail(agent.name);
        // A kubelet started now must renew the node's lease before the node counts as Ready again.
        if (agent.name === 'kubelet') agentsStartedAt.set(node.name, Date.now() - 1000);
        entry.components[agent.name as NodeComponent] = await startAgent(node, nl, agent);
      }
    });
  }
  // A process that exits while its node comes up (a kubelet that found containerd's CRI not yet
  // serving, say) is started again with backoff instead of failing the whole `up`; each restart is
  // counted in the state, where `cluster status` shows it.
  const retries = new Map<string, { count: number; nextAt: number }>();
  const restartExited = async (step: { detail(text: string): void }): Promise<void> => {
    for (const node of selected) {
      const entry = nodeState(state, node.name);
      const nl = nodeLayout(layout, node.name);
      for (const name of nodeComponentOrder) {
        const agent = agents.find((a) => a.name === name);
        const current = entry.components[name as NodeComponent];
        if (current === undefined || running(current) || agent?.afterNodeReady) continue;
        const key = `${node.name}/${name}`;
        const r = retries.get(key) ?? { count: 0, nextAt: 0 };
        const decision = restartDecision(r, Date.now());
        if (decision === 'give up')
          throw new UserError(
            `${name} on node ${node.name} exited ${r.count + 1} times ` +
              `while the node came up; see ${nodeLogFile(nl, name)}`,
          );
        if (decision === 'wait') continue;
        step.detail(`${name} on ${node.name} exited: starting it again`);
        entry.components[name as NodeComponent] =
          agent === undefined ? await startContainerd(node, nl) : await startAgent(node, nl, agent);
        if (name === 'kubelet') agentsStartedAt.set(node.name, Date.now() - 1000);
        entry.restarts = { ...entry.restarts, [name]: (entry.restarts?.[name as NodeComponent] ?? 0) + 1 };
        retries.set(key, nextRetry(r, Date.now()));
      }
    }
  };
  await progress.step(`${selected.length} node${selected.length === 1 ? '' : 's'} Ready`, async (step) => {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const out = await ctx.kubectl([
        'get',
        'nodes',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
      ]);
      const ready = out
        .split('\n')
        .filter((l) => l.endsWith('=True'))
        .map((l) => l.split('=')[0]);
      // A node's Ready condition outlives a dead kubelet by the grace period: only a lease renewed by the
      // kubelet that runs now proves the node is really there.
      const leases = await ctx.kubectl([
        '-n',
        'kube-node-lease',
        'get',
        'leases',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}={.spec.renewTime}{"\\n"}{end}',
      ]);
      const renewed = new Map(
        leases
          .split('\n')
          .filter(Boolean)
          .map((l) => [l.split('=')[0] ?? '', Date.parse(l.split('=')[1] ?? '')]),
      );
      await restartExited(step);
      const waiting = selected
        .map((n) => n.name)
        .filter((n) => !ready.includes(n) || !((renewed.get(n) ?? 0) >= (agentsStartedAt.get(n) ?? 0)));
      if (waiting.length === 0) return;
      step.detail(`waiting for ${waiting.join(', ')}`);
      if (Date.now() > deadline) {
        throw new UserError(
          `node(s) ${waiting.join(', ')} did not become Ready in 3 minutes; ` +
            `see the kubelet logs in ${layout.logs}/<node>/kubelet.log`,
        );
      }
      await sleep(500);
    }
  });
  // Agents that read their node's status (its addresses) start once every node is Ready.
  const late = agents.filter((a) => a.afterNodeReady);
  const missing = selected.flatMap((node) =>
    late
      .filter((a) => !running(nodeState(state, node.name).components[a.name as NodeComponent]))
      .map((a) => ({ node, agent: a })),
  );
  if (missing.length > 0) {
    await progress.step(
      `start ${[...new Set(missing.map((m) => m.agent.name))].join(', ')} ` +
        `on ${[...new Set(missing.map((m) => m.node.name))].join(', ')}`,
      async () => {
        for (const { node, agent } of missing) {
          const nl = nodeLayout(layout, node.name);
          nodeState(state, node.name).components[agent.name as NodeComponent] = await startAgent(node, nl, agent);
        }
      },
    );
  }
  return containersGoneAt;
}

/** Stops one node's processes (newest first) and every container still running in its cgroup. */
export async function stopNode(layout: ClusterLayout, state: ClusterState | undefined, name: string): Promise<void> {
  const entry = state?.nodes?.find((n) => n.name === name);
  // A frozen process cannot act on SIGTERM nor die of SIGKILL until it is thawed.
  thawNode(layout, entry, name);
  if (entry) delete entry.fault;
  if (entry) await stopNodeProcesses(entry);
  // Containers and their shims outlive containerd; the node's cgroup knows them all.
  for (let round = 0; round < 3; round++) {
    const pids = pidsInCgroup(cgroupRootName(layout.name, name));
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(200);
  }
  await killShims(nodeLayout(layout, name));
}

/** Stops a node's agents and containerd, newest first, forgetting each; running containers stay. */
export async function stopNodeProcesses(entry: NodeState): Promise<void> {
  for (const component of [...nodeComponentOrder].reverse() as NodeComponent[]) {
    const c = entry.components[component];
    if (c) await stopDaemon(c.pid, c.binary);
    entry.components = Object.fromEntries(Object.entries(entry.components).filter(([k]) => k !== component));
  }
}

/** containerd-shim processes of a node (found by its socket address in their arguments). */
async function killShims(nl: NodeLayout): Promise<void> {
  for (const pid of processesMentioning(nl.containerdSocket)) {
    const binary = executableOf(pid);
    if (binary) await stopDaemon(pid, binary, 2000);
  }
}

/** Stops every node and removes what nodes put on the host: mounts, cgroups, network. Keeps files. */
export async function nodesDown(
  layout: ClusterLayout,
  state: ClusterState | undefined,
  net: ClusterNetworkPlan,
): Promise<void> {
  for (const node of net.nodes) await stopNode(layout, state, node.name);
  await unmountBelow(layout.root);
  for (const node of net.nodes) removeCgroupRoot(cgroupRootName(layout.name, node.name));
  await tearDownNetwork(layout.name, net);
  const left = mountsBelow(layout.root);
  if (left.length) throw new Error(`mounts still present after teardown: ${left.join(', ')}`);
}
