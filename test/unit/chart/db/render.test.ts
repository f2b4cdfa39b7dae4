// The db part of the webstack chart, rendered by the real helm: what each db value changes, that the
// rendered agent.json is a config the agent itself accepts, and that bad db values are refused by the
// schema with the field named.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { helmTemplate, tryHelmTemplate } from '../../../../src/chart/helm.js';
import { configMapData, one, parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';
import { DB_ROOT_PASSWORD_FILE, DB_SOCKET } from '../../../../src/chart/db-member.js';
import { parseAgentConfig, renderMyCnf, socketPath } from '../../../../src/galera/config.js';

type Values = Record<string, unknown>;

async function render(db: Values = {}, extra: Values = {}): Promise<K8sObject[]> {
  const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: 'shop', values: { db, ...extra } }));
  return objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'db');
}

const sts = (objs: K8sObject[]): k8s.V1StatefulSet => one(objs, 'StatefulSet', 'db');
const podSpec = (objs: K8sObject[]): k8s.V1PodSpec => {
  const spec = sts(objs).spec?.template.spec;
  assert.ok(spec);
  return spec;
};
const container = (objs: K8sObject[], name = 'mariadb'): k8s.V1Container => {
  const c = podSpec(objs).containers.find((x) => x.name === name);
  assert.ok(c, `container ${name}`);
  return c;
};
const service = (objs: K8sObject[], name: string): k8s.V1Service => {
  const s = objs.find((o) => o.kind === 'Service' && o.metadata.name === name);
  assert.ok(s, `Service ${name}`);
  return s;
};
const agentJson = (objs: K8sObject[]): unknown =>
  JSON.parse(configMapData(one(objs, 'ConfigMap', 'db'))['agent.json'] ?? 'null');

