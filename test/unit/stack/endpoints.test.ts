// Where users reach the release: the Service of a component and the URL of its load-balancer address.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { componentService, loadBalancerUrl } from '../../../src/stack/endpoints.js';

function service(
  name: string,
  component: string | undefined,
  ports: k8s.V1ServicePort[],
  o: { type?: string; ingress?: k8s.V1LoadBalancerIngress[] } = {},
): k8s.V1Service {
  return {
    metadata: {
      name,
      labels: {
        'app.kubernetes.io/instance': 'demo',
        ...(component !== undefined ? { 'app.kubernetes.io/component': component } : {}),
      },
    },
    spec: { type: o.type ?? 'ClusterIP', ports },
    ...(o.ingress ? { status: { loadBalancer: { ingress: o.ingress } } } : {}),
  };
}

describe('componentService', () => {
  const services = [
    service('demo-db', 'db', [{ name: 'mysql', port: 3306 }]),
    service('demo-web', 'web', [
      { name: 'metrics', port: 9100 },
      { name: 'http', port: 8080 },
    ]),
    service('demo-podwatch', 'podwatch', [{ name: 'view', port: 7070 }]),
    service('unlabelled', undefined, [{ name: 'http', port: 80 }]),
  ];

  it('finds the Service by its component label and prefers the port named http', () => {
    const found = componentService(services, 'web');
    assert.equal(found?.service.metadata?.name, 'demo-web');
    assert.equal(found?.port, 8080);
  });

  it('takes the first port when none is named http', () => {
    const found = componentService(services, 'podwatch');
    assert.equal(found?.service.metadata?.name, 'demo-podwatch');
    assert.equal(found?.port, 7070);
    const unnamed = componentService(
      [
        service('demo-web', 'web', [
          { port: 8443, name: 'https' },
          { port: 8081, name: 'admin' },
        ]),
      ],
      'web',
    );
    assert.equal(unnamed?.port, 8443);
  });

  it('none when no Service has the component, or it has no port', () => {
    assert.equal(componentService(services.slice(0, 1), 'web'), undefined);
    assert.equal(componentService([], 'podwatch'), undefined);
    assert.equal(componentService([service('demo-web', 'web', [])], 'web'), undefined);
  });
});

describe('loadBalancerUrl', () => {
  it('no URL for a ClusterIP Service, even one that somehow carries an ingress', () => {
    assert.equal(loadBalancerUrl(service('web', 'web', [], { ingress: [{ ip: '10.77.65.200' }] }), 80), undefined);
  });

  it('no URL for a LoadBalancer that has no address yet', () => {
    assert.equal(loadBalancerUrl(service('web', 'web', [], { type: 'LoadBalancer' }), 80), undefined);
    assert.equal(loadBalancerUrl(service('web', 'web', [], { type: 'LoadBalancer', ingress: [] }), 80), undefined);
    assert.equal(loadBalancerUrl(service('web', 'web', [], { type: 'LoadBalancer', ingress: [{}] }), 80), undefined);
  });

  it('the address, by ip or by hostname; port 80 left out, any other port in', () => {
    const byIp = service('web', 'web', [], { type: 'LoadBalancer', ingress: [{ ip: '10.77.65.200' }] });
    assert.equal(loadBalancerUrl(byIp, 80), 'http://10.77.65.200/');
    assert.equal(loadBalancerUrl(byIp, 8080), 'http://10.77.65.200:8080/');
    const byName = service('web', 'web', [], { type: 'LoadBalancer', ingress: [{ hostname: 'lb.example.test' }] });
    assert.equal(loadBalancerUrl(byName, 80), 'http://lb.example.test/');
    assert.equal(loadBalancerUrl(byName, 7070), 'http://lb.example.test:7070/');
  });

  it('componentService and loadBalancerUrl together give the page URL users open', () => {
    const web = service('demo-web', 'web', [{ name: 'http', port: 80 }], {
      type: 'LoadBalancer',
      ingress: [{ ip: '10.77.65.201' }],
    });
    const found = componentService([web], 'web');
    assert.ok(found);
    assert.equal(loadBalancerUrl(found.service, found.port), 'http://10.77.65.201/');
  });
});
