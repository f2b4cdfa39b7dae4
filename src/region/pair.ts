// A pair of regions on this machine (two local clusters): which is primary, which standby, the epoch of
// the last promotion and who is fenced, kept in one file beside the clusters' own state. And what each
// region's release gets from being one of two: its chart values. Pure, apart from reading and writing the file.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planClusterNetwork } from '../cluster/nodes/plan.js';
import { clustersDir } from '../util/paths.js';
import { UserError } from '../util/errors.js';

export interface RegionPair {
  primary: string;
  standby: string;
  /** Grows at every promotion; the region promoted last holds the highest. */
  epoch: number;
  /** Regions that must take no writes (an old primary after an unplanned failover). */
  fenced: string[];
  namespace: string;
  release: string;
  /** Each region's entry point for the page (its load-balancer address), which the global name answers. */
  entryPoints: Record<string, string>;
  /** The global name's DNS server, when running. */
  dns?: { port: number; pid: number; name: string };
}

const REGION = /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/;

export function checkRegionName(name: string, flag: string): string {
  if (!REGION.test(name))
    throw new UserError(`${flag} '${name}': a region is a lowercase DNS label of 1-32 characters (e.g. east)`);
  return name;
}

/**
 * Each region's identity in the replication stream: its server_id and Galera GTID domain. Derived from the
 * cluster's node subnet (10.77.<k>.0/24), which is already unique among the clusters of one machine.
 */
export function regionIdentity(region: string): { serverId: number; gtidDomainId: number; nodeSubnet: string } {
  const net = planClusterNetwork(region, { count: 3 });
  const k = Number(net.nodeSubnet.split('.')[2]);
  return { serverId: k + 1, gtidDomainId: k + 1, nodeSubnet: net.nodeSubnet };
}

/** The two regions must be two clusters with distinct identities (their subnets must not collide either). */
export function checkPair(primary: string, standby: string): void {
  checkRegionName(primary, '--primary');
  checkRegionName(standby, '--standby');
  if (primary === standby) throw new UserError(`--primary and --standby are both '${primary}': name two regions`);
  const a = regionIdentity(primary);
  const b = regionIdentity(standby);
  if (a.nodeSubnet === b.nodeSubnet)
    throw new UserError(
      `regions '${primary}' and '${standby}' would share the node subnet ${a.nodeSubnet} on this machine; ` +
        'choose another name for one of them',
    );
}

/**
 * The chart values that make a release one of two regions: its name (the page shows it), its role and
 * identity, the peer's address block (the NetworkPolicy and the load balancer admit only it), and the
 * Service that is this region's replication entry point.
 */
export function regionValues(region: string, role: 'primary' | 'standby', peer: string): Record<string, unknown> {
  const me = regionIdentity(region);
  const other = regionIdentity(peer);
  return {
    region: { name: region },
    db: {
      replication: {
        role,
        serverId: me.serverId,
        gtidDomainId: me.gtidDomainId,
        peerCidrs: [other.nodeSubnet],
        service: {
          enabled: true,
          type: 'LoadBalancer',
          loadBalancerClass: 'kstack.io/local',
          loadBalancerSourceRanges: [other.nodeSubnet],
        },
      },
    },
  };
}

export const pairFile = (env: NodeJS.ProcessEnv = process.env): string =>
  join(clustersDir(env), '.regions', 'pair.json');

/** Parses the pair file strictly, naming the bad field. */
export function parsePair(text: string, where = 'regions file'): RegionPair {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${where}: not JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null) throw new UserError(`${where}: must be an object`);
  const o = raw as Record<string, unknown>;
  const str = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string' || v === '') throw new UserError(`${where}: ${k} must be a non-empty string`);
    return v;
  };
  const epoch = o.epoch;
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 1)
    throw new UserError(`${where}: epoch must be a positive integer`);
  const fenced = o.fenced ?? [];
  if (!Array.isArray(fenced) || fenced.some((f) => typeof f !== 'string'))
    throw new UserError(`${where}: fenced must be a list of region names`);
  const entryPoints = o.entryPoints ?? {};
  if (
    typeof entryPoints !== 'object' ||
    Object.values(entryPoints).some((v) => typeof v !== 'string' || !/^\d+\.\d+\.\d+\.\d+$/.test(v))
  )
    throw new UserError(`${where}: entryPoints must map region names to IPv4 addresses`);
  const pair: RegionPair = {
    entryPoints: entryPoints as Record<string, string>,
    primary: str('primary'),
    standby: str('standby'),
    epoch,
    fenced: fenced as string[],
    namespace: str('namespace'),
    release: str('release'),
  };
  const dns = o.dns as { port?: unknown; pid?: unknown; name?: unknown } | undefined;
  if (dns !== undefined) {
    if (typeof dns.port !== 'number' || typeof dns.pid !== 'number' || typeof dns.name !== 'string')
      throw new UserError(`${where}: dns must be {port, pid, name}`);
    pair.dns = { port: dns.port, pid: dns.pid, name: dns.name };
  }
  return pair;
}

export function readPair(file = pairFile()): RegionPair | undefined {
  return existsSync(file) ? parsePair(readFileSync(file, 'utf8'), file) : undefined;
}

export function requirePair(file = pairFile()): RegionPair {
  const pair = readPair(file);
  if (!pair) throw new UserError("no pair of regions here; make one with 'kstack region up --primary A --standby B'");
  return pair;
}

/** Written whole (temporary file, then rename): a reader never sees half a file. */
export function writePair(pair: RegionPair, file = pairFile()): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(pair, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** The pair after `promoted` took over: roles swapped, the epoch raised, the old primary fenced if asked. */
export function afterFailover(pair: RegionPair, fenceOld: boolean): RegionPair {
  return {
    ...pair,
    primary: pair.standby,
    standby: pair.primary,
    epoch: pair.epoch + 1,
    fenced: fenceOld ? [...new Set([...pair.fenced, pair.primary])] : pair.fenced.filter((f) => f !== pair.standby),
  };
}
