// The local cluster's load balancer, its pure decisions: which Services it serves, which address each
// gets, where a node's health is checked, when a node is a next hop, the routes it asks for and how it
// reads back the routes the host has.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import {
  addressPool,
  assignAddresses,
  desiredStatus,
  healthCheckPath,
  healthCheckPort,
  KUBE_PROXY_HEALTH_PORT,
  LB_CLASS,
  nextHealth,
  nextHops,
  RISE,
  routeArgs,
  routedAddresses,
  servedServices,
  statusUpToDate,
  type NodeHealth,
} from '../../../../src/cluster/addons/load-balancer.js';

const SUBNET = '10.77.65.0/24';
const pool = addressPool(SUBNET);

function svc(
  name: string,
  o: { namespace?: string; type?: string; cls?: string; ip?: string; deleting?: boolean } = {},
): k8s.V1Service {
  return {
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      ...(o.deleting ? { deletionTimestamp: new Date('2026-01-01T00:00:00Z') } : {}),
    },
    spec: {
      type: o.type ?? 'LoadBalancer',
      ...(o.cls !== undefined ? { loadBalancerClass: o.cls } : {}),
    },
    ...(o.ip !== undefined ? { status: { loadBalancer: { ingress: [{ ip: o.ip }] } } } : {}),
  };
}

function withStatus(s: k8s.V1Service, loadBalancer: k8s.V1LoadBalancerStatus): k8s.V1Service {
  s.status = { loadBalancer };
  return s;
}

describe('load balancer: address pool', () => {
  it('hands out the 50 addresses .200 – .249 of the node /24', () => {
    assert.equal(pool.length, 50);
    assert.equal(new Set(pool).size, 50);
    assert.equal(pool[0], '10.77.65.200');
    assert.equal(pool[49], '10.77.65.249');
    assert.ok(pool.every((a) => /^10\.77\.65\.(2[0-4]\d)$/.test(a)));
    assert.deepEqual(addressPool('192.168.3.0/24').slice(0, 2), ['192.168.3.200', '192.168.3.201']);
  });
});

describe('load balancer: served Services', () => {
  it('serves LoadBalancer Services with no class or its own, not ClusterIP, other classes or deleted ones', () => {
    const served = servedServices([
      svc('plain'),
      svc('ours', { cls: LB_CLASS }),
      svc('theirs', { cls: 'metallb.io/bgp' }),
      svc('internal', { type: 'ClusterIP' }),
      svc('nodeport', { type: 'NodePort' }),
      svc('going', { deleting: true }),
    ]);
    assert.deepEqual(
      served.map((s) => s.metadata?.name),
      ['plain', 'ours'],
    );
    assert.equal(LB_CLASS, 'kstack.io/local');
  });
});

describe('load balancer: address assignment', () => {
  it('keeps the address a Service already has in the pool', () => {
    const got = assignAddresses([svc('web', { ip: '10.77.65.230' }), svc('podwatch')], pool);
    assert.equal(got.get('default/web'), '10.77.65.230');
    assert.equal(got.get('default/podwatch'), '10.77.65.200');
  });

  it('gives an address outside the pool up for a pool one', () => {
    const got = assignAddresses([svc('web', { ip: '192.0.2.7' })], pool);
    assert.equal(got.get('default/web'), '10.77.65.200');
  });

  it('never hands one address to two Services, even when both claim it', () => {
    const got = assignAddresses(
      [svc('b', { ip: '10.77.65.205' }), svc('a', { ip: '10.77.65.205' }), svc('c', { ip: '10.77.65.200' })],
      pool,
    );
    assert.equal(new Set(got.values()).size, 3);
    // The first by namespace/name keeps the address; the other gets the first free one.
    assert.equal(got.get('default/a'), '10.77.65.205');
    assert.equal(got.get('default/c'), '10.77.65.200');
    assert.equal(got.get('default/b'), '10.77.65.201');
  });

  it('hands out the first free addresses in namespace/name order, whatever the list order', () => {
    const services = [svc('web', { namespace: 'zeta' }), svc('web', { namespace: 'alpha' }), svc('db')];
    const expected = new Map([
      ['alpha/web', '10.77.65.200'],
      ['default/db', '10.77.65.201'],
      ['zeta/web', '10.77.65.202'],
    ]);
    assert.deepEqual(assignAddresses(services, pool), expected);
    assert.deepEqual(assignAddresses([...services].reverse(), pool), expected);
  });

  it('ignores Services it does not serve', () => {
    const got = assignAddresses([svc('internal', { type: 'ClusterIP' }), svc('theirs', { cls: 'other' })], pool);
    assert.equal(got.size, 0);
  });

  it('gives none to Services beyond the pool', () => {
    const small = pool.slice(0, 2);
    const got = assignAddresses([svc('c'), svc('b', { ip: small[1] }), svc('a')], small);
    assert.deepEqual(
      got,
      new Map([
        ['default/a', '10.77.65.200'],
        ['default/b', '10.77.65.201'],
      ]),
    );
    assert.equal(got.has('default/c'), false);
  });
});

