// Starting the global name's daemon (dns-main.ts) for a pair of regions, once, and reading what it answers.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../util/paths.js';
import { isRunning, startDaemon } from '../util/process.js';
import type { RegionPair } from './pair.js';

/** The zone and the name users reach the page by. */
export const GLOBAL_ZONE = 'webstack.test';
export const GLOBAL_NAME = `www.${GLOBAL_ZONE}`;

/** What the daemon answers now (status.json beside it). */
export interface DnsStatus {
  port: number;
  name: string;
  answer: string | null;
  region: string | null;
  reason: string;
  at: string;
}

const DNS_MAIN = join(repoRoot, 'dist', 'src', 'region', 'dns-main.js');

export const globalDnsDir = (pairPath: string): string => join(pairPath, '..', 'global-dns');

export function readDnsStatus(dir: string): DnsStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as DnsStatus;
  } catch {
    return undefined;
  }
}

/**
 * The daemon for this pair: the one recorded in the pair when it still runs, else a new one, waited for
 * until it reports its port. It runs on after kstack exits, and stops when the pair file goes.
 */
export async function ensureGlobalDns(pair: RegionPair, pairPath: string): Promise<NonNullable<RegionPair['dns']>> {
  if (pair.dns && isRunning(pair.dns.pid, process.execPath)) return pair.dns;
  const dir = globalDnsDir(pairPath);
  mkdirSync(dir, { recursive: true });
  const status = join(dir, 'status.json');
  const started = Date.now();
  const pid = startDaemon({ binary: process.execPath, args: [DNS_MAIN, pairPath, dir], logFile: join(dir, 'dns.log') });
  for (;;) {
    const s = existsSync(status) ? readDnsStatus(dir) : undefined;
    if (s && Date.parse(s.at) >= started - 1_000) return { port: s.port, pid, name: s.name };
    if (!isRunning(pid, process.execPath))
      throw new Error(`the global name's DNS daemon exited; see ${join(dir, 'dns.log')}`);
    if (Date.now() - started > 60_000) throw new Error(`the global name's DNS daemon did not start; see ${dir}`);
    await sleep(200);
  }
}
