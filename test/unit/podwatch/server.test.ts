// podwatch's HTTP server without a cluster: POST /api/alerts (Alertmanager's webhook) and GET /api/alerts
// against a real listening server, with the alert tracker wired the way run.ts wires it, and the SSE
// stream's kinds (what /events sends to whom).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertTracker } from '../../../src/podwatch/alert-tracker.js';
import type { Alert, AlertEvent } from '../../../src/podwatch/alerts.js';
import { PodwatchMetrics } from '../../../src/podwatch/metrics.js';
import { startServer, streamKinds, WebViewHub } from '../../../src/podwatch/server.js';
import { emitSnapshotTo, type PodwatchEvent } from '../../../src/podwatch/sinks.js';
import type { PodEvent } from '../../../src/podwatch/snapshot.js';

const firing = (fingerprint: string, status: 'firing' | 'resolved' = 'firing'): Record<string, unknown> => ({
  status,
  labels: { alertname: 'WebstackGaleraClusterSizeLow', severity: 'critical', namespace: 'web', pod: fingerprint },
  annotations: { summary: 'the Galera cluster has 2 of 3 members' },
  startsAt: '2026-03-04T05:00:00Z',
  endsAt: status === 'resolved' ? '2026-03-04T05:10:00Z' : '0001-01-01T00:00:00Z',
  generatorURL: '',
  fingerprint,
});
const webhook = (...alerts: Record<string, unknown>[]): string =>
  JSON.stringify({ version: '4', status: 'firing', receiver: 'podwatch', groupKey: 'g', alerts });

const podEvent: PodEvent = {
  type: 'created',
  pod: { namespace: 'web', name: 'web-0', uid: 'u' },
  time: '2026-03-04T05:00:00.000Z',
  resourceVersion: '1',
  phase: 'Pending',
  ready: false,
  labels: {},
};

/** Reads an SSE stream until `enough` holds for the messages so far (event name and parsed data). */
async function readSse(
  url: string,
  enough: (messages: { event: string; data: unknown }[]) => boolean,
): Promise<{ event: string; data: unknown }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort();
  }, 10_000);
  const res = await fetch(url, { signal: controller.signal });
  const messages: { event: string; data: unknown }[] = [];
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += Buffer.from(chunk).toString('utf8');
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop() ?? '';
      for (const b of blocks) {
        const event = /^event: (.*)$/m.exec(b)?.[1];
        const data = /^data: (.*)$/m.exec(b)?.[1];
        if (event && data) messages.push({ event, data: JSON.parse(data) });
      }
      if (enough(messages)) break;
    }
  } catch {
    assert.fail(`the stream at ${url} did not send what was expected in 10 s: ${JSON.stringify(messages)}`);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return messages;
}