describe('load balancer: Service status', () => {
  it('is up to date when it carries exactly the address, or nothing when there is none', () => {
    assert.equal(statusUpToDate(svc('web', { ip: '10.77.65.200' }), '10.77.65.200'), true);
    assert.equal(statusUpToDate(svc('web', { ip: '10.77.65.201' }), '10.77.65.200'), false);
    assert.equal(statusUpToDate(svc('web'), '10.77.65.200'), false);
    assert.equal(statusUpToDate(svc('web'), undefined), true);
    assert.equal(statusUpToDate(svc('web', { ip: '10.77.65.200' }), undefined), false);
    const two = withStatus(svc('web'), { ingress: [{ ip: '10.77.65.200' }, { ip: '10.77.65.201' }] });
    assert.equal(statusUpToDate(two, '10.77.65.200'), false);
  });

  it('the desired status names the address as a VIP, or is empty', () => {
    assert.deepEqual(desiredStatus('10.77.65.200'), { ingress: [{ ip: '10.77.65.200', ipMode: 'VIP' }] });
    assert.deepEqual(desiredStatus(undefined), {});
    // What it writes is what statusUpToDate then accepts.
    assert.equal(statusUpToDate(withStatus(svc('web'), desiredStatus('10.77.65.203')), '10.77.65.203'), true);
    assert.equal(statusUpToDate(withStatus(svc('web'), desiredStatus(undefined)), undefined), true);
  });
});

describe('load balancer: health checks', () => {
  const withPolicy = (policy: string, healthCheckNodePort?: number): k8s.V1Service => {
    const s = svc('web');
    s.spec = {
      type: 'LoadBalancer',
      externalTrafficPolicy: policy,
      ...(healthCheckNodePort !== undefined ? { healthCheckNodePort } : {}),
    };
    return s;
  };

  it("Local with a healthCheckNodePort: that port at '/' (the node holds a ready endpoint)", () => {
    const s = withPolicy('Local', 31234);
    assert.equal(healthCheckPort(s), 31234);
    assert.equal(healthCheckPath(s), '/');
  });

  it("Cluster (or Local without a port yet): kube-proxy's 10256 /healthz", () => {
    for (const s of [withPolicy('Cluster'), withPolicy('Cluster', 31234), withPolicy('Local'), svc('web')]) {
      assert.equal(healthCheckPort(s), 10256);
      assert.equal(healthCheckPath(s), '/healthz');
    }
    assert.equal(KUBE_PROXY_HEALTH_PORT, 10256);
  });

  it('a node is out after one failed check and back only after RISE good ones', () => {
    assert.equal(RISE, 2);
    let h: NodeHealth | undefined = nextHealth(undefined, true);
    assert.equal(h.healthy, true, 'a node seen for the first time and answering is a next hop at once');
    h = nextHealth(h, true);
    assert.equal(h.healthy, true);
    h = nextHealth(h, false);
    assert.equal(h.healthy, false, 'one missed check takes it out');
    h = nextHealth(h, true);
    assert.equal(h.healthy, false, 'one good check is not enough');
    h = nextHealth(h, false);
    assert.equal(h.healthy, false);
    h = nextHealth(h, true);
    assert.equal(h.healthy, false, 'the streak starts again after a failure');
    h = nextHealth(h, true);
    assert.equal(h.healthy, true, 'two good checks in a row bring it back');
    h = nextHealth(h, true);
    assert.equal(h.healthy, true);
  });

  it('a fresh node that does not answer is not a next hop', () => {
    assert.equal(nextHealth(undefined, false).healthy, false);
  });
});

