// The enforcement canary: `cluster up` proves that NetworkPolicy is enforced on every node before it
// reports the cluster Ready. A canary server (nginx) runs on each node, one client pod somewhere; the
// client reaches every server, a deny-all ingress policy on the servers must then close every
// connection (on the client's own node too: same-node traffic crosses the bridge's iptables), and once
// the policy is gone every connection must open again. Pure here: objects, targets and the judgement of
// each round; runCanary (in netpol-canary-run.ts) is the thin I/O edge.
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { imageRecipes } from '../../images/recipes.js';
import type { ObservedCell } from '../../netpol/matrix.js';

export const CANARY_NAMESPACE = 'kstack-system';
export const CANARY_POLICY = 'kstack-netpol-canary-deny';
const NAME_LABEL = 'app.kubernetes.io/name';
const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const CANARY_APP = 'kstack-netpol-canary';
export const CANARY_PORT = 80;
export const CANARY_SERVER_SELECTOR = `${NAME_LABEL}=${CANARY_APP},${COMPONENT_LABEL}=server`;
export const CANARY_CLIENT_SELECTOR = `${NAME_LABEL}=${CANARY_APP},${COMPONENT_LABEL}=client`;

const labels = (component: 'server' | 'client'): Record<string, string> => ({
  [NAME_LABEL]: CANARY_APP,
  [COMPONENT_LABEL]: component,
});

const podSpec = (command?: string[]): object => ({
  // Every node, the tainted db nodes included.
  tolerations: [{ operator: 'Exists' }],
  terminationGracePeriodSeconds: 1,
  enableServiceLinks: false,
  automountServiceAccountToken: false,
  containers: [
    {
      name: 'canary',
      image: imageRecipes.nginx.ref,
      imagePullPolicy: 'Never',
      ...(command ? { command } : {}),
      ports: command ? [] : [{ name: 'http', containerPort: CANARY_PORT, protocol: 'TCP' }],
      resources: { requests: { cpu: '5m', memory: '16Mi' }, limits: { memory: '64Mi' } },
    },
  ],
});

/** The namespace, a server on every node (DaemonSet) and one client (Deployment). */
export function canaryObjects(): object[] {
  const meta = (name: string): object => ({
    name,
    namespace: CANARY_NAMESPACE,
    labels: { [NAME_LABEL]: CANARY_APP, 'app.kubernetes.io/managed-by': 'kstack' },
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: CANARY_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'kstack' } },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta('netpol-canary-server'),
      spec: {
        selector: { matchLabels: labels('server') },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } },
        template: { metadata: { labels: labels('server') }, spec: podSpec() },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('netpol-canary-client'),
      spec: {
        replicas: 1,
        selector: { matchLabels: labels('client') },
        strategy: { type: 'Recreate' },
        template: { metadata: { labels: labels('client') }, spec: podSpec(['sleep', 'infinity']) },
      },
    },
  ];
}

/** Denies all ingress to the canary servers (and only to them). */
export function canaryDenyPolicy(): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: CANARY_POLICY,
      namespace: CANARY_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'kstack' },
    },
    spec: { podSelector: { matchLabels: labels('server') }, policyTypes: ['Ingress'], ingress: [] },
  };
}

/** A canary pod as listed: where it runs and whether it can take part now. */
export interface CanaryPod {
  name: string;
  node: string;
  ip?: string;
  running: boolean;
}

export interface CanaryPlan {
  /** The running client, or undefined while there is none. */
  client?: CanaryPod;
  /** Node → the server to dial there. */
  servers: Map<string, CanaryPod>;
  /** Nodes without a running server yet. */
  waitingFor: string[];
}

/** Picks the client and one running server per node (newest listing wins). */
export function planCanary(
  nodes: readonly string[],
  clients: readonly CanaryPod[],
  servers: readonly CanaryPod[],
): CanaryPlan {
  // In node order, so messages list nodes the way the cluster plan does.
  const byNode = new Map<string, CanaryPod>();
  for (const n of nodes) {
    const server = servers.findLast((s) => s.node === n && s.running && s.ip);
    if (server) byNode.set(n, server);
  }
  const client = clients.find((c) => c.running);
  return { ...(client ? { client } : {}), servers: byNode, waitingFor: nodes.filter((n) => !byNode.has(n)) };
}

/**
 * The nodes where a round did not show what it should: `want` open (no policy) or closed (deny policy).
 * A probe error counts as not shown, so it is retried, never taken as success.
 */
export function nodesNotShowing(want: 'open' | 'closed', results: ReadonlyMap<string, ObservedCell>): string[] {
  return [...results].filter(([, cell]) => cell.result !== want).map(([node]) => node);
}

export interface CanaryFailureContext {
  phase: 'reach' | 'deny' | 'reopen';
  nodes: string[];
  clientNode: string;
  seconds: number;
  /** Per node: kube-router's log file, the node's network namespace, whether kube-router runs. */
  details: (node: string) => { log: string; netns: string; engineRunning: boolean; logTail?: string };
  observed: ReadonlyMap<string, ObservedCell>;
}

/** What went wrong, on which node, and what to look at next. */
export function canaryFailureMessage(f: CanaryFailureContext): string {
  const what = {
    reach:
      `the NetworkPolicy canary could not reach its server on node(s) ${f.nodes.join(', ')} from ` +
      `node ${f.clientNode} within ${f.seconds} s, without any policy: the pod network itself is broken there`,
    deny:
      `NetworkPolicy is NOT enforced on node(s) ${f.nodes.join(', ')}: a deny-all ingress policy on ` +
      `the canary server still let a connection from node ${f.clientNode} through after ${f.seconds} s`,
    reopen:
      `the NetworkPolicy engine did not remove its rules on node(s) ${f.nodes.join(', ')}: ${f.seconds} s ` +
      `after the canary's deny policy was deleted, connections from node ${f.clientNode} are still refused`,
  }[f.phase];
  const lines = f.nodes.map((n) => {
    const d = f.details(n);
    const cell = f.observed.get(n);
    const tail =
      !d.engineRunning && d.logTail
        ? `\n    its log ends with:\n${d.logTail
            .split('\n')
            .map((l) => `      ${l}`)
            .join('\n')}`
        : '';
    return (
      `  ${n}: kube-router ${d.engineRunning ? 'runs' : 'is NOT running'}; last ` +
      `probe ${cell ? `${cell.result} (${cell.detail ?? ''})` : 'none'}; log ${d.log}; ` +
      `rules: 'nsenter --net=/run/netns/${d.netns} iptables -S KUBE-ROUTER-FORWARD' ` +
      `and 'nsenter --net=/run/netns/${d.netns} ipset list -n'${tail}`
    );
  });
  return [
    `${what}. The cluster is not reported Ready.`,
    ...lines,
    `Run 'kstack cluster up' again after fixing it (the canary lives in namespace ${CANARY_NAMESPACE}).`,
  ].join('\n');
}
