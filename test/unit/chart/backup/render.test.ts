// The backup part of the webstack chart, rendered by the real helm: what each backup value changes, the
// archiver sidecar and binlog settings it adds to the db members, the restore Job kstack renders, and the
// schema refusing bad backup values with the field named.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { helmLint, helmNotes, helmTemplate, tryHelmTemplate } from '../../../../src/chart/helm.js';
import { configMapData, one, parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';
import { parseAgentConfig, renderMyCnf } from '../../../../src/galera/config.js';
import { copyValues } from '../../../../src/stack/dr.js';

type Values = Record<string, unknown>;
const on = (backup: Values = {}): Values => ({
  backup: { enabled: true, storage: { bucket: 'backups', endpoint: 'http://s3.example:9000' }, ...backup },
});

async function render(values: Values): Promise<K8sObject[]> {
  return parseManifests(await helmTemplate({ release: 'ws', namespace: 'shop', values }));
}
const backupObjs = (objs: K8sObject[]): string[] =>
  objs
    .filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'backup')
    .map((o) => `${o.kind}/${o.metadata.name}`)
    .sort();
const sts = (objs: K8sObject[]): k8s.V1StatefulSet => one(objs, 'StatefulSet', 'db');
const named = (objs: K8sObject[], kind: string, name: string): K8sObject => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind}/${name} in ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};
const jobPod = (cj: K8sObject | k8s.V1CronJob): k8s.V1PodSpec => {
  const spec = (cj as k8s.V1CronJob).spec?.jobTemplate.spec?.template.spec;
  assert.ok(spec);
  return spec;
};
const envOf = (c: k8s.V1Container): Record<string, string> =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));

describe('webstack chart backup: off by default', () => {
  it('renders no backup object, no archiver and no binlog settings', async () => {
    const objs = await render({});
    assert.deepEqual(backupObjs(objs), []);
    assert.ok(!sts(objs).spec?.template.spec?.containers.some((c) => c.name === 'binlog-archiver'));
    assert.equal(
      (JSON.parse(configMapData(one(objs, 'ConfigMap', 'db'))['agent.json'] ?? '{}') as { binlog?: boolean }).binlog,
      false,
    );
  });
});

