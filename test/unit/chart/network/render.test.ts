// Render tests of chart part 3: the secondary network (NetworkAttachmentDefinition, MultiNetworkPolicies,
// the db pods' attachment and the env the galera agent reads), the Prometheus Operator objects and the
// scrape ConfigMap, the exporter sidecars, Pod Security labels, security defaults and NOTES.txt's
// enforcement warning. The real helm renders; capabilities are given with --api-versions, as a cluster
// would report them.
import { backupMetricsText, summariseBackups } from '../../../../src/dr/binlog-metrics.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { helmNotes, helmTemplate, tryHelmTemplate } from '../../../../src/chart/helm.js';
import { configMapData, ofKind, one, parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';

type Values = Record<string, unknown>;

async function render(values?: Values, extraArgs?: string[]): Promise<K8sObject[]> {
  return parseManifests(await helmTemplate({ release: 'web', namespace: 'shop', values, extraArgs }));
}
const podTemplate = (objs: K8sObject[], kind: string, component: string): k8s.V1PodTemplateSpec => {
  const w = objs.find((o) => o.kind === kind && o.metadata.labels?.['app.kubernetes.io/component'] === component);
  assert.ok(w, `${kind} ${component}`);
  return (w.spec as { template: k8s.V1PodTemplateSpec }).template;
};
/** A (Multi)NetworkPolicy spec as rendered (plain YAML: `from`, not the client's `_from`). */
interface PolicySpec {
  policyTypes?: string[];
  ingress?: {
    from?: { podSelector?: { matchLabels?: Record<string, string> } }[];
    ports?: { port?: number | string; protocol?: string }[];
  }[];
}
/** Backups on (templates/backup/): the backup alerts and the archivers' metrics come with them. */
const BACKUP = { enabled: true, storage: { bucket: 'backups', endpoint: 'http://s3.example:9000' } };
const MULTUS = ['--api-versions', 'k8s.cni.cncf.io/v1'];
const OPERATOR = ['--api-versions', 'monitoring.coreos.com/v1'];

describe('webstack chart: secondary network', () => {
  it('is off by default: no attachment, no annotation, no env', async () => {
    const objs = await render();
    assert.equal(ofKind(objs, 'NetworkAttachmentDefinition').length, 0);
    const db = podTemplate(objs, 'StatefulSet', 'db');
    assert.equal(db.metadata?.annotations?.['k8s.v1.cni.cncf.io/networks'], undefined);
    assert.equal(
      db.spec?.containers[0]?.env?.find((e) => e.name === 'GALERA_SECONDARY_INTERFACE'),
      undefined,
    );
  });

  it('refuses, naming the value, when the cluster has no Multus API and force is off', async () => {
    const res = await tryHelmTemplate({ values: { networks: { secondary: { enabled: true } } } });
    assert.equal(res.ok, false);
    assert.match(
      res.stderr,
      /networks\.secondary\.enabled is true, but this cluster does not serve k8s\.cni\.cncf\.io\/v1.*networks\.secondary\.force=true/s,
    );
  });

  it(
    'bridge + whereabouts (the default): the NAD, db pods on net1, ' +
      'GALERA_SECONDARY_INTERFACE, MultiNetworkPolicy for db only',
    async () => {
      const objs = await render({ networks: { secondary: { enabled: true } } }, MULTUS);
      const nad = one(objs, 'NetworkAttachmentDefinition');
      assert.equal(nad.apiVersion, 'k8s.cni.cncf.io/v1');
      assert.equal(nad.metadata.name, 'web-webstack-dbnet');
      assert.deepEqual(JSON.parse((nad.spec as { config: string }).config), {
        cniVersion: '0.3.1',
        name: 'web-webstack-dbnet',
        type: 'bridge',
        bridge: 'kstack-db0',
        ipam: { type: 'whereabouts', range: '10.78.0.0/24' },
      });
      const db = podTemplate(objs, 'StatefulSet', 'db');
      assert.deepEqual(JSON.parse(db.metadata?.annotations?.['k8s.v1.cni.cncf.io/networks'] ?? ''), [
        { name: 'web-webstack-dbnet', namespace: 'shop', interface: 'net1' },
      ]);
      assert.equal(
        db.spec?.containers.find((c) => c.name === 'mariadb')?.env?.find((e) => e.name === 'GALERA_SECONDARY_INTERFACE')
          ?.value,
        'net1',
      );
      assert.equal(
        podTemplate(objs, 'Deployment', 'web').metadata?.annotations?.['k8s.v1.cni.cncf.io/networks'],
        undefined,
        'web stays off net1',
      );
      const mnps = ofKind(objs, 'MultiNetworkPolicy');
      assert.deepEqual(
        mnps.map((m) => m.metadata.name),
        ['web-webstack-db-net1'],
      );
      const mnp = mnps[0]!;
      assert.equal(mnp.apiVersion, 'k8s.cni.cncf.io/v1beta1');
      assert.equal(mnp.metadata.annotations?.['k8s.v1.cni.cncf.io/policy-for'], 'shop/web-webstack-dbnet');
      const spec = mnp.spec as PolicySpec;
      assert.deepEqual(spec.policyTypes, ['Ingress', 'Egress']);
      assert.deepEqual(
        spec.ingress?.map((r) => r.from?.map((p) => p.podSelector?.matchLabels?.['app.kubernetes.io/component'])),
        [['db']],
      );
      assert.deepEqual(
        spec.ingress?.[0]?.ports?.map((p) => `${String(p.port)}/${p.protocol ?? ''}`),
        ['3306/TCP', '4567/TCP', '4567/UDP', '4568/TCP', '4444/TCP', '8081/TCP'],
      );
    },
  );

  it(
    'macvlan + host-local with a range and an MTU; ' + 'backup Jobs attached and allowed to SQL on net1; policy off',
    async () => {
      let objs = await render(
        {
          networks: {
            secondary: {
              enabled: true,
              type: 'macvlan',
              master: 'ens4',
              mode: 'bridge',
              ipam: 'host-local',
              subnet: '192.168.50.0/24',
              rangeStart: '192.168.50.10',
              rangeEnd: '192.168.50.99',
              mtu: 9000,
              attachBackup: true,
              interface: 'db0',
            },
          },
        },
        MULTUS,
      );
      const cfg = JSON.parse((one(objs, 'NetworkAttachmentDefinition').spec as { config: string }).config) as Record<
        string,
        unknown
      >;
      assert.deepEqual(cfg, {
        cniVersion: '0.3.1',
        name: 'web-webstack-dbnet',
        type: 'macvlan',
        master: 'ens4',
        mode: 'bridge',
        mtu: 9000,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: '192.168.50.0/24', rangeStart: '192.168.50.10', rangeEnd: '192.168.50.99' }]],
        },
      });
      assert.equal(
        podTemplate(objs, 'StatefulSet', 'db').spec?.containers[0]?.env?.find(
          (e) => e.name === 'GALERA_SECONDARY_INTERFACE',
        )?.value,
        'db0',
      );
      const mnps = ofKind(objs, 'MultiNetworkPolicy');
      assert.deepEqual(mnps.map((m) => m.metadata.name).sort(), ['web-webstack-backup-net1', 'web-webstack-db-net1']);
      const dbIngress =
        (mnps.find((m) => m.metadata.name === 'web-webstack-db-net1')?.spec as PolicySpec).ingress ?? [];
      assert.equal(dbIngress[1]?.from?.[0]?.podSelector?.matchLabels?.['app.kubernetes.io/component'], 'backup');
      assert.deepEqual(
        dbIngress[1]?.ports?.map((p) => p.port),
        [3306],
      );

      objs = await render({
        networks: { secondary: { enabled: true, force: true, type: 'ipvlan', mode: 'l2', policy: false } },
      });
      assert.equal(
        (JSON.parse((one(objs, 'NetworkAttachmentDefinition').spec as { config: string }).config) as { type: string })
          .type,
        'ipvlan',
      );
      assert.equal(ofKind(objs, 'MultiNetworkPolicy').length, 0);
    },
  );
});