describe('webstack chart db: defaults', () => {
  it(
    'renders a Galera StatefulSet, headless and client Services, ' + 'a PDB, a Secret and the agent ConfigMap',
    async () => {
      const objs = await render();
      assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
        'ConfigMap/ws-webstack-db',
        'PodDisruptionBudget/ws-webstack-db',
        'Secret/ws-webstack-db',
        'Secret/ws-webstack-db-tls',
        'Secret/ws-webstack-db-tls-ca',
        'Service/ws-webstack-db',
        'Service/ws-webstack-db-headless',
        'StatefulSet/ws-webstack-db',
      ]);
      for (const o of objs) assert.equal(o.metadata.namespace, 'shop');
    },
  );

  it('runs 3 members in parallel with one volume each, behind the headless Service', async () => {
    const s = sts(await render());
    assert.equal(s.spec?.replicas, 3);
    assert.equal(
      s.spec?.podManagementPolicy,
      'Parallel',
      'full-cluster recovery needs every member up before any is Ready',
    );
    assert.equal(s.spec?.serviceName, 'ws-webstack-db-headless');
    const claim = s.spec?.volumeClaimTemplates?.[0];
    assert.equal(claim?.metadata?.name, 'data');
    assert.equal(claim?.spec?.resources?.requests?.storage, '8Gi');
    assert.deepEqual(claim?.spec?.accessModes, ['ReadWriteOnce']);
  });

  it(
    'starts the agent with the ConfigMap, ' + 'probes its /ready and /live, and mounts data, secret and config',
    async () => {
      const objs = await render();
      const c = container(objs);
      assert.deepEqual(c.command, [
        '/opt/webstack-agent/node',
        '/opt/webstack-agent/kstack/dist/src/galera/main.js',
        'run',
        '--config',
        '/etc/webstack-db/config/agent.json',
      ]);
      assert.equal(c.image, 'mariadb:10.11', 'the mariadb container needs nothing but MariaDB');
      assert.equal(c.readinessProbe?.httpGet?.path, '/ready');
      assert.equal(c.livenessProbe?.httpGet?.path, '/live');
      assert.deepEqual(c.volumeMounts?.map((m) => m.mountPath).sort(), [
        '/etc/webstack-db/config',
        '/etc/webstack-db/secret',
        '/etc/webstack-db/tls',
        '/opt/webstack-agent',
        '/run/mysqld',
        '/tmp',
        '/var/lib/mysql',
      ]);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(podSpec(objs).securityContext?.runAsUser, 999);
      assert.deepEqual(
        podSpec(objs).containers.map((x) => x.name),
        ['mariadb', 'metrics'],
        'the mysqld exporter sidecar is on by default',
      );
    },
  );

  it('an init container copies node and the agent from the kstack image into the shared emptyDir', async () => {
    const spec = podSpec(
      await render({
        agent: {
          image: { repository: 'kstack.local/node', tag: 'local', digest: '', pullPolicy: 'Never' },
          node: '/usr/local/bin/node',
          appDir: '/opt/kstack',
        },
      }),
    );
    const init = spec.initContainers?.find((x) => x.name === 'agent-install');
    assert.ok(init);
    assert.equal(init.image, 'kstack.local/node:local');
    assert.equal(init.imagePullPolicy, 'Never');
    assert.equal(init.command?.[0], '/usr/local/bin/node');
    assert.deepEqual(init.command?.slice(-2), ['/opt/kstack', '/opt/webstack-agent']);
    assert.deepEqual(init.volumeMounts, [{ name: 'agent', mountPath: '/opt/webstack-agent' }]);
    assert.ok(spec.volumes?.some((v) => v.name === 'agent' && v.emptyDir));
    assert.equal(init.securityContext?.readOnlyRootFilesystem, true);
  });

  it(
    'publishes members before they are ready (peers must ' + 'find each other), the client Service only ready ones',
    async () => {
      const objs = await render();
      const headless = service(objs, 'ws-webstack-db-headless');
      assert.equal(headless.spec?.clusterIP, 'None');
      assert.equal(headless.spec?.publishNotReadyAddresses, true);
      assert.deepEqual(
        headless.spec?.ports?.map((p) => p.port),
        [3306, 4567, 4568, 4444, 8081],
      );
      const client = service(objs, 'ws-webstack-db');
      assert.notEqual(client.spec?.publishNotReadyAddresses, true);
    },
  );

  it('prefers db nodes, one member per node, and tolerates the db taint', async () => {
    const spec = podSpec(await render());
    assert.deepEqual(spec.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }]);
    const anti = spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0];
    assert.equal(anti?.podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
    assert.equal(anti?.podAffinityTerm.labelSelector?.matchLabels?.['app.kubernetes.io/component'], 'db');
    assert.equal(
      spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.preference
        .matchExpressions?.[0]?.key,
      'node-role.kstack.io/db',
    );
  });

  it('generates a Secret with both passwords, kept when the release is deleted', async () => {
    const secret = one(await render(), 'Secret', 'db') as k8s.V1Secret;
    assert.equal(secret.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
    for (const key of ['mariadb-root-password', 'mariadb-password']) {
      const value = Buffer.from(secret.data?.[key] ?? '', 'base64').toString();
      assert.match(value, /^[A-Za-z0-9]{32}$/, key);
    }
  });

  it('the PDB allows one member down', async () => {
    const pdb = one(await render(), 'PodDisruptionBudget', 'db') as k8s.V1PodDisruptionBudget;
    assert.equal(pdb.spec?.maxUnavailable, 1);
  });
});

