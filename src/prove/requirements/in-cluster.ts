// HTTP clients run inside the cluster: a sampler that fetches a URL N times, and a steady load that
// runs until its stdin closes. They reach Services the way other pods do, which a port-forward from the
// host (pinned to one pod) cannot. They run in a pod of their own, in a namespace of their own
// ("<namespace>-prove", removed at the end of the run), with the node binary of the release's podwatch
// image: the release's own pods are fenced by its NetworkPolicies (podwatch may only reach the API).
import type { V1Deployment, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import type { RunResult } from '../../util/exec.js';
import { componentSelector, copySecrets, type Kube, type List } from '../../kube/kube.js';
import type { Evidence } from './types.js';

export interface ClientPod {
  namespace: string;
  pod: string;
  container: string;
}

export const CLIENT_POD = 'prove-client';
export const clientNamespace = (namespace: string): string => `${namespace}-prove`;

/** Client namespaces made during this process, removed by removeClients(). */
const created = new Set<string>();

/** What the pods prove makes differ in; the rest is the same restricted shape (Pod Security "restricted"). */
export interface RestrictedPodSpec {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  container: string;
  image: string;
  pullPolicy: string;
  command: string[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  tolerations: { operator: string; effect?: string }[];
  /** Run in the host network of this node (a privileged namespace is needed for that). */
  hostNetworkOn?: string;
  enableServiceLinks?: boolean;
  /** Image pull Secrets (copied into the pod's namespace beforehand), as the release's pods use them. */
  pullSecrets?: readonly string[];
}

/** A pod of prove's own: non-root, no privileges, read-only root, no service account token. Pure. */
export function restrictedPod(o: RestrictedPodSpec): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace, labels: { ...o.labels } },
    spec: {
      ...(o.hostNetworkOn !== undefined ? { hostNetwork: true, nodeName: o.hostNetworkOn } : {}),
      automountServiceAccountToken: false,
      ...(o.pullSecrets?.length ? { imagePullSecrets: o.pullSecrets.map((name) => ({ name })) } : {}),
      ...(o.enableServiceLinks !== undefined ? { enableServiceLinks: o.enableServiceLinks } : {}),
      terminationGracePeriodSeconds: 1,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: o.container,
          image: o.image,
          imagePullPolicy: o.pullPolicy,
          command: [...o.command],
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          resources: o.resources,
        },
      ],
      tolerations: o.tolerations,
    },
  };
}

/** The client pod as an object. */
export function clientPodObject(
  namespace: string,
  image: string,
  pullPolicy: string,
  pullSecrets: readonly string[] = [],
): V1Pod {
  return restrictedPod({
    pullSecrets,
    name: CLIENT_POD,
    namespace,
    labels: { 'app.kubernetes.io/name': 'kstack-prove-client', 'app.kubernetes.io/managed-by': 'kstack-prove' },
    container: 'client',
    image,
    pullPolicy,
    command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'],
    resources: { requests: { cpu: '20m', memory: '48Mi' }, limits: { memory: '192Mi' } },
    tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
  });
}

/** An image of the release, as a pod kstack makes elsewhere must name it. */
export interface ReleaseImage {
  image: string;
  pullPolicy: string;
  pullSecrets: string[];
}

/** Pure: the image pull Secrets a pod spec names. */
export const pullSecretsOf = (pod: V1PodSpec | undefined): string[] =>
  (pod?.imagePullSecrets ?? []).map((r) => r.name ?? '').filter((n) => n !== '');

/** Pure: the first image with kstack's Node.js among the release's podwatch and web (webinfo) Deployments. */
export function nodeImageOf(
  podwatch: V1Deployment | undefined,
  web: V1Deployment | undefined,
): ReleaseImage | undefined {
  const candidates = [
    { pod: podwatch?.spec?.template.spec, c: podwatch?.spec?.template.spec?.containers[0] },
    { pod: web?.spec?.template.spec, c: web?.spec?.template.spec?.containers.find((c) => c.name === 'webinfo') },
  ];
  const found = candidates.find((x) => x.c?.image);
  return found?.c?.image
    ? {
        image: found.c.image,
        pullPolicy: found.c.imagePullPolicy ?? 'IfNotPresent',
        pullSecrets: pullSecretsOf(found.pod),
      }
    : undefined;
}

