import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  alertNamespace,
  collectHealth,
  componentSelector,
  DEFAULT_THRESHOLDS,
  HEALTH_QUERY_NAMES,
  healthModel,
  healthQueries,
  jobComponent,
  judgeAlerts,
  judgeAnswering,
  judgeBackupAge,
  judgeBinlogLag,
  judgeGaleraPrimary,
  judgeGaleraSize,
  judgeGaleraSynced,
  judgeVerifyFailed,
  queryNamespaces,
  worstStatus,
  type HealthInputs,
  type HealthQueryName,
  type Outcome,
} from '../../../src/monitoring/health.js';
import {
  parseAlertmanagerAlerts,
  parseRulesResponse,
  parseTargetsResponse,
  type PromRuleGroup,
  type PromSample,
} from '../../../src/monitoring/prometheus-api.js';
import { repoRoot } from '../../../src/util/paths.js';
import {
  FAKE_AM_ALERTS_ANSWER,
  FAKE_EVAL_TIME,
  FAKE_RULES_ANSWER,
  FAKE_TARGETS_ANSWER,
  fakeNoSamples,
  fakeVectorAnswer,
} from './fake-answers.js';

describe('component selectors', () => {
  it('match the jobs of the PodMonitors and of the scrape-config ConfigMap alike', () => {
    assert.equal(componentSelector('db'), 'job=~".+[-/]db"');
    assert.equal(jobComponent('shop/shop-webstack-db'), 'db');
    assert.equal(jobComponent('shop/shop-webstack-web'), 'web');
    assert.equal(jobComponent('shop/shop-webstack-podwatch'), 'podwatch');
    assert.equal(jobComponent('webstack/shop/shop/db'), 'db');
    assert.equal(jobComponent('webstack/shop/shop/web'), 'web');
    assert.equal(jobComponent('webstack/shop/shop/podwatch'), 'podwatch');
  });

  it('match the whole job, as PromQL anchors its regexes', () => {
    assert.equal(jobComponent('prometheus'), undefined);
    assert.equal(jobComponent('shop/shop-webstack-dbx'), undefined);
    assert.equal(jobComponent('shop/my-website'), undefined);
    assert.equal(jobComponent('web'), undefined);
  });
});

describe('healthQueries', () => {
  const q = healthQueries();

  it('groups every query by namespace and selects one component by its job', () => {
    assert.deepEqual(Object.keys(q), [...HEALTH_QUERY_NAMES]);
    for (const [name, promql] of Object.entries(q)) {
      assert.match(promql, /^\w+ by \(namespace\) \(/, name);
      assert.match(promql, /\{job=~"\.\+\[-\/\](db|web|podwatch)"\}/, name);
    }
  });

  it('writes the Galera, web and backup queries the page needs', () => {
    assert.equal(q.galeraSize, 'min by (namespace) (mysql_global_status_wsrep_cluster_size{job=~".+[-/]db"})');
    assert.equal(q.galeraSynced, 'count by (namespace) (mysql_global_status_wsrep_local_state{job=~".+[-/]db"} == 4)');
    assert.equal(q.galeraPrimary, 'sum by (namespace) (mysql_global_status_wsrep_cluster_status{job=~".+[-/]db"})');
    assert.equal(q.galeraReady, 'sum by (namespace) (mysql_global_status_wsrep_ready{job=~".+[-/]db"})');
    assert.equal(
      q.writeRate,
      'max by (namespace) (rate(mysql_global_status_wsrep_last_committed{job=~".+[-/]db"}[1m]))',
    );
    assert.equal(q.webUp, 'sum by (namespace) (up{job=~".+[-/]web"})');
    assert.equal(q.webTargets, 'count by (namespace) (up{job=~".+[-/]web"})');
    assert.equal(
      q.backupLastSuccess,
      'max by (namespace) (kstack_backup_last_success_timestamp_seconds{job=~".+[-/]db"})',
    );
    assert.equal(q.binlogLag, 'max by (namespace) (kstack_binlog_archive_lag_seconds{job=~".+[-/]db"})');
  });

  it('takes the rate window from the options and refuses one that is not a duration', () => {
    assert.match(healthQueries({ rateWindow: '2m' }).writeRate, /\[2m\]\)\)$/);
    assert.match(healthQueries({ rateWindow: '1m30s' }).writeRate, /\[1m30s\]\)\)$/);
    assert.throws(
      () => healthQueries({ rateWindow: '1m]) or vector(1' }),
      /rateWindow "1m\]\) or vector\(1" is not like 1m/,
    );
  });

  it('reads metrics that kstack and the chart really use', () => {
    const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');
    const sources = [
      read('src/dr/binlog-metrics.ts'),
      read('src/dr/binlog-archiver.ts'),
      read('charts/webstack/templates/monitoring/_monitoring.tpl'),
    ].join('\n');
    for (const metric of [
      'kstack_backup_last_success_timestamp_seconds',
      'kstack_backup_verify_failed',
      'kstack_backup_verified_timestamp_seconds',
      'kstack_binlog_archive_lag_seconds',
      'mysql_global_status_wsrep_cluster_size',
      'mysql_global_status_wsrep_local_state',
    ])
      assert.ok(sources.includes(metric), metric);
  });
});