describe('webstack chart db: the rendered agent config', () => {
  it('is accepted by the agent, names every member by its headless DNS name, and holds no password', async () => {
    const objs = await render();
    const raw = agentJson(objs);
    const cfg = parseAgentConfig(raw, { HOSTNAME: 'ws-webstack-db-1' });
    assert.equal(cfg.self, 'ws-webstack-db-1');
    assert.deepEqual(
      cfg.members.map((m) => m.host),
      [0, 1, 2].map((i) => `ws-webstack-db-${i}.ws-webstack-db-headless.shop.svc.cluster.local`),
    );
    assert.equal(cfg.rootPasswordFile, '/etc/webstack-db/secret/mariadb-root-password');
    // Where kstack's root client on a member looks (src/chart/db-member.ts) is where the chart puts them.
    assert.equal(cfg.rootPasswordFile, DB_ROOT_PASSWORD_FILE);
    assert.equal(socketPath(cfg), DB_SOCKET);
    const secret = one(objs, 'Secret', 'db') as k8s.V1Secret;
    const root = Buffer.from(secret.data?.['mariadb-root-password'] ?? '', 'base64').toString();
    assert.ok(!JSON.stringify(raw).includes(root), 'the ConfigMap must not contain the root password');
    const cnf = renderMyCnf(cfg);
    assert.match(cnf, /^innodb_buffer_pool_size=256M$/m);
    assert.match(cnf, /^wsrep_sst_method=mariabackup$/m);
  });

  it('carries db.config.mysqld and db.ports, and a config change rolls the pods', async () => {
    const before = await render();
    const after = await render({
      config: { mysqld: { max_connections: 500 } },
      ports: { mysql: 3307, galera: 4567, ist: 4568, sst: 4444, agent: 8082 },
    });
    const cfg = parseAgentConfig(agentJson(after), { HOSTNAME: 'ws-webstack-db-0' });
    assert.ok(cfg.extraMysqld.includes('max_connections=500'));
    assert.equal(cfg.members[0]?.sqlPort, 3307);
    assert.equal(container(after).readinessProbe?.httpGet?.port, 'agent');
    assert.ok(container(after).ports?.some((p) => p.name === 'agent' && p.containerPort === 8082));
    const sum = (o: K8sObject[]): string | undefined =>
      sts(o).spec?.template.metadata?.annotations?.['checksum/config'];
    assert.notEqual(sum(before), sum(after));
  });
});

describe('webstack chart db: options', () => {
  it('standalone: one member, no Galera, no PDB', async () => {
    const objs = await render({ mode: 'standalone', replicaCount: 1 });
    assert.equal(sts(objs).spec?.replicas, 1);
    assert.equal(objs.filter((o) => o.kind === 'PodDisruptionBudget').length, 0);
    const cfg = parseAgentConfig(agentJson(objs), { HOSTNAME: 'ws-webstack-db-0' });
    assert.equal(cfg.mode, 'standalone');
    assert.doesNotMatch(renderMyCnf(cfg), /wsrep/);
  });

  it('existingSecret: no Secret rendered, the pods mount the given one', async () => {
    const objs = await render({ auth: { existingSecret: 'my-db-secret', database: 'shop', username: 'shop' } });
    assert.deepEqual(
      objs.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name),
      ['ws-webstack-db-tls-ca', 'ws-webstack-db-tls'],
      'only the TLS Secrets',
    );
    assert.equal(podSpec(objs).volumes?.find((v) => v.name === 'secret')?.secret?.secretName, 'my-db-secret');
    assert.deepEqual(parseAgentConfig(agentJson(objs), { HOSTNAME: 'ws-webstack-db-0' }).app?.database, 'shop');
  });

  it(
    'metrics: a mysqld-exporter sidecar with the root ' + 'password from the Secret, exposed on the client Service',
    async () => {
      const objs = await render({ metrics: { enabled: true } });
      const m = container(objs, 'metrics');
      assert.match(m.image ?? '', /^prom\/mysqld-exporter:/);
      assert.equal(
        m.env?.find((e) => e.name === 'MYSQLD_EXPORTER_PASSWORD')?.valueFrom?.secretKeyRef?.key,
        'mariadb-root-password',
      );
      const client = service(objs, 'ws-webstack-db');
      assert.ok(client.spec?.ports?.some((p) => p.name === 'metrics' && p.port === 9104));
    },
  );

  it(
    'persistence and placement values are passed through ' + '(placement.preset none: only the explicit keys)',
    async () => {
      const objs = await render(
        {
          persistence: { size: '20Gi', storageClass: 'fast', accessModes: ['ReadWriteOncePod'] },
          nodeSelector: { disk: 'ssd' },
          affinity: { podAntiAffinity: {} },
          tolerations: [],
        },
        { placement: { preset: 'none' } },
      );
      const claim = sts(objs).spec?.volumeClaimTemplates?.[0];
      assert.equal(claim?.spec?.storageClassName, 'fast');
      assert.equal(claim?.spec?.resources?.requests?.storage, '20Gi');
      assert.deepEqual(podSpec(objs).nodeSelector, { disk: 'ssd' });
      assert.deepEqual(podSpec(objs).affinity, { podAntiAffinity: {} });
      assert.equal(podSpec(objs).tolerations, undefined);
    },
  );

  it('db.enabled=false renders no db object at all', async () => {
    assert.deepEqual(await render({ enabled: false }), []);
  });
});