describe('webstack chart: monitoring', () => {
  it('exporter sidecars with ports and probes; prometheus.io annotations on web, db and podwatch', async () => {
    const objs = await render();
    const web = podTemplate(objs, 'Deployment', 'web');
    const nx = web.spec?.containers.find((c) => c.name === 'metrics');
    assert.deepEqual(nx?.command, [
      '/usr/bin/nginx-prometheus-exporter',
      '--nginx.scrape-uri=http://127.0.0.1:8082/stub_status',
      '--web.listen-address=:9113',
    ]);
    assert.deepEqual(nx?.ports, [{ name: 'metrics', containerPort: 9113, protocol: 'TCP' }]);
    assert.match(
      configMapData(one(objs, 'ConfigMap', 'web'))['nginx.conf'] ?? '',
      /listen 127\.0\.0\.1:8082;.*location = \/stub_status \{\s*stub_status;/s,
    );
    const db = podTemplate(objs, 'StatefulSet', 'db');
    const my = db.spec?.containers.find((c) => c.name === 'metrics');
    assert.match(
      my?.command?.[2] ?? '',
      /exec \/bin\/mysqld_exporter --config\.my-cnf=\/run\/exporter\/my\.cnf --web\.listen-address=:9104/,
    );
    assert.equal(my?.volumeMounts?.[0]?.mountPath, '/run/exporter');
    const pw = podTemplate(objs, 'Deployment', 'podwatch');
    for (const [t, port] of [
      [web, '9113'],
      [db, '9104'],
      [pw, '8080'],
    ] as const) {
      assert.equal(t.metadata?.annotations?.['prometheus.io/scrape'], 'true');
      assert.equal(t.metadata?.annotations?.['prometheus.io/port'], port);
      assert.equal(t.metadata?.annotations?.['prometheus.io/path'], '/metrics');
    }
    const off = await render({
      monitoring: { annotations: false },
      web: { metrics: { enabled: false } },
      db: { metrics: { enabled: false } },
    });
    assert.deepEqual(
      podTemplate(off, 'Deployment', 'web').spec?.containers.map((c) => c.name),
      ['nginx', 'webinfo'],
    );
    assert.deepEqual(
      podTemplate(off, 'StatefulSet', 'db').spec?.containers.map((c) => c.name),
      ['mariadb'],
    );
    assert.equal(podTemplate(off, 'Deployment', 'podwatch').metadata?.annotations?.['prometheus.io/scrape'], undefined);
    assert.doesNotMatch(configMapData(one(off, 'ConfigMap', 'web'))['nginx.conf'] ?? '', /stub_status/);
  });

  it(
    'operator "auto": PodMonitors and the PrometheusRule ' + 'only when the cluster serves monitoring.coreos.com/v1',
    async () => {
      assert.equal(ofKind(await render(), 'PodMonitor').length, 0);
      assert.equal(ofKind(await render(), 'PrometheusRule').length, 0);
      const objs = await render(
        { backup: BACKUP, monitoring: { labels: { release: 'kps' }, interval: '15s' } },
        OPERATOR,
      );
      const pms = ofKind(objs, 'PodMonitor');
      assert.deepEqual(pms.map((p) => p.metadata.name).sort(), [
        'web-webstack-db',
        'web-webstack-podwatch',
        'web-webstack-web',
      ]);
      for (const pm of pms) {
        assert.equal(pm.metadata.labels?.release, 'kps');
        const spec = pm.spec as {
          selector: { matchLabels: Record<string, string> };
          podMetricsEndpoints: { port: string; interval: string }[];
        };
        assert.equal(spec.podMetricsEndpoints[0]?.interval, '15s');
        assert.equal(spec.podMetricsEndpoints[0]?.port, pm.metadata.name.endsWith('podwatch') ? 'http' : 'metrics');
        if (pm.metadata.name.endsWith('-db'))
          assert.equal(
            spec.podMetricsEndpoints[1]?.port,
            'dr-metrics',
            "the binlog archivers' backup metrics are scraped too",
          );
      }
      const rule = one(objs, 'PrometheusRule');
      const rules = (rule.spec as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap(
        (g) => g.rules,
      );
      const expr = (name: string): string => rules.find((r) => r.alert === name)?.expr ?? '';
      assert.match(
        expr('WebstackGaleraClusterSizeLow'),
        /min\(mysql_global_status_wsrep_cluster_size\{namespace="shop",pod=~"web-webstack-db-\[0-9\]\+"\}\) < 3/,
      );
      assert.match(expr('WebstackGaleraMemberNotSynced'), /wsrep_local_state\{.*\} != 4/);
      assert.match(
        expr('WebstackBackupTooOld'),
        /time\(\) - max\(kstack_backup_last_success_timestamp_seconds\{namespace="shop"\}\) > 93600/,
      );
      assert.match(expr('WebstackBackupNotVerified'), /kstack_backup_verified_timestamp_seconds/);
      // Every backup metric an alert reads is one the archivers export (an alert on a name nobody exports never fires).
      const exported = new Set(
        [...backupMetricsText(summariseBackups([], [])).matchAll(/^(kstack_backup\w*) /gm)].map((m) => m[1]),
      );
      for (const r of rules)
        for (const [name] of r.expr.matchAll(/kstack_backup\w*/g))
          assert.ok(exported.has(name), `${r.alert} reads ${name}, which the archivers do not export`);
      assert.match(expr('WebstackBackupVerifyFailed'), /kstack_backup_verify_failed\{namespace="shop"\}\) > 0/);
      assert.match(expr('WebstackWeb5xxRatio'), /status=~"5\.\.".*> 0\.05$/);
      assert.match(expr('WebstackPodwatchDown'), /up\{namespace="shop",pod=~"web-webstack-podwatch-\.\*"\}/);
    },
  );

  it(
    'operator "never" renders none even with the API; ' + '"always" renders them without; rule values reach the rules',
    async () => {
      assert.equal(ofKind(await render({ monitoring: { operator: 'never' } }, OPERATOR), 'PrometheusRule').length, 0);
      const objs = await render({
        backup: BACKUP,
        db: { replicaCount: 5 },
        monitoring: {
          operator: 'always',
          rules: { web5xxRatio: 0.2, backupMaxAgeSeconds: 7200, for: '10m', backupAlerts: true },
        },
      });
      const rules = (
        one(objs, 'PrometheusRule').spec as { groups: { rules: { alert: string; expr: string; for?: string }[] }[] }
      ).groups.flatMap((g) => g.rules);
      assert.match(rules.find((r) => r.alert === 'WebstackGaleraClusterSizeLow')?.expr ?? '', /< 5 /);
      assert.match(rules.find((r) => r.alert === 'WebstackWeb5xxRatio')?.expr ?? '', /> 0\.2$/);
      assert.match(rules.find((r) => r.alert === 'WebstackBackupTooOld')?.expr ?? '', /> 7200 /);
      assert.equal(rules.find((r) => r.alert === 'WebstackBackupTooOld')?.for, '10m');
      for (const values of [
        { backup: BACKUP, monitoring: { operator: 'always', rules: { backupAlerts: false } } },
        { monitoring: { operator: 'always' } },
      ]) {
        const noBackup = await render(values);
        const names = (
          one(noBackup, 'PrometheusRule').spec as { groups: { rules: { alert: string }[] }[] }
        ).groups.flatMap((g) => g.rules.map((r) => r.alert));
        assert.ok(
          !names.some((n) => n.startsWith('WebstackBackup')),
          `no backup alerts with ${JSON.stringify(values)}: ${names.join(', ')}`,
        );
        assert.ok(names.includes('WebstackGaleraClusterSizeLow'));
      }
    },
  );

  it('the scrape ConfigMap for a Prometheus without the Operator: one kubernetes_sd job per component', async () => {
    const objs = await render({ monitoring: { scrapeConfig: { create: true } } });
    const data = configMapData(one(objs, 'ConfigMap', 'prometheus'));
    assert.match(data['scrape-configs.yaml'] ?? '', /job_name: webstack\/shop\/web\/web\b/);
    assert.match(data['scrape-configs.yaml'] ?? '', /regex: "web;db;metrics\|dr-metrics"/);
    assert.match(data['scrape-configs.yaml'] ?? '', /regex: "web;podwatch;http"/);
    assert.match(data['rules.yaml'] ?? '', /^groups:\n {2}- name: webstack-web/);
  });
});

describe('webstack chart: security', () => {
  it(
    'every pod: non-root, RuntimeDefault seccomp; every container: ' +
      'read-only root fs, no escalation, no capabilities; tokens only for podwatch',
    async () => {
      const objs = await render({ networks: { secondary: { enabled: true, force: true } } });
      const workloads = objs.filter((o) =>
        ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(o.kind),
      );
      assert.ok(workloads.length >= 3);
      for (const w of workloads) {
        const spec = (
          w.kind === 'CronJob'
            ? (w.spec as { jobTemplate: { spec: { template: k8s.V1PodTemplateSpec } } }).jobTemplate.spec.template
            : (w.spec as { template: k8s.V1PodTemplateSpec }).template
        ).spec;
        assert.ok(spec);
        const id = `${w.kind}/${w.metadata.name}`;
        assert.equal(spec.securityContext?.runAsNonRoot, true, `${id}: runAsNonRoot`);
        assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${id}: seccomp`);
        const podwatch = w.metadata.labels?.['app.kubernetes.io/component'] === 'podwatch';
        assert.equal(
          spec.automountServiceAccountToken,
          podwatch,
          `${id}: automountServiceAccountToken ${String(podwatch)}`,
        );
        for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${id}/${c.name}: read-only root fs`);
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${id}/${c.name}`);
          assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${id}/${c.name}`);
        }
      }
    },
  );

  it('Pod Security labels on the namespace, when asked', async () => {
    assert.equal(ofKind(await render(), 'Namespace').length, 0);
    const ns = one(await render({ podSecurity: { labelNamespace: true, level: 'baseline' } }), 'Namespace');
    assert.equal(ns.metadata.name, 'shop');
    for (const mode of ['enforce', 'audit', 'warn'])
      assert.equal(ns.metadata.labels?.[`pod-security.kubernetes.io/${mode}`], 'baseline');
  });
});

