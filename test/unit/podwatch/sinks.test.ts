import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { backoffDelay } from '../../../src/util/backoff.js';
import { Counter, PodwatchMetrics } from '../../../src/podwatch/metrics.js';
import type { AlertEvent } from '../../../src/podwatch/alerts.js';
import {
  emitSnapshotTo,
  formatSnapshotLine,
  formatTerminalLine,
  jsonLinesSink,
  podGroupName,
  slackPayload,
  slackSnapshotPayload,
  summariseAlerts,
  summarisePods,
  terminalSink,
  WebhookSink,
  type Snapshot,
} from '../../../src/podwatch/sinks.js';
import type { PodEvent } from '../../../src/podwatch/snapshot.js';

/** Waits (bounded) until `cond` holds: a loaded machine may take longer than the backoff alone suggests. */
async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`${what} (waited ${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const event = (over: Partial<PodEvent> = {}): PodEvent => ({
  type: 'updated',
  pod: { namespace: 'shop', name: 'web-1', uid: 'u' },
  time: '2026-01-02T03:04:05.678Z',
  resourceVersion: '9',
  phase: 'Running',
  ready: true,
  labels: {},
  changes: [
    { field: 'phase', from: 'Pending', to: 'Running' },
    { field: 'label.tier', to: 'fe' },
  ],
  ...over,
});

describe('formatting', () => {
  it('terminal lines name the pod and what changed; colour only when asked', () => {
    assert.equal(
      formatTerminalLine(event(), false),
      '03:04:05.678 updated shop/web-1  phase Pending→Running, label.tier +fe',
    );
    assert.equal(
      formatTerminalLine(event({ type: 'deleted', changes: undefined, observedOnRelist: true }), false),
      '03:04:05.678 deleted shop/web-1  phase=Running ready (observed on relist)',
    );
    assert.ok(formatTerminalLine(event(), true).includes('\x1b[33mupdated'));
    assert.ok(!formatTerminalLine(event(), false).includes('\x1b'));
  });

  it('Slack payloads carry text and an mrkdwn block with the changes', () => {
    const p = slackPayload(event());
    assert.match(p.text, /\*updated\* `shop\/web-1` phase Running/);
    assert.match(JSON.stringify(p.blocks), /`phase` Pending → Running/);
  });
});

/** An initial pod as the first list reports it. */
const existing = (name: string, app: string | undefined, phase = 'Running', ready = true): PodEvent =>
  event({
    type: 'existing',
    pod: { namespace: 'web', name, uid: name },
    phase,
    ready,
    labels: app === undefined ? {} : { 'app.kubernetes.io/component': app },
    changes: undefined,
  });

const alertEvent = (
  type: AlertEvent['type'],
  name: string,
  severity: string | undefined,
  over: Partial<AlertEvent['alert']> = {},
): AlertEvent => ({
  type,
  time: '2026-01-02T03:04:05.678Z',
  source: 'webhook',
  alert: {
    fingerprint: `${name}-${severity ?? ''}-${over.labels?.pod ?? ''}`,
    name,
    ...(severity ? { severity } : {}),
    status: type === 'alert-resolved' ? 'resolved' : 'firing',
    startsAt: '2026-01-02T03:00:00.000Z',
    labels: { alertname: name },
    annotations: {},
    ...over,
  },
});

/** A stream that keeps what is written to it. */
function collector(): { out: NodeJS.WritableStream; lines: () => string[] } {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { out, lines: () => text.split('\n').filter(Boolean) };
}

describe('snapshots: what existed at start, summed up', () => {
  const pods = [
    existing('web-0', 'web'),
    existing('web-1', 'web'),
    existing('web-2', 'web', 'Running', false),
    existing('db-0', 'db'),
    existing('db-1', 'db', 'Pending', false),
    existing('backup-1', 'backup', 'Succeeded', false),
    existing('loose', undefined),
  ];

  it('pods: one line grouped by component and phase, with the not-ready Running ones counted', () => {
    assert.equal(
      summarisePods(pods, 'web'),
      '7 pods already exist in web: 1 backup Succeeded, 1 db Running, ' +
        '1 db Pending, 1 unlabelled Running, 3 web Running (1 not ready)',
    );
    assert.equal(summarisePods([existing('a', 'x')], undefined), '1 pod already exists in all namespaces: 1 x Running');
  });

  it('pods: many groups end in "+N more" so the line stays short', () => {
    const many = Array.from({ length: 14 }, (_, i) => existing(`p${i}`, `app${String(i).padStart(2, '0')}`));
    assert.match(
      summarisePods(many, 'web'),
      /^14 pods already exist in web: 1 app00 Running, .*1 app09 Running, \+4 more$/,
    );
  });

  it('the group name is the component label, else app, else app.kubernetes.io/name', () => {
    assert.equal(podGroupName({ app: 'a', 'app.kubernetes.io/name': 'n' }), 'a');
    assert.equal(podGroupName({ 'app.kubernetes.io/name': 'n' }), 'n');
    assert.equal(podGroupName({}), 'unlabelled');
  });

  it('alerts: most severe first, the same alert counted once', () => {
    const alerts = [
      alertEvent('alert-existing', 'B', 'warning', { labels: { alertname: 'B', pod: '1' } }),
      alertEvent('alert-existing', 'A', 'critical'),
      alertEvent('alert-existing', 'B', 'warning', { labels: { alertname: 'B', pod: '2' } }),
    ];
    assert.equal(summariseAlerts(alerts), '3 alerts already firing: A (critical), B (warning) ×2');
    assert.equal(summariseAlerts(alerts.slice(1, 2)), '1 alert already firing: A (critical)');
  });

  it('the terminal prints ONE line per snapshot; JSON lines keep one event each, typed existing', () => {
    const snapshot: Snapshot = { kind: 'pods', time: '2026-01-02T03:04:05.678Z', namespace: 'web', events: pods };
    const term = collector();
    emitSnapshotTo(terminalSink(term.out, false), snapshot);
    emitSnapshotTo(terminalSink(term.out, false), { kind: 'pods', time: snapshot.time, events: [] });
    assert.deepEqual(term.lines(), [`03:04:05.678 snapshot ${summarisePods(pods, 'web')}`]);
    assert.ok(formatSnapshotLine(snapshot, true).includes('\x1b[36msnapshot'));

    const json = collector();
    emitSnapshotTo(jsonLinesSink(json.out), snapshot);
    assert.deepEqual(
      json.lines().map((l) => (JSON.parse(l) as PodEvent).type),
      pods.map(() => 'existing'),
    );
  });

  it('Slack gets the summary as one message', () => {
    const p = slackSnapshotPayload({
      kind: 'alerts',
      time: '2026-01-02T03:04:05.678Z',
      events: [alertEvent('alert-existing', 'A', 'critical')],
    });
    assert.match(p.text, /\*snapshot\* 1 alert already firing: A \(critical\)$/);
  });
});

describe('alert events in sinks', () => {
  const firing = alertEvent('alert-firing', 'WebstackGaleraClusterSizeLow', 'critical', {
    labels: { alertname: 'WebstackGaleraClusterSizeLow', namespace: 'web', pod: 'web-db-0' },
    summary: 'the Galera cluster has 2 of 3 members',
  });

  it('terminal: ALERT, the state, name (severity), where, summary', () => {
    assert.equal(
      formatTerminalLine(firing, false),
      '03:04:05.678 ALERT firing WebstackGaleraClusterSizeLow ' +
        '(critical) web/web-db-0: the Galera cluster has 2 of 3 members',
    );
    assert.equal(
      formatTerminalLine(alertEvent('alert-resolved', 'NoWhere', undefined), false),
      '03:04:05.678 ALERT resolved NoWhere',
    );
    assert.ok(formatTerminalLine(firing, true).includes('\x1b[31mALERT firing'));
  });

  it('Slack: an icon per state and the same description', () => {
    assert.match(
      slackPayload(firing).text,
      /^:rotating_light: \*ALERT firing\* WebstackGaleraClusterSizeLow \(critical\) web\/web-db-0: /,
    );
    assert.match(slackPayload({ ...firing, type: 'alert-resolved' }).text, /^:white_check_mark: \*ALERT resolved\*/);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially to the cap with jitter between half and the full delay', () => {
    const policy = { baseMs: 2000, maxMs: 30_000 };
    assert.equal(
      backoffDelay(0, policy, () => 0),
      1000,
    );
    assert.equal(
      backoffDelay(0, policy, () => 1),
      2000,
    );
    assert.equal(
      backoffDelay(3, policy, () => 1),
      16_000,
    );
    assert.equal(
      backoffDelay(50, policy, () => 1),
      30_000,
    );
    assert.equal(
      backoffDelay(50, policy, () => 0),
      15_000,
    );
  });
});

describe('metrics', () => {
  it('renders Prometheus text with labels and a histogram', () => {
    const m = new PodwatchMetrics();
    m.events.inc({ type: 'created', namespace: 'a"b' });
    m.latency.observe(0.02);
    const text = m.render();
    assert.match(text, /^# TYPE podwatch_events_total counter$/m);
    assert.match(text, /^podwatch_events_total\{namespace="a\\"b",type="created"\} 1$/m);
    assert.match(text, /^podwatch_event_latency_seconds_bucket\{le="0.025"\} 1$/m);
    assert.match(text, /^podwatch_event_latency_seconds_bucket\{le="0.01"\} 0$/m);
    assert.match(text, /^podwatch_pods_tracked 0$/m);
    const c = new Counter('x', 'y');
    c.inc({ a: '1' }, 2);
    c.inc({ a: '2' });
    assert.equal(c.total(), 3);
  });
});

describe('WebhookSink (real HTTP receiver on 127.0.0.1)', () => {
  const received: unknown[] = [];
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      if (mode === 'hang') return; // accepts and never answers
      if (mode === 'fail') {
        res.writeHead(503).end();
        return;
      }
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => {
          r();
        });
      }),
  );

  it('delivers in order, retries failures, and counts drops when the queue is full', async () => {
    await new Promise<void>((r) => {
      server.listen(0, '127.0.0.1', r);
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const metrics = new PodwatchMetrics();
    const sink = new WebhookSink({
      name: 'w',
      url,
      format: 'json',
      queueSize: 3,
      maxAttempts: 100,
      timeoutMs: 2000,
      backoff: { baseMs: 20, maxMs: 100 },
      metrics,
      log: () => undefined,
    });
    mode = 'fail';
    for (let i = 0; i < 5; i++) sink.emit(event({ resourceVersion: String(i) }));
    assert.equal(metrics.sinkDrops.get({ sink: 'w', reason: 'queue-full' }), 2);
    await until(() => metrics.sinkErrors.get({ sink: 'w' }) >= 2, 'failures were retried');
    mode = 'ok';
    await sink.flush(10_000);
    assert.deepEqual(
      received.map((e) => (e as PodEvent).resourceVersion),
      ['0', '1', '2'],
    );
    assert.equal(sink.depth, 0);
  });

  it('a receiver that accepts and never answers times out and is retried', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const metrics = new PodwatchMetrics();
    const sink = new WebhookSink({
      name: 'h',
      url,
      format: 'slack',
      queueSize: 10,
      maxAttempts: 100,
      timeoutMs: 200,
      backoff: { baseMs: 20, maxMs: 50 },
      metrics,
      log: () => undefined,
    });
    received.length = 0;
    mode = 'hang';
    sink.emit(event({ resourceVersion: 'h1' }));
    await until(() => metrics.sinkErrors.get({ sink: 'h' }) >= 2, 'timed-out attempts are counted and retried');
    mode = 'ok';
    await sink.flush(10_000);
    assert.equal(received.length, 1);
    assert.match((received[0] as { text: string }).text, /shop\/web-1/);
  });

  it('a snapshot is one POST per event as JSON (typed existing), one summary message to Slack', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const sink = (format: 'json' | 'slack'): WebhookSink =>
      new WebhookSink({
        name: format,
        url,
        format,
        queueSize: 10,
        maxAttempts: 3,
        timeoutMs: 2000,
        backoff: { baseMs: 20, maxMs: 50 },
        metrics: new PodwatchMetrics(),
        log: () => undefined,
      });
    const snapshot: Snapshot = {
      kind: 'pods',
      time: '2026-01-02T03:04:05.678Z',
      namespace: 'web',
      events: [existing('web-0', 'web'), existing('db-0', 'db')],
    };
    received.length = 0;
    mode = 'ok';
    const json = sink('json');
    emitSnapshotTo(json, snapshot);
    await json.flush(10_000);
    assert.deepEqual(
      received.map((e) => [(e as PodEvent).type, (e as PodEvent).pod.name]),
      [
        ['existing', 'web-0'],
        ['existing', 'db-0'],
      ],
    );
    received.length = 0;
    const slack = sink('slack');
    emitSnapshotTo(slack, snapshot);
    await slack.flush(10_000);
    assert.equal(received.length, 1);
    assert.match((received[0] as { text: string }).text, /2 pods already exist in web: 1 db Running, 1 web Running$/);
  });
});
