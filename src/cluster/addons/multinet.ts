// Secondary networks on the local cluster (docs/secondary-network.md): the CRDs (taken from the pinned
// Go modules' own source), RBAC and identities of multinet, whereabouts and multinet-policy, each node's
// CNI folder, and the canary `cluster up` uses to prove that pods really get a second interface.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../../util/errors.js';
import { crdsFromModules, type CrdSource } from './crds.js';
import { renderKubeconfig } from '../kubeconfig.js';
import type { ClusterLayout } from '../layout.js';
import { ensureCertificates, readPem, type CertSpec } from '../pki.js';
import { MULTINET_CONFLIST, multinetConfig, whereaboutsConfig } from '../nodes/node-config.js';
import type { NodeLayout } from '../nodes/node-layout.js';
import type { ClusterNetworkPlan, NodePlan } from '../nodes/plan.js';
import { PAUSE_IMAGE } from '../nodes/node-config.js';

export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';
export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';
export const POLICY_FOR_ANNOTATION = 'k8s.v1.cni.cncf.io/policy-for';

export const MULTINET_USER = 'kstack:multinet';
export const WHEREABOUTS_USER = 'kstack:whereabouts';
export const MULTINET_POLICY_USER = 'kstack:multinet-policy';

/** System CNI plugins (Debian's containernetworking-plugins) every node's bin_dir links to. */
export const SYSTEM_CNI_DIR = '/usr/lib/cni';

/**
 * Secondary-network subnets. Each cluster has its own host bridge, so the same subnets can be used by
 * every cluster; they must only stay clear of the node subnet (10.77.0.0/16), pod CIDRs (10.244.0.0/16)
 * and services (10.96.0.0/12). Users' NetworkAttachmentDefinitions take ranges inside USER_SUBNET; the
 * canary owns CANARY_SUBNET.
 */
export const USER_SUBNET = '10.78.0.0/17';
export const CANARY_SUBNET = '10.78.255.0/24';
export const CANARY_NAD = 'kstack-canary';
const CANARY_NAMESPACE = 'kube-system';

const DAYS = 365;
const clientCert = (name: string, commonName: string): CertSpec => ({
  name,
  commonName,
  signer: 'ca',
  usage: ['client'],
  days: DAYS,
});

export const multinetCert = clientCert('multinet', MULTINET_USER);
export const whereaboutsCert = clientCert('whereabouts', WHEREABOUTS_USER);
export const multinetPolicyCert = clientCert('multinet-policy', MULTINET_POLICY_USER);

const clusterRole = (name: string, rules: object[]): object[] => [
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name }],
  },
];