interface BadValue {
  what: string;
  db: Values;
  field: string;
  reason: RegExp;
}

const bad: BadValue[] = [
  {
    what: 'an even member count in galera mode',
    db: { replicaCount: 4 },
    field: '/db/replicaCount',
    reason: /must be one of 3, 5, 7/,
  },
  {
    what: 'a single galera member',
    db: { replicaCount: 1 },
    field: '/db/replicaCount',
    reason: /must be one of 3, 5, 7/,
  },
  {
    what: 'standalone with 3 members',
    db: { mode: 'standalone', replicaCount: 3 },
    field: '/db/replicaCount',
    reason: /value must be 1/,
  },
  { what: 'an unknown mode', db: { mode: 'async' }, field: '/db/mode', reason: /must be one of/ },
  {
    what: 'an unknown key under db',
    db: { replicas: 3 },
    field: '/db',
    reason: /additional properties 'replicas' not allowed/,
  },
  { what: 'an unknown SST method', db: { sstMethod: 'xtrabackup' }, field: '/db/sstMethod', reason: /must be one of/ },
  {
    what: 'a volume size Kubernetes cannot read',
    db: { persistence: { size: '8 GB' } },
    field: '/db/persistence/size',
    reason: /does not match pattern/,
  },
  {
    what: 'a database name with a dash',
    db: { auth: { existingSecret: '', database: 'my-app', username: 'app' } },
    field: '/db/auth/database',
    reason: /does not match pattern/,
  },
  {
    what: 'a Secret name with capitals',
    db: { auth: { existingSecret: 'MySecret', database: 'app', username: 'app' } },
    field: '/db/auth/existingSecret',
    reason: /does not match pattern/,
  },
  {
    what: 'a port out of range',
    db: { ports: { mysql: 0, galera: 4567, ist: 4568, sst: 4444, agent: 8081 } },
    field: '/db/ports/mysql',
    reason: /minimum/,
  },
  {
    what: 'a my.cnf option name with a space',
    db: { config: { mysqld: { 'max connections': 1 } } },
    field: '/db/config/mysqld',
    reason: /additional properties 'max connections' not allowed/,
  },
  {
    what: 'a relative mariadbd path',
    db: { mariadbd: 'mariadbd' },
    field: '/db/mariadbd',
    reason: /does not match pattern/,
  },
];

describe('webstack chart db: values.schema.json refuses bad db values, naming the field', () => {
  for (const c of bad) {
    it(`refuses ${c.what}`, async () => {
      const res = await tryHelmTemplate({ values: { db: c.db } });
      assert.equal(res.ok, false, `helm template accepted ${JSON.stringify(c.db)}`);
      const line = res.stderr.split('\n').find((l) => l.includes(`at '${c.field}'`));
      assert.ok(line, `the message names '${c.field}':\n${res.stderr}`);
      assert.match(res.stderr, c.reason);
    });
  }

  it('accepts 5 galera members and standalone with 1', async () => {
    for (const db of [{ replicaCount: 5 }, { mode: 'standalone', replicaCount: 1 }]) {
      const res = await tryHelmTemplate({ values: { db } });
      assert.ok(res.ok, res.stderr);
    }
  });
});

