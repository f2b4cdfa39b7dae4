// R5 from where an attacker would stand: pods the release's policies never mention. A plain pod in another
// namespace, one there that copies the web tier's labels, an unlabelled pod in the release's namespace,
// and the host network of a node that runs no db member (NetworkPolicy always lets a pod's own node in).
// Each probes every db member on the SQL and Galera ports (3306, 4567, 4568, 4444) and the db Service.
// A source proves something only if it ran: it must first reach cluster DNS (TCP 53), which no policy
// of the release governs. The namespaces and the pod made here are removed afterwards.
import type { V1Pod } from '@kubernetes/client-node';
import type { ExpectedCell, ExpectedMatrix, Target } from '../../netpol/matrix.js';
import { targetName } from '../../netpol/matrix.js';
import type { Endpoint } from '../../netpol/evaluator.js';
import { endpointName, ipEndpoint, podEndpoint } from '../../netpol/evaluator.js';
import { copySecrets, type Kube } from '../../kube/kube.js';
import { pullSecretsOf, restrictedPod, type ReleaseImage } from './in-cluster.js';
import type { Evidence } from './types.js';

/** The ports a db member uses: SQL, Galera replication, incremental and snapshot state transfer. */
export const DB_PORTS = [3306, 4567, 4568, 4444] as const;

export const outsideNamespace = (namespace: string): string => `${namespace}-prove-outside`.slice(0, 63);
export const hostNamespace = (namespace: string): string => `${namespace}-prove-host`.slice(0, 63);
const UNLABELLED = 'prove-unlabelled';
const PLAIN = 'prove-outside';
const LOOKALIKE = 'prove-web-lookalike';
const HOST = 'prove-host';

export interface OutsideSource {
  /** Row name in the matrices. */
  row: string;
  /** What the row stands for, in words. */
  what: string;
  namespace: string;
  pod: string;
  /** The endpoint the evaluator judges the source as (the node's IP for the host network). */
  endpoint: Endpoint;
}

/** A pod that only sleeps, from the release's web image (it has bash and coreutils for the probe script). */
export function sleeperPod(o: {
  name: string;
  namespace: string;
  image: string;
  pullPolicy: string;
  pullSecrets?: readonly string[];
  labels: Record<string, string>;
  hostNetworkOn?: string;
}): V1Pod {
  return restrictedPod({
    ...o,
    container: 'probe',
    command: ['sleep', '3600'],
    resources: { requests: { cpu: '5m', memory: '8Mi' }, limits: { memory: '32Mi' } },
    tolerations: [{ operator: 'Exists' }],
    enableServiceLinks: false,
  });
}

/** Pure: the node for the host-network source: one that runs no db member, else the one running fewest. */
export function hostSourceNode(nodes: readonly string[], dbPods: readonly V1Pod[]): string | undefined {
  const count = (n: string): number => dbPods.filter((p) => p.spec?.nodeName === n).length;
  return [...nodes].sort((a, b) => count(a) - count(b) || a.localeCompare(b))[0];
}

/** The three probe pods and where they go; the web lookalike copies the web pods' labels. */
export function outsidePods(
  namespace: string,
  image: ReleaseImage,
  webLabels: Record<string, string>,
  hostNode: string,
): V1Pod[] {
  const mark = { 'app.kubernetes.io/managed-by': 'kstack-prove' };
  return [
    sleeperPod({ name: PLAIN, namespace: outsideNamespace(namespace), ...image, labels: mark }),
    sleeperPod({ name: LOOKALIKE, namespace: outsideNamespace(namespace), ...image, labels: { ...webLabels } }),
    sleeperPod({ name: UNLABELLED, namespace, ...image, labels: {} }),
    sleeperPod({ name: HOST, namespace: hostNamespace(namespace), ...image, labels: mark, hostNetworkOn: hostNode }),
  ];
}

/** The sources once their pods run (the host source's endpoint is its node's IP). */
export function outsideSources(namespace: string, hostNode: string, hostIp: string): OutsideSource[] {
  const other = outsideNamespace(namespace);
  return [
    {
      row: endpointName(podEndpoint(other, PLAIN)),
      what: 'a plain pod in another namespace',
      namespace: other,
      pod: PLAIN,
      endpoint: podEndpoint(other, PLAIN),
    },
    {
      row: endpointName(podEndpoint(other, LOOKALIKE)),
      what: "a pod in another namespace with the web pods' labels",
      namespace: other,
      pod: LOOKALIKE,
      endpoint: podEndpoint(other, LOOKALIKE),
    },
    {
      row: endpointName(podEndpoint(namespace, UNLABELLED)),
      what: "an unlabelled pod in the release's namespace",
      namespace,
      pod: UNLABELLED,
      endpoint: podEndpoint(namespace, UNLABELLED),
    },
    {
      row: endpointName(podEndpoint(hostNamespace(namespace), HOST)),
      what: `the host network of node ${hostNode} (${hostIp})`,
      namespace: hostNamespace(namespace),
      pod: HOST,
      endpoint: ipEndpoint(hostIp),
    },
  ];
}

