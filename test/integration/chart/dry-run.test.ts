// Every object the chart renders is accepted by the real API server (kubectl apply --dry-run=server), in a
// namespace that enforces Pod Security "restricted"; the pods the Deployments would create are admitted
// by that policy too (Pod Security only warns on Deployments, it enforces on Pods).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { helmTemplate, webstackChartDir } from '../../../src/chart/helm.js';
import { ofKind, parseManifests } from '../../../src/chart/manifests.js';
import { stringify } from 'yaml';
import { assertPodsAdmitted, assertServerAccepts, podsOfWorkloads, useTestNamespace } from '../../helpers/dry-run.js';

const variants: { name: string; values?: Record<string, unknown>; valuesFiles?: string[] }[] = [
  { name: 'defaults' },
  // values-local.yaml turns the secondary network on (forced: the local cluster always has the Multus CRDs);
  // this control plane has none, so it is off here. test/integration/chart/network/dry-run.test.ts applies
  // values-local.yaml with it on, against stand-in CRDs. The same for the monitoring objects (values-local
  // renders them always: `cluster up` installs their CRDs): "auto" renders them only where the API is served.
  {
    name: 'values-local.yaml',
    valuesFiles: [join(webstackChartDir, 'values-local.yaml')],
    values: { networks: { secondary: { enabled: false } }, monitoring: { operator: 'auto' } },
  },
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
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'kubernetes.io/hostname',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'web' } },
          },
        ],
      },
      podwatch: { scope: 'cluster', args: ['--log', 'json'] },
      global: { imagePullSecrets: ['pull'] },
    },
  },
  {
    name: 'webinfo and podwatch off',
    values: {
      webinfo: { enabled: false },
      podwatch: { enabled: false },
      web: { podDisruptionBudget: { enabled: false } },
    },
  },
];

describe('webstack chart: server-side dry-run against the real control plane', () => {
  const suite = useTestNamespace('chart', { restricted: true });

  for (const variant of variants) {
    it(`accepts every object rendered with ${variant.name}, and admits the pods as "restricted"`, async () => {
      const objs = parseManifests(
        await helmTemplate({
          release: 'ws',
          namespace: suite.ns,
          values: variant.values,
          valuesFiles: variant.valuesFiles,
        }),
      );
      assert.ok(objs.length > 0);
      await assertServerAccepts(suite.cluster, objs);
      assert.ok((await assertPodsAdmitted(suite.cluster, objs, suite.ns)) > 0, 'some workload pods were checked');
    });
  }

  it('the namespace really enforces "restricted": a web pod that may escalate privileges is refused', async () => {
    const objs = parseManifests(
      await helmTemplate({
        release: 'bad',
        namespace: suite.ns,
        values: { web: { securityContext: { allowPrivilegeEscalation: true } } },
      }),
    );
    const web = ofKind(objs, 'Deployment', 'web')[0];
    assert.ok(web);
    const [pod] = podsOfWorkloads([web], suite.ns);
    const res = await suite.cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: stringify(pod),
      allowFailure: true,
    });
    assert.notEqual(res.code, 0, 'the API server admitted a pod that violates "restricted"');
    assert.match(res.stderr, /violates PodSecurity "restricted:[^"]*": allowPrivilegeEscalation != false/);
  });
});