describe('webstack chart db: TLS', () => {
  const secret = (objs: K8sObject[], name: string): k8s.V1Secret => {
    const o = objs.find((x) => x.kind === 'Secret' && x.metadata.name === name);
    assert.ok(o, `Secret ${name}`);
    return o;
  };
  const pem = (s: k8s.V1Secret, key: string): string => Buffer.from(s.data?.[key] ?? '', 'base64').toString('utf8');

  it(
    'is on by default: a CA (its key in its own Secret, ' + 'mounted nowhere) and a server certificate for every name',
    async () => {
      const objs = await render();
      const ca = secret(objs, 'ws-webstack-db-tls-ca');
      assert.equal(ca.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
      const tls = secret(objs, 'ws-webstack-db-tls');
      assert.equal(tls.type, 'kubernetes.io/tls');
      assert.equal(pem(tls, 'ca.crt'), pem(ca, 'ca.crt'));
      assert.ok(!('ca.key' in (tls.data ?? {})), 'the CA key never reaches a pod');
      const cert = new X509Certificate(pem(tls, 'tls.crt'));
      assert.ok(cert.verify(new X509Certificate(pem(ca, 'ca.crt')).publicKey), 'signed by the CA');
      for (const name of [
        'ws-webstack-db',
        'ws-webstack-db.shop.svc.cluster.local',
        'ws-webstack-db-0.ws-webstack-db-headless.shop.svc.cluster.local',
        'localhost',
      ])
        assert.ok(cert.checkHost(name), `the certificate names ${name}`);
      assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
      assert.equal(cert.checkHost('other.shop.svc.cluster.local'), undefined);
      assert.ok(podSpec(objs).volumes?.every((v) => v.secret?.secretName !== 'ws-webstack-db-tls-ca'));
    },
  );

  it('gives the agent the files, and mariadbd then requires TLS and encrypts Galera, IST and SST', async () => {
    const objs = await render();
    const cfg = parseAgentConfig(agentJson(objs), { HOSTNAME: 'ws-webstack-db-0' });
    assert.deepEqual(cfg.tls, {
      ca: '/etc/webstack-db/tls/ca.crt',
      cert: '/etc/webstack-db/tls/tls.crt',
      key: '/etc/webstack-db/tls/tls.key',
    });
    const cnf = renderMyCnf(cfg);
    assert.match(cnf, /^require_secure_transport=ON$/m);
    assert.match(cnf, /socket\.ssl=YES/);
    assert.match(cnf, /^ssl-mode=VERIFY_CA$/m);
    assert.equal(podSpec(objs).volumes?.find((v) => v.name === 'tls')?.secret?.secretName, 'ws-webstack-db-tls');
    const metrics = container(objs, 'metrics');
    assert.match(metrics.command?.join(' ') ?? '', /ssl-ca=%s.*\/etc\/webstack-db\/tls\/ca\.crt/s);
  });

  it('a new db.tls.rotation changes the pod template (a rolling restart); nothing else about TLS does', async () => {
    const annotation = async (db: Values): Promise<string | undefined> =>
      sts(await render(db)).spec?.template.metadata?.annotations?.['checksum/tls'];
    const before = await annotation({});
    assert.ok(before);
    assert.equal(await annotation({}), before, 'two renders, same template');
    assert.notEqual(await annotation({ tls: { rotation: 1 } }), before);
  });

  it('existingSecret: no certificate made, the members mount the given Secret', async () => {
    const objs = await render({ tls: { existingSecret: 'db-cert' } });
    assert.ok(!objs.some((o) => o.kind === 'Secret' && /-tls(-ca)?$/.test(o.metadata.name)));
    assert.equal(podSpec(objs).volumes?.find((v) => v.name === 'tls')?.secret?.secretName, 'db-cert');
  });

  it('off: no Secret, no mount, and the agent runs in plain text', async () => {
    const objs = await render({ tls: { enabled: false } });
    assert.ok(!objs.some((o) => o.kind === 'Secret' && /-tls(-ca)?$/.test(o.metadata.name)));
    assert.equal(
      parseAgentConfig(agentJson(objs), { HOSTNAME: 'ws-webstack-db-0' }).tls,
      undefined,
      'no tls in the config',
    );
    assert.ok(!podSpec(objs).volumes?.some((v) => v.name === 'tls' || v.name === 'db-tls-ca'));
  });

  it('refuses a bad tls value, naming it', async () => {
    for (const [tls, field] of [
      [{ enabled: 'yes' }, /tls.*enabled/],
      [{ validityDays: 0 }, /validityDays/],
      [{ rotation: -1 }, /rotation/],
      [{ extra: 1 }, /extra/],
    ] as const) {
      const res = await tryHelmTemplate({ values: { db: { tls } } });
      assert.ok(!res.ok);
      assert.match(res.stderr, field);
    }
  });
});