describe('judgments', () => {
  it('Galera size below the expected members is critical', () => {
    assert.equal(judgeGaleraSize(3, 3), 'ok');
    assert.equal(judgeGaleraSize(4, 3), 'ok');
    assert.equal(judgeGaleraSize(2, 3), 'critical');
    assert.equal(judgeGaleraSize(null, 3), 'unknown');
  });

  it('a member not Synced warns, none Synced is critical', () => {
    assert.equal(judgeGaleraSynced(3, 3), 'ok');
    assert.equal(judgeGaleraSynced(2, 3), 'warn');
    assert.equal(judgeGaleraSynced(0, 3), 'critical');
    assert.equal(judgeGaleraSynced(null, 3), 'unknown');
    assert.equal(judgeGaleraSynced(2, null), 'unknown');
  });

  it('no Primary component is critical; members outside it warn', () => {
    assert.equal(judgeGaleraPrimary(3, 3), 'ok');
    assert.equal(judgeGaleraPrimary(2, 3), 'warn');
    assert.equal(judgeGaleraPrimary(0, 3), 'critical');
    assert.equal(judgeGaleraPrimary(3, null), 'ok');
    assert.equal(judgeGaleraPrimary(null, 3), 'unknown');
  });

  it('replicas answering: all ok, some warn, none critical, no targets unknown', () => {
    assert.equal(judgeAnswering(2, 2), 'ok');
    assert.equal(judgeAnswering(1, 2), 'warn');
    assert.equal(judgeAnswering(0, 2), 'critical');
    assert.equal(judgeAnswering(0, 0), 'unknown');
    assert.equal(judgeAnswering(null, 2), 'unknown');
  });

  it('a backup older than the threshold warns; none at all is critical', () => {
    assert.equal(judgeBackupAge(3600, 93600), 'ok');
    assert.equal(judgeBackupAge(93600, 93600), 'ok');
    assert.equal(judgeBackupAge(93601, 93600), 'warn');
    assert.equal(judgeBackupAge('none', 93600), 'critical');
    assert.equal(judgeBackupAge(null, 93600), 'unknown');
  });

  it('a failed verification is critical; binlog lag over its bar warns', () => {
    assert.equal(judgeVerifyFailed(true), 'critical');
    assert.equal(judgeVerifyFailed(false), 'ok');
    assert.equal(judgeVerifyFailed(null), 'unknown');
    assert.equal(judgeBinlogLag(30, 60), 'ok');
    assert.equal(judgeBinlogLag(61, 60), 'warn');
    assert.equal(judgeBinlogLag(null, 60), 'unknown');
  });

  it('alerts by severity, and the worst status of several', () => {
    assert.equal(judgeAlerts([]), 'ok');
    assert.equal(judgeAlerts(['warning', 'info']), 'warn');
    assert.equal(judgeAlerts(['warning', 'critical']), 'critical');
    assert.equal(worstStatus([]), 'unknown');
    assert.equal(worstStatus(['unknown', 'ok']), 'ok');
    assert.equal(worstStatus(['ok', 'warn', 'unknown']), 'warn');
    assert.equal(worstStatus(['warn', 'critical', 'ok']), 'critical');
  });
});

