// The db of one of two regions (db.replication), rendered by the real helm: the agent's region block (a
// config the agent accepts), the replication Service, the NetworkPolicy's peer rules, the exporter's replica
// metrics with their alerts, and the values a region needs refused with the value to change named.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { helmTemplate, tryHelmTemplate } from '../../../../src/chart/helm.js';
import { configMapData, one, parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';
import { parseAgentConfig, renderMyCnf } from '../../../../src/galera/config.js';

type Values = Record<string, unknown>;

const standby = (replication: Values = {}, extra: Values = {}): Values => ({
  region: { name: 'west' },
  backup: { enabled: true, storage: { bucket: 'backups', endpoint: 'http://s3.example:9000' } },
  db: {
    replication: {
      role: 'standby',
      serverId: 2,
      gtidDomainId: 2,
      peerCidrs: ['10.77.3.0/24'],
      service: { enabled: true, type: 'LoadBalancer', loadBalancerClass: 'kstack.io/local' },
      ...replication,
    },
  },
  ...extra,
});

async function render(values: Values): Promise<K8sObject[]> {
  return parseManifests(await helmTemplate({ release: 'ws', namespace: 'shop', values }));
}

const agentConfig = (objs: K8sObject[]): Record<string, unknown> =>
  JSON.parse(configMapData(one(objs, 'ConfigMap', 'db'))['agent.json'] ?? 'null') as Record<string, unknown>;

describe('webstack chart db: one of two regions', () => {
  it('gives the agent the region block, which the agent accepts, with members starting read-only', async () => {
    const cfg = agentConfig(await render(standby()));
    assert.deepEqual(cfg.region, {
      name: 'west',
      serverId: 2,
      gtidDomainId: 2,
      initialRole: 'standby',
      replicationAccount: { user: 'kstack_repl', passwordFile: '/etc/webstack-db/secret/mariadb-replication-password' },
    });
    const cnf = renderMyCnf(parseAgentConfig(cfg, { HOSTNAME: 'ws-webstack-db-0' }));
    assert.match(cnf, /^server_id=2$/m);
    assert.match(cnf, /^read_only=ON$/m);
  });

  it('renders no region block, Service or peer rule without a role', async () => {
    const objs = await render({});
    assert.equal(agentConfig(objs).region, null);
    assert.equal(
      objs.find((o) => o.metadata.name === 'ws-webstack-db-replication'),
      undefined,
    );
    assert.doesNotMatch(JSON.stringify(objs.filter((o) => o.kind === 'NetworkPolicy')), /10\.77\./);
  });

  it('exposes the SQL port to the other region by a Service of its own that keeps the source address', async () => {
    const svc = one(
      (await render(standby())).filter((o) => o.metadata.name === 'ws-webstack-db-replication'),
      'Service',
    ) as k8s.V1Service;
    assert.equal(svc.spec?.type, 'LoadBalancer');
    assert.equal(svc.spec?.externalTrafficPolicy, 'Local');
    assert.equal(svc.spec?.loadBalancerClass, 'kstack.io/local');
    assert.deepEqual(
      svc.spec?.ports?.map((p) => [p.name, p.port]),
      [['mysql', 3306]],
    );
  });

  it("lets only the other region's blocks in to the SQL port, and the members out to it", async () => {
    const np = (await render(standby())).find(
      (o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'ws-webstack-db',
    ) as unknown as {
      spec: { ingress: { from?: { ipBlock?: unknown }[] }[]; egress: { to?: { ipBlock?: { cidr: string } }[] }[] };
    };
    // As rendered (YAML keys), not the client library's renamed `_from`.
    const peerIn = np.spec.ingress.filter((r) => r.from?.some((f) => f.ipBlock));
    assert.deepEqual(peerIn, [
      { from: [{ ipBlock: { cidr: '10.77.3.0/24' } }], ports: [{ protocol: 'TCP', port: 3306 }] },
    ]);
    const peerOut = np.spec.egress.filter((r) => r.to?.some((t) => t.ipBlock?.cidr === '10.77.3.0/24'));
    assert.deepEqual(peerOut, [
      { to: [{ ipBlock: { cidr: '10.77.3.0/24' } }], ports: [{ protocol: 'TCP', port: 3306 }] },
    ]);
  });

  it('makes the replication password once, and the exporter reads the replica status for two alerts', async () => {
    const objs = await render(standby({}, { monitoring: { operator: 'always' } }));
    const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === 'ws-webstack-db') as k8s.V1Secret;
    assert.ok(secret.data?.['mariadb-replication-password']);
    const text = JSON.stringify(objs);
    assert.match(text, /--collect\.slave_status/);
    assert.match(text, /WebstackReplicationStopped/);
    assert.match(text, /WebstackReplicationLagHigh/);
    assert.match(text, /mysql_slave_status_seconds_behind_master\{[^}]*\}\) > 30/);
  });

  for (const [what, values, message] of [
    ['no region name', { ...standby(), region: { name: '' } }, /region\.name: db\.replication\.role is set/],
    ['no binlog', { ...standby(), backup: { enabled: false } }, /backup\.binlog\.enabled: db\.replication\.role needs/],
    ['a bad role', standby({ role: 'leader' }), /role/],
    ['a bad CIDR', standby({ peerCidrs: ['10.77.3.0'] }), /peerCidrs/],
  ] as const) {
    it(`refuses ${what}, naming the value`, async () => {
      const out = await tryHelmTemplate({ release: 'ws', namespace: 'shop', values: values });
      assert.equal(out.ok, false);
      assert.match(out.stderr, message);
    });
  }

  it('refuses TLS off, naming db.tls.enabled', async () => {
    const values = standby();
    (values.db as Values).tls = { enabled: false };
    const out = await tryHelmTemplate({ release: 'ws', namespace: 'shop', values });
    assert.equal(out.ok, false);
    assert.match(out.stderr, /db\.tls\.enabled: db\.replication\.role needs TLS/);
  });
});
