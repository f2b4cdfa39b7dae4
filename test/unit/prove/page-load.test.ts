// The page load of the drills: the summary of its attempts, and the load itself against a real HTTP
// server on 127.0.0.1 that answers some requests, fails some and leaves some hanging.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPageLoad, summarizePageLoad, type PageAttempt } from '../../../src/prove/page-load.js';

const ok = (host: string, at = 1): PageAttempt => ({ at, ok: true, host });
const failed = (error: string, at = 1): PageAttempt => ({ at, ok: false, error });

describe('summarizePageLoad', () => {
  it('counts attempts and failures, answers per serving-host and the most common error', () => {
    const s = summarizePageLoad([
      ok('Host-aaaaa'),
      ok('Host-bbbbb'),
      ok('Host-aaaaa'),
      failed('no answer within 2000 ms'),
      failed('HTTP 502'),
      failed('no answer within 2000 ms'),
      ok('Host-aaaaa'),
    ]);
    assert.deepEqual(s, {
      attempted: 7,
      failed: 3,
      failedPercent: 42.86,
      byHost: { 'Host-aaaaa': 3, 'Host-bbbbb': 1 },
      commonError: 'no answer within 2000 ms',
    });
  });

  it('rounds the failed share to two decimals', () => {
    const attempts = [failed('x'), ...Array.from({ length: 2999 }, () => ok('Host-aaaaa'))];
    assert.equal(summarizePageLoad(attempts).failedPercent, 0.03);
    assert.equal(summarizePageLoad([failed('x'), ok('Host-aaaaa'), ok('Host-aaaaa')]).failedPercent, 33.33);
  });

  it('no failures: 0% and no common error; no attempts at all: 0%, not NaN', () => {
    const clean = summarizePageLoad([ok('Host-aaaaa'), ok('Host-bbbbb')]);
    assert.equal(clean.failed, 0);
    assert.equal(clean.failedPercent, 0);
    assert.equal(clean.commonError, undefined);
    assert.deepEqual(summarizePageLoad([]), { attempted: 0, failed: 0, failedPercent: 0, byHost: {} });
  });

  it('a failure without a reason still counts, as "?"', () => {
    const s = summarizePageLoad([{ at: 1, ok: false }, ok('Host-aaaaa')]);
    assert.equal(s.failed, 1);
    assert.equal(s.commonError, '?');
  });
});

describe('startPageLoad against a real server', () => {
  let server: Server;
  let url = '';
  let requests = 0;
  let connections = 0;
  const hanging = new Set<ServerResponse>();

  before(async () => {
    server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      const n = ++requests;
      // Every fifth request hangs, every fifth after the second answers 500 with a serving-host, every
      // fifth after the third answers 200 without one; the rest answer the page.
      if (n % 5 === 0) {
        hanging.add(res);
        return;
      }
      if (n % 5 === 2) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('Host-abcde broke');
        return;
      }
      if (n % 5 === 3) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('a page that names no replica');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<html><body>served by <b>Host-abcde</b> (request ${n})</body></html>`);
    });
    server.on('connection', () => {
      connections++;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  });

  it('makes about rate × duration requests, each on a new connection, and reports each once', async () => {
    const startedAt = performance.now();
    const load = startPageLoad(url, { ratePerSecond: 50, timeoutMs: 200 });
    await sleep(500);
    const attempts = await load.stop();
    const elapsedMs = performance.now() - startedAt;
    // A stopped load starts nothing more; the ones in flight (hung ones included) end by their deadline.
    await sleep(100);

    // Never more than the rate allows in the time it ran (a loaded machine fires the timer late, so fewer is
    // possible, but it keeps making requests).
    const allowed = Math.ceil(elapsedMs / 20) + 1;
    assert.ok(attempts.length >= 5 && attempts.length <= allowed, `${attempts.length} attempts in ${elapsedMs} ms`);
    assert.equal(requests, attempts.length, 'every request the server saw is one attempt');
    assert.equal(connections, requests, 'no connection is reused');
    for (let i = 1; i < attempts.length; i++) assert.ok((attempts[i]?.at ?? 0) >= (attempts[i - 1]?.at ?? 0));

    const s = summarizePageLoad(attempts);
    const good = attempts.filter((a) => a.ok);
    assert.ok(good.length > 0);
    assert.ok(good.every((a) => a.host === 'Host-abcde'));
    assert.deepEqual(s.byHost, { 'Host-abcde': good.length });

    const errors = attempts.filter((a) => !a.ok).map((a) => a.error);
    assert.ok(errors.includes('no answer within 200 ms'), `a hung request times out: ${errors.join('; ')}`);
    assert.ok(errors.includes('HTTP 500'), 'a 500 fails even though it names a host');
    assert.ok(errors.includes('HTTP 200 without a serving-host'), 'a page that names no replica fails');
    // Roughly two in five succeed (1st and 4th of each five).
    assert.ok(Math.abs(good.length - (2 * attempts.length) / 5) <= 2, `${good.length} of ${attempts.length} ok`);
  });

  it('a refused connection is a failure, not a throw', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => {
      closed.close(() => {
        resolve();
      });
    });
    const load = startPageLoad(`http://127.0.0.1:${port}/`, { ratePerSecond: 50, timeoutMs: 200 });
    await sleep(100);
    const attempts = await load.stop();
    assert.ok(attempts.length > 0);
    assert.ok(
      attempts.every((a) => !a.ok && /ECONNREFUSED/.test(a.error ?? '')),
      JSON.stringify(attempts),
    );
  });
});