describe('alertNamespace', () => {
  const groups = parseRulesResponse(FAKE_RULES_ANSWER);
  const am = parseAlertmanagerAlerts(FAKE_AM_ALERTS_ANSWER);

  it("takes the alert's own namespace label", () => {
    assert.equal(alertNamespace(am[1]!, groups), 'shop');
  });

  it('finds the namespace of an aggregated alert through the rule holding it (external labels aside)', () => {
    assert.equal(alertNamespace(am[0]!, groups), 'shop');
  });

  it('gives null for an alert of no rule, and when rules of the same name select different namespaces', () => {
    assert.equal(alertNamespace(am[2]!, groups), null);
    const other = structuredClone(groups[0]!);
    other.name = 'webstack-shop2';
    for (const r of other.rules) {
      r.query = r.query.replaceAll('namespace="shop"', 'namespace="shop2"');
      r.alerts = [];
    }
    const quiet: PromRuleGroup[] = [
      { ...groups[0]!, rules: groups[0]!.rules.map((r) => ({ ...r, alerts: [] })) },
      other,
    ];
    assert.equal(alertNamespace(am[0]!, quiet), null);
    // The one holding the alert decides.
    assert.equal(alertNamespace(am[0]!, [groups[0]!, other]), 'shop');
  });

  it('reads namespace="…" from a query, not exported_namespace', () => {
    assert.deepEqual(queryNamespaces('up{namespace="a"} or up{namespace = "a",x="y"}'), ['a']);
    assert.deepEqual(queryNamespaces('x{exported_namespace="a"}'), []);
  });
});

/** Samples of one query at the fake evaluation time, by namespace. */
function fakeSamples(series: Readonly<Record<string, number>>): Outcome<PromSample[]> {
  return {
    ok: true,
    value: Object.entries(series).map(([namespace, value]) => ({
      metric: { namespace },
      value,
      timestamp: FAKE_EVAL_TIME,
    })),
  };
}

/** Two release namespaces: shop (mostly healthy) and shop-restore (a damaged copy). */
function fakeInputs(): HealthInputs {
  const q: Record<HealthQueryName, Outcome<PromSample[]>> = {
    galeraSize: fakeSamples({ shop: 3, 'shop-restore': 2 }),
    galeraMembers: fakeSamples({ shop: 3, 'shop-restore': 2 }),
    galeraSynced: fakeSamples({ shop: 3, 'shop-restore': 1 }),
    // The older exporter of shop-restore does not export wsrep_cluster_status: wsrep_ready stands in.
    galeraPrimary: fakeSamples({ shop: 3 }),
    galeraReady: fakeSamples({ shop: 3, 'shop-restore': 2 }),
    writeRate: fakeSamples({ shop: 12.5, 'shop-restore': NaN }),
    webUp: fakeSamples({ shop: 1, 'shop-restore': 2 }),
    webTargets: fakeSamples({ shop: 2, 'shop-restore': 2 }),
    podwatchUp: fakeSamples({ shop: 2 }),
    podwatchTargets: fakeSamples({ shop: 2 }),
    backupLastSuccess: fakeSamples({ shop: FAKE_EVAL_TIME - 3600, 'shop-restore': 0 }),
    backupVerifyFailed: fakeSamples({ shop: 0, 'shop-restore': 1 }),
    backupVerified: fakeSamples({ shop: FAKE_EVAL_TIME - 7200, 'shop-restore': 0 }),
    binlogLag: fakeSamples({ shop: 4.25 }),
  };
  return {
    now: Date.parse('2026-03-01T12:00:01Z'),
    prometheusUrl: 'http://fake-prometheus:9090',
    alertmanagerUrl: 'http://fake-alertmanager:9093',
    queries: q,
    targets: { ok: true, value: parseTargetsResponse(FAKE_TARGETS_ANSWER) },
    rules: { ok: true, value: parseRulesResponse(FAKE_RULES_ANSWER) },
    alerts: { ok: true, value: parseAlertmanagerAlerts(FAKE_AM_ALERTS_ANSWER) },
  };
}

