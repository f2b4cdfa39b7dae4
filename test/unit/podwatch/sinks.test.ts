import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backoffDelay } from '../../../src/podwatch/informer.js';
import { Counter, PodwatchMetrics } from '../../../src/podwatch/metrics.js';
import { formatTerminalLine, slackPayload, WebhookSink } from '../../../src/podwatch/sinks.js';
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
});
