import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  controlPlaneOrder,
  type ControlPlaneComponent,
  type ControlPlanePorts,
  type NetworkSettings,
} from './control-plane-spec.js';
import { nodeComponentOrder, type NodeAgentName } from './nodes/node-agents.js';

/** What `up` records about a cluster so `status`, `down` and the next `up` know what is running where. */
export interface ClusterState {
  version: 1;
  name: string;
  createdAt: string;
  ports: ControlPlanePorts;
  network: NetworkSettings;
  /** A copy of the admin kubeconfig the user asked for with --kubeconfig, removed again by `down`. */
  userKubeconfig?: string;
  components: Partial<Record<ControlPlaneComponent, { pid: number; binary: string }>>;
  /** The nodes of a cluster created with nodes (absent for a control plane only). */
  nodes?: NodeState[];
  nodeSettings?: NodeSettings;
  /** Host processes that serve the cluster (the local-path provisioner, the local S3 server, the load balancer). */
  addons?: {
    provisioner?: { pid: number; binary: string };
    s3?: { pid: number; binary: string };
    lb?: { pid: number; binary: string };
  };
}

/** containerd and every per-node agent of src/cluster/nodes/node-agents.ts. */
export type NodeComponent = 'containerd' | NodeAgentName;

export interface NodeState {
  name: string;
  components: Partial<Record<NodeComponent, { pid: number; binary: string }>>;
  /** Set while the node is stopped on purpose (`kstack cluster node stop`), cleared by `node start`. */
  fault?: NodeFault;
  /** How often `up` had to start a process of the node again after it exited, per process. */
  restarts?: Partial<Record<NodeComponent, number>>;
}

/** A node failure made on demand: frozen (a hung machine) or killed (a power loss). */
export interface NodeFault {
  mode: 'freeze' | 'kill';
  /** When the node was stopped (ISO 8601). */
  since: string;
}

/** How the nodes were asked for at creation; later `up`s rebuild the same plan from it. */
export interface NodeSettings {
  count: number;
  dbTaint?: { key: string; value: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' };
  /**
   * `cluster up --no-preload`: no image of the stack is side-loaded into the nodes; workloads pull theirs
   * from a registry, as on a cluster kstack did not make. The canary's nginx image is removed after the canary.
   */
  pullOnly?: boolean;
}

const PORT_KEYS: (keyof ControlPlanePorts)[] = [
  'etcdClient',
  'etcdPeer',
  'apiserver',
  'controllerManager',
  'scheduler',
];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;

/** Parses state.json, or throws an Error whose message names the first field that is wrong. */
export function parseState(text: string): ClusterState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`state.json is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (!isObject(raw)) throw new Error('state.json is not an object');
  if (raw.version !== 1) throw new Error(`state.json: version must be 1, found ${JSON.stringify(raw.version)}`);
  if (typeof raw.name !== 'string' || !raw.name) throw new Error('state.json: name is missing');
  if (typeof raw.createdAt !== 'string') throw new Error('state.json: createdAt is missing');
  if (!isObject(raw.ports)) throw new Error('state.json: ports is missing');
  for (const key of PORT_KEYS) {
    if (!isPort(raw.ports[key]))
      throw new Error(`state.json: ports.${key} must be a port number, found ${JSON.stringify(raw.ports[key])}`);
  }
  if (
    !isObject(raw.network) ||
    typeof raw.network.serviceCIDR !== 'string' ||
    typeof raw.network.apiServiceIP !== 'string'
  ) {
    throw new Error('state.json: network.serviceCIDR and network.apiServiceIP are required');
  }
  if (raw.userKubeconfig !== undefined && typeof raw.userKubeconfig !== 'string')
    throw new Error('state.json: userKubeconfig must be a path');
  if (!isObject(raw.components)) throw new Error('state.json: components is missing');
  for (const [name, entry] of Object.entries(raw.components)) {
    if (!(controlPlaneOrder as readonly string[]).includes(name))
      throw new Error(`state.json: components.${name} is not a control-plane component`);
    if (!isObject(entry) || !Number.isInteger(entry.pid) || typeof entry.binary !== 'string') {
      throw new Error(`state.json: components.${name} needs a pid and a binary`);
    }
  }
  if (raw.nodeSettings !== undefined) {
    if (!isObject(raw.nodeSettings) || !Number.isInteger(raw.nodeSettings.count))
      throw new Error('state.json: nodeSettings.count must be a whole number');
    if (raw.nodeSettings.pullOnly !== undefined && typeof raw.nodeSettings.pullOnly !== 'boolean')
      throw new Error('state.json: nodeSettings.pullOnly must be true or false');
  }
  if (raw.nodes !== undefined) {
    if (!Array.isArray(raw.nodes)) throw new Error('state.json: nodes must be a list');
    for (const [i, node] of (raw.nodes as unknown[]).entries()) {
      if (!isObject(node) || typeof node.name !== 'string' || !isObject(node.components))
        throw new Error(`state.json: nodes[${i}] needs a name and components`);
      for (const [name, entry] of Object.entries(node.components)) {
        if (!nodeComponentOrder.includes(name))
          throw new Error(`state.json: nodes[${i}].components.${name} is not a node component`);
        if (!isObject(entry) || !Number.isInteger(entry.pid) || typeof entry.binary !== 'string')
          throw new Error(`state.json: nodes[${i}].components.${name} needs a pid and a binary`);
      }
      if (
        node.fault !== undefined &&
        (!isObject(node.fault) ||
          (node.fault.mode !== 'freeze' && node.fault.mode !== 'kill') ||
          typeof node.fault.since !== 'string')
      )
        throw new Error(`state.json: nodes[${i}].fault needs a mode (freeze or kill) and a since time`);
      if (node.restarts !== undefined) {
        if (!isObject(node.restarts)) throw new Error(`state.json: nodes[${i}].restarts must be an object`);
        for (const [name, n] of Object.entries(node.restarts))
          if (!nodeComponentOrder.includes(name) || !Number.isInteger(n))
            throw new Error(`state.json: nodes[${i}].restarts.${name} must be a node component with a whole number`);
      }
    }
  }
  return raw as unknown as ClusterState;
}

export function readState(file: string): ClusterState | undefined {
  if (!existsSync(file)) return undefined;
  return parseState(readFileSync(file, 'utf8'));
}

/** Writes atomically (temp file + rename) so a crash never leaves half a state file. */
export function writeState(file: string, state: ClusterState): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
