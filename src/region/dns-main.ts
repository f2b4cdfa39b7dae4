// The global name's host daemon (docs/multi-region.md, "Global name"): runs the CoreDNS that answers it and,
// every second, checks each region's page at its entry point and sets the answer from the pair's roles and
// fences and those checks (chooseAnswer). It writes what it answers to status.json beside it, and stops
// (CoreDNS with it) on SIGTERM or when the pair file is gone: no pair, nothing to answer. Beside that, it
// copies the primary's backups to the standby's S3 server every 30 s (backup-copy-run.ts).
// Usage: node dns-main.js PAIR_FILE DIR
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../util/errors.js';
import { startPairCopyLoop } from './backup-copy-run.js';
import { startGlobalDns } from './dns-server.js';
import { chooseAnswer, type RegionHealth } from './global-dns.js';
import { GLOBAL_NAME, GLOBAL_ZONE, type DnsStatus } from './global-name.js';
import { readPair } from './pair.js';
import { linkRegionNetworks, regionLinkState } from './link.js';

/** A region's check must be this recent to count (three missed checks: no answer for it). */
const MAX_HEALTH_AGE_MS = 3_000;

/** The page at a region's entry point answers 200 within a second: the region serves. */
async function checkRegion(entryPoint: string): Promise<RegionHealth> {
  const checkedAtMs = Date.now();
  try {
    const res = await fetch(`http://${entryPoint}/`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return { healthy: res.status === 200, checkedAtMs, reason: `GET / ${res.status}` };
  } catch (err) {
    return { healthy: false, checkedAtMs, reason: messageOf(err) };
  }
}

/**
 * The path between the regions outlives their clusters: a region whose cluster was stopped and started
 * again has a new bridge, with forwarding off, and its agents must reach the other region at once (the
 * fence asks the peer before opening writes). Restored within a second of the bridge coming back; the
 * rules are checked again every 10 s.
 */
async function keepLink(a: string, b: string, tick: number): Promise<void> {
  const state = regionLinkState(a, b);
  if (state === 'down' || (state === 'up' && tick % 10 !== 0)) return;
  try {
    await linkRegionNetworks(a, b);
    if (state === 'off') process.stdout.write(`${new Date().toISOString()} link ${a} ↔ ${b} restored\n`);
  } catch (err) {
    process.stdout.write(`${new Date().toISOString()} link ${a} ↔ ${b}: ${messageOf(err)}\n`);
  }
}

async function main(pairPath: string, dir: string): Promise<void> {
  const dns = await startGlobalDns({ dir, zone: GLOBAL_ZONE, name: GLOBAL_NAME });
  const signal = new AbortController();
  const stop = (): void => {
    signal.abort();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const health: Record<string, RegionHealth> = {};
  let current: string | undefined;
  let tick = 0;
  // Backups across regions: a loop of its own beside the health checks, one copy round at a time.
  const copier = startPairCopyLoop(pairPath, dir, process.env, signal.signal);
  try {
    while (!signal.signal.aborted && existsSync(pairPath)) {
      const pair = readPair(pairPath);
      if (!pair) break;
      const regions = [pair.primary, pair.standby].map((name) => ({
        name,
        entryPoint: pair.entryPoints[name] ?? '',
        role: name === pair.primary ? ('primary' as const) : ('standby' as const),
        fenced: pair.fenced.includes(name),
      }));
      await keepLink(pair.primary, pair.standby, tick++);
      await Promise.all(
        regions.map(async (r) => {
          if (r.entryPoint) health[r.name] = await checkRegion(r.entryPoint);
        }),
      );
      const answer = chooseAnswer({ regions, health, nowMs: Date.now(), maxHealthAgeMs: MAX_HEALTH_AGE_MS });
      if (answer.address !== current) {
        await dns.setAnswer(answer.address);
        current = answer.address;
        process.stdout.write(`${new Date().toISOString()} ${GLOBAL_NAME} → ${current ?? 'none'}: ${answer.reason}\n`);
      }
      const status: DnsStatus = {
        port: dns.port,
        name: GLOBAL_NAME,
        answer: answer.address ?? null,
        region: answer.region ?? null,
        reason: answer.reason,
        at: new Date().toISOString(),
      };
      writeFileSync(join(dir, 'status.json.tmp'), `${JSON.stringify(status)}\n`);
      renameSync(join(dir, 'status.json.tmp'), join(dir, 'status.json'));
      await sleep(1_000);
    }
  } finally {
    signal.abort();
    await Promise.race([copier, sleep(2_000)]); // a round in a storage call is not waited for long
    await dns.stop();
  }
}

const [pairPath, dir] = process.argv.slice(2);
if (!pairPath || !dir) {
  process.stderr.write('usage: dns-main.js PAIR_FILE DIR\n');
  process.exitCode = 2;
} else {
  await main(pairPath, dir).catch((err: unknown) => {
    process.stderr.write(`global dns: ${messageOf(err)}\n`);
    process.exitCode = 1;
  });
}