/** What the CNI plugins may do: multinet reads pods and NADs and writes network-status; whereabouts keeps its pools. */
export function secondaryNetworkRBAC(): object[] {
  return [
    ...clusterRole(MULTINET_USER, [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      // network-status is written with UpdateStatus, as the Network Plumbing WG's library does.
      { apiGroups: [''], resources: ['pods/status'], verbs: ['get', 'update', 'patch'] },
      {
        apiGroups: ['k8s.cni.cncf.io'],
        resources: ['network-attachment-definitions'],
        verbs: ['get', 'list', 'watch'],
      },
    ]),
    ...clusterRole(WHEREABOUTS_USER, [
      {
        apiGroups: ['whereabouts.cni.cncf.io'],
        resources: ['ippools', 'overlappingrangeipreservations', 'nodeslicepools'],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      {
        apiGroups: ['k8s.cni.cncf.io'],
        resources: ['network-attachment-definitions'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
    ]),
  ];
}

/** What the MultiNetworkPolicy agent may read. */
export function multinetPolicyRBAC(): object[] {
  return clusterRole(MULTINET_POLICY_USER, [
    { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
    {
      apiGroups: ['k8s.cni.cncf.io'],
      resources: ['multi-networkpolicies', 'network-attachment-definitions'],
      verbs: ['get', 'list', 'watch'],
    },
  ]);
}

/** The CRDs, by the pinned module that carries them, the file inside it and the CRD it must hold. */
export const CRD_SOURCES = [
  {
    toolsModule: 'multinet',
    goModule: 'github.com/k8snetworkplumbingwg/network-attachment-definition-client',
    file: 'artifacts/networks-crd.yaml',
    crd: 'network-attachment-definitions.k8s.cni.cncf.io',
  },
  {
    toolsModule: 'multinet',
    goModule: 'github.com/k8snetworkplumbingwg/multi-networkpolicy',
    file: 'scheme.yml',
    crd: 'multi-networkpolicies.k8s.cni.cncf.io',
  },
  {
    toolsModule: 'whereabouts',
    goModule: 'github.com/k8snetworkplumbingwg/whereabouts',
    file: 'doc/crds/whereabouts.cni.cncf.io_ippools.yaml',
    crd: 'ippools.whereabouts.cni.cncf.io',
  },
  {
    toolsModule: 'whereabouts',
    goModule: 'github.com/k8snetworkplumbingwg/whereabouts',
    file: 'doc/crds/whereabouts.cni.cncf.io_overlappingrangeipreservations.yaml',
    crd: 'overlappingrangeipreservations.whereabouts.cni.cncf.io',
  },
  {
    toolsModule: 'whereabouts',
    goModule: 'github.com/k8snetworkplumbingwg/whereabouts',
    file: 'doc/crds/whereabouts.cni.cncf.io_nodeslicepools.yaml',
    crd: 'nodeslicepools.whereabouts.cni.cncf.io',
  },
] as const satisfies readonly CrdSource[];

/** The secondary network's CRDs from the pinned modules' own source (addons/crds.ts). */
export function secondaryNetworkCRDs(): Promise<{ yaml: string; names: string[] }> {
  return crdsFromModules(CRD_SOURCES);
}

export interface NodeCniInput {
  layout: ClusterLayout;
  net: ClusterNetworkPlan;
  node: NodePlan;
  nl: NodeLayout;
  /** Paths of the multinet and whereabouts binaries. */
  plugins: { multinet: string; whereabouts: string };
  /** API server URL as seen from inside the node. */
  server: string;
}

/** The links a node's CNI bin_dir holds: every system plugin, plus multinet and whereabouts (pure). */
export function cniBinLinks(systemPlugins: readonly string[], plugins: NodeCniInput['plugins']): Map<string, string> {
  const links = new Map<string, string>();
  for (const p of systemPlugins) links.set(p, join(SYSTEM_CNI_DIR, p));
  links.set('multinet', plugins.multinet);
  links.set('whereabouts', plugins.whereabouts);
  return links;
}

/** Writes a node's CNI bin folder, kubeconfigs and the multinet conflist. Idempotent. */
export async function writeNodeCni({ layout, node, nl, plugins, server }: NodeCniInput): Promise<void> {
  for (const d of [nl.cniBinDir, nl.cniCacheDir, nl.multinetStateDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
  if (!existsSync(SYSTEM_CNI_DIR))
    throw new UserError(`${SYSTEM_CNI_DIR} is missing; install the node packages with 'kstack setup' and run again`);
  const links = cniBinLinks(readdirSync(SYSTEM_CNI_DIR), plugins);
  for (const [name, target] of links) {
    const path = join(nl.cniBinDir, name);
    const current = existsSync(path) || isLink(path) ? (isLink(path) ? readlinkSync(path) : '') : undefined;
    if (current === target) continue;
    if (current !== undefined) rmSync(path, { force: true });
    symlinkSync(target, path);
  }
  await ensureCertificates(layout.pki, [multinetCert, whereaboutsCert]);
  const ca = readPem(layout.pki, 'ca.crt');
  const kubeconfig = (user: string, cert: CertSpec): string =>
    renderKubeconfig({
      clusterName: layout.name,
      server,
      caPem: ca,
      user,
      clientCertPem: readPem(layout.pki, `${cert.name}.crt`),
      clientKeyPem: readPem(layout.pki, `${cert.name}.key`),
    });
  const multinetKubeconfig = join(nl.root, 'multinet.kubeconfig');
  const whereaboutsKubeconfig = join(nl.root, 'whereabouts.kubeconfig');
  writeFileSync(multinetKubeconfig, kubeconfig(MULTINET_USER, multinetCert), { mode: 0o600 });
  writeFileSync(whereaboutsKubeconfig, kubeconfig(WHEREABOUTS_USER, whereaboutsCert), { mode: 0o600 });
  const whereaboutsFlatFile = join(nl.root, 'whereabouts.conf');
  writeFileSync(whereaboutsFlatFile, whereaboutsConfig(whereaboutsKubeconfig, join(nl.logs, 'whereabouts.log')), {
    mode: 0o600,
  });
  writeFileSync(
    join(nl.cniConfDir, MULTINET_CONFLIST),
    multinetConfig({ node, layout: nl, kubeconfig: multinetKubeconfig, whereaboutsConfig: whereaboutsFlatFile }),
  );
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * A macvlan (bridge mode) attachment on the node's uplink (eth0 inside the node namespace, the veth onto
 * the cluster's host bridge) with cluster-wide whereabouts IPAM: pods on different nodes share one L2.
 */
export function macvlanAttachment(name: string, namespace: string, range: string): object {
  return {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name, namespace },
    spec: {
      config: JSON.stringify({
        cniVersion: '1.0.0',
        name,
        type: 'macvlan',
        master: 'eth0',
        mode: 'bridge',
        ipam: { type: 'whereabouts', range },
      }),
    },
  };
}

/** One network-status entry (the fields kstack reads). */
export interface NetworkStatusEntry {
  name: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  default?: boolean;
}

/** Parses a pod's network-status annotation ([] when absent); throws on malformed JSON with the pod named. */
export function parseNetworkStatus(annotations: Record<string, string> | undefined, pod: string): NetworkStatusEntry[] {
  const raw = annotations?.[NETWORK_STATUS_ANNOTATION];
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Error(`pod ${pod}: ${NETWORK_STATUS_ANNOTATION} is not JSON (${(err as Error).message})`, { cause: err });
  }
  if (!Array.isArray(parsed)) throw new Error(`pod ${pod}: ${NETWORK_STATUS_ANNOTATION} is not a list`);
  return parsed.filter(
    (e): e is NetworkStatusEntry =>
      typeof e === 'object' && e !== null && typeof (e as { name?: unknown }).name === 'string',
  );
}

/** The addresses a pod has on one network (namespace/name) by its network-status annotation. */
export function addressesOn(statuses: readonly NetworkStatusEntry[], network: string): string[] {
  return statuses.filter((s) => s.name === network && !s.default).flatMap((s) => s.ips ?? []);
}

/** Whether an IPv4 address lies in a CIDR. */
export function inSubnet(ip: string, cidr: string): boolean {
  const [base = '', bitsText = '32'] = cidr.split('/');
  const toInt = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const bits = Number(bitsText);
  const size = 2 ** (32 - bits);
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}

function canaryPod(node: NodePlan): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `kstack-net1-canary-${node.name}`,
      namespace: CANARY_NAMESPACE,
      labels: { 'app.kubernetes.io/name': 'kstack-net1-canary', 'app.kubernetes.io/managed-by': 'kstack' },
      annotations: { [NETWORKS_ANNOTATION]: CANARY_NAD },
    },
    spec: {
      nodeName: node.name,
      tolerations: [{ operator: 'Exists' }],
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'pause', image: PAUSE_IMAGE, imagePullPolicy: 'Never' }],
    },
  };
}

