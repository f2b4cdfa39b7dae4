import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import {
  attachedPods,
  multiNetworkModel,
  networkAddresses,
  policyNetworks,
  type MultiNetworkPolicy,
} from '../../../src/netpol/multinet.js';
import { evaluate, podEndpoint } from '../../../src/netpol/evaluator.js';
import { expectedMatrix } from '../../../src/netpol/matrix.js';

const NET = 'shop/storage';

const status = (entries: object[]): string => JSON.stringify(entries);

function pod(name: string, labels: Record<string, string>, net1?: string, ns = 'shop'): V1Pod {
  const annotations: Record<string, string> = {};
  const entries: object[] = [{ name: 'kstack', interface: 'eth0', ips: [`10.244.0.${name.length}`], default: true }];
  if (net1) entries.push({ name: NET, interface: 'net1', ips: [net1] });
  annotations['k8s.v1.cni.cncf.io/network-status'] = status(entries);
  return {
    metadata: { namespace: ns, name, labels, annotations },
    spec: { containers: [{ name: 'c', ports: [{ name: 'mysql', containerPort: 3306 }] }] },
    status: { phase: 'Running', podIP: '10.244.0.9', podIPs: [{ ip: '10.244.0.9' }], hostIP: '10.77.1.10' },
  };
}

const mnp = (name: string, policyFor: string | undefined, spec: MultiNetworkPolicy['spec']): MultiNetworkPolicy => ({
  apiVersion: 'k8s.cni.cncf.io/v1beta1',
  kind: 'MultiNetworkPolicy',
  metadata: {
    namespace: 'shop',
    name,
    ...(policyFor === undefined ? {} : { annotations: { 'k8s.v1.cni.cncf.io/policy-for': policyFor } }),
  },
  ...(spec ? { spec } : {}),
});

const dbOnly = mnp('db-only', 'storage', {
  podSelector: { matchLabels: { app: 'db' } },
  policyTypes: ['Ingress'],
  ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 3306, protocol: 'TCP' }] }],
});

const namespaces = [{ name: 'shop' }, { name: 'other' }];
const pods = [
  pod('db-a', { app: 'db' }, '10.78.1.2'),
  pod('db-b', { app: 'db' }, '10.78.1.3'),
  pod('web', { app: 'web' }, '10.78.1.4'),
  pod('eth0-only', { app: 'db' }),
];

describe('MultiNetworkPolicy on a secondary network', () => {
  it('reads policy-for: bare names are in the policy namespace, namespace/name as given', () => {
    assert.deepEqual(policyNetworks(mnp('p', 'storage, other/x', undefined)), ['shop/storage', 'other/x']);
  });

  it('refuses a policy without policy-for, or with a malformed entry, naming the policy', () => {
    assert.throws(
      () => policyNetworks(mnp('p', undefined, undefined)),
      /MultiNetworkPolicy shop\/p: annotation k8s.v1.cni.cncf.io\/policy-for is required/,
    );
    assert.throws(
      () => policyNetworks(mnp('p', 'a/b/c', undefined)),
      /policy-for\[0\]: "a\/b\/c" is not a network name/,
    );
  });

  it('knows pods by their addresses on the network, not their pod IPs, and leaves unattached pods out', () => {
    assert.deepEqual(networkAddresses(pods[0] as V1Pod, NET), ['10.78.1.2']);
    assert.deepEqual(networkAddresses(pods[3] as V1Pod, NET), []);
    const attached = attachedPods(pods, NET);
    assert.deepEqual(
      attached.map((p) => [p.name, p.ips, p.hostIP]),
      [
        ['db-a', ['10.78.1.2'], undefined],
        ['db-b', ['10.78.1.3'], undefined],
        ['web', ['10.78.1.4'], undefined],
      ],
    );
  });

  it('db-only: db↔db on 3306 open, web→db closed, db→db on another port closed, web unaffected as a target', () => {
    const model = multiNetworkModel({ network: NET, namespaces, pods, policies: [dbOnly] });
    const ok = (from: string, to: string, port: number): boolean =>
      evaluate(model, { from: podEndpoint('shop', from), to: podEndpoint('shop', to), port }).allowed;
    assert.equal(ok('db-a', 'db-b', 3306), true);
    assert.equal(ok('db-b', 'db-a', 3306), true);
    assert.equal(ok('web', 'db-a', 3306), false);
    assert.equal(ok('db-a', 'db-b', 80), false);
    assert.equal(ok('db-a', 'web', 80), true);
  });

  it('ignores policies for other networks, and NetworkPolicy-like rules match net1 addresses in ipBlocks', () => {
    const elsewhere = mnp('elsewhere', 'other/x', { podSelector: {}, policyTypes: ['Ingress'] });
    const byBlock = mnp('by-block', 'shop/storage', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{ _from: [{ ipBlock: { cidr: '10.78.1.0/24', except: ['10.78.1.4/32'] } }] }],
    });
    const model = multiNetworkModel({ network: NET, namespaces, pods, policies: [elsewhere, byBlock] });
    const m = expectedMatrix(
      model,
      [podEndpoint('shop', 'db-b'), podEndpoint('shop', 'web')],
      [{ to: podEndpoint('shop', 'db-a'), port: 3306 }],
    );
    assert.deepEqual(
      m.cells.map((row) => row.map((c) => c.open)),
      [[true], [false]],
    );
  });

  it('rejects a network that is not namespace/name', () => {
    assert.throws(
      () => multiNetworkModel({ network: 'storage', namespaces, pods, policies: [] }),
      /network: "storage" must be namespace\/name/,
    );
  });
});
