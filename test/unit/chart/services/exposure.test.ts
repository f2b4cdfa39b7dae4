// The web and podwatch Services as entry points from outside the cluster: type, externalTrafficPolicy and
// loadBalancerClass (docs/chart.md, "The web tier" and "Load-balanced entry points"), rendered by the real
// helm; the schema refuses bad values naming the field; values-local.yaml puts both on the load balancer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { helmNotes, helmTemplate, tryHelmTemplate, webstackChartDir } from '../../../../src/chart/helm.js';
import { one, parseManifests } from '../../../../src/chart/manifests.js';

type Values = Record<string, unknown>;

async function services(values?: Values, valuesFiles?: string[]): Promise<Record<'web' | 'podwatch', k8s.V1Service>> {
  const objs = parseManifests(await helmTemplate({ release: 'web', namespace: 'shop', values, valuesFiles }));
  return {
    web: one(objs, 'Service', 'web') as unknown as k8s.V1Service,
    podwatch: one(objs, 'Service', 'podwatch') as unknown as k8s.V1Service,
  };
}

const localValues = join(webstackChartDir, 'values-local.yaml');

describe('webstack chart: web and podwatch Services', () => {
  it('default: ClusterIP for both, without externalTrafficPolicy or loadBalancerClass', async () => {
    const s = await services();
    for (const c of ['web', 'podwatch'] as const) {
      assert.equal(s[c].spec?.type, 'ClusterIP', c);
      assert.equal(s[c].spec?.externalTrafficPolicy, undefined, c);
      assert.equal(s[c].spec?.loadBalancerClass, undefined, c);
    }
    assert.deepEqual(s.podwatch.spec?.ports, [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('LoadBalancer: externalTrafficPolicy and loadBalancerClass are rendered as given', async () => {
    const service = { type: 'LoadBalancer', externalTrafficPolicy: 'Local', loadBalancerClass: 'example.com/lb' };
    const s = await services({ web: { service }, podwatch: { service: { ...service, port: 9090 } } });
    for (const c of ['web', 'podwatch'] as const) {
      assert.equal(s[c].spec?.type, 'LoadBalancer', c);
      assert.equal(s[c].spec?.externalTrafficPolicy, 'Local', c);
      assert.equal(s[c].spec?.loadBalancerClass, 'example.com/lb', c);
    }
    assert.equal(s.podwatch.spec?.ports?.[0]?.port, 9090);
  });

  it('LoadBalancer without a class: the default policy Cluster, no loadBalancerClass', async () => {
    const s = await services({
      web: { service: { type: 'LoadBalancer' } },
      podwatch: { service: { type: 'LoadBalancer' } },
    });
    for (const c of ['web', 'podwatch'] as const) {
      assert.equal(s[c].spec?.externalTrafficPolicy, 'Cluster', c);
      assert.equal(s[c].spec?.loadBalancerClass, undefined, c);
    }
  });

  it(
    'NodePort takes externalTrafficPolicy but not loadBalancerClass; ' +
      'ClusterIP takes neither (the API refuses them)',
    async () => {
      const extra = { externalTrafficPolicy: 'Local', loadBalancerClass: 'example.com/lb' };
      let s = await services({
        web: { service: { type: 'NodePort', ...extra } },
        podwatch: { service: { type: 'NodePort', ...extra } },
      });
      for (const c of ['web', 'podwatch'] as const) {
        assert.equal(s[c].spec?.type, 'NodePort', c);
        assert.equal(s[c].spec?.externalTrafficPolicy, 'Local', c);
        assert.equal(s[c].spec?.loadBalancerClass, undefined, c);
      }
      s = await services({ web: { service: { type: 'ClusterIP', ...extra } }, podwatch: { service: extra } });
      for (const c of ['web', 'podwatch'] as const) {
        assert.equal(s[c].spec?.type, 'ClusterIP', c);
        assert.equal(s[c].spec?.externalTrafficPolicy, undefined, c);
        assert.equal(s[c].spec?.loadBalancerClass, undefined, c);
      }
    },
  );

  it('values-local.yaml: both on the load balancer with externalTrafficPolicy Local, no class', async () => {
    const s = await services(undefined, [localValues]);
    for (const c of ['web', 'podwatch'] as const) {
      assert.equal(s[c].spec?.type, 'LoadBalancer', c);
      assert.equal(s[c].spec?.externalTrafficPolicy, 'Local', c);
      assert.equal(s[c].spec?.loadBalancerClass, undefined, c);
    }
  });

  it('NOTES.txt: a LoadBalancer podwatch is reached at its EXTERNAL-IP, not through port-forward', async () => {
    const notes = await helmNotes({ release: 'web', namespace: 'shop', valuesFiles: [localValues] });
    assert.match(notes, /kubectl get -n shop svc web-webstack-web -w/);
    assert.match(notes, /kubectl get -n shop svc web-webstack-podwatch -w .*http:\/\/EXTERNAL-IP:8080\//);
    assert.doesNotMatch(notes, /port-forward/);
  });
});

interface BadValue {
  what: string;
  values: Values;
  field: string;
  reason: RegExp;
}

const bad: BadValue[] = [
  {
    what: 'an unknown web externalTrafficPolicy',
    values: { web: { service: { externalTrafficPolicy: 'Nearest' } } },
    field: '/web/service/externalTrafficPolicy',
    reason: /must be one of 'Cluster', 'Local'/,
  },
  {
    what: 'a web loadBalancerClass that is not a label-style name',
    values: { web: { service: { loadBalancerClass: 'my lb' } } },
    field: '/web/service/loadBalancerClass',
    reason: /does not match pattern/,
  },
  {
    what: 'an unknown podwatch Service type',
    values: { podwatch: { service: { type: 'ExternalName' } } },
    field: '/podwatch/service/type',
    reason: /must be one of 'ClusterIP', 'NodePort', 'LoadBalancer'/,
  },
  {
    what: 'a podwatch externalTrafficPolicy in lower case',
    values: { podwatch: { service: { externalTrafficPolicy: 'local' } } },
    field: '/podwatch/service/externalTrafficPolicy',
    reason: /must be one of/,
  },
  {
    what: 'a podwatch loadBalancerClass that is not a string',
    values: { podwatch: { service: { loadBalancerClass: 5 } } },
    field: '/podwatch/service/loadBalancerClass',
    reason: /want string/,
  },
  {
    what: 'a podwatch client CIDR that is not a CIDR',
    values: { networkPolicy: { podwatch: { fromCIDRs: ['10.77.0.0'] } } },
    field: '/networkPolicy/podwatch/fromCIDRs/0',
    reason: /does not match pattern/,
  },
  {
    what: 'an unknown key under networkPolicy.podwatch',
    values: { networkPolicy: { podwatch: { allowFromAnywhere: true } } },
    field: '/networkPolicy/podwatch',
    reason: /additional properties 'allowFromAnywhere' not allowed/,
  },
];

describe('webstack chart: values.schema.json refuses bad Service values, naming the field', () => {
  for (const c of bad) {
    it(`refuses ${c.what}`, async () => {
      const res = await tryHelmTemplate({ values: c.values });
      assert.equal(res.ok, false, `helm template accepted ${JSON.stringify(c.values)}`);
      const line = res.stderr.split('\n').find((l) => l.includes(`at '${c.field}'`));
      assert.ok(line, `the message names '${c.field}':\n${res.stderr}`);
      assert.match(res.stderr, c.reason);
    });
  }
});