interface PodView {
  metadata?: { name?: string; annotations?: Record<string, string> };
  status?: { phase?: string };
}

/**
 * Proves on every node that a pod asking for a secondary network gets it: a canary pod per node with
 * the canary NAD must show net1 with an address in CANARY_SUBNET in its network-status. The canaries
 * are removed again. Throws a UserError naming what to check.
 */
export async function checkSecondaryNetwork(
  kubectl: (args: string[], input?: string) => Promise<string>,
  net: ClusterNetworkPlan,
  layout: ClusterLayout,
  detail: (text: string) => void,
  timeoutMs = 90_000,
): Promise<void> {
  const pods = net.nodes.map(canaryPod);
  const names = net.nodes.map((n) => `kstack-net1-canary-${n.name}`);
  await kubectl([
    '-n',
    CANARY_NAMESPACE,
    'delete',
    'pod',
    '--ignore-not-found',
    '--wait=true',
    '--grace-period=0',
    ...names,
  ]);
  await kubectl(
    ['apply', '--server-side', '--force-conflicts', '--field-manager=kstack', '-f', '-'],
    [macvlanAttachment(CANARY_NAD, CANARY_NAMESPACE, CANARY_SUBNET), ...pods].map((o) => JSON.stringify(o)).join('\n'),
  );
  const deadline = Date.now() + timeoutMs;
  let lastProblem = '';
  try {
    for (;;) {
      const out = await kubectl([
        '-n',
        CANARY_NAMESPACE,
        'get',
        'pods',
        '-l',
        'app.kubernetes.io/name=kstack-net1-canary',
        '-o',
        'json',
      ]);
      const items = (JSON.parse(out) as { items: PodView[] }).items;
      const missing = names.filter((name) => {
        const pod = items.find((p) => p.metadata?.name === name);
        if (!pod) return true;
        try {
          const ips = addressesOn(
            parseNetworkStatus(pod.metadata?.annotations, name),
            `${CANARY_NAMESPACE}/${CANARY_NAD}`,
          );
          return !ips.some((ip) => inSubnet(ip, CANARY_SUBNET));
        } catch (err) {
          lastProblem = (err as Error).message;
          return true;
        }
      });
      if (missing.length === 0) return;
      detail(`waiting for net1 on ${missing.join(', ')}`);
      if (Date.now() > deadline) {
        const events = await kubectl([
          '-n',
          CANARY_NAMESPACE,
          'get',
          'events',
          '--field-selector',
          `involvedObject.name=${missing[0] ?? ''}`,
          '-o',
          'jsonpath={range .items[*]}{.message}{"\\n"}{end}',
        ]).catch(() => '');
        const hint = events.split('\n').filter(Boolean).slice(-2).join(' | ');
        throw new UserError(
          `secondary network check failed: ${missing.join(', ')} got no net1 ` +
            `address in ${CANARY_SUBNET} within ${Math.round(timeoutMs / 1000)} s` +
            `${lastProblem ? ` (${lastProblem})` : ''}${hint ? `; pod events: ${hint}` : ''}; ` +
            `check ${join(layout.logs, '<node>', 'multinet.log')}, ` +
            `the containerd logs there, and 'kubectl get ippools -A'`,
        );
      }
      await sleep(500);
    }
  } finally {
    await kubectl([
      '-n',
      CANARY_NAMESPACE,
      'delete',
      'pod',
      '--ignore-not-found',
      '--wait=false',
      '--grace-period=0',
      ...names,
    ]).catch(() => '');
  }
}
