// The backup objects of the webstack chart are accepted by the real API server (kubectl apply
// --dry-run=server) in a namespace that enforces Pod Security "restricted": the CronJobs, the restore
// Job, the Secrets, the metrics Service, and the db member pod with its binlog archiver sidecar.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { helmTemplate } from '../../../src/chart/helm.js';
import { ofKind, parseManifests, type K8sObject } from '../../../src/chart/manifests.js';
import { testCluster, TestNamespaces, type TestCluster } from '../../helpers/cluster.js';

const toStream = (objs: readonly K8sObject[]): string => objs.map((o) => stringify(o)).join('---\n');

describe('webstack chart backup: server-side dry-run against the real control plane', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let ns: string;

  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    ns = await namespaces.create('chart-backup', { restricted: true });
  });
  after(() => namespaces.cleanup());

  it('accepts every backup object and the db StatefulSet with its archiver, and admits the Jobs\' and member\'s pods as "restricted"', async () => {
    const values = { backup: { enabled: true, storage: { bucket: 'backups', endpoint: 'http://minio:9000' }, restore: { enabled: true, toTime: '2026-11-25T18:30:00Z', runId: 'r1' } } };
    const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: ns, values }))
      .filter((o) => ['backup', 'db'].includes(o.metadata.labels?.['app.kubernetes.io/component'] ?? ''));
    assert.equal(ofKind(objs, 'CronJob').length, 2);
    assert.equal(ofKind(objs, 'Job').length, 1);
    const res = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-', '-o', 'name'], { input: toStream(objs), allowFailure: true });
    assert.equal(res.code, 0, `kubectl apply --dry-run=server failed:\n${res.stderr}`);
    assert.doesNotMatch(res.stderr, /would violate PodSecurity/, res.stderr);
    assert.equal(res.stdout.trim().split('\n').length, objs.length, `every object was applied:\n${res.stdout}`);
    // Pods are checked by admission only when created: create each template as a Pod (dry-run).
    const podSpecs: { name: string; spec: unknown; labels: Record<string, string> }[] = [];
    for (const cj of ofKind(objs, 'CronJob')) {
      const t = (cj.spec as { jobTemplate: { spec: { template: { metadata: { labels: Record<string, string> }; spec: unknown } } } }).jobTemplate.spec.template;
      podSpecs.push({ name: `${cj.metadata.name}-x`, spec: t.spec, labels: t.metadata.labels });
    }
    for (const w of [...ofKind(objs, 'Job'), ...ofKind(objs, 'StatefulSet')]) {
      const t = (w.spec as { template: { metadata: { labels: Record<string, string> }; spec: { volumes?: unknown[] } } }).template;
      const extra = w.kind === 'StatefulSet' ? [{ name: 'data', persistentVolumeClaim: { claimName: `data-${w.metadata.name}-0` } }] : [];
      podSpecs.push({ name: `${w.metadata.name}-0`, spec: { ...t.spec, volumes: [...(t.spec.volumes ?? []), ...extra] }, labels: t.metadata.labels });
    }
    for (const p of podSpecs) {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: ns, labels: p.labels }, spec: p.spec };
      const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: stringify(pod), allowFailure: true });
      assert.equal(r.code, 0, `the pod ${p.name} is not admitted:\n${r.stderr}`);
    }
  });
});
