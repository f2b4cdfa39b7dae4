// Fake Prometheus 2.42 and Alertmanager 0.25 answers, written by hand in the shapes their HTTP API docs
// give (/api/v1/query, /api/v1/targets, /api/v1/rules, /api/v2/alerts), with the labels the chart's
// PodMonitors and scrape jobs produce. Not recorded from a live server: no cluster is needed.
import { HEALTH_QUERY_NAMES, type HealthQueryName, type Outcome } from '../../../src/monitoring/health.js';
import type { PromSample } from '../../../src/monitoring/prometheus-api.js';

/** Evaluation time of every fake sample (Unix seconds): 2026-03-01T12:00:00Z. */
export const FAKE_EVAL_TIME = 1772366400;

/** A fake vector answer: one series per [labels, value] (values as Prometheus writes them: strings). */
export function fakeVectorAnswer(series: readonly (readonly [Record<string, string>, string])[], at = FAKE_EVAL_TIME) {
  return {
    status: 'success',
    data: { resultType: 'vector', result: series.map(([metric, value]) => ({ metric, value: [at, value] })) },
  };
}

export const FAKE_VECTOR_ANSWER = {
  status: 'success',
  data: {
    resultType: 'vector',
    result: [
      { metric: { namespace: 'shop' }, value: [1772366400.123, '3'] },
      { metric: { namespace: 'shop-restore' }, value: [1772366400.123, '1'] },
    ],
  },
};

export const FAKE_SPECIAL_VALUES_ANSWER = {
  status: 'success',
  data: {
    resultType: 'vector',
    result: [
      { metric: { namespace: 'a' }, value: [1772366400, 'NaN'] },
      { metric: { namespace: 'b' }, value: [1772366400, '+Inf'] },
      { metric: { namespace: 'c' }, value: [1772366400, '-Inf'] },
      { metric: { namespace: 'd' }, value: [1772366400, '1e+03'] },
    ],
  },
};

export const FAKE_SCALAR_ANSWER = { status: 'success', data: { resultType: 'scalar', result: [1772366400.5, '42'] } };

export const FAKE_EMPTY_VECTOR_ANSWER = { status: 'success', data: { resultType: 'vector', result: [] } };

export const FAKE_MATRIX_ANSWER = {
  status: 'success',
  data: {
    resultType: 'matrix',
    result: [
      {
        metric: { namespace: 'shop' },
        values: [
          [1772366370, '1'],
          [1772366400, '2'],
        ],
      },
    ],
  },
};

/** What Prometheus answers (HTTP 400) to a query it cannot parse. */
export const FAKE_BAD_DATA_ANSWER = {
  status: 'error',
  errorType: 'bad_data',
  error: 'invalid parameter "query": 1:5: parse error: unexpected <by>',
};

/** What Prometheus answers (HTTP 503) to a query that ran over its -query.timeout. */
export const FAKE_TIMEOUT_ANSWER = {
  status: 'error',
  errorType: 'timeout',
  error: 'query timed out in expression evaluation',
};