describe('webstack chart: NOTES.txt on policy enforcement', () => {
  it('warns when no enforcing engine is known, and names it when networkPolicy.enforcedBy says', async () => {
    let notes = await helmNotes({ release: 'web', namespace: 'shop' });
    assert.match(notes, /WARNING: NetworkPolicies were created, but no engine known to enforce them was found/);
    assert.match(notes, /--set networkPolicy\.enforcedBy=<its name>/);
    notes = await helmNotes({
      release: 'web',
      namespace: 'shop',
      values: { networkPolicy: { enforcedBy: 'kube-router' } },
    });
    assert.doesNotMatch(notes, /WARNING/);
    assert.match(notes, /enforced by kube-router/);
    notes = await helmNotes({ release: 'web', namespace: 'shop', values: { networkPolicy: { enabled: false } } });
    assert.doesNotMatch(notes, /NetworkPolic/);
  });
});

describe('webstack chart: NOTES.txt points at helm test', () => {
  it('tells the user to run helm test when the test pods are rendered, and not when they are off', async () => {
    assert.match(await helmNotes({ release: 'web', namespace: 'shop' }), /helm test web -n shop --logs/);
    assert.doesNotMatch(
      await helmNotes({ release: 'web', namespace: 'shop', values: { tests: { enabled: false } } }),
      /helm test/,
    );
  });
});