describe('load balancer: next hops and routes', () => {
  const nodes = [
    { name: 'web-1', ip: '10.77.65.10' },
    { name: 'web-2', ip: '10.77.65.11' },
    { name: 'db-1', ip: '10.77.65.12' },
  ];

  it('routes to the healthy nodes, in node order', () => {
    assert.deepEqual(nextHops(nodes, new Set(['db-1', 'web-1'])), ['10.77.65.10', '10.77.65.12']);
    assert.deepEqual(nextHops(nodes, new Set(['web-2'])), ['10.77.65.11']);
  });

  it('fails open: with no healthy node, every node stays a next hop', () => {
    assert.deepEqual(nextHops(nodes, new Set()), ['10.77.65.10', '10.77.65.11', '10.77.65.12']);
    assert.deepEqual(nextHops(nodes, new Set(['not-a-node'])), ['10.77.65.10', '10.77.65.11', '10.77.65.12']);
  });

  it('one hop: a plain route via it on the bridge', () => {
    assert.deepEqual(routeArgs('10.77.65.200', ['10.77.65.10'], 'kstack-br'), [
      'route',
      'replace',
      '10.77.65.200/32',
      'via',
      '10.77.65.10',
      'dev',
      'kstack-br',
    ]);
  });

  it('several hops: one multipath route of equal weights', () => {
    assert.equal(
      routeArgs('10.77.65.200', ['10.77.65.10', '10.77.65.11'], 'kstack-br').join(' '),
      'route replace 10.77.65.200/32 nexthop via 10.77.65.10 dev ' +
        'kstack-br weight 1 nexthop via 10.77.65.11 dev kstack-br weight 1',
    );
  });
});

describe('load balancer: routes read back from the host', () => {
  it('reads pool addresses and their hops from `ip -4 route show dev BR`, the subnet route ignored', () => {
    const routeShow = [
      '10.77.65.0/24 proto kernel scope link src 10.77.65.1 ',
      '10.77.65.200 ',
      '\tnexthop via 10.77.65.10 weight 1 ',
      '\tnexthop via 10.77.65.11 weight 1 ',
      '10.77.65.201 via 10.77.65.12 ',
      '',
    ].join('\n');
    assert.deepEqual(
      routedAddresses(routeShow, pool),
      new Map([
        ['10.77.65.200', ['10.77.65.10', '10.77.65.11']],
        ['10.77.65.201', ['10.77.65.12']],
      ]),
    );
  });

  it('reads the same from an unfiltered `ip -4 route show`, where each line names its dev', () => {
    // What iproute2 6.1 prints for the routes routeArgs asks for (a multipath route is only listed
    // without a dev filter).
    const routeShow = [
      'default via 192.168.1.1 dev eth0 proto dhcp src 192.168.1.5 metric 100 ',
      '10.77.65.0/24 dev kstack-br proto kernel scope link src 10.77.65.1 ',
      '10.77.65.200 ',
      '\tnexthop via 10.77.65.10 dev kstack-br weight 1 ',
      '\tnexthop via 10.77.65.11 dev kstack-br weight 1 ',
      '10.77.65.201 via 10.77.65.12 dev kstack-br ',
      '192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.5 ',
      '',
    ].join('\n');
    assert.deepEqual(
      routedAddresses(routeShow, pool),
      new Map([
        ['10.77.65.200', ['10.77.65.10', '10.77.65.11']],
        ['10.77.65.201', ['10.77.65.12']],
      ]),
    );
  });

  it('leaves out routes to addresses outside the pool, hops and all', () => {
    const routeShow = [
      '10.77.65.5 via 10.77.65.10 ',
      '10.77.65.199 ',
      '\tnexthop via 10.77.65.10 weight 1 ',
      '\tnexthop via 10.77.65.11 weight 1 ',
      '10.77.65.249/32 via 10.77.65.11 ',
    ].join('\n');
    assert.deepEqual(routedAddresses(routeShow, pool), new Map([['10.77.65.249', ['10.77.65.11']]]));
    assert.deepEqual(routedAddresses('', pool), new Map());
  });
});
