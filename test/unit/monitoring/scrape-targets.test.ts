// PodMonitors to scrape jobs the way prometheus-operator makes them: selection by labels and namespaces,
// named ports, finished or address-less pods dropped, operator job names and target labels.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { monitoredNamespaces, scrapePlan, type PodMonitor } from '../../../src/monitoring/scrape-targets.js';

const pod = (
  name: string,
  labels: Record<string, string>,
  opts: { ns?: string; ip?: string; phase?: string; ports?: [string, string, number][] } = {},
): V1Pod => ({
  metadata: { name, namespace: opts.ns ?? 'web', labels },
  spec: {
    containers: (opts.ports ?? [['exporter', 'metrics', 9104]]).map(([c, n, p]) => ({
      name: c,
      ports: [{ name: n, containerPort: p }],
    })),
  },
  status: { phase: opts.phase ?? 'Running', ...(opts.ip === '' ? {} : { podIP: opts.ip ?? `10.0.0.${name.length}` }) },
});

const dbMonitor: PodMonitor = {
  metadata: { name: 'web-webstack-db', namespace: 'web' },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/component': 'db' } },
    podMetricsEndpoints: [
      { port: 'metrics', path: '/metrics', interval: '5s' },
      { port: 'dr-metrics', path: '/metrics', interval: '5s' },
    ],
  },
};

describe('scrape plan from PodMonitors', () => {
  it('one job per endpoint, a target per selected pod that has the port, labelled like the operator', () => {
    const pods = [
      pod(
        'db-0',
        { 'app.kubernetes.io/component': 'db' },
        {
          ip: '10.1.0.5',
          ports: [
            ['exporter', 'metrics', 9104],
            ['archiver', 'dr-metrics', 9106],
          ],
        },
      ),
      pod('db-1', { 'app.kubernetes.io/component': 'db' }, { ip: '10.1.0.6' }),
      pod('web-a', { 'app.kubernetes.io/component': 'web' }),
    ];
    const { jobs, problems } = scrapePlan([dbMonitor], pods);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      jobs.map((j) => [j.name, j.interval, j.targets.map((t) => t.targets[0])]),
      [
        ['podMonitor/web/web-webstack-db/0', '5s', ['10.1.0.5:9104', '10.1.0.6:9104']],
        ['podMonitor/web/web-webstack-db/1', '5s', ['10.1.0.5:9106']],
      ],
    );
    assert.deepEqual(jobs[1]?.targets[0]?.labels, {
      namespace: 'web',
      pod: 'db-0',
      container: 'archiver',
      endpoint: 'dr-metrics',
      job: 'web/web-webstack-db',
    });
  });

  it('drops pods without an address, finished pods and pods of other namespaces', () => {
    const sel = { 'app.kubernetes.io/component': 'db' };
    const pods = [
      pod('pending', sel, { ip: '' }),
      pod('done', sel, { phase: 'Succeeded' }),
      pod('failed', sel, { phase: 'Failed' }),
      pod('elsewhere', sel, { ns: 'other' }),
      pod('ok', sel, { ip: '10.1.0.9' }),
    ];
    const [job] = scrapePlan([dbMonitor], pods).jobs;
    assert.deepEqual(
      job?.targets.map((t) => t.labels.pod),
      ['ok'],
    );
  });

  it('namespaceSelector: own namespace by default, matchNames, or any', () => {
    const base = { metadata: { name: 'm', namespace: 'a' }, spec: {} };
    assert.deepEqual(monitoredNamespaces(base), ['a']);
    assert.deepEqual(monitoredNamespaces({ ...base, spec: { namespaceSelector: { matchNames: ['b', 'c'] } } }), [
      'b',
      'c',
    ]);
    assert.equal(monitoredNamespaces({ ...base, spec: { namespaceSelector: { any: true } } }), undefined);
  });

  it('matchExpressions select, jobLabel names the job from a pod label', () => {
    const pm: PodMonitor = {
      metadata: { name: 'm', namespace: 'web' },
      spec: {
        selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] },
        jobLabel: 'app',
        podMetricsEndpoints: [{ port: 'metrics' }],
      },
    };
    const { jobs } = scrapePlan([pm], [pod('a', { tier: 'front', app: 'shop' }), pod('b', { tier: 'db' })]);
    assert.deepEqual(
      jobs[0]?.targets.map((t) => [t.labels.pod, t.labels.job]),
      [['a', 'shop']],
    );
    assert.equal(jobs[0]?.metricsPath, '/metrics');
  });

  it('reports what it cannot use instead of ignoring it silently', () => {
    const pm: PodMonitor = {
      metadata: { name: 'm', namespace: 'web' },
      spec: {
        selector: { matchExpressions: [{ key: 'x', operator: 'Near', values: ['1'] }] },
        podMetricsEndpoints: [{ port: 'metrics' }],
      },
    };
    const odd: PodMonitor = {
      metadata: { name: 'n', namespace: 'web' },
      spec: { podMetricsEndpoints: [{ port: 'metrics', relabelings: [] }, { path: '/m' }] },
    };
    const { jobs, problems } = scrapePlan([pm, odd], []);
    assert.equal(jobs.length, 1);
    assert.match(problems[0] ?? '', /PodMonitor web\/m: .*operator/);
    assert.match(problems[1] ?? '', /podMetricsEndpoints\[0\]: relabelings not supported/);
    assert.match(problems[2] ?? '', /podMetricsEndpoints\[1\]\.port: only named ports/);
  });
});
