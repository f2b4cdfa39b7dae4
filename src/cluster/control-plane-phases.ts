// The decisions of `controlPlaneUp` (control-plane.ts), as pure functions: which options conflict with a
// saved cluster, what the cluster's state and command lines are, which components to start and which
// ports must be free for them, and what a failed `up` undoes. control-plane.ts does the I/O around them.
import { UserError } from '../util/errors.js';
import {
  controlPlaneSpecs,
  defaultNetwork,
  type ComponentSpec,
  type ControlPlaneComponent,
  type ControlPlanePorts,
  type NetworkSettings,
} from './control-plane-spec.js';
import type { ClusterLayout } from './layout.js';
import { networkPlanFor } from './nodes/cluster-nodes.js';
import type { ClusterState, NodeSettings } from './state.js';

/** The options of `up` that a saved cluster constrains. */
export interface UpRequest {
  apiPort?: number;
  nodes?: NodeSettings;
}

/**
 * Validate: options that contradict the saved cluster. Each error names the flag, the value the
 * cluster already has, and the two ways out.
 */
export function checkUpOptions(cluster: string, opts: UpRequest, existing: ClusterState | undefined): void {
  if (existing && opts.apiPort !== undefined && opts.apiPort !== existing.ports.apiserver) {
    throw new UserError(
      `--api-port ${opts.apiPort}: cluster '${cluster}' already uses port ${existing.ports.apiserver}; ` +
        `drop --api-port, or run 'kstack cluster down --name ${cluster}' first`,
    );
  }
  if (existing && opts.nodes && !existing.nodeSettings) {
    throw new UserError(
      `cluster '${cluster}' was created as a control plane without nodes; run ` +
        `'kstack cluster down --name ${cluster}' first, or add --control-plane`,
    );
  }
  if (existing?.nodeSettings && opts.nodes && opts.nodes.count !== existing.nodeSettings.count) {
    throw new UserError(
      `--nodes ${opts.nodes.count}: cluster '${cluster}' already has ${existing.nodeSettings.count} ` +
        `nodes; drop --nodes, or run 'kstack cluster down --name ${cluster}' first`,
    );
  }
}

/**
 * The nodes the cluster has: fixed by the saved state once it
 * exists, else the ones asked for (none: control plane only).
 */
export function nodeSettingsFor(existing: ClusterState | undefined, opts: UpRequest): NodeSettings | undefined {
  return existing ? existing.nodeSettings : opts.nodes;
}

/** With nodes, the API server advertises the host's address on the node bridge. */
export function networkFor(cluster: string, nodeSettings: NodeSettings | undefined): NetworkSettings {
  return nodeSettings
    ? { ...defaultNetwork, advertiseAddress: networkPlanFor(cluster, nodeSettings).gateway }
    : defaultNetwork;
}

/** The ports each component listens on. */
export const PORT_OF: Record<ControlPlaneComponent, (keyof ControlPlanePorts)[]> = {
  etcd: ['etcdClient', 'etcdPeer'],
  'kube-apiserver': ['apiserver'],
  'kube-controller-manager': ['controllerManager'],
  'kube-scheduler': ['scheduler'],
};

export interface PlanInput {
  layout: ClusterLayout;
  /** The saved state (reused as is, the same object), or undefined for a new cluster. */
  existing: ClusterState | undefined;
  nodeSettings: NodeSettings | undefined;
  binaries: Record<ControlPlaneComponent, string>;
  /** For a new cluster only: its creation time and the ports chosen for it. */
  fresh?: { createdAt: string; ports: ControlPlanePorts };
  /** Whether a recorded process still runs (control-plane.ts: the pid runs that binary). */
  isRunning: (entry: { pid: number; binary: string }) => boolean;
}

export interface UpPlan {
  fresh: boolean;
  state: ClusterState;
  /** Every component, in start order. */
  specs: ComponentSpec[];
  /** The components that are not running now. */
  toStart: ComponentSpec[];
  server: string;
}

/** Plan: the state of the cluster (saved, or new) and what has to start. */
export function planUp({ layout, existing, nodeSettings, binaries, fresh, isRunning }: PlanInput): UpPlan {
  const network = networkFor(layout.name, nodeSettings);
  let state: ClusterState;
  if (existing) {
    state = existing;
  } else {
    if (!fresh) throw new Error('planUp: a new cluster needs its creation time and ports');
    state = {
      version: 1,
      name: layout.name,
      createdAt: fresh.createdAt,
      ports: fresh.ports,
      network,
      components: {},
      ...(nodeSettings ? { nodeSettings } : {}),
    };
  }
  const specs = controlPlaneSpecs({ layout, ports: state.ports, binaries, network: state.network });
  const toStart = specs.filter((s) => !componentRunning(state, s.name, isRunning));
  return { fresh: existing === undefined, state, specs, toStart, server: `https://127.0.0.1:${state.ports.apiserver}` };
}

export function componentRunning(
  state: ClusterState,
  name: ControlPlaneComponent,
  isRunning: PlanInput['isRunning'],
): boolean {
  const entry = state.components[name];
  return entry !== undefined && isRunning(entry);
}

/** The ports that must be free before the components to start can listen, in the order they are checked. */
export function portsToCheck(
  toStart: readonly ComponentSpec[],
  ports: ControlPlanePorts,
): { component: ControlPlaneComponent; port: number }[] {
  return toStart.flatMap((spec) => PORT_OF[spec.name].map((key) => ({ component: spec.name, port: ports[key] })));
}

export function portInUse(cluster: string, component: ControlPlaneComponent, port: number): UserError {
  return new UserError(
    `${component} cannot start: 127.0.0.1:${port} is in use by another program; stop it, ` +
      `or run 'kstack cluster down --name ${cluster}' and 'up' again to choose new ports`,
  );
}

export interface RollbackInput {
  /** The cluster did not exist before this `up`. */
  fresh: boolean;
  /** Nodes were prepared, so node processes and add-ons may have started. */
  withNodes: boolean;
  /** The control-plane components this `up` started, in the order it started them. */
  started: readonly ControlPlaneComponent[];
  /** The copy of the admin kubeconfig recorded in the state (--kubeconfig). */
  userKubeconfig: string | undefined;
  /** KSTACK_KEEP_FAILED=1: leave the failed cluster running for inspection ('kstack cluster down' removes it). */
  keepFailed: boolean;
}

/** What a failed `up` undoes, in this order. */
export interface RollbackPlan {
  stopNodesAndAddons: boolean;
  /** Stopped newest first and dropped from the state. */
  stop: ControlPlaneComponent[];
  /** A file removed (the user's copy of the kubeconfig of a cluster that is removed). */
  removeUserKubeconfig?: string;
  /** The whole cluster folder goes: the cluster did not exist before. */
  removeClusterFolder: boolean;
  /** The state is written again, without the stopped components (when the cluster folder still exists). */
  saveState: boolean;
}

/**
 * The rollback decision: what this `up` started is stopped again; a cluster that did not exist before is
 * removed completely, one that did keeps its files and whatever ran before this `up`.
 */
export function rollbackPlan({ fresh, withNodes, started, userKubeconfig, keepFailed }: RollbackInput): RollbackPlan {
  if (keepFailed) return { stopNodesAndAddons: false, stop: [], removeClusterFolder: false, saveState: false };
  return {
    stopNodesAndAddons: withNodes,
    stop: [...started].reverse(),
    ...(fresh && userKubeconfig ? { removeUserKubeconfig: userKubeconfig } : {}),
    removeClusterFolder: fresh,
    saveState: !fresh,
  };
}
