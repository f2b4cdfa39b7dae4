// The global name server for real: CoreDNS built from tools/coredns, on 127.0.0.1 with a temp folder,
// asked through node:dns (c-ares, which keeps no cache of its own, so each query reaches the server).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGlobalDns, type GlobalDns } from '../../../src/region/dns-server.js';
import { TtlResolver } from '../../../src/region/resolver.js';
import { ensureGoBinaries } from '../../../src/setup/go-build.js';
import { executableOf } from '../../../src/util/process.js';
import { silentProgress } from '../../../src/util/progress.js';

const EAST = '10.77.1.200';
const WEST = '10.77.2.200';
const TTL = 2;
const RELOAD = 1;
/** Scheduling slack on a loaded 2-core CI machine, on top of the bounds the configuration promises. */
const SLACK_MS = 1500;

/** The error code of a failed query, or the addresses with TTLs. */
async function ask(server: string, name: string): Promise<string | { address: string; ttl: number }[]> {
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([server]);
  try {
    return await r.resolve4(name, { ttl: true });
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/** Polls every 100 ms until `done` holds; returns the ms it took, or fails after `limitMs` saying what it saw. */
async function within(limitMs: number, what: string, probe: () => Promise<unknown>, done: (v: unknown) => boolean) {
  const t0 = performance.now();
  let last: unknown;
  for (;;) {
    last = await probe();
    const elapsed = performance.now() - t0;
    if (done(last)) return elapsed;
    if (elapsed > limitMs) assert.fail(`${what}: not within ${limitMs} ms; last: ${JSON.stringify(last)}`);
    await sleep(100);
  }
}

const addressOf = (v: unknown): string | undefined =>
  Array.isArray(v) ? (v[0] as { address: string } | undefined)?.address : undefined;

describe('global name: CoreDNS answering www.webstack.test from a hosts file', { timeout: 120_000 }, () => {
  let dir: string;
  let dns: GlobalDns | undefined;
  const server = (): string => dns?.server ?? assert.fail('the server did not start');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kstack-gdns-'));
    let binary: string;
    try {
      binary = (await ensureGoBinaries(['coredns'], silentProgress)).coredns;
    } catch (err) {
      throw new Error(`coredns is not available (built from tools/coredns by './kstack setup'): ${String(err)}`, {
        cause: err,
      });
    }
    dns = await startGlobalDns({
      dir,
      zone: 'webstack.test',
      address: EAST,
      ttlSeconds: TTL,
      reloadSeconds: RELOAD,
      binary,
    });
  });

  after(async () => {
    await dns?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the global name with the set address and the configured TTL', async () => {
    assert.deepEqual(await ask(server(), 'www.webstack.test'), [{ address: EAST, ttl: TTL }]);
    assert.deepEqual(await ask(server(), 'WWW.WebStack.Test'), [{ address: EAST, ttl: TTL }]);
  });

  it('answers NXDOMAIN for other names of the zone, with the zone SOA whose negative TTL is the TTL', async () => {
    assert.equal(await ask(server(), 'other.webstack.test'), 'ENOTFOUND');
    const r = new Resolver({ timeout: 1000, tries: 1 });
    r.setServers([server()]);
    const soa = await r.resolveSoa('webstack.test');
    assert.equal(soa.minttl, TTL);
    await assert.rejects(r.resolve6('www.webstack.test'), { code: 'ENODATA' }, 'A only: no AAAA, the name exists');
  });

  it('refuses names outside the zone: it is no resolver (CoreDNS answers REFUSED)', async () => {
    assert.equal(await ask(server(), 'example.com'), 'EREFUSED');
    assert.equal(await ask(server(), 'webstack.test.example.com'), 'EREFUSED');
    assert.equal(await ask(server(), 'localhost'), 'EREFUSED');
  });

  it('serves a new answer within the reload period; a TTL-honouring client follows within reload + TTL', async (t) => {
    const client = new TtlResolver({ server: server() });
    const held = await client.resolve('www.webstack.test');
    assert.deepEqual(held.addresses, [EAST]);
    const set = performance.now();
    await dns?.setAnswer(WEST);
    const onServer = await within(
      RELOAD * 1000 + SLACK_MS,
      `server answers ${WEST} (bound: reload ${RELOAD} s + slack)`,
      () => ask(server(), 'www.webstack.test'),
      (v) => addressOf(v) === WEST,
    );
    // The server has moved on; the client keeps what it holds until the TTL runs out.
    const servedWithinTtl = Date.now() < held.expiresAtMs - 100;
    if (servedWithinTtl) assert.equal(await client.address('www.webstack.test'), EAST);
    await within(
      (RELOAD + TTL) * 1000 + SLACK_MS,
      `TtlResolver answers ${WEST} (bound: reload ${RELOAD} s + TTL ${TTL} s + slack, from setAnswer)`,
      () => client.address('www.webstack.test'),
      (v) => v === WEST,
    );
    const atClient = performance.now() - set;
    t.diagnostic(
      `after setAnswer: served in ${Math.round(onServer)} ms, the TtlResolver followed in ${Math.round(atClient)} ms`,
    );
    assert.ok(atClient <= (RELOAD + TTL) * 1000 + SLACK_MS, `the client followed after ${Math.round(atClient)} ms`);
    if (servedWithinTtl) assert.equal(client.queries, 2, 'one query for the old answer, one after its TTL');
    assert.deepEqual(await ask(server(), 'www.webstack.test'), [{ address: WEST, ttl: TTL }]);
  });

  it('answers NXDOMAIN once the answer is removed, and the address again once set', async () => {
    await dns?.setAnswer(undefined);
    await within(
      RELOAD * 1000 + SLACK_MS,
      'NXDOMAIN after setAnswer(undefined) (bound: reload + slack)',
      () => ask(server(), 'www.webstack.test'),
      (v) => v === 'ENOTFOUND',
    );
    await dns?.setAnswer(EAST);
    await within(
      RELOAD * 1000 + SLACK_MS,
      `${EAST} again (bound: reload + slack)`,
      () => ask(server(), 'www.webstack.test'),
      (v) => addressOf(v) === EAST,
    );
  });

  it('follows two answers of the same length written back to back', async () => {
    // Same size as EAST: only the mtime tells CoreDNS the file changed.
    await dns?.setAnswer(WEST);
    await dns?.setAnswer(EAST);
    await dns?.setAnswer(WEST);
    await within(
      RELOAD * 1000 + SLACK_MS,
      `${WEST} (bound: reload + slack)`,
      () => ask(server(), 'www.webstack.test'),
      (v) => addressOf(v) === WEST,
    );
  });

  it('TtlResolver: one query within the TTL, a second after it', async () => {
    const client = new TtlResolver({ server: server() });
    const first = await client.resolve('www.webstack.test');
    assert.equal(first.ttlSeconds, TTL);
    assert.equal(client.queries, 1);
    for (let i = 0; i < 5; i++) {
      const again = await client.resolve('www.webstack.test');
      assert.equal(again.fromCache, true);
    }
    assert.equal(client.queries, 1, 'no query while the TTL lasts');
    await sleep(Math.max(0, first.expiresAtMs - Date.now()) + 50);
    const later = await client.resolve('www.webstack.test');
    assert.equal(later.fromCache, false);
    assert.equal(client.queries, 2, 'one new query once the TTL expired');
  });

  it('TtlResolver names NXDOMAIN and REFUSED', async () => {
    const client = new TtlResolver({ server: server() });
    await assert.rejects(client.resolve('nothing.webstack.test'), { failure: 'NXDOMAIN' });
    await assert.rejects(client.resolve('example.com'), { failure: 'REFUSED' });
  });

  it('stop() ends the process: the pid is gone and the port no longer answers', async () => {
    const d = dns ?? assert.fail('the server did not start');
    const s = d.server;
    await d.stop();
    assert.equal(executableOf(d.pid), undefined, `pid ${d.pid} still runs`);
    const after = await ask(s, 'www.webstack.test');
    assert.ok(after === 'ECONNREFUSED' || after === 'ETIMEOUT', `after stop: ${JSON.stringify(after)}`);
    await d.stop(); // again: nothing to do
  });
});
