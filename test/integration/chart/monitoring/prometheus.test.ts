// Monitoring, for real: the chart's rendered alert rules pass `promtool check rules`; Prometheus (Debian)
// runs on loopback with the chart's rendered scrape jobs and rules, and scrapes the real exporters the
// chart runs as sidecars — Debian's prometheus-nginx-exporter in front of nginx with the chart's
// nginx.conf (stub_status), and prometheus-mysqld-exporter started by the chart's own sidecar command
// against a real mariadbd (one standalone member started by the galera agent: a Galera cluster needs 3
// members, too heavy for this machine next to the rest; it reports a Galera cluster size of 0, which the
// size alert must treat as a fault).
// Only the service discovery is replaced: each job's kubernetes_sd_configs becomes a static target carrying
// the __meta_kubernetes_* labels Kubernetes discovery would give the pod, so the chart's relabel rules
// (keep this release's component and its metrics port, set namespace/pod/container) run unchanged.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Container, V1PodTemplateSpec } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { helmTemplate } from '../../../../src/chart/helm.js';
import { configMapData, one, parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';
import { startLocalNginx, waitForHttp, webLayout, writeWebFiles, type LocalNginx } from '../../../helpers/web-local.js';
import { LoopbackCluster, MARIADBD } from '../../../helpers/galera-loopback.js';
import { run } from '../../../../src/util/exec.js';
import { pickFreePorts } from '../../../../src/util/net.js';
import { requireFiles } from '../../../helpers/require-tools.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const NGINX = '/usr/sbin/nginx';
const NGINX_EXPORTER = '/usr/bin/prometheus-nginx-exporter';
const MYSQLD_EXPORTER = '/usr/bin/prometheus-mysqld-exporter';
const NEEDED = [PROMETHEUS, PROMTOOL, NGINX, NGINX_EXPORTER, MYSQLD_EXPORTER, MARIADBD];

interface ScrapeJob {
  job_name: string;
  kubernetes_sd_configs?: unknown;
  static_configs?: unknown[];
}

const NS = 'shop';

async function renderMonitoring(values: Record<string, unknown>): Promise<K8sObject[]> {
  // Backups on: their alerts are rendered with them (the storage is never reached here).
  const backup = { enabled: true, storage: { bucket: 'backups', endpoint: 'http://127.0.0.1:9' } };
  return parseManifests(
    await helmTemplate({
      release: 'web',
      namespace: NS,
      values: { backup, monitoring: { operator: 'always', scrapeConfig: { create: true } }, ...values },
    }),
  );
}

function container(objs: K8sObject[], kind: string, component: string, name: string): V1Container {
  const w = objs.find((o) => o.kind === kind && o.metadata.labels?.['app.kubernetes.io/component'] === component);
  const c = (w?.spec as { template?: V1PodTemplateSpec } | undefined)?.template?.spec?.containers.find(
    (x) => x.name === name,
  );
  assert.ok(c, `${kind} ${component} has a container ${name}`);
  return c;
}

describe('webstack chart: alert rules pass promtool', () => {
  requireFiles(NEEDED);
  it("the PrometheusRule groups and the scrape ConfigMap's rules.yaml are valid, with every alert", async () => {
    const objs = await renderMonitoring({});
    const dir = mkdtempSync(join(tmpdir(), 'kstack-promtool-'));
    try {
      const rule = one(objs, 'PrometheusRule');
      const groups = (rule.spec as { groups: { rules: { alert: string }[] }[] }).groups;
      const alerts = groups.flatMap((g) => g.rules.map((r) => r.alert)).sort();
      assert.deepEqual(alerts, [
        'WebstackBackupNotVerified',
        'WebstackBackupTooOld',
        'WebstackBackupVerifyFailed',
        'WebstackBinlogArchiveBehind',
        'WebstackGaleraClusterSizeLow',
        'WebstackGaleraMemberNotSynced',
        'WebstackGaleraNoPrimary',
        'WebstackPodwatchDown',
        'WebstackWeb5xxRatio',
        'WebstackWebReplicasUnavailable',
      ]);
      writeFileSync(join(dir, 'operator.yaml'), stringify({ groups }));
      writeFileSync(
        join(dir, 'configmap.yaml'),
        configMapData(one(objs, 'ConfigMap', 'prometheus'))['rules.yaml'] ?? '',
      );
      for (const file of ['operator.yaml', 'configmap.yaml']) {
        const res = await run(PROMTOOL, ['check', 'rules', join(dir, file)], { allowFailure: true });
        assert.equal(res.code, 0, `promtool check rules ${file}:\n${res.stdout}${res.stderr}`);
        assert.match(res.stdout, /SUCCESS: 10 rules found/);
      }
      // And promtool does catch a broken expression: the check can fail.
      writeFileSync(
        join(dir, 'broken.yaml'),
        stringify({ groups: [{ name: 'x', rules: [{ alert: 'X', expr: 'sum(rate(x[5m])' }] }] }),
      );
      const bad = await run(PROMTOOL, ['check', 'rules', join(dir, 'broken.yaml')], { allowFailure: true });
      assert.notEqual(bad.code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(
  'webstack chart: Prometheus scrapes the real exporters through the rendered scrape jobs',
  { timeout: 300_000 },
  () => {
    requireFiles(NEEDED);
    const dir = mkdtempSync(join(tmpdir(), 'kstack-prom-'));
    chmodSync(dir, 0o755); // nginx workers and mariadbd run unprivileged and must reach below this
    const children: ChildProcess[] = [];
    let nginx: LocalNginx | undefined;
    let db: LoopbackCluster | undefined;
    after(async () => {
      for (const c of children) {
        if (c.exitCode === null) c.kill('SIGTERM');
      }
      await nginx?.stop(2000);
      await db?.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    const start = (cmd: string, args: string[], env: NodeJS.ProcessEnv, log: string): ChildProcess => {
      const out = openSync(join(dir, log), 'a');
      const child = spawn(cmd, args, { stdio: ['ignore', out, out], env });
      closeSync(out);
      children.push(child);
      return child;
    };

    it(
      'sees nginx and mysqld targets up, their metrics labelled ' +
        'by the chart, and the Galera alert evaluating real data',
      async () => {
        // TLS on, as the chart's default: the exporter sidecar's my.cnf verifies the member with the CA.
        db = await LoopbackCluster.create({ baseDir: join(dir, 'db'), size: 1, mode: 'standalone', tls: true });
        db.startAll();
        await db.waitReady();
        const sqlPort = db.member('db-0').sqlPort;
        const [webPort, statusPort, nginxMetrics, mysqlMetrics, promPort] = await pickFreePorts(5);

        // A Galera release of 3 members, but one standalone server answers: WebstackGaleraClusterSizeLow must fire.
        const objs = await renderMonitoring({
          web: { containerPort: webPort, metrics: { port: nginxMetrics, statusPort, binary: NGINX_EXPORTER } },
          db: { replicaCount: 3, ports: { mysql: sqlPort }, metrics: { port: mysqlMetrics, binary: MYSQLD_EXPORTER } },
          monitoring: { operator: 'always', scrapeConfig: { create: true }, interval: '1s', rules: { for: '1s' } },
        });

        // nginx with the chart's config (its stub_status server on loopback), and the exporter sidecar's command.
        const layout = webLayout(join(dir, 'web'));
        writeWebFiles(layout, configMapData(one(objs, 'ConfigMap', 'web')));
        nginx = await startLocalNginx(NGINX, layout, join(dir, 'nginx.log'), `http://127.0.0.1:${webPort}/healthz`);
        const nx = container(objs, 'Deployment', 'web', 'metrics');
        const nxCmd = (nx.command ?? []).map((a) =>
          a.replace(/^--web\.listen-address=:/, '--web.listen-address=127.0.0.1:'),
        );
        assert.equal(nxCmd[0], NGINX_EXPORTER);
        start(NGINX_EXPORTER, nxCmd.slice(1), process.env, 'nginx-exporter.log');

        // The mysqld exporter sidecar's own shell command: writes my.cnf from the Secret's env var, then execs.
        const my = container(objs, 'StatefulSet', 'db', 'metrics');
        const script = (my.command?.[2] ?? '')
          .replaceAll('/run/exporter', join(dir, 'exporter'))
          .replaceAll('/etc/webstack-db/tls/ca.crt', db.tlsFiles?.ca ?? 'no CA')
          .replace(/--web\.listen-address=:/, '--web.listen-address=127.0.0.1:');
        mkdirSync(join(dir, 'exporter'));
        assert.equal(
          my.env?.find((e) => e.name === 'MYSQLD_EXPORTER_PASSWORD')?.valueFrom?.secretKeyRef?.key,
          'mariadb-root-password',
        );
        start(
          '/bin/sh',
          ['-c', script],
          { ...process.env, MYSQLD_EXPORTER_PASSWORD: db.rootPassword },
          'mysqld-exporter.log',
        );
        await waitForHttp(`http://127.0.0.1:${nginxMetrics}/metrics`, 15_000);
        await waitForHttp(`http://127.0.0.1:${mysqlMetrics}/metrics`, 15_000);

        // Prometheus with the rendered jobs (discovery replaced by static targets with the pods' meta labels).
        const data = configMapData(one(objs, 'ConfigMap', 'prometheus'));
        const jobs = (parse(data['scrape-configs.yaml'] ?? '') as { scrape_configs: ScrapeJob[] }).scrape_configs;
        const meta = (
          component: string,
          pod: string,
          containerName: string,
          portName: string,
        ): Record<string, string> => ({
          __meta_kubernetes_namespace: NS,
          __meta_kubernetes_pod_name: pod,
          __meta_kubernetes_pod_container_name: containerName,
          __meta_kubernetes_pod_container_port_name: portName,
          __meta_kubernetes_pod_label_app_kubernetes_io_instance: 'web',
          __meta_kubernetes_pod_label_app_kubernetes_io_component: component,
        });
        const targets: Record<string, { targets: string[]; labels: Record<string, string> }[]> = {
          web: [
            {
              targets: [`127.0.0.1:${nginxMetrics}`],
              labels: meta('web', 'web-webstack-web-abc12', 'metrics', 'metrics'),
            },
            // The nginx port of the same pod: the job's relabelling must drop it.
            { targets: [`127.0.0.1:${webPort}`], labels: meta('web', 'web-webstack-web-abc12', 'nginx', 'http') },
          ],
          db: [
            { targets: [`127.0.0.1:${mysqlMetrics}`], labels: meta('db', 'web-webstack-db-0', 'metrics', 'metrics') },
          ],
        };
        const scrapeConfigs = jobs.flatMap((j) => {
          const component = j.job_name.split('/').pop() ?? '';
          assert.ok(j.kubernetes_sd_configs, `${j.job_name} discovers pods`);
          const { kubernetes_sd_configs: _sd, ...rest } = j;
          return targets[component] ? [{ ...rest, static_configs: targets[component] }] : [];
        });
        assert.equal(scrapeConfigs.length, 2, 'the web and db jobs are rendered');
        writeFileSync(join(dir, 'rules.yaml'), data['rules.yaml'] ?? '');
        writeFileSync(
          join(dir, 'prometheus.yml'),
          stringify({
            global: { scrape_interval: '1s', evaluation_interval: '1s' },
            rule_files: [join(dir, 'rules.yaml')],
            scrape_configs: scrapeConfigs,
          }),
        );
        const prom = start(
          PROMETHEUS,
          [
            `--config.file=${join(dir, 'prometheus.yml')}`,
            `--storage.tsdb.path=${join(dir, 'tsdb')}`,
            `--web.listen-address=127.0.0.1:${promPort}`,
            '--log.level=warn',
          ],
          process.env,
          'prometheus.log',
        );
        const api = `http://127.0.0.1:${promPort}/api/v1`;
        await waitForHttp(`http://127.0.0.1:${promPort}/-/ready`, 60_000, () => prom.exitCode === null).catch(
          (err: unknown) => {
            throw new Error(`${String(err)}\n${readFileSync(join(dir, 'prometheus.log'), 'utf8').slice(-2000)}`);
          },
        );

        type Target = { health: string; labels: Record<string, string>; lastError: string };
        const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
          const res = await fetch(`${api}/query?query=${encodeURIComponent(q)}`);
          return (
            (await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }
          ).data.result;
        };
        let active: Target[] = [];
        for (let i = 0; i < 120; i++) {
          const res = await fetch(`${api}/targets`);
          active = ((await res.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
          if (active.length === 2 && active.every((t) => t.health === 'up')) break;
          await sleep(500);
        }
        assert.deepEqual(
          active.map((t) => `${t.labels.pod}/${t.labels.container}: ${t.health} ${t.lastError}`).sort(),
          ['web-webstack-db-0/metrics: up ', 'web-webstack-web-abc12/metrics: up '],
          "exactly the two metrics ports are scraped (nginx's own port is dropped), both up",
        );
        for (const t of active) assert.equal(t.labels.namespace, NS);

        // Real numbers through the whole path.
        let mysqlUp: { value: [number, string] }[] = [];
        let uptime: { value: [number, string] }[] = [];
        let accepted: { value: [number, string] }[] = [];
        for (let i = 0; i < 60 && (mysqlUp.length === 0 || uptime.length === 0 || accepted.length === 0); i++) {
          await sleep(500);
          mysqlUp = await query(`mysql_up{namespace="${NS}",pod="web-webstack-db-0"}`);
          uptime = await query(`mysql_global_status_uptime{pod="web-webstack-db-0",container="metrics"}`);
          accepted = await query(`nginx_connections_accepted{pod="web-webstack-web-abc12"}`);
        }
        assert.equal(
          mysqlUp[0]?.value[1],
          '1',
          `mysqld_exporter reaches mariadbd with the my.cnf the sidecar ` +
            `wrote:\n${readFileSync(join(dir, 'mysqld-exporter.log'), 'utf8').slice(-1500)}`,
        );
        assert.ok(Number(uptime[0]?.value[1]) >= 1, "the server's own status variables arrive");
        assert.ok(Number(accepted[0]?.value[1]) >= 1, 'nginx stub_status counts the health check connections');
        const size = await query('mysql_global_status_wsrep_cluster_size{pod="web-webstack-db-0"}');
        assert.equal(size[0]?.value[1], '0', 'a server outside any Galera cluster reports size 0');

        // The rules are loaded, and the Galera size alert fires on this data (size 0 < 3 replicas).
        let alerts: { labels: { alertname: string }; state: string }[] = [];
        for (let i = 0; i < 60; i++) {
          const res = await fetch(`${api}/alerts`);
          alerts = ((await res.json()) as { data: { alerts: { labels: { alertname: string }; state: string }[] } }).data
            .alerts;
          if (alerts.some((a) => a.labels.alertname === 'WebstackGaleraClusterSizeLow' && a.state === 'firing')) break;
          await sleep(500);
        }
        const firing = alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
        assert.ok(firing.includes('WebstackGaleraClusterSizeLow'), `fired: ${firing.join(', ')}`);
        assert.ok(!firing.includes('WebstackBackupVerifyFailed'), 'no verification failure is reported, so none fires');
        const rules = (
          (await (await fetch(`${api}/rules`)).json()) as { data: { groups: { rules: unknown[] }[] } }
        ).data.groups.flatMap((g) => g.rules);
        assert.equal(rules.length, 10);
      },
    );
  },
);
