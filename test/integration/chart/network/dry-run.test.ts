// Chart part 3 against the real API server (kubectl apply --dry-run=server): NetworkPolicies with every
// option, placement presets with explicit values, the secondary network (NetworkAttachmentDefinition,
// MultiNetworkPolicies), PodMonitors and the PrometheusRule, the Pod Security namespace — in a namespace
// enforcing "restricted", whose pods (with exporter sidecars) are admitted.
// The Multus and Prometheus Operator CRDs are not part of the control plane: when absent, the test
// registers schema-less stand-ins for their kinds (same group, version, kind and scope, any fields), so the
// API server checks names, namespaces, metadata and routing; the field schemas of those projects are not
// checked here. Stand-ins it created are removed afterwards; existing CRDs are left alone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { helmTemplate, webstackChartDir } from '../../../../src/chart/helm.js';
import { parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';
import { testCluster, TestNamespaces, type TestCluster } from '../../../helpers/cluster.js';
import { assertPodsAdmitted, assertServerAccepts, toStream } from '../../../helpers/dry-run.js';

const standIns: { group: string; version: string; kind: string; plural: string }[] = [
  {
    group: 'k8s.cni.cncf.io',
    version: 'v1',
    kind: 'NetworkAttachmentDefinition',
    plural: 'network-attachment-definitions',
  },
  { group: 'k8s.cni.cncf.io', version: 'v1beta1', kind: 'MultiNetworkPolicy', plural: 'multi-networkpolicies' },
  { group: 'monitoring.coreos.com', version: 'v1', kind: 'PodMonitor', plural: 'podmonitors' },
  { group: 'monitoring.coreos.com', version: 'v1', kind: 'PrometheusRule', plural: 'prometheusrules' },
];

function crd(s: (typeof standIns)[number]): K8sObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${s.plural}.${s.group}`, labels: { 'kstack.io/test': 'chart-network-standin' } },
    spec: {
      group: s.group,
      scope: 'Namespaced',
      names: { kind: s.kind, plural: s.plural, singular: s.kind.toLowerCase(), listKind: `${s.kind}List` },
      versions: [
        {
          name: s.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}

const API = ['--api-versions', 'k8s.cni.cncf.io/v1', '--api-versions', 'monitoring.coreos.com/v1'];

const variants: {
  name: string;
  values?: Record<string, unknown>;
  valuesFiles?: string[];
  extraArgs?: string[];
  expectKinds: string[];
}[] = [
  {
    name: 'every network policy option, hard placement with explicit values, Multus and the Operator present',
    extraArgs: API,
    values: {
      placement: { preset: 'hard' },
      networkPolicy: {
        enforcedBy: 'kube-router',
        web: {
          allowFromAnywhere: false,
          fromNamespaces: ['ingress-nginx'],
          fromCIDRs: ['10.0.0.0/8', '192.168.0.0/16'],
        },
        apiServer: { cidrs: ['10.77.0.0/16', '172.16.0.1/32'], ports: [6443] },
        objectStorage: { cidrs: ['192.0.2.0/24'], namespaces: ['minio'], ports: [9000] },
        metrics: { fromNamespaces: ['monitoring', 'observability'] },
      },
      networks: {
        secondary: {
          enabled: true,
          type: 'macvlan',
          master: 'eth1',
          mode: 'bridge',
          ipam: 'host-local',
          subnet: '10.78.0.0/24',
          rangeStart: '10.78.0.10',
          rangeEnd: '10.78.0.200',
          mtu: 1450,
          attachBackup: true,
        },
      },
      monitoring: { operator: 'auto', labels: { release: 'kps' }, interval: '15s', scrapeConfig: { create: true } },
      web: {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                topologyKey: 'kubernetes.io/hostname',
                labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'web' } },
              },
            ],
          },
        },
        priorityClassName: '',
      },
      db: {
        tolerations: [{ key: 'maintenance', operator: 'Exists', effect: 'NoSchedule' }],
        nodeSelector: { 'kubernetes.io/os': 'linux' },
      },
    },
    expectKinds: ['MultiNetworkPolicy', 'NetworkAttachmentDefinition', 'NetworkPolicy', 'PodMonitor', 'PrometheusRule'],
  },
  {
    name: 'values-local.yaml with the secondary network on (bridge + whereabouts) and the Operator forced',
    valuesFiles: [join(webstackChartDir, 'values-local.yaml')],
    values: { networks: { secondary: { enabled: true, force: true } }, monitoring: { operator: 'always' } },
    expectKinds: ['MultiNetworkPolicy', 'NetworkAttachmentDefinition', 'NetworkPolicy', 'PodMonitor', 'PrometheusRule'],
  },
  {
    name: 'soft placement, no exporters, no policies',
    values: {
      placement: { preset: 'soft' },
      networkPolicy: { enabled: false },
      web: { metrics: { enabled: false } },
      db: { metrics: { enabled: false } },
      monitoring: { annotations: false },
    },
    expectKinds: [],
  },
];

describe('webstack chart part 3: server-side dry-run against the real control plane', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let ns: string;
  const created: string[] = [];

  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    ns = await namespaces.create('chart3', { restricted: true });
    for (const s of standIns) {
      const name = `${s.plural}.${s.group}`;
      const have = await cluster.kubectl(['get', 'crd', name, '-o', 'name'], { allowFailure: true });
      if (have.code === 0) continue;
      await cluster.kubectl(['apply', '-f', '-'], { input: stringify(crd(s)) });
      created.push(name);
    }
    if (created.length > 0)
      await cluster.kubectl([
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        ...created.map((n) => `crd/${n}`),
      ]);
  });
  after(async () => {
    await namespaces.cleanup();
    if (created.length > 0)
      await cluster.kubectl(['delete', '--ignore-not-found', ...created.map((n) => `crd/${n}`)], {
        allowFailure: true,
      });
  });

  for (const v of variants) {
    it(`accepts every object rendered with ${v.name}, and admits the pods as "restricted"`, async () => {
      const objs = parseManifests(
        await helmTemplate({
          release: 'ws',
          namespace: ns,
          values: v.values,
          valuesFiles: v.valuesFiles,
          extraArgs: v.extraArgs,
        }),
      );
      const kinds = [...new Set(objs.map((o) => o.kind))];
      for (const k of v.expectKinds) assert.ok(kinds.includes(k), `${k} is rendered (have ${kinds.join(', ')})`);
      if (v.expectKinds.length === 0) assert.ok(!kinds.includes('NetworkPolicy'));
      await assertServerAccepts(cluster, objs);
      await assertPodsAdmitted(cluster, objs, ns);
    });
  }

  it('the Pod Security namespace object is accepted, with the labels the API server then enforces', async () => {
    const objs = parseManifests(
      await helmTemplate({ release: 'ws', namespace: ns, values: { podSecurity: { labelNamespace: true } } }),
    );
    const namespace = objs.filter((o) => o.kind === 'Namespace');
    assert.equal(namespace.length, 1);
    const res = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-', '-o', 'jsonpath={.metadata.labels}'], {
      input: toStream(namespace),
      allowFailure: true,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /"pod-security.kubernetes.io\/enforce":"restricted"/);
  });
});
