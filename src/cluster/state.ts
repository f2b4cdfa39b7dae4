import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { controlPlaneOrder, type ControlPlaneComponent, type ControlPlanePorts, type NetworkSettings } from './control-plane-spec.js';

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
}

const PORT_KEYS: (keyof ControlPlanePorts)[] = ['etcdClient', 'etcdPeer', 'apiserver', 'controllerManager', 'scheduler'];

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
    if (!isPort(raw.ports[key])) throw new Error(`state.json: ports.${key} must be a port number, found ${JSON.stringify(raw.ports[key])}`);
  }
  if (!isObject(raw.network) || typeof raw.network.serviceCIDR !== 'string' || typeof raw.network.apiServiceIP !== 'string') {
    throw new Error('state.json: network.serviceCIDR and network.apiServiceIP are required');
  }
  if (raw.userKubeconfig !== undefined && typeof raw.userKubeconfig !== 'string') throw new Error('state.json: userKubeconfig must be a path');
  if (!isObject(raw.components)) throw new Error('state.json: components is missing');
  for (const [name, entry] of Object.entries(raw.components)) {
    if (!(controlPlaneOrder as readonly string[]).includes(name)) throw new Error(`state.json: components.${name} is not a control-plane component`);
    if (!isObject(entry) || !Number.isInteger(entry.pid) || typeof entry.binary !== 'string') {
      throw new Error(`state.json: components.${name} needs a pid and a binary`);
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
