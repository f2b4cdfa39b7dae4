// The local cluster's load balancer, in the manner of MetalLB's BGP mode or a cloud load balancer: every
// Service of type LoadBalancer gets an address from a pool on the cluster's host bridge, and the host
// routes that address to the nodes over an equal-cost multipath route (per-connection hashing, so reloads
// reach different nodes). The nodes' kube-proxy does the rest: it DNATs the address to endpoints, so the
// traffic runs through the cluster's own dataplane and keeps flowing when kstack is not running.
// A node is a next hop only while its health check answers: for externalTrafficPolicy Local the
// Service's healthCheckNodePort (kube-proxy says whether the node holds a ready endpoint), otherwise
// kube-proxy's own /healthz. A frozen or dead node stops answering, and is taken out of the route after
// one missed check (it comes back after two good ones). Decisions here are pure; lb-main.ts is the edge.
import type * as k8s from '@kubernetes/client-node';

/** The RBAC user of the controller (its client certificate's common name). */
export const LB_USER = 'kstack:load-balancer';

/** The load balancer class this controller serves, besides Services that name no class. */
export const LB_CLASS = 'kstack.io/local';

/** How often each node is checked, and how long one check may take. */
export const HEALTH_INTERVAL_MS = 200;
export const HEALTH_TIMEOUT_MS = 300;
/** Consecutive good checks before a node that failed is a next hop again. */
export const RISE = 2;

/** kube-proxy's health port on every node (node-config.ts healthzBindAddress). */
export const KUBE_PROXY_HEALTH_PORT = 10256;

/** Addresses the pool hands out: <subnet>.200 – <subnet>.249 of the node subnet (a /24). */
export function addressPool(nodeSubnet: string): string[] {
  const prefix = nodeSubnet.split('/')[0]?.split('.').slice(0, 3).join('.') ?? '';
  return Array.from({ length: 50 }, (_, i) => `${prefix}.${200 + i}`);
}

const serviceKey = (svc: k8s.V1Service): string => `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;

/** Services this controller serves: type LoadBalancer with no class or ours. */
export function servedServices(services: readonly k8s.V1Service[]): k8s.V1Service[] {
  return services.filter(
    (s) =>
      s.spec?.type === 'LoadBalancer' &&
      (s.spec.loadBalancerClass === undefined || s.spec.loadBalancerClass === LB_CLASS) &&
      s.metadata?.deletionTimestamp === undefined,
  );
}

/**
 * The address of every served Service: the one it already has when that is in the pool and not taken
 * by another, else the first free one (in name order, so the result does not depend on list order).
 * Services beyond the pool's size get none.
 */
export function assignAddresses(services: readonly k8s.V1Service[], pool: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  const sorted = [...servedServices(services)].sort((a, b) => serviceKey(a).localeCompare(serviceKey(b)));
  for (const svc of sorted) {
    const current = svc.status?.loadBalancer?.ingress?.[0]?.ip;
    if (current && pool.includes(current) && !taken.has(current)) {
      out.set(serviceKey(svc), current);
      taken.add(current);
    }
  }
  for (const svc of sorted) {
    if (out.has(serviceKey(svc))) continue;
    const free = pool.find((a) => !taken.has(a));
    if (!free) continue;
    out.set(serviceKey(svc), free);
    taken.add(free);
  }
  return out;
}

/** The status a Service should carry for its address (none: it has none). */
export function desiredStatus(address: string | undefined): k8s.V1LoadBalancerStatus {
  return address ? { ingress: [{ ip: address, ipMode: 'VIP' }] } : {};
}

export function statusUpToDate(svc: k8s.V1Service, address: string | undefined): boolean {
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  return address === undefined ? ingress.length === 0 : ingress.length === 1 && ingress[0]?.ip === address;
}

/** Where to check whether a node should receive a Service's traffic. */
export function healthCheckPort(svc: k8s.V1Service): number {
  return svc.spec?.externalTrafficPolicy === 'Local' && svc.spec.healthCheckNodePort
    ? svc.spec.healthCheckNodePort
    : KUBE_PROXY_HEALTH_PORT;
}

export function healthCheckPath(svc: k8s.V1Service): string {
  return healthCheckPort(svc) === KUBE_PROXY_HEALTH_PORT ? '/healthz' : '/';
}

/** One node's recent checks for one Service: out after one failure, in again after RISE successes. */
export interface NodeHealth {
  healthy: boolean;
  streak: number;
}

export function nextHealth(prev: NodeHealth | undefined, ok: boolean): NodeHealth {
  if (!ok) return { healthy: false, streak: 0 };
  if (prev === undefined) return { healthy: true, streak: RISE };
  const streak = prev.streak + 1;
  return { healthy: prev.healthy || streak >= RISE, streak };
}

/**
 * The next hops for an address: the healthy nodes, in node order. When no node is healthy the route
 * keeps every node (fail open): a path that may work beats none, and a Service without endpoints
 * refuses the traffic at the node anyway.
 */
export function nextHops(nodes: readonly { name: string; ip: string }[], healthy: ReadonlySet<string>): string[] {
  const up = nodes.filter((n) => healthy.has(n.name)).map((n) => n.ip);
  return up.length > 0 ? up : nodes.map((n) => n.ip);
}

/** `ip route replace` arguments for an address over its next hops (a multipath route for more than one). */
export function routeArgs(address: string, hops: readonly string[], bridge: string): string[] {
  if (hops.length === 1) return ['route', 'replace', `${address}/32`, 'via', hops[0] ?? '', 'dev', bridge];
  return [
    'route',
    'replace',
    `${address}/32`,
    ...hops.flatMap((h) => ['nexthop', 'via', h, 'dev', bridge, 'weight', '1']),
  ];
}

/** The addresses the host routes to the nodes now, from `ip -4 route show dev BRIDGE` (pure parsing). */
export function routedAddresses(routeShow: string, pool: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string | undefined;
  for (const line of routeShow.split('\n')) {
    const head = /^(\d+\.\d+\.\d+\.\d+)(?:\/32)?\s(.*)$/.exec(line);
    if (head) {
      current = pool.includes(head[1] ?? '') ? head[1] : undefined;
      if (current) {
        const via = /via (\S+)/.exec(head[2] ?? '');
        out.set(current, via?.[1] ? [via[1]] : []);
      }
      continue;
    }
    const hop = /^\s+nexthop via (\S+)/.exec(line);
    if (current && hop?.[1]) out.get(current)?.push(hop[1]);
  }
  return out;
}

/** RBAC of the controller: read Services and Nodes, write Service status, record events. */
export function loadBalancerRBAC(): object[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: LB_USER },
      rules: [
        { apiGroups: [''], resources: ['services', 'nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['services/status'], verbs: ['patch', 'update'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: LB_USER },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: LB_USER },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: LB_USER }],
    },
  ];
}