export const FAKE_TARGETS_ANSWER = {
  status: 'success',
  data: {
    activeTargets: [
      {
        discoveredLabels: { __address__: '10.244.1.7:9104', __meta_kubernetes_namespace: 'shop' },
        labels: {
          container: 'exporter',
          endpoint: 'metrics',
          instance: '10.244.1.7:9104',
          job: 'shop/shop-webstack-db',
          namespace: 'shop',
          pod: 'shop-webstack-db-0',
        },
        scrapePool: 'podMonitor/shop/shop-webstack-db/0',
        scrapeUrl: 'http://10.244.1.7:9104/metrics',
        globalUrl: 'http://10.244.1.7:9104/metrics',
        lastError: '',
        lastScrape: '2026-03-01T11:59:52.123456789Z',
        lastScrapeDuration: 0.012,
        health: 'up',
        scrapeInterval: '30s',
        scrapeTimeout: '10s',
      },
      {
        discoveredLabels: { __address__: '10.244.2.9:9113' },
        labels: {
          container: 'exporter',
          endpoint: 'metrics',
          instance: '10.244.2.9:9113',
          job: 'shop/shop-webstack-web',
          namespace: 'shop',
          pod: 'shop-webstack-web-7d9f8c6b5-x2x4q',
        },
        scrapePool: 'podMonitor/shop/shop-webstack-web/0',
        scrapeUrl: 'http://10.244.2.9:9113/metrics',
        globalUrl: 'http://10.244.2.9:9113/metrics',
        lastError: 'Get "http://10.244.2.9:9113/metrics": dial tcp 10.244.2.9:9113: connect: connection refused',
        lastScrape: '2026-03-01T11:59:50.000000000Z',
        lastScrapeDuration: 0.001,
        health: 'down',
        scrapeInterval: '30s',
        scrapeTimeout: '10s',
      },
      {
        discoveredLabels: { __address__: 'localhost:9090' },
        labels: { instance: 'localhost:9090', job: 'prometheus' },
        scrapePool: 'prometheus',
        scrapeUrl: 'http://localhost:9090/metrics',
        globalUrl: 'http://kstack-monitoring-0:9090/metrics',
        lastError: '',
        lastScrape: '2026-03-01T11:59:55.000000000Z',
        lastScrapeDuration: 0.004,
        health: 'up',
        scrapeInterval: '30s',
        scrapeTimeout: '10s',
      },
    ],
    // With state=active, Prometheus leaves the other list empty (null).
    droppedTargets: null,
  },
};

/** The chart's rule group for release shop in namespace shop (templates/monitoring/_monitoring.tpl). */
export const FAKE_RULES_ANSWER = {
  status: 'success',
  data: {
    groups: [
      {
        name: 'webstack-shop',
        file: '/etc/prometheus/rules/shop.yaml',
        rules: [
          {
            state: 'firing',
            name: 'WebstackGaleraClusterSizeLow',
            query:
              'min(mysql_global_status_wsrep_cluster_size{namespace=' +
              '"shop",pod=~"shop-webstack-db-[0-9]+"}) < 3 ' +
              'or absent(mysql_global_status_wsrep_cluster_size{namespace=' +
              '"shop",pod=~"shop-webstack-db-[0-9]+"})',
            duration: 300,
            labels: { severity: 'critical' },
            annotations: { summary: 'Galera cluster shop-webstack-db has fewer members than its 3 replicas' },
            alerts: [
              {
                labels: { alertname: 'WebstackGaleraClusterSizeLow', severity: 'critical' },
                annotations: { summary: 'Galera cluster shop-webstack-db has fewer members than its 3 replicas' },
                state: 'firing',
                activeAt: '2026-03-01T11:50:00Z',
                value: '2e+00',
              },
            ],
            health: 'ok',
            evaluationTime: 0.000412,
            lastEvaluation: '2026-03-01T11:59:58.1Z',
            type: 'alerting',
          },
          {
            state: 'inactive',
            name: 'WebstackWeb5xxRatio',
            query:
              '(sum(rate(nginx_ingress_controller_requests{exported_namespace="shop",exported_service=' +
              '"shop-webstack-web",status=~"5.."}[5m]))) / (sum(rate(nginx_ingress_controller_re' +
              'quests{exported_namespace="shop",exported_service="shop-webstack-web"}[5m]))) > 0.05',
            duration: 300,
            labels: { severity: 'warning' },
            annotations: { summary: 'More than 5% of the responses of shop-webstack-web are 5xx' },
            alerts: [],
            health: 'ok',
            evaluationTime: 0.0002,
            lastEvaluation: '2026-03-01T11:59:58.1Z',
            type: 'alerting',
          },
          {
            state: 'inactive',
            name: 'WebstackPodwatchDown',
            query:
              'max(up{namespace="shop",pod=~"shop-webstack-podwatch-.*"}) < 1 ' +
              'or absent(up{namespace="shop",pod=~"shop-webstack-podwatch-.*"})',
            duration: 300,
            labels: { severity: 'warning' },
            annotations: { summary: 'No podwatch replica of shop-webstack-podwatch answers its /metrics' },
            // An empty list may be left out altogether.
            health: 'err',
            lastError: 'many-to-many matching not allowed',
            evaluationTime: 0.0001,
            lastEvaluation: '2026-03-01T11:59:58.1Z',
            type: 'alerting',
          },
          {
            name: 'namespace:up:sum',
            query: 'sum by (namespace) (up)',
            health: 'ok',
            evaluationTime: 0.0001,
            lastEvaluation: '2026-03-01T11:59:58.1Z',
            type: 'recording',
          },
        ],
        interval: 30,
        limit: 0,
        evaluationTime: 0.001,
        lastEvaluation: '2026-03-01T11:59:58.1Z',
      },
    ],
  },
};

