// Every object the chart renders is accepted by the real API server (kubectl apply --dry-run=server), in a
// namespace that enforces Pod Security "restricted"; the pods the Deployments would create are admitted
// by that policy too (Pod Security only warns on Deployments, it enforces on Pods).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { helmTemplate, webstackChartDir } from '../../../src/chart/helm.js';
import { ofKind, parseManifests, type K8sObject } from '../../../src/chart/manifests.js';
import { testCluster, TestNamespaces, type TestCluster } from '../../helpers/cluster.js';

const variants: { name: string; values?: Record<string, unknown>; valuesFiles?: string[] }[] = [
  { name: 'defaults' },
  { name: 'values-local.yaml', valuesFiles: [join(webstackChartDir, 'values-local.yaml')] },
  {
    name: 'everything optional on',
    values: {
      web: {
        ingress: { enabled: true, className: 'nginx', tls: [{ secretName: 'web-tls', hosts: ['webstack.local'] }] },
        autoscaling: { enabled: true, targetMemoryUtilizationPercentage: 80 },
        service: { type: 'NodePort' },
        config: { extraServers: { status: 'server {\n    listen 8082;\n    location / { stub_status; }\n}' } },
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'web' } } }],
      },
      podwatch: { scope: 'cluster', args: ['--log', 'json'] },
      global: { imagePullSecrets: ['pull'] },
    },
  },
  { name: 'webinfo and podwatch off', values: { webinfo: { enabled: false }, podwatch: { enabled: false }, web: { podDisruptionBudget: { enabled: false } } } },
];

const toStream = (objs: readonly K8sObject[]): string => objs.map((o) => stringify(o)).join('---\n');

/** The Pod a Deployment's ReplicaSet would create. */
function podOf(deployment: K8sObject, namespace: string): K8sObject {
  const template = (deployment.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: unknown } }).template;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `${deployment.metadata.name}-dryrun`, namespace, labels: template.metadata?.labels ?? {} },
    spec: template.spec,
  };
}

describe('webstack chart: server-side dry-run against the real control plane', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let ns: string;

  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    ns = await namespaces.create('chart', { restricted: true });
  });
  after(() => namespaces.cleanup());

  for (const variant of variants) {
    it(`accepts every object rendered with ${variant.name}, and admits the pods as "restricted"`, async () => {
      const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: ns, values: variant.values, valuesFiles: variant.valuesFiles }));
      assert.ok(objs.length > 0);
      const res = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-', '-o', 'name'], { input: toStream(objs), allowFailure: true });
      assert.equal(res.code, 0, `kubectl apply --dry-run=server failed:\n${res.stderr}`);
      assert.doesNotMatch(res.stderr, /would violate PodSecurity/, res.stderr);
      assert.equal(res.stdout.trim().split('\n').length, objs.length, `every object was applied:\n${res.stdout}`);

      const accounts = ofKind(objs, 'ServiceAccount');
      if (accounts.length > 0) await cluster.kubectl(['apply', '-f', '-'], { input: toStream(accounts) });
      for (const d of ofKind(objs, 'Deployment')) {
        const pod = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: stringify(podOf(d, ns)), allowFailure: true });
        assert.equal(pod.code, 0, `the pod of ${d.metadata.name} is not admitted:\n${pod.stderr}`);
      }
    });
  }

  it('the namespace really enforces "restricted": a web pod that may escalate privileges is refused', async () => {
    const objs = parseManifests(await helmTemplate({ release: 'bad', namespace: ns, values: { web: { securityContext: { allowPrivilegeEscalation: true } } } }));
    const web = ofKind(objs, 'Deployment', 'web')[0];
    assert.ok(web);
    const res = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: stringify(podOf(web, ns)), allowFailure: true });
    assert.notEqual(res.code, 0, 'the API server admitted a pod that violates "restricted"');
    assert.match(res.stderr, /violates PodSecurity "restricted:[^"]*": allowPrivilegeEscalation != false/);
  });
});
