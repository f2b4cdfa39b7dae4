import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { isPolicyGoverned, namespaceInfo, networkPoliciesOf, podInfo } from '../../../src/netpol/objects.js';
import { buildModel, evaluate, podEndpoint } from '../../../src/netpol/evaluator.js';

const pod = (over: Partial<V1Pod> = {}): V1Pod => ({
  metadata: { namespace: 'shop', name: 'db-0', labels: { app: 'db' } },
  spec: {
    containers: [
      {
        name: 'mariadb',
        ports: [
          { name: 'mysql', containerPort: 3306 },
          { name: 'galera', containerPort: 4567, protocol: 'TCP' },
        ],
      },
    ],
    initContainers: [
      { name: 'install', ports: [{ name: 'ignored', containerPort: 9999 }] },
      { name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'proxy', containerPort: 15001 }] },
    ],
  },
  status: {
    phase: 'Running',
    podIP: '10.244.2.10',
    podIPs: [{ ip: '10.244.2.10' }, { ip: 'fd00:2::10' }],
    hostIP: '10.77.0.3',
  },
  ...over,
});

describe('API objects to evaluator inputs', () => {
  it('takes labels, every pod IP, the host IP and the ports of containers and sidecars', () => {
    assert.deepEqual(podInfo(pod()), {
      namespace: 'shop',
      name: 'db-0',
      labels: { app: 'db' },
      ips: ['10.244.2.10', 'fd00:2::10'],
      hostIP: '10.77.0.3',
      ports: [
        { name: 'mysql', port: 3306, protocol: 'TCP' },
        { name: 'galera', port: 4567, protocol: 'TCP' },
        { name: 'proxy', port: 15001, protocol: 'TCP' },
      ],
    });
  });

  it('falls back to status.podIP and feeds the evaluator directly', () => {
    const p = podInfo(pod({ status: { podIP: '10.244.2.11' } }));
    assert.deepEqual(p.ips, ['10.244.2.11']);
    const m = buildModel({
      namespaces: [namespaceInfo({ metadata: { name: 'shop', labels: { team: 'a' } } })],
      pods: [p],
      policies: [],
    });
    assert.deepEqual(m.namespaces.get('shop'), { team: 'a', 'kubernetes.io/metadata.name': 'shop' });
    assert.equal(
      evaluate(m, { from: podEndpoint('shop', 'db-0'), to: podEndpoint('shop', 'db-0'), port: 3306 }).allowed,
      true,
    );
  });

  it('leaves out hostNetwork pods and pods without an IP or that have finished', () => {
    assert.equal(isPolicyGoverned(pod()), true);
    assert.equal(isPolicyGoverned(pod({ spec: { containers: [], hostNetwork: true } })), false);
    assert.equal(isPolicyGoverned(pod({ status: { phase: 'Pending' } })), false);
    assert.equal(isPolicyGoverned(pod({ status: { phase: 'Succeeded', podIP: '10.244.2.10' } })), false);
  });

  it('refuses objects without names', () => {
    assert.throws(() => podInfo({ metadata: { name: 'x' } }), /pod without metadata\.namespace/);
    assert.throws(() => namespaceInfo({ metadata: {} }), /namespace without metadata\.name/);
  });
});

describe('NetworkPolicies from rendered manifests', () => {
  it('keeps networking.k8s.io/v1 policies, fills in the release namespace, and sets aside look-alikes', () => {
    const objects = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'deny' },
        spec: { podSelector: {} },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'dns', namespace: 'kube-system' },
        spec: { podSelector: {} },
      },
      { apiVersion: 'crd.projectcalico.org/v1', kind: 'NetworkPolicy', metadata: { name: 'calico' } },
    ];
    const { policies, ignored } = networkPoliciesOf(objects, 'shop');
    assert.deepEqual(
      policies.map((p) => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`),
      ['shop/deny', 'kube-system/dns'],
    );
    assert.deepEqual(ignored, ['crd.projectcalico.org/v1 NetworkPolicy/calico']);
    assert.equal(objects[1]?.metadata.namespace, undefined, 'the input is not modified');
  });
});
