// The Alertmanager poller against a fake Alertmanager: a local HTTP server on 127.0.0.1 that answers
// GET /api/v2/alerts the way the test tells it to (alerts, an error status, garbage, or never).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pollAlertmanager, type PollFailure } from '../../../src/podwatch/alert-poller.js';
import type { Alert } from '../../../src/podwatch/alerts.js';

type FakeAnswer =
  { kind: 'alerts'; names: string[] } | { kind: 'status'; code: number } | { kind: 'garbage' } | { kind: 'hang' };

/** A fake Alertmanager: serves the queued answers in turn (the last one repeats) and records the URLs asked. */
function fakeAlertmanager(): { server: Server; answers: FakeAnswer[]; asked: string[] } {
  const answers: FakeAnswer[] = [];
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (!answer || answer.kind === 'hang') return;
    if (answer.kind === 'status') res.writeHead(answer.code).end('unavailable');
    else if (answer.kind === 'garbage') res.writeHead(200).end('<html>not json</html>');
    else
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify(
          answer.names.map((n) => ({
            labels: { alertname: n },
            annotations: {},
            startsAt: '2026-03-04T05:00:00Z',
            endsAt: '2026-03-04T06:00:00Z',
            fingerprint: n,
            status: { state: 'active', silencedBy: [], inhibitedBy: [] },
          })),
        ),
      );
  });
  return { server, answers, asked };
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`${what} (waited ${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('pollAlertmanager (fake Alertmanager on 127.0.0.1)', () => {
  const fake = fakeAlertmanager();
  let base = '';
  before(async () => {
    await new Promise<void>((r) => {
      fake.server.listen(0, '127.0.0.1', r);
    });
    base = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/prefix`;
  });
  after(
    () =>
      new Promise<void>((r) => {
        fake.server.closeAllConnections();
        fake.server.close(() => {
          r();
        });
      }),
  );

  it('asks for active, unsilenced, uninhibited alerts; failures are counted, logged once, never fatal', async () => {
    fake.answers.push(
      { kind: 'status', code: 503 },
      { kind: 'status', code: 503 },
      { kind: 'garbage' },
      { kind: 'hang' },
      { kind: 'alerts', names: ['A', 'B'] },
    );
    const answers: Alert[][] = [];
    const failures: PollFailure[] = [];
    const logs: string[] = [];
    const controller = new AbortController();
    const done = pollAlertmanager({
      url: base,
      intervalMs: 10,
      timeoutMs: 300,
      signal: controller.signal,
      onAnswer: (a) => answers.push(a),
      onFailure: (r) => failures.push(r),
      log: (m) => logs.push(m),
    });
    await until(() => answers.length >= 2, 'two answers after the failures');
    controller.abort();
    await done;
    assert.deepEqual(failures, ['http', 'http', 'invalid', 'unreachable']);
    assert.deepEqual(
      answers[0]?.map((a) => a.name),
      ['A', 'B'],
    );
    assert.equal(fake.asked[0], '/prefix/api/v2/alerts?active=true&silenced=false&inhibited=false');
    // The same failure twice in a row is logged once; each new failure once; then the recovery.
    assert.equal(logs.length, 4, logs.join('\n'));
    assert.match(logs[0] ?? '', /polling .* failed \(HTTP 503: unavailable\); retrying every 10 ms/);
    assert.match(logs[1] ?? '', /not an Alertmanager alert list/);
    assert.match(logs[2] ?? '', /no answer within 300 ms/);
    assert.match(logs[3] ?? '', /answers again$/);
  });

  it('an Alertmanager that is not there yet is "unreachable", and stopping ends the loop at once', async () => {
    const closed = createServer();
    await new Promise<void>((r) => {
      closed.listen(0, '127.0.0.1', r);
    });
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => {
      closed.close(() => {
        r();
      });
    });
    const failures: PollFailure[] = [];
    const logs: string[] = [];
    const controller = new AbortController();
    const done = pollAlertmanager({
      url: `http://127.0.0.1:${port}`,
      intervalMs: 60_000,
      timeoutMs: 1000,
      signal: controller.signal,
      onAnswer: () => assert.fail('no answer expected'),
      onFailure: (r) => failures.push(r),
      log: (m) => logs.push(m),
    });
    await until(() => failures.length === 1, 'the refused connection is reported');
    const stopped = Date.now();
    controller.abort();
    await done;
    assert.ok(Date.now() - stopped < 1000, 'the 60 s wait ends with the signal');
    assert.deepEqual(failures, ['unreachable']);
    assert.match(logs[0] ?? '', /ECONNREFUSED/);
  });
});
