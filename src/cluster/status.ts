// What a local cluster's recorded state says and whether its control plane answers, without changing
// anything. Its own module so that commands which only look at a cluster (prove, backup, restore) do not
// import the code that starts one (src/setup/needs.ts declares what each command installs by its imports).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, messageOf } from '../util/errors.js';
import { isRunning } from '../util/process.js';
import {
  controlPlaneOrder,
  controlPlaneSpecs,
  type ComponentSpec,
  type ControlPlaneComponent,
} from './control-plane-spec.js';
import { probe, type HealthTarget } from './health.js';
import { clusterLayout, type ClusterLayout } from './layout.js';
import { certificatePlan, type PkiOptions } from './pki.js';
import { readState, type ClusterState, type NodeComponent, type NodeState } from './state.js';
import { nodeComponentOrder } from './nodes/node-agents.js';
import { planClusterNetwork } from './nodes/plan.js';

export const DEFAULT_CLUSTER = 'kstack';

export function pkiOptions(state: ClusterState): PkiOptions {
  return {
    apiServiceIP: state.network.apiServiceIP,
    ...(state.network.advertiseAddress ? { extraApiIPs: [state.network.advertiseAddress] } : {}),
  };
}

export function corrupt(layout: ClusterLayout, reason: string): UserError {
  return new UserError(
    `the state of cluster '${layout.name}' in ${layout.root} is corrupt (${reason}); run ` +
      `'kstack cluster down --name ${layout.name}' to remove it, then 'kstack cluster up' again`,
  );
}

/** Loads the recorded state, turning anything unreadable or incomplete into an actionable error. */
export function loadExistingState(layout: ClusterLayout): ClusterState | undefined {
  let state: ClusterState | undefined;
  try {
    state = readState(layout.stateFile);
  } catch (err) {
    throw corrupt(layout, messageOf(err));
  }
  if (!state) {
    if (existsSync(layout.root)) throw corrupt(layout, 'state.json is missing');
    return undefined;
  }
  if (state.name !== layout.name) throw corrupt(layout, `state.json names cluster '${state.name}'`);
  for (const spec of certificatePlan(pkiOptions(state))) {
    for (const ext of ['crt', 'key']) {
      if (!existsSync(join(layout.pki, `${spec.name}.${ext}`)))
        throw corrupt(layout, `pki/${spec.name}.${ext} is missing`);
    }
  }
  if (!existsSync(join(layout.config, 'encryption.yaml'))) throw corrupt(layout, 'config/encryption.yaml is missing');
  return state;
}

export function healthTarget(layout: ClusterLayout, spec: ComponentSpec): HealthTarget {
  return {
    url: spec.healthURL,
    caFile: spec.healthCA,
    pkiDir: layout.pki,
    ...(spec.healthClientCert ? { clientCert: spec.healthClientCert } : {}),
  };
}

export type ComponentStatus = {
  name: ControlPlaneComponent;
  pid?: number;
  running: boolean;
  healthy: boolean;
  detail: string;
};

/** One node as the state records it: its role, a failure made on demand, and which of its processes run. */
export interface NodeStatus {
  name: string;
  role: string;
  /** 'running': every process runs; 'frozen' / 'killed': stopped on purpose; 'down': some process is not running. */
  state: 'running' | 'frozen' | 'killed' | 'down';
  since?: string;
  /** containerd and the agents that do not run (state 'down'). */
  missing: string[];
  /** Processes `up` had to start again after they exited, and how often. */
  restarts?: Record<string, number>;
}

export interface StatusResult {
  name: string;
  exists: boolean;
  server?: string;
  kubeconfig?: string;
  components: ComponentStatus[];
  /** The nodes (none for a control plane alone). */
  nodes?: NodeStatus[];
}

/** Pure: a node's status from its planned role, its state entry and which of its processes run. */
export function nodeStatusOf(
  name: string,
  role: string,
  entry: NodeState | undefined,
  runs: (c: { pid: number; binary: string }) => boolean,
): NodeStatus {
  const restarts = entry?.restarts && Object.keys(entry.restarts).length ? { restarts: { ...entry.restarts } } : {};
  if (entry?.fault)
    return {
      name,
      role,
      state: entry.fault.mode === 'freeze' ? 'frozen' : 'killed',
      since: entry.fault.since,
      missing: [],
      ...restarts,
    };
  const missing = nodeComponentOrder.filter((c) => {
    const e = entry?.components[c as NodeComponent];
    return e === undefined || !runs(e);
  });
  return { name, role, state: missing.length ? 'down' : 'running', missing, ...restarts };
}

/** What runs and what answers its health check, without changing anything. */
export async function controlPlaneStatus(opts: { name?: string; baseDir?: string }): Promise<StatusResult> {
  const layout = clusterLayout(opts.name ?? DEFAULT_CLUSTER, opts.baseDir);
  const state = loadExistingState(layout);
  if (!state) return { name: layout.name, exists: false, components: [] };
  const specs = controlPlaneSpecs({
    layout,
    ports: state.ports,
    network: state.network,
    binaries: Object.fromEntries(controlPlaneOrder.map((c) => [c, state.components[c]?.binary ?? ''])) as Record<
      ControlPlaneComponent,
      string
    >,
  });
  const components = await Promise.all(
    specs.map(async (spec): Promise<ComponentStatus> => {
      const entry = state.components[spec.name];
      const running = entry !== undefined && isRunning(entry.pid, entry.binary);
      const health = running ? await probe(healthTarget(layout, spec)) : undefined;
      return {
        name: spec.name,
        ...(entry ? { pid: entry.pid } : {}),
        running,
        healthy: health?.ok ?? false,
        detail: !running
          ? 'not running'
          : health?.ok
            ? 'healthy'
            : `unhealthy: ${health?.status ? `HTTP ${health.status}` : (health?.body ?? '')}`,
      };
    }),
  );
  const settings = state.nodeSettings;
  const nodes = settings
    ? planClusterNetwork(layout.name, { count: settings.count }).nodes.map((n) =>
        nodeStatusOf(
          n.name,
          n.role,
          state.nodes?.find((e) => e.name === n.name),
          (c) => isRunning(c.pid, c.binary),
        ),
      )
    : undefined;
  return {
    name: layout.name,
    exists: true,
    server: `https://127.0.0.1:${state.ports.apiserver}`,
    kubeconfig: layout.kubeconfig,
    components,
    ...(nodes ? { nodes } : {}),
  };
}
