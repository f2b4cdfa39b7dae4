import { createHash } from 'node:crypto';
import { UserError } from '../../util/errors.js';

/** The role a node plays for the stack's placement rules; it becomes the label node-role.kstack.io/<role>. */
export type NodeRole = 'web' | 'db';

export interface Taint {
  key: string;
  value: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodePlan {
  name: string;
  index: number;
  role: NodeRole;
  /** Address on the cluster's node network (inside the node's network namespace). */
  ip: string;
  podCIDR: string;
  /** Gateway of the pod bridge inside the node: the first address of podCIDR. */
  podGateway: string;
  labels: Record<string, string>;
  taints: Taint[];
  /** Network namespace that is the node. */
  netns: string;
  /** Host end of the node's veth (≤ 15 characters). */
  hostVeth: string;
}

export interface ClusterNetworkPlan {
  /** Host bridge joining the nodes (≤ 15 characters). */
  bridge: string;
  nodeSubnet: string;
  /** The host's address on the bridge: nodes reach the API server through it. */
  gateway: string;
  podCIDR: string;
  serviceCIDR: string;
  dnsServiceIP: string;
  nodes: NodePlan[];
}

export interface NodeOptions {
  count: number;
  /** Taint put on db nodes (key=value:Effect), or undefined for none. */
  dbTaint?: Taint;
}

export const DEFAULT_DB_TAINT: Taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };

/** Parses `key=value:Effect` (the kubectl taint syntax), naming the flag when it is wrong. */
export function parseTaint(flag: string, text: string): Taint {
  const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)=([-A-Za-z0-9_.]*):(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(text);
  if (!m)
    throw new UserError(
      `--${flag} '${text}' is not a taint: use key=value:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute`,
    );
  return { key: m[1] ?? '', value: m[2] ?? '', effect: m[3] as Taint['effect'] };
}

/** Galera members a db tier needs to lose one node and keep quorum: three, one per db node. */
export const HA_DB_NODES = 3;

/**
 * The roles of N nodes. From 4 nodes on, three are db nodes (one Galera member each, so losing any one
 * keeps quorum) and the rest web nodes: the default 5 are web-1, web-2, db-1, db-2, db-3. Fewer nodes
 * keep one web node and make the rest db nodes (3: web-1, db-1, db-2), which cannot lose a db node. A
 * single node plays both roles and gets no taint, so everything can run on it.
 */
export function nodeRoles(count: number): { name: string; role: NodeRole; alsoRoles: NodeRole[] }[] {
  if (!Number.isInteger(count) || count < 1 || count > 9) {
    throw new UserError(`--nodes ${String(count)} is not supported: use a whole number from 1 to 9`);
  }
  if (count === 1) return [{ name: 'node-1', role: 'web', alsoRoles: ['db'] }];
  const db = count >= HA_DB_NODES + 1 ? HA_DB_NODES : count - 1;
  const out: { name: string; role: NodeRole; alsoRoles: NodeRole[] }[] = [];
  for (let i = 1; i <= count - db; i++) out.push({ name: `web-${i}`, role: 'web', alsoRoles: [] });
  for (let i = 1; i <= db; i++) out.push({ name: `db-${i}`, role: 'db', alsoRoles: [] });
  return out;
}

/** Whether a cluster of N nodes can lose any one node and keep the page up and the database writable. */
export function survivesNodeLoss(count: number): boolean {
  return nodeRoles(count).filter((n) => n.role === 'web').length >= 2 && count >= HA_DB_NODES + 2;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

/**
 * Every address and name of a cluster's node network, derived from the cluster name and node count.
 * The node subnet (on the host's bridge) is 10.77.<k>.0/24 with k taken from the name, so clusters with
 * different names can run side by side; pod CIDRs exist only inside node namespaces and may repeat.
 */
export function planClusterNetwork(cluster: string, opts: NodeOptions): ClusterNetworkPlan {
  const h = shortHash(cluster);
  const k = Number.parseInt(h.slice(0, 2), 16);
  const nodes = nodeRoles(opts.count).map(({ name, role, alsoRoles }, index): NodePlan => {
    const roles = [role, ...alsoRoles];
    const taints = role === 'db' && alsoRoles.length === 0 && opts.dbTaint ? [opts.dbTaint] : [];
    return {
      name,
      index,
      role,
      ip: `10.77.${k}.${10 + index}`,
      podCIDR: `10.244.${index}.0/24`,
      podGateway: `10.244.${index}.1`,
      labels: Object.fromEntries(roles.map((r) => [`node-role.kstack.io/${r}`, ''])),
      taints,
      netns: `kstack-${cluster}-${name}`,
      hostVeth: `ks${h}n${index}`,
    };
  });
  return {
    bridge: `ksbr${h}`,
    nodeSubnet: `10.77.${k}.0/24`,
    gateway: `10.77.${k}.1`,
    podCIDR: '10.244.0.0/16',
    serviceCIDR: '10.96.0.0/16',
    dnsServiceIP: '10.96.0.10',
    nodes,
  };
}