describe('healthModel', () => {
  it('judges every figure of a healthy-ish namespace', () => {
    const model = healthModel(fakeInputs());
    assert.equal(model.generatedAt, '2026-03-01T12:00:01.000Z');
    assert.deepEqual(
      model.namespaces.map((n) => n.namespace),
      ['shop', 'shop-restore'],
    );
    const shop = model.namespaces[0]!;
    const f = shop.figures;
    assert.deepEqual(f.galeraSize, { status: 'ok', value: 3, of: 3, note: 'all 3 members in the cluster' });
    assert.deepEqual(f.galeraSynced, { status: 'ok', value: 3, of: 3, note: '3 of 3 members reporting Synced' });
    assert.deepEqual(f.galeraPrimary, {
      status: 'ok',
      value: true,
      of: 3,
      note: '3 members in the Primary component (wsrep_cluster_status)',
    });
    assert.deepEqual(f.writeRate, { status: 'ok', value: 12.5, note: 'committed transactions per second' });
    assert.deepEqual(f.webReplicas, { status: 'warn', value: 1, of: 2, note: '1 of 2 web replicas answer /metrics' });
    assert.equal(f.podwatch.status, 'ok');
    assert.deepEqual(f.backupAge, { status: 'ok', value: 3600, note: 'newest successful backup' });
    assert.deepEqual(f.backupVerifyFailed, { status: 'ok', value: false, note: 'no failed verification' });
    assert.equal(f.binlogLag.value, 4.25);
    assert.equal(f.binlogLag.status, 'ok');
    // Targets from /api/v1/targets: db up, web down; Prometheus's own target is no release's.
    assert.deepEqual(f.targets, { status: 'warn', value: 1, of: 2, note: '1 down' });
    assert.deepEqual(shop.downTargets, [
      {
        job: 'shop/shop-webstack-web',
        pod: 'shop-webstack-web-7d9f8c6b5-x2x4q',
        scrapeUrl: 'http://10.244.2.9:9113/metrics',
        health: 'down',
        lastError: 'Get "http://10.244.2.9:9113/metrics": dial tcp 10.244.2.9:9113: connect: connection refused',
      },
    ]);
    // The cluster-size alert (no namespace label) is shop's through its rule; the silenced one is listed, not counted.
    assert.deepEqual(f.alerts, { status: 'critical', value: 1, note: '1 alert firing, 1 silenced or inhibited' });
    assert.deepEqual(
      shop.alerts.map((a) => [a.name, a.severity, a.state, a.since]),
      [
        ['WebstackGaleraClusterSizeLow', 'critical', 'active', '2026-03-01T11:55:00.000Z'],
        ['WebstackGaleraMemberNotSynced', 'warning', 'suppressed', '2026-03-01T11:58:00.000Z'],
      ],
    );
    assert.equal(shop.alerts[0]!.summary, 'Galera cluster shop-webstack-db has fewer members than its 3 replicas');
    assert.equal(shop.status, 'critical');
  });

  it('judges a damaged namespace: members missing, wsrep_ready fallback, no backup, failed verification', () => {
    const restore = healthModel(fakeInputs()).namespaces[1]!;
    const f = restore.figures;
    assert.deepEqual(f.galeraSize, { status: 'critical', value: 2, of: 3, note: '1 member missing from the cluster' });
    assert.deepEqual(f.galeraSynced, { status: 'warn', value: 1, of: 2, note: '1 of 2 members reporting Synced' });
    assert.deepEqual(f.galeraPrimary, {
      status: 'ok',
      value: true,
      of: 2,
      note: '2 members in the Primary component (wsrep_ready)',
    });
    // NaN (a rate over too few samples) is no data, not a number to show.
    assert.deepEqual(f.writeRate, { status: 'unknown', value: null, note: 'no commit rate yet' });
    assert.deepEqual(f.podwatch, { status: 'unknown', value: null, note: 'no podwatch targets yet' });
    assert.deepEqual(f.backupAge, { status: 'critical', value: null, note: 'no successful backup yet' });
    assert.deepEqual(f.backupVerifyFailed, { status: 'critical', value: true, note: 'the newest verification failed' });
    assert.equal(f.binlogLag.status, 'unknown');
    assert.match(f.binlogLag.note, /point-in-time recovery off/);
    assert.deepEqual(f.targets, { status: 'unknown', value: null, note: 'no targets yet' });
    assert.deepEqual(f.alerts, { status: 'ok', value: 0, note: 'none firing' });
    assert.equal(restore.status, 'critical');
  });

  it('lists alerts of no release namespace apart, and rules that fail to evaluate', () => {
    const model = healthModel(fakeInputs());
    assert.deepEqual(
      model.otherAlerts.map((a) => [a.name, a.namespace, a.summary]),
      [['PrometheusNotConnectedToAlertmanagers', null, 'Prometheus has no Alertmanager to send to']],
    );
    assert.deepEqual(model.ruleErrors, [
      { group: 'webstack-shop', rule: 'WebstackPodwatchDown', lastError: 'many-to-many matching not allowed' },
    ]);
    assert.deepEqual(model.sources, {
      prometheus: { url: 'http://fake-prometheus:9090', ok: true },
      alertmanager: { url: 'http://fake-alertmanager:9093', ok: true },
    });
    assert.equal(model.status, 'critical');
  });

  it('warns on an old backup and a binlog lag over the thresholds passed in', () => {
    const inputs = fakeInputs();
    const shop = healthModel(inputs, { ...DEFAULT_THRESHOLDS, backupMaxAgeSeconds: 1800, binlogLagWarnSeconds: 2 })
      .namespaces[0]!.figures;
    assert.deepEqual(shop.backupAge, { status: 'warn', value: 3600, note: 'older than the 1800 s allowed' });
    assert.deepEqual(shop.binlogLag, { status: 'warn', value: 4.25, note: 'above the 2 s allowed' });
  });

  it('shows no verification yet (not "passed") when none failed and none ever passed', () => {
    const inputs = fakeInputs();
    inputs.queries.backupVerified = fakeSamples({ shop: 0 });
    const shop = healthModel(inputs).namespaces[0]!.figures;
    assert.deepEqual(shop.backupVerifyFailed, { status: 'warn', value: null, note: 'no verification yet' });
  });

  it('takes the expected members per namespace', () => {
    const model = healthModel(fakeInputs(), {
      ...DEFAULT_THRESHOLDS,
      expectedGaleraMembersByNamespace: { 'shop-restore': 2 },
    });
    assert.equal(model.namespaces[1]!.figures.galeraSize.status, 'ok');
    assert.equal(model.namespaces[1]!.figures.galeraSize.of, 2);
  });

  it('counts zero Synced when members report but none is Synced, and no Primary as critical', () => {
    const inputs = fakeInputs();
    inputs.queries.galeraSynced = fakeSamples({ shop: 3 });
    inputs.queries.galeraPrimary = fakeSamples({ shop: 3, 'shop-restore': 0 });
    const f = healthModel(inputs).namespaces[1]!.figures;
    assert.deepEqual([f.galeraSynced.status, f.galeraSynced.value], ['critical', 0]);
    assert.deepEqual(f.galeraPrimary, {
      status: 'critical',
      value: false,
      of: 2,
      note: 'no Primary component (wsrep_cluster_status): writes are refused',
    });
  });

  it('is plain JSON: it survives a JSON round trip unchanged', () => {
    const model = healthModel(fakeInputs());
    assert.deepEqual(JSON.parse(JSON.stringify(model)), model);
  });

  it('with no data yet: no namespace, status unknown, sources fine', () => {
    const empty: HealthInputs = {
      ...fakeInputs(),
      queries: fakeNoSamples(),
      targets: { ok: true, value: [] },
      rules: { ok: true, value: [] },
      alerts: { ok: true, value: [] },
    };
    const model = healthModel(empty);
    assert.deepEqual(model.namespaces, []);
    assert.equal(model.status, 'unknown');
    assert.deepEqual(model.otherAlerts, []);
    assert.equal(model.sources.prometheus.ok, true);
  });

  it('one failing query leaves its figure unknown with the reason; the source says so', () => {
    const inputs = fakeInputs();
    inputs.queries.galeraSize = { ok: false, error: 'GET http://fake-prometheus:9090/api/v1/query?…: timeout' };
    inputs.alerts = { ok: false, error: 'GET http://fake-alertmanager:9093/api/v2/alerts?active=true failed' };
    const model = healthModel(inputs);
    const f = model.namespaces[0]!.figures;
    assert.deepEqual(f.galeraSize, {
      status: 'unknown',
      value: null,
      of: 3,
      note: 'query failed: GET http://fake-prometheus:9090/api/v1/query?…: timeout',
    });
    assert.equal(f.galeraSynced.status, 'ok');
    assert.equal(f.alerts.status, 'unknown');
    assert.match(f.alerts.note, /^Alertmanager: GET http:\/\/fake-alertmanager/);
    assert.deepEqual(model.sources.prometheus, {
      url: 'http://fake-prometheus:9090',
      ok: false,
      error: 'GET http://fake-prometheus:9090/api/v1/query?…: timeout',
    });
    assert.equal(model.sources.alertmanager.ok, false);
  });
});