describe('webstack chart backup: enabled', () => {
  it('renders the backup and verify CronJobs, both Secrets and the metrics Service — no restore Job', async () => {
    assert.deepEqual(backupObjs(await render(on())), [
      'CronJob/ws-webstack-backup',
      'CronJob/ws-webstack-backup-verify',
      'Secret/ws-webstack-backup-key',
      'Secret/ws-webstack-backup-storage',
      'Service/ws-webstack-backup-metrics',
    ]);
  });

  it(
    'the backup CronJob runs src/dr backup on schedule in the ' +
      'MariaDB image, one at a time, with storage, key and db',
    async () => {
      const objs = await render(
        on({
          schedule: '15 2 * * *',
          timeZone: 'Europe/Berlin',
          storage: {
            bucket: 'bk1',
            endpoint: 'http://minio:9000',
            prefix: 'prod/ws',
            region: 'eu-1',
            forcePathStyle: true,
            credentials: { existingSecret: '', accessKeyId: '', secretAccessKey: '' },
          },
        }),
      );
      const cj = named(objs, 'CronJob', 'ws-webstack-backup') as k8s.V1CronJob;
      assert.equal(cj.spec?.schedule, '15 2 * * *');
      assert.equal(cj.spec?.timeZone, 'Europe/Berlin');
      assert.equal(cj.spec?.concurrencyPolicy, 'Forbid');
      const pod = jobPod(cj);
      const c = pod.containers[0];
      assert.ok(c);
      assert.equal(c.image, 'mariadb:10.11');
      assert.deepEqual(c.command, [
        '/opt/webstack-agent/node',
        '/opt/webstack-agent/kstack/dist/src/dr/main.js',
        'backup',
      ]);
      const env = envOf(c);
      assert.equal(env.KSTACK_DR_S3_ENDPOINT, 'http://minio:9000');
      assert.equal(env.KSTACK_DR_S3_BUCKET, 'bk1');
      assert.equal(env.KSTACK_DR_S3_PREFIX, 'prod/ws');
      assert.equal(env.KSTACK_DR_S3_REGION, 'eu-1');
      assert.equal(env.KSTACK_DR_DB_HOST, 'ws-webstack-db.shop.svc.cluster.local');
      assert.equal(env.KSTACK_DR_KEY_FILE, '/etc/webstack-backup/key/backup-key');
      assert.equal(
        pod.initContainers?.[0]?.name,
        'agent-install',
        'Node.js and kstack are copied in as for the db members',
      );
      const secrets = (pod.volumes ?? []).map((v) => v.secret?.secretName).filter(Boolean);
      assert.deepEqual(secrets.sort(), [
        'ws-webstack-backup-key',
        'ws-webstack-backup-storage',
        'ws-webstack-db',
        'ws-webstack-db-tls',
      ]);
      assert.deepEqual(pod.volumes?.find((v) => v.name === 'db-tls-ca')?.secret?.items, [
        { key: 'ca.crt', path: 'ca.crt' },
      ]);
      assert.equal(env.KSTACK_DR_DB_TLS_CA, '/etc/webstack-db/tls/ca.crt', 'TLS to the db, verified');
      // Its own read-only account, one member pinned under the headless Service, and only its own password mounted.
      assert.equal(env.KSTACK_DR_DB_USER, 'kstack_backup');
      assert.equal(env.KSTACK_DR_DB_PASSWORD_FILE, '/etc/webstack-db/secret/mariadb-backup-password');
      assert.equal(env.KSTACK_DR_DB_MEMBER_DOMAIN, 'ws-webstack-db-headless.shop.svc.cluster.local');
      assert.deepEqual(pod.volumes?.find((v) => v.name === 'db-secret')?.secret?.items, [
        { key: 'mariadb-backup-password', path: 'mariadb-backup-password' },
      ]);
      assert.equal(pod.restartPolicy, 'Never');
      assert.equal(pod.securityContext?.runAsNonRoot, true);
    },
  );

  it('the verify CronJob runs src/dr verify on its own schedule, and can be turned off', async () => {
    const cj = named(
      await render(on({ verify: { enabled: true, schedule: '0 5 * * 0' } })),
      'CronJob',
      'ws-webstack-backup-verify',
    ) as k8s.V1CronJob;
    assert.equal(cj.spec?.schedule, '0 5 * * 0');
    assert.deepEqual(jobPod(cj).containers[0]?.command?.slice(-1), ['verify']);
    assert.ok(
      !backupObjs(await render(on({ verify: { enabled: false, schedule: '0 5 * * 0' } }))).includes(
        'CronJob/ws-webstack-backup-verify',
      ),
    );
  });

  it(
    'adds a binlog archiver sidecar to every db member, ' +
      'reading the data volume, with binlogs on in the agent config',
    async () => {
      const objs = await render(
        on({ binlog: { enabled: true, flushIntervalSeconds: 20, resources: { requests: { cpu: '5m' } } } }),
      );
      const spec = sts(objs).spec?.template.spec;
      const a = spec?.containers.find((c) => c.name === 'binlog-archiver');
      assert.ok(a);
      assert.deepEqual(a.command, [
        '/opt/webstack-agent/node',
        '/opt/webstack-agent/kstack/dist/src/dr/binlog-main.js',
      ]);
      assert.equal(envOf(a).KSTACK_BINLOG_INTERVAL_SECONDS, '20');
      assert.deepEqual(
        a.volumeMounts?.find((m) => m.name === 'data'),
        { name: 'data', mountPath: '/var/lib/mysql', readOnly: true },
      );
      assert.equal(
        a.env?.find((e) => e.name === 'KSTACK_BINLOG_STREAM')?.valueFrom?.fieldRef?.fieldPath,
        'metadata.name',
      );
      const cfg = parseAgentConfig(JSON.parse(configMapData(one(objs, 'ConfigMap', 'db'))['agent.json'] ?? '{}'), {
        HOSTNAME: 'ws-webstack-db-0',
      });
      assert.equal(cfg.binlog, true);
      assert.match(renderMyCnf(cfg), /^log_bin=\/var\/lib\/mysql\/mariadb-bin$/m);
      const noBinlog = await render(on({ binlog: { enabled: false, flushIntervalSeconds: 30, resources: {} } }));
      assert.ok(!sts(noBinlog).spec?.template.spec?.containers.some((c) => c.name === 'binlog-archiver'));
    },
  );

  it(
    "exposes the archivers' /metrics on a headless Service " + 'selecting the db members, annotated for Prometheus',
    async () => {
      const svc = named(
        await render(on({ metrics: { enabled: true, port: 9200 } })),
        'Service',
        'ws-webstack-backup-metrics',
      ) as k8s.V1Service;
      assert.equal(svc.spec?.clusterIP, 'None');
      assert.equal(svc.spec?.selector?.['app.kubernetes.io/component'], 'db');
      assert.equal(svc.spec?.ports?.[0]?.port, 9200);
      assert.equal(svc.metadata?.annotations?.['prometheus.io/scrape'], 'true');
    },
  );

  it("lets the db members' archiver reach object storage and be scraped, when network policies are on", async () => {
    const objs = await render({
      ...on(),
      networkPolicy: { objectStorage: { cidrs: ['10.9.0.0/16'], namespaces: [], ports: [9000] } },
    });
    const np = named(objs, 'NetworkPolicy', 'ws-webstack-db') as k8s.V1NetworkPolicy;
    assert.ok(
      np.spec?.egress?.some((e) => e.to?.some((t) => t.ipBlock?.cidr === '10.9.0.0/16') && e.ports?.[0]?.port === 9000),
      'egress to the storage',
    );
    assert.ok(
      np.spec?.ingress?.some((i) => i.ports?.some((p) => p.port === 9106)),
      'metrics scrape in',
    );
    const off = named(
      await render({ networkPolicy: { objectStorage: { cidrs: ['10.9.0.0/16'], namespaces: [], ports: [9000] } } }),
      'NetworkPolicy',
      'ws-webstack-db',
    ) as k8s.V1NetworkPolicy;
    assert.ok(
      !off.spec?.egress?.some((e) => e.to?.some((t) => t.ipBlock?.cidr === '10.9.0.0/16')),
      'no storage egress without archiving',
    );
  });

  it('generates a storage Secret from given keys, or uses an existing one', async () => {
    const objs = await render(
      on({ storage: { bucket: 'bkt', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK', existingSecret: '' } } }),
    );
    const s = named(objs, 'Secret', 'ws-webstack-backup-storage') as k8s.V1Secret;
    assert.equal(Buffer.from(s.data?.['access-key-id'] ?? '', 'base64').toString(), 'AK');
    assert.equal(Buffer.from(s.data?.['secret-access-key'] ?? '', 'base64').toString(), 'SK');
    const ext = await render(
      on({
        storage: { bucket: 'bkt', credentials: { existingSecret: 'my-s3', accessKeyId: '', secretAccessKey: '' } },
      }),
    );
    assert.ok(!backupObjs(ext).includes('Secret/ws-webstack-backup-storage'));
    assert.ok(
      (jobPod(named(ext, 'CronJob', 'ws-webstack-backup')).volumes ?? []).some((v) => v.secret?.secretName === 'my-s3'),
    );
  });

  it('generates a 32-byte encryption key kept on uninstall, or uses an existing Secret', async () => {
    const s = named(await render(on()), 'Secret', 'ws-webstack-backup-key') as k8s.V1Secret;
    const key = Buffer.from(Buffer.from(s.data?.['backup-key'] ?? '', 'base64').toString(), 'base64');
    assert.equal(key.length, 32);
    assert.equal(s.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
    const ext = await render(on({ encryption: { existingSecret: 'my-key' } }));
    assert.ok(!backupObjs(ext).includes('Secret/ws-webstack-backup-key'));
    assert.ok((sts(ext).spec?.template.spec?.volumes ?? []).some((v) => v.secret?.secretName === 'my-key'));
  });

  it('renders the restore Job only when asked (kstack restore), passing the target', async () => {
    const objs = await render(
      on({
        restore: {
          enabled: true,
          backupId: '20261125T180512Z-3fa9c1',
          toTime: '2026-11-25T18:30:00Z',
          toGtid: '',
          sourcePrefix: 'old/ws',
          runId: 'r1',
        },
      }),
    );
    const job = named(objs, 'Job', 'ws-webstack-backup-restore-r1') as k8s.V1Job;
    assert.deepEqual(job.spec?.template.spec?.containers[0]?.command?.slice(-5), [
      '/opt/webstack-agent/kstack/dist/src/dr/pitr-main.js',
      'restore',
      '--backup-id=20261125T180512Z-3fa9c1',
      '--to-time=2026-11-25T18:30:00Z',
      '--source-prefix=old/ws',
    ]);
    assert.equal(job.spec?.backoffLimit, 0);
    const c = job.spec?.template.spec?.containers[0];
    assert.ok(c);
    assert.equal(envOf(c).KSTACK_DR_DB_USER, 'kstack_restore');
    assert.deepEqual(job.spec?.template.spec?.volumes?.find((v) => v.name === 'db-secret')?.secret?.items, [
      { key: 'mariadb-restore-password', path: 'mariadb-restore-password' },
    ]);
  });

  it(
    "creates the Jobs' accounts through the db agent, " +
      'with passwords from the db Secret; the archiver stays root on the socket',
    async () => {
      const objs = await render(on());
      const cfg = parseAgentConfig(JSON.parse(configMapData(one(objs, 'ConfigMap', 'db'))['agent.json'] ?? '{}'), {
        HOSTNAME: 'ws-webstack-db-0',
      });
      assert.deepEqual(cfg.drAccounts, [
        { role: 'backup', user: 'kstack_backup', passwordFile: '/etc/webstack-db/secret/mariadb-backup-password' },
        { role: 'restore', user: 'kstack_restore', passwordFile: '/etc/webstack-db/secret/mariadb-restore-password' },
      ]);
      const secret = one(objs, 'Secret', 'db') as k8s.V1Secret;
      for (const key of ['mariadb-backup-password', 'mariadb-restore-password'])
        assert.match(Buffer.from(secret.data?.[key] ?? '', 'base64').toString(), /^[A-Za-z0-9]{32}$/, key);
      const a = sts(objs).spec?.template.spec?.containers.find((x) => x.name === 'binlog-archiver');
      assert.ok(a);
      assert.equal(envOf(a).KSTACK_DR_DB_USER, 'root');
      const off = parseAgentConfig(
        JSON.parse(configMapData(one(await render({}), 'ConfigMap', 'db'))['agent.json'] ?? '{}'),
        { HOSTNAME: 'ws-webstack-db-0' },
      );
      assert.deepEqual(off.drAccounts, [], 'no DR accounts without backups');
    },
  );

  it(
    'a lean restore copy (kstack restore --into-namespace --lean) passes the schema: ' +
      'one standalone db member, one web replica, no podwatch, no archiver',
    async () => {
      const objs = await render(
        copyValues(
          on(),
          { keySecret: 'ws-webstack-backup-key', storageSecret: 'ws-webstack-backup-storage' },
          'webstack',
          'drill',
          true,
        ),
      );
      const db = sts(objs);
      assert.equal(db.spec?.replicas, 1);
      assert.ok(!db.spec?.template.spec?.containers.some((c) => c.name === 'binlog-archiver'));
      assert.equal((one(objs, 'Deployment', 'web') as k8s.V1Deployment).spec?.replicas, 1);
      assert.ok(!objs.some((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'podwatch'));
      assert.equal(
        (JSON.parse(configMapData(one(objs, 'ConfigMap', 'db'))['agent.json'] ?? '{}') as { mode?: string }).mode,
        'standalone',
      );
    },
  );

  it('uses backup.image for the Jobs when set, and places them as told', async () => {
    const cj = named(
      await render(
        on({
          image: { repository: 'kstack/tools', tag: '1', digest: '', pullPolicy: 'Always' },
          nodeSelector: { disk: 'ssd' },
        }),
      ),
      'CronJob',
      'ws-webstack-backup',
    );
    assert.equal(jobPod(cj).containers[0]?.image, 'kstack/tools:1');
    assert.equal(jobPod(cj).containers[0]?.imagePullPolicy, 'Always');
    assert.deepEqual(jobPod(cj).nodeSelector, { disk: 'ssd' });
  });

  it('NOTES say where backups go, how to run one by hand, and where the key is', async () => {
    const notes = await helmNotes({ release: 'ws', namespace: 'shop', values: on() });
    assert.match(
      notes,
      /Backups: "0 3 \* \* \*" to s3:\/\/backups\/webstack, verified "30 4 \* \* \*"; binlogs archived every 30 s/,
    );
    assert.match(notes, /kubectl create job -n shop --from=cronjob\/ws-webstack-backup /);
    assert.match(notes, /Secret ws-webstack-backup-key \(kept on uninstall\)/);
    assert.doesNotMatch(await helmNotes({ release: 'ws', namespace: 'shop', values: {} }), /Backups:/);
  });

  it('passes helm lint --strict', async () => {
    const res = await helmLint({ values: on() });
    assert.ok(res.ok, res.stdout + res.stderr);
  });
});

describe('webstack chart backup: the schema refuses bad values, naming the field', () => {
  const cases: { what: string; values: Values; field: string; reason: RegExp }[] = [
    {
      what: 'an unknown key',
      values: on({ schedul: '* * * * *' }),
      field: '/backup',
      reason: /additional properties 'schedul' not allowed/,
    },
    {
      what: 'a schedule that is not cron',
      values: on({ schedule: 'daily' }),
      field: '/backup/schedule',
      reason: /does not match pattern/,
    },
    {
      what: 'backups on without a bucket',
      values: { backup: { enabled: true } },
      field: '/backup/storage/bucket',
      reason: /minLength|length must be >= 3/,
    },
    {
      what: 'an endpoint without a scheme',
      values: on({ storage: { bucket: 'bkt', endpoint: 'minio:9000' } }),
      field: '/backup/storage/endpoint',
      reason: /does not match pattern/,
    },
    {
      what: 'a bucket name S3 refuses',
      values: on({ storage: { bucket: 'My_Bucket' } }),
      field: '/backup/storage/bucket',
      reason: /does not match pattern/,
    },
    {
      what: 'a prefix with a leading slash',
      values: on({ storage: { bucket: 'bkt', prefix: '/x' } }),
      field: '/backup/storage/prefix',
      reason: /does not match pattern/,
    },
    {
      what: 'retention of 0 backups',
      values: on({ retention: { count: 0, maxAgeDays: 1 } }),
      field: '/backup/retention/count',
      reason: /minimum/,
    },
    {
      what: 'a flush interval above 5 minutes',
      values: on({ binlog: { enabled: true, flushIntervalSeconds: 600 } }),
      field: '/backup/binlog/flushIntervalSeconds',
      reason: /maximum/,
    },
    {
      what: 'a restore time without a zone',
      values: on({ restore: { enabled: true, toTime: '2026-11-25 18:30' } }),
      field: '/backup/restore/toTime',
      reason: /does not match pattern/,
    },
    {
      what: 'a malformed GTID',
      values: on({ restore: { enabled: true, toGtid: '0-1' } }),
      field: '/backup/restore/toGtid',
      reason: /does not match pattern/,
    },
    {
      what: 'both a restore time and a GTID',
      values: on({ restore: { enabled: true, toTime: '2026-11-25T18:30:00Z', toGtid: '0-1-5' } }),
      field: '/backup/restore/toGtid',
      reason: /maxLength|length must be <= 0/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.what}`, async () => {
      const res = await tryHelmTemplate({ values: c.values });
      assert.equal(res.ok, false, `helm template accepted ${JSON.stringify(c.values)}`);
      const line = res.stderr.split('\n').find((l) => l.includes(`at '${c.field}'`));
      assert.ok(line, `the message names '${c.field}':\n${res.stderr}`);
      assert.match(res.stderr, c.reason);
    });
  }
});
