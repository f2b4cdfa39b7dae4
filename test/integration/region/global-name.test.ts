// The global name's daemon (src/region/dns-main.ts) with real CoreDNS and real HTTP entry points on
// loopback addresses: it answers the primary while its page answers, follows a failover written to the pair
// file, answers nothing for a primary whose page is down, and stops (CoreDNS too) when the pair file goes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../../helpers/cluster.js';
import { ensureGlobalDns, globalDnsDir, readDnsStatus, GLOBAL_NAME } from '../../../src/region/global-name.js';
import { afterFailover, writePair, type RegionPair } from '../../../src/region/pair.js';
import { TtlResolver } from '../../../src/region/resolver.js';
import { executableOf } from '../../../src/util/process.js';

const EAST = '127.0.0.2';
const WEST = '127.0.0.3';

function page(host: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.end(`page of ${host}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(80, host, () => {
      resolve(server);
    });
  });
}

const close = (s: Server): Promise<void> =>
  new Promise((resolve) => {
    s.close(() => {
      resolve();
    });
    s.closeAllConnections();
  });

/** Polls what the daemon answers; the 30 s bound is loose (a loaded machine) and only stops a hung test. */
const answerBecomes = (dir: string, want: string | null): Promise<true> =>
  eventually(`the global name answering ${want ?? 'none'}`, () =>
    Promise.resolve(readDnsStatus(dir)?.answer === want ? true : undefined),
  );

describe('the global name daemon', { timeout: 180_000 }, () => {
  let base: string;
  let pairPath: string;
  let east: Server | undefined;
  let west: Server;
  let pid: number | undefined;
  const pair: RegionPair = {
    primary: 'east',
    standby: 'west',
    epoch: 1,
    fenced: [],
    namespace: 'webstack',
    release: 'web',
    entryPoints: { east: EAST, west: WEST },
  };

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'kstack-global-name-'));
    pairPath = join(base, '.regions', 'pair.json');
    [east, west] = await Promise.all([page(EAST), page(WEST)]);
  });
  after(async () => {
    rmSync(pairPath, { force: true });
    for (let i = 0; pid !== undefined && executableOf(pid) !== undefined && i < 100; i++) await sleep(100);
    if (pid !== undefined && executableOf(pid) !== undefined) process.kill(pid, 'SIGKILL');
    await Promise.all([east ? close(east) : undefined, close(west)]);
    rmSync(base, { recursive: true, force: true });
  });

  it('answers the primary, through a resolver that honours the TTL', async () => {
    writePair(pair, pairPath);
    const dns = await ensureGlobalDns(pair, pairPath);
    pid = dns.pid;
    await answerBecomes(globalDnsDir(pairPath), EAST);
    // The daemon has set the answer; CoreDNS serves it after its next reload (1 s).
    let answer: Awaited<ReturnType<TtlResolver['resolve']>> | undefined;
    for (let i = 0; i < 50 && answer === undefined; i++) {
      answer = await new TtlResolver({ server: `127.0.0.1:${dns.port}` }).resolve(GLOBAL_NAME).catch(() => undefined);
      if (answer === undefined) await sleep(200);
    }
    assert.deepEqual(answer?.addresses, [EAST]);
    assert.equal(answer?.ttlSeconds, 2);
    assert.equal((await ensureGlobalDns({ ...pair, dns }, pairPath)).pid, pid, 'a running daemon is reused');
  });

  it('follows a failover written to the pair file', async () => {
    writePair(afterFailover(pair, false), pairPath);
    await answerBecomes(globalDnsDir(pairPath), WEST);
  });

  it("answers nothing while the primary's page does not answer, and the primary again when it does", async () => {
    writePair(pair, pairPath);
    await answerBecomes(globalDnsDir(pairPath), EAST);
    if (east) await close(east);
    east = undefined;
    await answerBecomes(globalDnsDir(pairPath), null);
    assert.match(readDnsStatus(globalDnsDir(pairPath))?.reason ?? '', /east/);
    east = await page(EAST);
    await answerBecomes(globalDnsDir(pairPath), EAST);
  });

  it('never answers a fenced region', async () => {
    writePair({ ...pair, fenced: ['east'] }, pairPath);
    await answerBecomes(globalDnsDir(pairPath), null);
  });

  it('stops, CoreDNS with it, when the pair file goes', async () => {
    const status = readDnsStatus(globalDnsDir(pairPath));
    assert.ok(status);
    rmSync(pairPath);
    for (let i = 0; pid !== undefined && executableOf(pid) !== undefined && i < 150; i++) await sleep(100);
    assert.equal(pid !== undefined ? executableOf(pid) : undefined, undefined, 'the daemon should have exited');
    const resolver = new TtlResolver({ server: `127.0.0.1:${status.port}`, timeoutMs: 500, tries: 1 });
    await assert.rejects(resolver.resolve(GLOBAL_NAME), 'CoreDNS should be gone');
  });
});