/** The node image of the release's podwatch or webinfo container (nodeImageOf), read from their Deployments. */
export async function releaseNodeImage(kube: Kube, release: string, ev?: Evidence): Promise<ReleaseImage | undefined> {
  const first = async (component: string): Promise<V1Deployment | undefined> =>
    (
      await kube.json<List<V1Deployment>>(
        ['get', 'deployments', '-l', componentSelector(release, component)],
        ev ? { ev } : {},
      )
    ).items[0];
  return nodeImageOf(await first('podwatch'), await first('web'));
}

/**
 * The client pod (made once per run), from the node image of the release's podwatch or webinfo
 * container; undefined when the release runs neither.
 */
export async function clientPod(kube: Kube, release: string, ev?: Evidence): Promise<ClientPod | undefined> {
  const namespace = clientNamespace(kube.namespace);
  const client = { namespace, pod: CLIENT_POD, container: 'client' };
  const existing = await kube.kubectl(['-n', namespace, 'get', 'pod', CLIENT_POD, '-o', 'name'], {
    clusterScope: true,
    allowFailure: true,
  });
  if (existing.code === 0 && created.has(namespace)) return client;
  const image = await releaseNodeImage(kube, release, ev);
  if (!image) return undefined;
  await ensureClientNamespace(kube, ev);
  await copySecrets(kube, image.pullSecrets, namespace, ev ? { ev } : {});
  await kube.kubectl(['apply', '-f', '-'], {
    clusterScope: true,
    input: JSON.stringify(clientPodObject(namespace, image.image, image.pullPolicy, image.pullSecrets)),
    ...(ev ? { ev } : {}),
  });
  await kube.kubectl(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${CLIENT_POD}`, '--timeout=180s'], {
    clusterScope: true,
    timeoutMs: 200_000,
    ...(ev ? { ev } : {}),
  });
  return client;
}

/** Creates kstack's own namespace for this release's helpers (once), removed by removeClients(). */
export async function ensureClientNamespace(kube: Kube, ev?: Evidence): Promise<string> {
  const namespace = clientNamespace(kube.namespace);
  await kube.kubectl(['create', 'namespace', namespace], {
    clusterScope: true,
    allowFailure: true,
    ...(ev ? { ev } : {}),
  });
  created.add(namespace);
  return namespace;
}

/** Why a row cannot fetch from inside the cluster without a client pod. */
export const NO_CLIENT =
  'the release runs neither podwatch nor webinfo, so there is no image with ' +
  'Node.js for the in-cluster client (enable podwatch.enabled or webinfo.enabled)';

/** Removes the client namespaces this run made. */
export async function removeClients(kube: Kube): Promise<void> {
  for (const ns of created) {
    await kube
      .kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false'], {
        clusterScope: true,
        allowFailure: true,
      })
      .catch(() => undefined);
    created.delete(ns);
  }
}

/** Fetches argv[1] argv[2] times, one after the other; prints one JSON line per answer. */
const SAMPLER = `
const http = require('node:http');
const [url, n] = process.argv.slice(1);
(async () => {
  for (let i = 0; i < Number(n); i++) {
    const line = await new Promise((resolve) => {
      const req = http.get(url, { timeout: 3000, agent: false }, (res) => {
        let body = ''; res.setEncoding('utf8');
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ status: 0, error: e.message }));
    });
    process.stdout.write(JSON.stringify(line) + '\\n');
  }
})();
`;

export interface Sample {
  status: number;
  body?: string;
  error?: string;
}

export async function sampleInCluster(
  kube: Kube,
  client: ClientPod,
  url: string,
  count: number,
  ev?: Evidence,
): Promise<Sample[]> {
  const res = await kube.kubectl(
    [
      '-n',
      client.namespace,
      'exec',
      client.pod,
      '-c',
      client.container,
      '--',
      'node',
      '-e',
      SAMPLER,
      url,
      String(count),
    ],
    { clusterScope: true, allowFailure: true, ...(ev ? { ev } : {}), timeoutMs: count * 4000 + 30_000 },
  );
  if (res.code !== 0 && res.stdout.trim() === '')
    throw new Error(
      `the in-cluster client in ${client.pod} failed: ${res.stderr.trim().split('\n').slice(-2).join(' ')}`,
    );
  return res.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Sample);
}

/**
 * GET argv[1] at argv[2] requests/s (new connection each, 5 s timeout) until stdin closes or argv[3] s
 * have passed; then prints {sent, byStatus, errors, firstFailures}.
 */
const LOAD = `
const http = require('node:http');
const [url, rate, maxSeconds] = process.argv.slice(1);
const byStatus = {}; const failures = []; let sent = 0; let pending = 0; let errors = 0; let stopping = false;
const note = (what) => { if (failures.length < 20) failures.push(new Date().toISOString() + ' ' + what); };
const shoot = () => {
  sent++; pending++;
  const req = http.get(url, { timeout: 5000, agent: false }, (res) => {
    res.resume();
    res.on('end', () => { pending--; byStatus[res.statusCode] = (byStatus[res.statusCode] || 0) + 1;\
 if (res.statusCode < 200 || res.statusCode > 299) note('HTTP ' + res.statusCode); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => { pending--; errors++; note(e.message); });
};
const timer = setInterval(shoot, 1000 / Number(rate));
const stop = () => {
  if (stopping) return; stopping = true; clearInterval(timer);
  const wait = setInterval(() => { if (pending === 0) { clearInterval(wait); process.stdout.write(JSON.stringify({\
 sent, byStatus, errors, failures }) + '\\n'); process.exit(0); } }, 100);
};
process.stdin.on('end', stop); process.stdin.on('close', stop); process.stdin.resume();
setTimeout(stop, Number(maxSeconds) * 1000);
`;

export interface LoadSummary {
  sent: number;
  byStatus: Record<string, number>;
  errors: number;
  failures: string[];
}

/** Non-2xx answers plus requests that got no answer at all. */
export const failedRequests = (s: LoadSummary): number =>
  s.errors +
  Object.entries(s.byStatus)
    .filter(([code]) => !/^2\d\d$/.test(code))
    .reduce((a, [, n]) => a + n, 0);

export function startLoad(
  kube: Kube,
  client: ClientPod,
  url: string,
  ratePerSecond: number,
  maxSeconds: number,
  ev?: Evidence,
): { stop(): Promise<LoadSummary> } {
  const stream = kube.execStream(
    client.pod,
    client.container,
    ['node', '-e', LOAD, url, String(ratePerSecond), String(maxSeconds)],
    ev,
    client.namespace,
  );
  return {
    stop: async () => {
      const res: RunResult = await stream.finish();
      const line = res.stdout.trim().split('\n').pop() ?? '';
      try {
        return JSON.parse(line) as LoadSummary;
      } catch {
        throw new Error(
          `the load generator in ${client.pod} printed no summary ` +
            `(exit ${res.code}): ${res.stderr.trim().split('\n').slice(-2).join(' ')}`,
        );
      }
    },
  };
}

/** http://<ClusterIP>:<port>/ of the release's Service for `component` (ClusterIP: no DNS needed). */
export async function serviceUrl(
  kube: Kube,
  release: string,
  component: string,
  ev?: Evidence,
): Promise<{ name: string; url: string; port: number } | undefined> {
  interface Svc {
    metadata: { name: string; labels?: Record<string, string> };
    spec: { clusterIP?: string; ports: { name?: string; port: number }[] };
  }
  const list = await kube.json<{ items: Svc[] }>(
    ['get', 'services', '-l', `app.kubernetes.io/instance=${release},app.kubernetes.io/component=${component}`],
    ev ? { ev } : {},
  );
  const svc = list.items.find((s) => s.spec.clusterIP && s.spec.clusterIP !== 'None');
  const port = svc?.spec.ports.find((p) => p.name === 'http') ?? svc?.spec.ports[0];
  if (!svc || !port) return undefined;
  const host = svc.spec.clusterIP?.includes(':') ? `[${svc.spec.clusterIP}]` : (svc.spec.clusterIP ?? '');
  return { name: svc.metadata.name, url: `http://${host}:${port.port}`, port: port.port };
}