export interface DbTarget extends Target {
  node: string;
}

/**
 * Pure: the expected matrix for the outside sources, from per-cell verdicts of the evaluator, plus the
 * db Service column, which is expected like the member it leads to (every member has the same policies:
 * open only if open to all of them).
 */
export function outsideExpected(
  sources: readonly OutsideSource[],
  members: readonly DbTarget[],
  service: { name: string; port: number } | undefined,
  verdict: (from: Endpoint, t: Target) => ExpectedCell,
): ExpectedMatrix {
  const columns = [...members.map(targetName), ...(service ? [service.name] : [])];
  const cells = sources.map((s) => {
    const row = members.map((t) => verdict(s.endpoint, t));
    if (!service) return row;
    const sql = members.filter((t) => t.port === service.port).map((t) => verdict(s.endpoint, t));
    const open = sql.length > 0 && sql.every((c) => c.open);
    return [
      ...row,
      { open, loopback: false, reason: `through the Service to a member: ${sql[0]?.reason ?? 'no member'}` },
    ];
  });
  return { rows: sources.map((s) => s.row), columns, cells };
}

/**
 * Pure: the intent on the outside matrix: nothing from outside reaches any db port. Cells marked loopback
 * (the host source and a member on its own node, which NetworkPolicy always lets in) are left out.
 */
export function judgeOutside(expected: ExpectedMatrix, sources: readonly OutsideSource[]): string[] {
  const problems: string[] = [];
  expected.rows.forEach((row, r) => {
    const what = sources.find((s) => s.row === row)?.what ?? row;
    expected.columns.forEach((col, c) => {
      const cell = expected.cells[r]?.[c];
      if (cell?.open && !cell.loopback) problems.push(`the policies let ${what} reach ${col}: ${cell.reason}`);
    });
  });
  return problems;
}

/** Creates the namespaces and pods, waits until they run; returns the cleanup. */
export async function startOutsidePods(
  kube: Kube,
  namespace: string,
  pods: readonly V1Pod[],
  ev: Evidence,
): Promise<() => Promise<void>> {
  const cleanup = async (): Promise<void> => {
    // The release's namespace is the user's: the pod is gone when the row ends (the two namespaces of our
    // own may finish terminating on their own).
    await kube
      .kubectl(['-n', namespace, 'delete', 'pod', UNLABELLED, '--ignore-not-found', '--wait=true', '--timeout=60s'], {
        clusterScope: true,
        allowFailure: true,
        timeoutMs: 70_000,
      })
      .catch(() => undefined);
    for (const ns of [outsideNamespace(namespace), hostNamespace(namespace)]) {
      await kube
        .kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false'], {
          clusterScope: true,
          allowFailure: true,
        })
        .catch(() => undefined);
    }
  };
  try {
    const ns = (name: string, level: string): object => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        labels: { 'app.kubernetes.io/managed-by': 'kstack-prove', 'pod-security.kubernetes.io/enforce': level },
      },
    });
    // The host-network pod needs a privileged namespace of its own, outside the release's.
    const objects = [
      ns(outsideNamespace(namespace), 'restricted'),
      ns(hostNamespace(namespace), 'privileged'),
      ...pods,
    ];
    // Namespaces first: the pods of our own namespaces pull with copies of the release's pull Secrets.
    await kube.kubectl(['apply', '-f', '-'], {
      clusterScope: true,
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects.slice(0, 2) }),
      ev,
    });
    const pullSecrets = [...new Set(pods.flatMap((p) => pullSecretsOf(p.spec)))];
    for (const other of [outsideNamespace(namespace), hostNamespace(namespace)])
      await copySecrets(kube, pullSecrets, other, { ev });
    await kube.kubectl(['apply', '-f', '-'], {
      clusterScope: true,
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods }),
      ev,
    });
    for (const p of pods) {
      await kube.kubectl(
        [
          '-n',
          p.metadata?.namespace ?? namespace,
          'wait',
          '--for=condition=Ready',
          `pod/${p.metadata?.name ?? ''}`,
          '--timeout=180s',
        ],
        { clusterScope: true, timeoutMs: 200_000, ev },
      );
    }
    return cleanup;
  } catch (err) {
    await cleanup();
    throw err;
  }
}
