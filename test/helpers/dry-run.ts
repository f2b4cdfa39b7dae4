// What the chart's server-side dry-run tests share: a restricted namespace per suite, "the API server
// accepts every object", and "Pod Security admits the pods the workloads would create" (it only warns on
// workloads; it enforces on Pods, so each template is sent as the Pod its controller would create).
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import type { K8sObject } from '../../src/chart/manifests.js';
import { testCluster, TestNamespaces, type TestCluster } from './cluster.js';

export const toStream = (objs: readonly K8sObject[]): string => objs.map((o) => stringify(o)).join('---\n');

export interface SuiteNamespace {
  readonly cluster: TestCluster;
  readonly ns: string;
}

/**
 * Registers before/after hooks in the calling describe: a fresh namespace (Pod Security "restricted"
 * enforced when asked) made before its tests and deleted after them. Read `cluster`/`ns` inside tests.
 */
export function useTestNamespace(prefix: string, opts: { restricted?: boolean } = {}): SuiteNamespace {
  let cluster: TestCluster | undefined;
  let namespaces: TestNamespaces | undefined;
  let ns: string | undefined;
  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    ns = await namespaces.create(prefix, opts);
  });
  after(() => namespaces?.cleanup());
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is read before the suite's before hook ran`);
    return v;
  };
  return {
    get cluster() {
      return ready(cluster, 'cluster');
    },
    get ns() {
      return ready(ns, 'ns');
    },
  };
}

/** `kubectl apply --dry-run=server` of all `objs`: accepted, no Pod Security violation, every object applied. */
export async function assertServerAccepts(cluster: TestCluster, objs: readonly K8sObject[]): Promise<void> {
  const res = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-', '-o', 'name'], {
    input: toStream(objs),
    allowFailure: true,
  });
  assert.equal(res.code, 0, `kubectl apply --dry-run=server failed:\n${res.stderr}`);
  assert.doesNotMatch(res.stderr, /would violate PodSecurity/, res.stderr);
  assert.equal(res.stdout.trim().split('\n').length, objs.length, `every object was applied:\n${res.stdout}`);
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { volumes?: unknown[] };
}

/**
 * The Pods the workloads among `objs` would create (Deployment, StatefulSet ordinal 0 with its claims bound
 * in as the StatefulSet controller does, Job, CronJob), named after their workload.
 */
export function podsOfWorkloads(objs: readonly K8sObject[], namespace: string): K8sObject[] {
  const pods: K8sObject[] = [];
  const add = (w: K8sObject, t: PodTemplate, extraVolumes: unknown[] = []): void => {
    pods.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${w.metadata.name}-0`,
        namespace,
        labels: t.metadata?.labels ?? {},
        annotations: t.metadata?.annotations ?? {},
      },
      spec: { ...t.spec, volumes: [...(t.spec.volumes ?? []), ...extraVolumes] },
    });
  };
  for (const w of objs) {
    if (w.kind === 'Deployment' || w.kind === 'Job') add(w, (w.spec as { template: PodTemplate }).template);
    else if (w.kind === 'CronJob')
      add(w, (w.spec as { jobTemplate: { spec: { template: PodTemplate } } }).jobTemplate.spec.template);
    else if (w.kind === 'StatefulSet') {
      const spec = w.spec as { template: PodTemplate; volumeClaimTemplates?: { metadata: { name: string } }[] };
      const claims = (spec.volumeClaimTemplates ?? []).map((c) => ({
        name: c.metadata.name,
        persistentVolumeClaim: { claimName: `${c.metadata.name}-${w.metadata.name}-0` },
      }));
      add(w, spec.template, claims);
    }
  }
  return pods;
}

/**
 * Pod Security admits the Pod of every workload in `objs` (dry-run). The workloads' ServiceAccounts are
 * created for real first, because a Pod naming a missing ServiceAccount is refused for that reason alone.
 */
export async function assertPodsAdmitted(
  cluster: TestCluster,
  objs: readonly K8sObject[],
  namespace: string,
): Promise<number> {
  const accounts = objs.filter((o) => o.kind === 'ServiceAccount');
  if (accounts.length > 0) await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], { input: toStream(accounts) });
  const pods = podsOfWorkloads(objs, namespace);
  for (const pod of pods) {
    const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: stringify(pod),
      allowFailure: true,
    });
    assert.equal(r.code, 0, `the pod ${pod.metadata.name} is not admitted:\n${r.stderr}`);
  }
  return pods.length;
}
