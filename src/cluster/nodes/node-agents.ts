// The per-node agents: every program a node runs beyond containerd, as one table. `cluster up` starts
// them in this order inside the node's network namespace (after containerd), stops them in the reverse
// order, and counts a node as running only when every one of them runs. Adding an agent means adding an
// entry here (and its Go component to nodeComponents); nodes.ts, state.ts and restart need no change.
import { join } from 'node:path';
import { KUBE_ROUTER_USER, kubeRouterArgs, kubeRouterRBAC } from '../addons/netpol-engine.js';
import type { GoComponentName } from '../../setup/go-components.js';
import type { CertSpec } from '../pki.js';
import { MULTINET_POLICY_USER, multinetPolicyCert, multinetPolicyRBAC } from '../addons/multinet.js';
import { kubeletConfig, kubeProxyConfig } from './node-config.js';
import type { NodeLayout } from './node-layout.js';
import type { ClusterNetworkPlan, NodePlan } from './plan.js';

/** What an agent's files and arguments are built from (pure data: no I/O). */
export interface AgentContext {
  net: ClusterNetworkPlan;
  node: NodePlan;
  nl: NodeLayout;
  /** The cluster's certificate folder (ca.crt and the node's serving certificate live there). */
  pki: string;
  /** cgroup (v1) under which this node's pods live, e.g. /kstack-demo-web-1. */
  cgroupRoot: string;
  /** This agent's kubeconfig (see agentKubeconfig). */
  kubeconfig: string;
}

export interface NodeAgent {
  name: string;
  /** The Go component (src/setup/go-components.ts) whose binary this agent runs. */
  component: GoComponentName;
  /**
   * The identity the agent talks to the API server with: a client certificate (created when missing)
   * and the user name it carries; kstack writes the agent's kubeconfig from it.
   */
  identity: (node: NodePlan) => { user: string; cert: CertSpec };
  /** Config files the agent reads, written (overwritten) before it starts. */
  files?: (ctx: AgentContext) => { path: string; content: string }[];
  args: (ctx: AgentContext) => string[];
  /** Cluster-wide objects (RBAC) the agent needs, applied before any node starts it. */
  clusterObjects?: () => object[];
  /**
   * Start only after every node is Ready: for agents that read their Node's status (its addresses)
   * once at start and exit without it.
   */
  afterNodeReady?: boolean;
}

const DAYS = 365;

const clientCert = (name: string, commonName: string, organization?: string): CertSpec => ({
  name,
  commonName,
  ...(organization ? { organization } : {}),
  signer: 'ca',
  usage: ['client'],
  days: DAYS,
});

export const nodeAgents = [
  {
    name: 'kubelet',
    component: 'kubelet',
    // The Node authorizer knows a kubelet by system:node:<name> in group system:nodes.
    identity: (node) => ({
      user: `system:node:${node.name}`,
      cert: clientCert(`node-${node.name}-client`, `system:node:${node.name}`, 'system:nodes'),
    }),
    files: ({ net, node, nl, pki, cgroupRoot }) => [
      {
        path: nl.kubeletConfig,
        content: kubeletConfig({
          net,
          node,
          layout: nl,
          cgroupRoot,
          clusterCA: join(pki, 'ca.crt'),
          servingCert: join(pki, `node-${node.name}-serving.crt`),
          servingKey: join(pki, `node-${node.name}-serving.key`),
        }),
      },
    ],
    args: ({ node, nl, kubeconfig }) => [
      `--config=${nl.kubeletConfig}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${nl.kubeletRoot}`,
      `--hostname-override=${node.name}`,
      `--node-ip=${node.ip}`,
      '--v=1',
    ],
  },
  {
    name: 'kube-proxy',
    component: 'kube-proxy',
    // system:kube-proxy is bound to system:node-proxier by the API server's default policy.
    identity: () => ({ user: 'system:kube-proxy', cert: clientCert('kube-proxy', 'system:kube-proxy') }),
    files: ({ net, node, nl }) => [{ path: nl.kubeProxyConfig, content: kubeProxyConfig(net, node, nl) }],
    args: ({ nl }) => [`--config=${nl.kubeProxyConfig}`, '--v=1'],
  },
  {
    // The NetworkPolicy engine (firewall controller only); `cluster up` proves it enforces with a canary.
    name: 'kube-router',
    component: 'kube-router',
    identity: () => ({ user: KUBE_ROUTER_USER, cert: clientCert('kube-router', KUBE_ROUTER_USER) }),
    args: ({ net, node, kubeconfig }) =>
      kubeRouterArgs({ nodeName: node.name, kubeconfig, serviceCIDR: net.serviceCIDR }),
    clusterObjects: kubeRouterRBAC,
    // It takes the node's InternalIP from the Node status once, at start, and exits without one.
    afterNodeReady: true,
  },
  {
    // MultiNetworkPolicy on secondary interfaces (docs/secondary-network.md): iptables inside the pod
    // namespaces of this node, for the sandboxes multinet recorded in the node's state folder.
    name: 'multinet-policy',
    component: 'multinet-policy',
    identity: () => ({ user: MULTINET_POLICY_USER, cert: multinetPolicyCert }),
    args: ({ node, nl, kubeconfig }) => [
      `--kubeconfig=${kubeconfig}`,
      `--hostname-override=${node.name}`,
      `--state-dir=${nl.multinetStateDir}`,
    ],
    clusterObjects: multinetPolicyRBAC,
  },
] as const satisfies readonly NodeAgent[];

export type NodeAgentName = (typeof nodeAgents)[number]['name'];

/** Every process a node runs, in start order: containerd first, then the agents. */
export const nodeComponentOrder: readonly string[] = ['containerd', ...nodeAgents.map((a) => a.name)];

/** Where an agent's kubeconfig lives: <node root>/<agent>.kubeconfig. */
export const agentKubeconfig = (nl: NodeLayout, agent: string): string => join(nl.root, `${agent}.kubeconfig`);

/** The log file of a node process. */
export const nodeLogFile = (nl: NodeLayout, component: string): string => join(nl.logs, `${component}.log`);
