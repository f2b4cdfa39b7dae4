// The db objects of the webstack chart are accepted by the real API server (kubectl apply
// --dry-run=server) in a namespace that enforces Pod Security "restricted", and the Pod the StatefulSet
// controller would create from the template (with its claim bound in) is admitted too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { helmTemplate } from '../../../src/chart/helm.js';
import { ofKind, parseManifests, type K8sObject } from '../../../src/chart/manifests.js';
import { testCluster, TestNamespaces, type TestCluster } from '../../helpers/cluster.js';

const variants: { name: string; db: Record<string, unknown> }[] = [
  { name: 'defaults (3-member Galera)', db: {} },
  { name: 'standalone', db: { mode: 'standalone', replicaCount: 1 } },
  {
    name: 'metrics, existingSecret, 5 members, custom storage',
    db: { replicaCount: 5, metrics: { enabled: true }, auth: { existingSecret: 'db-creds', database: 'shop', username: 'shop' }, persistence: { size: '1Gi', storageClass: 'local-path', accessModes: ['ReadWriteOncePod'] }, service: { type: 'NodePort', port: 3306, annotations: {} } },
  },
];

const toStream = (objs: readonly K8sObject[]): string => objs.map((o) => stringify(o)).join('---\n');

/** The Pod the StatefulSet controller creates for ordinal 0: the template plus the claim of its volumeClaimTemplate. */
function podOf(sts: K8sObject, namespace: string): K8sObject {
  const spec = sts.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: { volumes?: unknown[] } }; volumeClaimTemplates?: { metadata: { name: string } }[] };
  const podName = `${sts.metadata.name}-0`;
  const claims = (spec.volumeClaimTemplates ?? []).map((c) => ({ name: c.metadata.name, persistentVolumeClaim: { claimName: `${c.metadata.name}-${podName}` } }));
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: podName, namespace, labels: spec.template.metadata?.labels ?? {} },
    spec: { ...spec.template.spec, hostname: podName, volumes: [...(spec.template.spec.volumes ?? []), ...claims] },
  };
}

describe('webstack chart db: server-side dry-run against the real control plane', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let ns: string;

  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    ns = await namespaces.create('chart-db', { restricted: true });
  });
  after(() => namespaces.cleanup());

  for (const variant of variants) {
    it(`accepts every db object rendered with ${variant.name}, and admits its pod as "restricted"`, async () => {
      const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: ns, values: { db: variant.db } }))
        .filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'db');
      assert.ok(ofKind(objs, 'StatefulSet').length === 1);
      const res = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-', '-o', 'name'], { input: toStream(objs), allowFailure: true });
      assert.equal(res.code, 0, `kubectl apply --dry-run=server failed:\n${res.stderr}`);
      assert.doesNotMatch(res.stderr, /would violate PodSecurity/, res.stderr);
      assert.equal(res.stdout.trim().split('\n').length, objs.length, `every object was applied:\n${res.stdout}`);
      for (const sts of ofKind(objs, 'StatefulSet')) {
        const pod = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: stringify(podOf(sts, ns)), allowFailure: true });
        assert.equal(pod.code, 0, `the pod of ${sts.metadata.name} is not admitted:\n${pod.stderr}`);
      }
    });
  }

  it('the namespace really enforces "restricted": a db pod running as root is refused', async () => {
    const objs = parseManifests(await helmTemplate({ release: 'bad', namespace: ns, values: { db: { podSecurityContext: { runAsUser: 0, runAsNonRoot: false } } } }));
    const sts = ofKind(objs, 'StatefulSet').find((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'db');
    assert.ok(sts);
    const pod = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: stringify(podOf(sts, ns)), allowFailure: true });
    assert.notEqual(pod.code, 0);
    assert.match(pod.stderr, /violates PodSecurity "restricted/);
  });
});