/** Alertmanager's answer: Prometheus added its external label `prometheus` to each alert. */
export const FAKE_AM_ALERTS_ANSWER = [
  {
    annotations: { summary: 'Galera cluster shop-webstack-db has fewer members than its 3 replicas' },
    endsAt: '2026-03-01T12:04:00.000Z',
    fingerprint: '1a2b3c4d5e6f7a8b',
    receivers: [{ name: 'default' }],
    startsAt: '2026-03-01T11:55:00.000Z',
    status: { inhibitedBy: [], silencedBy: [], state: 'active' },
    updatedAt: '2026-03-01T12:00:00.000Z',
    generatorURL: 'http://kstack-monitoring-0:9090/graph?g0.expr=min...',
    labels: { alertname: 'WebstackGaleraClusterSizeLow', severity: 'critical', prometheus: 'monitoring/kstack' },
  },
  {
    annotations: { summary: 'Galera member shop-webstack-db-2 is not Synced (state 2)' },
    endsAt: '2026-03-01T12:04:00.000Z',
    fingerprint: '9f8e7d6c5b4a3921',
    receivers: [{ name: 'default' }],
    startsAt: '2026-03-01T11:58:00.000Z',
    status: { inhibitedBy: [], silencedBy: ['0b1c2d3e-silence'], state: 'suppressed' },
    updatedAt: '2026-03-01T12:00:00.000Z',
    generatorURL: 'http://kstack-monitoring-0:9090/graph?g0.expr=mysql...',
    labels: {
      alertname: 'WebstackGaleraMemberNotSynced',
      severity: 'warning',
      namespace: 'shop',
      pod: 'shop-webstack-db-2',
      job: 'shop/shop-webstack-db',
      prometheus: 'monitoring/kstack',
    },
  },
  {
    annotations: { description: 'Prometheus has no Alertmanager to send to' },
    endsAt: '2026-03-01T12:04:00.000Z',
    fingerprint: 'aaaabbbbccccdddd',
    receivers: [{ name: 'default' }],
    startsAt: '2026-03-01T10:00:00.000Z',
    status: { inhibitedBy: [], silencedBy: [], state: 'active' },
    updatedAt: '2026-03-01T12:00:00.000Z',
    labels: { alertname: 'PrometheusNotConnectedToAlertmanagers', severity: 'warning' },
  },
];

/** Every health query answered with no series: Prometheus up, but nothing of a release scraped yet. */
export function fakeNoSamples(): Record<HealthQueryName, Outcome<PromSample[]>> {
  const empty: Outcome<PromSample[]> = { ok: true, value: [] };
  return Object.fromEntries(HEALTH_QUERY_NAMES.map((n) => [n, empty])) as Record<
    HealthQueryName,
    Outcome<PromSample[]>
  >;
}