describe('collectHealth against a fake Prometheus and Alertmanager', () => {
  let fakeServer: Server;
  let fakeUrl = '';
  let alertmanagerUp = true;
  const answers = new Map<string, unknown>();

  before(async () => {
    // Each health query gets the fake answer of its name (by the exact PromQL the builder writes).
    const queries = healthQueries();
    const byName: Partial<Record<HealthQueryName, unknown>> = {
      galeraSize: fakeVectorAnswer([[{ namespace: 'shop' }, '3']]),
      galeraMembers: fakeVectorAnswer([[{ namespace: 'shop' }, '3']]),
      galeraSynced: fakeVectorAnswer([[{ namespace: 'shop' }, '3']]),
      galeraReady: fakeVectorAnswer([[{ namespace: 'shop' }, '3']]),
      writeRate: fakeVectorAnswer([[{ namespace: 'shop' }, '7.5']]),
      backupLastSuccess: fakeVectorAnswer([[{ namespace: 'shop' }, String(FAKE_EVAL_TIME - 600)]]),
    };
    for (const name of HEALTH_QUERY_NAMES) answers.set(queries[name], byName[name] ?? fakeVectorAnswer([]));
    fakeServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (url.pathname === '/prom/api/v1/query') {
        const answer = answers.get(url.searchParams.get('query') ?? '');
        if (answer === undefined) send(400, { status: 'error', errorType: 'bad_data', error: 'unexpected query' });
        else send(200, answer);
      } else if (url.pathname === '/prom/api/v1/targets') send(200, FAKE_TARGETS_ANSWER);
      else if (url.pathname === '/prom/api/v1/rules') send(200, FAKE_RULES_ANSWER);
      else if (url.pathname === '/am/api/v2/alerts' && alertmanagerUp) send(200, FAKE_AM_ALERTS_ANSWER);
      else res.writeHead(404).end('404 page not found\n');
    });
    await new Promise<void>((resolve) => fakeServer.listen(0, '127.0.0.1', resolve));
    fakeUrl = `http://127.0.0.1:${(fakeServer.address() as AddressInfo).port}`;
  });

  after(async () => {
    fakeServer.closeAllConnections();
    await new Promise<void>((resolve) =>
      fakeServer.close(() => {
        resolve();
      }),
    );
  });

  it('fetches every query, the targets, the rules and the alerts, and builds the model', async () => {
    alertmanagerUp = true;
    const model = await collectHealth({
      prometheusUrl: `${fakeUrl}/prom`,
      alertmanagerUrl: `${fakeUrl}/am/`,
      now: () => Date.parse('2026-03-01T12:00:00Z'),
    });
    assert.deepEqual(model.sources.prometheus, { url: `${fakeUrl}/prom`, ok: true });
    assert.deepEqual(model.sources.alertmanager, { url: `${fakeUrl}/am/`, ok: true });
    const shop = model.namespaces.find((n) => n.namespace === 'shop');
    assert.ok(shop, JSON.stringify(model));
    assert.equal(shop.figures.galeraSize.value, 3);
    assert.equal(shop.figures.galeraPrimary.note, '3 members in the Primary component (wsrep_ready)');
    assert.equal(shop.figures.writeRate.value, 7.5);
    assert.equal(shop.figures.backupAge.value, 600);
    assert.equal(shop.figures.alerts.value, 1);
    assert.equal(shop.figures.targets.of, 2);
  });

  it('an Alertmanager that cannot be read leaves the rest of the model intact', async () => {
    alertmanagerUp = false;
    const model = await collectHealth({ prometheusUrl: `${fakeUrl}/prom`, alertmanagerUrl: `${fakeUrl}/am` });
    assert.equal(model.sources.prometheus.ok, true);
    assert.equal(model.sources.alertmanager.ok, false);
    assert.match(model.sources.alertmanager.error ?? '', /api\/v2\/alerts\?active=true answered HTTP 404/);
    const shop = model.namespaces.find((n) => n.namespace === 'shop');
    assert.equal(shop?.figures.galeraSize.value, 3);
    assert.equal(shop?.figures.alerts.status, 'unknown');
  });
});