describe('podwatch HTTP server: the alert webhook and the event stream (127.0.0.1)', () => {
  const metrics = new PodwatchMetrics();
  const hub = new WebViewHub();
  const delivered: PodwatchEvent[] = [];
  const rejected: string[] = [];
  const deliver = (e: PodwatchEvent): void => {
    delivered.push(e);
    hub.emit(e);
  };
  const tracker = new AlertTracker({
    metrics,
    deliver,
    deliverSnapshot: (s) => {
      emitSnapshotTo(hub, s);
    },
    isLeader: () => true,
  });
  let server: Awaited<ReturnType<typeof startServer>>;
  let base = '';
  const post = (body: string, path = 'api/alerts'): Promise<Response> =>
    fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  before(async () => {
    server = await startServer('127.0.0.1', 0, {
      metrics: () => metrics.render(),
      healthy: () => true,
      ready: () => true,
      pods: () => [],
      hub,
      alerts: () => tracker.firing(),
      onAlertNotification: (n) => tracker.onNotification(n),
      onAlertRejected: (m) => {
        metrics.alertNotifications.inc({ source: 'webhook', result: 'rejected' });
        rejected.push(m);
      },
    });
    base = server.url;
  });
  after(() => server.close());

  it('POST /api/alerts: firing, a repeat, then resolved → one alert-firing and one alert-resolved', async () => {
    const first = await post(webhook(firing('web-db-0')));
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { firing: 1 });
    const listed = (await (await fetch(`${base}api/alerts`)).json()) as Alert[];
    assert.deepEqual(
      listed.map((a) => [a.fingerprint, a.name, a.severity, a.summary]),
      [['web-db-0', 'WebstackGaleraClusterSizeLow', 'critical', 'the Galera cluster has 2 of 3 members']],
    );
    assert.match(metrics.render(), /^podwatch_alerts_firing 1$/m);

    assert.equal((await post(webhook(firing('web-db-0')))).status, 200, 'Alertmanager repeats');
    const resolved = await post(webhook(firing('web-db-0', 'resolved')));
    assert.deepEqual(await resolved.json(), { firing: 0 });
    assert.deepEqual(
      delivered.map((e) => e.type),
      ['alert-firing', 'alert-resolved'],
    );
    assert.deepEqual(await (await fetch(`${base}api/alerts`)).json(), []);
    const text = metrics.render();
    assert.match(text, /^podwatch_alert_notifications_total\{result="accepted",source="webhook"\} 3$/m);
    assert.match(text, /^podwatch_alerts_firing 0$/m);
  });

  it('a bad payload is a 400 whose message names the field; nothing is reported', async () => {
    const before = delivered.length;
    const cases: [string, RegExp][] = [
      ['{"version": "4", ', /^body: not valid JSON/],
      [JSON.stringify({ version: '4', status: 'firing', receiver: 'r', groupKey: 'g' }), /^alerts: must be a list\n$/],
      [webhook({ ...firing('x'), fingerprint: 7 }), /^alerts\[0\]\.fingerprint: must be a non-empty string\n$/],
      [JSON.stringify({ version: '3' }), /^version: '3' is not supported/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, body);
      assert.match(await res.text(), message);
    }
    assert.equal(delivered.length, before);
    assert.equal(rejected.length, cases.length);
    assert.match(metrics.render(), /^podwatch_alert_notifications_total\{result="rejected",source="webhook"\} 4$/m);
  });

  it('other methods and paths stay closed', async () => {
    assert.equal((await post('{}', 'api/pods')).status, 405);
    assert.equal((await fetch(`${base}api/alerts`, { method: 'PUT', body: '{}' })).status, 405);
  });

  it('/events sends pod events only, unless the client asks for alerts and snapshots (the web view does)', async () => {
    hub.emit(podEvent);
    await post(webhook(firing('web-db-1')));
    const podsOnly = await readSse(`${base}events`, (m) => m.some((x) => x.event === 'pod'));
    assert.deepEqual(
      podsOnly.map((m) => m.event),
      ['pod'],
    );
    const all = await readSse(`${base}events?kinds=pod,alert,snapshot`, (m) => m.length >= 4);
    assert.deepEqual(
      all.map((m) => [m.event, (m.data as { type: string }).type]),
      [
        ['alert', 'alert-firing'],
        ['alert', 'alert-resolved'],
        ['pod', 'created'],
        ['alert', 'alert-firing'],
      ],
    );
    assert.equal((all[3]?.data as AlertEvent).alert.fingerprint, 'web-db-1');
  });

  it('a snapshot is one message with its summary', async () => {
    hub.emitSnapshot({
      kind: 'pods',
      time: '2026-03-04T05:00:00.000Z',
      namespace: 'web',
      events: [{ ...podEvent, type: 'existing', phase: 'Running', ready: true }],
    });
    const messages = await readSse(`${base}events?kinds=snapshot`, (m) => m.length >= 1);
    assert.deepEqual(messages, [
      {
        event: 'snapshot',
        data: {
          kind: 'pods',
          time: '2026-03-04T05:00:00.000Z',
          namespace: 'web',
          count: 1,
          summary: '1 pod already exists in web: 1 unlabelled Running',
        },
      },
    ]);
  });

  it('streamKinds reads ?kinds=, ignoring names it does not know', () => {
    assert.deepEqual([...streamKinds('/events')], ['pod']);
    assert.deepEqual([...streamKinds('/events?kinds=alert,bogus')], ['alert']);
    assert.deepEqual([...streamKinds('/events?kinds=snapshot,pod')].sort(), ['pod', 'snapshot']);
  });
});
