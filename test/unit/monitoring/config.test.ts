// The files Prometheus and Alertmanager run on: jobs read their targets from file_sd files, rules come
// from PrometheusRules, only real changes ask for a reload; receivers are checked field by field and
// both firing and resolved notifications are sent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import {
  alertmanagerConfig,
  ALERTS_PATH_ANNOTATION,
  parseReceivers,
  serviceReceivers,
} from '../../../src/monitoring/alertmanager-config.js';
import { needsPrometheusReload, prometheusFiles, CONFIG_DIR } from '../../../src/monitoring/prometheus-config.js';
import type { ScrapeJob } from '../../../src/monitoring/scrape-targets.js';

const job: ScrapeJob = {
  name: 'podMonitor/web/db/0',
  metricsPath: '/metrics',
  scheme: 'http',
  interval: '5s',
  honorLabels: false,
  targets: [
    {
      targets: ['10.0.0.1:9104'],
      labels: { namespace: 'web', pod: 'db-0', container: 'c', endpoint: 'metrics', job: 'web/db' },
    },
  ],
};
const settings = { scrapeInterval: '15s', evaluationInterval: '5s', externalLabels: { cluster: 'kstack' } };

describe('Prometheus files', () => {
  it('prometheus.yml lists every job with its file_sd file, the rules folder and the local Alertmanager', () => {
    const files = prometheusFiles(
      [job],
      [{ metadata: { name: 'alerts', namespace: 'web' }, spec: { groups: [{ name: 'g', rules: [] }] } }],
      settings,
    );
    assert.deepEqual([...files.keys()].sort(), [
      'prometheus.yml',
      'rules/web-alerts.json',
      'targets/podMonitor_web_db_0.json',
    ]);
    const main = parse(files.get('prometheus.yml') ?? '') as {
      scrape_configs: { job_name: string; scrape_interval?: string; file_sd_configs?: { files: string[] }[] }[];
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    const pm = main.scrape_configs.find((j) => j.job_name === job.name);
    assert.equal(pm?.scrape_interval, '5s');
    assert.deepEqual(pm?.file_sd_configs?.[0]?.files, [`${CONFIG_DIR}/targets/podMonitor_web_db_0.json`]);
    assert.deepEqual(main.scrape_configs.map((j) => j.job_name).slice(0, 2), ['prometheus', 'alertmanager']);
    assert.deepEqual(main.rule_files, [`${CONFIG_DIR}/rules/*.json`]);
    assert.deepEqual(main.alerting.alertmanagers[0]?.static_configs[0]?.targets, ['localhost:9093']);
    assert.deepEqual(JSON.parse(files.get('targets/podMonitor_web_db_0.json') ?? ''), job.targets);
  });

  it('a target change needs no reload; the main file or a rule does', () => {
    assert.equal(needsPrometheusReload(['targets/a.json']), false);
    assert.equal(needsPrometheusReload(['targets/a.json', 'rules/web-alerts.json']), true);
    assert.equal(needsPrometheusReload(['prometheus.yml']), true);
  });
});

describe('Alertmanager configuration', () => {
  it('fans one route out to webhooks and Slack, resolved notifications included', () => {
    const cfg = alertmanagerConfig({
      webhooks: ['http://10.77.3.1:8000/hook'],
      slack: [{ url: 'http://10.77.3.1:8001/services/T/B/X', channel: '#ops' }],
    }) as {
      route: { receiver: string; group_by: string[] };
      receivers: {
        name: string;
        webhook_configs?: { url: string; send_resolved: boolean }[];
        slack_configs?: { api_url: string; channel?: string; send_resolved: boolean }[];
      }[];
    };
    assert.equal(cfg.route.receiver, 'kstack');
    assert.deepEqual(cfg.route.group_by, ['alertname', 'namespace']);
    const r = cfg.receivers[0];
    assert.deepEqual(
      r?.webhook_configs?.map((w) => [w.url, w.send_resolved]),
      [['http://10.77.3.1:8000/hook', true]],
    );
    assert.deepEqual(
      r?.slack_configs?.map((s) => [s.api_url, s.channel, s.send_resolved]),
      [['http://10.77.3.1:8001/services/T/B/X', '#ops', true]],
    );
    assert.deepEqual(alertmanagerConfig({ webhooks: [], slack: [] }), {
      ...alertmanagerConfig({ webhooks: [], slack: [] }),
      receivers: [{ name: 'kstack' }],
    });
  });

  it('Services that declare an alerts path become one webhook per ready pod behind them', () => {
    const svc = (name: string, annotations: Record<string, string>): V1Service => ({
      metadata: { name, namespace: 'web', annotations },
      spec: {
        selector: { app: name },
        ports: [
          { name: 'metrics', port: 9 },
          { name: 'http', port: 80, targetPort: 'http' },
        ],
      },
    });
    const pod = (name: string, app: string, ip: string, ready: boolean): V1Pod => ({
      metadata: { name, namespace: 'web', labels: { app } },
      spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
      status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
    assert.deepEqual(
      serviceReceivers(
        [svc('pw', { [ALERTS_PATH_ANNOTATION]: '/api/alerts' }), svc('other', {})],
        [
          pod('pw-a', 'pw', '10.0.0.2', true),
          pod('pw-b', 'pw', '10.0.0.3', true),
          pod('pw-c', 'pw', '10.0.0.4', false),
          pod('o', 'other', '10.0.0.5', true),
        ],
      ),
      ['http://10.0.0.2:8080/api/alerts', 'http://10.0.0.3:8080/api/alerts'],
    );
  });

  it('refuses receivers that are not URLs, naming the field', () => {
    assert.deepEqual(parseReceivers('{"webhooks":["https://a/b"]}'), { webhooks: ['https://a/b'], slack: [] });
    assert.throws(() => parseReceivers('{"webhooks":["ftp://a"]}'), /webhooks\[0\] must be an http\(s\) URL/);
    assert.throws(() => parseReceivers('{"slack":[{"channel":"#x"}]}'), /slack\[0\]\.url must be an http\(s\) URL/);
    assert.throws(() => parseReceivers('[1]'), /expected an object/);
    assert.throws(() => parseReceivers('{'), /not JSON/);
  });
});
