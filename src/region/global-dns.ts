// The global name of the page (e.g. www.webstack.test) across regions: which address it answers (the
// decision the health checks feed) and the files a CoreDNS on the host serves it from. Pure; the process
// around it is dns-server.ts. Design and costs: docs/multi-region.md#global-name.

/**
 * TTL of the answer, and of the "no such name" answer (the zone's SOA minimum), in seconds. A client
 * keeps an answer this long, so it is most of the time a client needs to follow a failover: 2 s keeps
 * that short while a client that honours it (TtlResolver) asks once per 2 s, not once per request.
 */
export const DEFAULT_TTL_SECONDS = 2;

/**
 * How often CoreDNS's hosts plugin checks the hosts file (mtime and size) and re-reads it when changed.
 * The plugin's default is 5 s and it has no minimum (any positive Go duration; 0 turns reloading off):
 * 1 s costs one open+fstat a second and bounds the delay between a new answer on disk and on the wire.
 */
export const DEFAULT_RELOAD_SECONDS = 1;

/** Longest label and name (RFC 1035). */
const MAX_LABEL = 63;
const MAX_NAME = 253;
/** CoreDNS's hosts plugin rejects TTLs above this. */
const MAX_TTL = 65535;

function fail(field: string, value: unknown, why: string): never {
  throw new Error(`${field}: ${JSON.stringify(value)} ${why}`);
}

/**
 * A DNS name as written in a hosts file and a Corefile: lower case, no trailing dot, letters, digits and
 * inner hyphens in 1..63-character labels, at most 253 characters. Upper case is folded (DNS names are
 * case-insensitive); one trailing dot is dropped. Anything else (`_`, `*`, empty labels, the root) is an
 * error naming `field`.
 */
export function dnsName(value: string, field: string): string {
  const name = value.toLowerCase().replace(/\.$/, '');
  if (name === '') fail(field, value, 'is not a DNS name (empty or the root)');
  if (name.length > MAX_NAME) fail(field, value, `is longer than ${MAX_NAME} characters`);
  for (const label of name.split('.')) {
    if (label.length === 0) fail(field, value, 'has an empty label');
    if (label.length > MAX_LABEL) fail(field, value, `has a label longer than ${MAX_LABEL} characters`);
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(label)) {
      fail(field, value, `has the label '${label}': only letters, digits and inner hyphens are allowed`);
    }
  }
  return name;
}

/** True when `name` is `zone` or below it (both already normalised by dnsName). */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** `name` normalised, checked to be inside `zone` (both errors name their field). */
export function nameInZone(name: string, zone: string, field = 'name', zoneField = 'zone'): string {
  const n = dnsName(name, field);
  const z = dnsName(zone, zoneField);
  if (!inZone(n, z)) fail(field, name, `is not inside the zone ${z}`);
  return n;
}

/**
 * A dotted-quad IPv4 address, strictly: four decimal numbers 0..255 without leading zeros (010 would be
 * octal to some parsers), and not 0.0.0.0 (no address). IPv6 and host names are errors naming `field`.
 */
export function ipv4(value: string, field: string): string {
  const parts = value.split('.');
  const ok = parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
  if (!ok) fail(field, value, 'is not an IPv4 address (a.b.c.d, each 0..255, no leading zeros)');
  if (value === '0.0.0.0') fail(field, value, 'is the unspecified address, not an address to answer');
  return value;
}

/** An integer port 1..65535, or an error naming `field`. */
export function port(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) fail(field, value, 'is not a port (1..65535)');
  return value;
}

function ttl(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_TTL) {
    fail(field, value, `is not a TTL: a whole number of seconds, 1..${MAX_TTL}`);
  }
  return value;
}

/** Reload period as a Go duration in milliseconds; 0 would turn reloading off, so 0.1..3600 s. */
function reload(value: number, field: string): string {
  if (!Number.isFinite(value) || value < 0.1 || value > 3600) fail(field, value, 'is not 0.1..3600 seconds');
  return `${Math.round(value * 1000)}ms`;
}

/** An absolute path a Corefile can hold as one bare token (no spaces, quotes, braces or `#`). */
function corefilePath(value: string, field: string): string {
  if (!value.startsWith('/')) fail(field, value, 'is not an absolute path');
  if (!/^[A-Za-z0-9._/+@,=:-]+$/.test(value)) {
    fail(field, value, 'has characters a Corefile token cannot hold bare (allowed: letters, digits, ._/+@,=:-)');
  }
  return value;
}

export interface CorefileInput {
  /** The global zone, e.g. `webstack.test`: the only zone this server answers. */
  zone: string;
  listen: { host: string; port: number };
  /** Hosts-format file with the answer (renderHostsFile), re-read every `reloadSeconds`. */
  hostsFile: string;
  /** Zone file with the zone's SOA only (renderZoneFile): what makes "no such name" a real NXDOMAIN. */
  zoneFile: string;
  ttlSeconds: number;
  reloadSeconds: number;
}

/**
 * The Corefile of the global name server: one server block for `zone` only, bound to `listen` (UDP and
 * TCP, plain DNS). What it answers, as CoreDNS 1.14 does (checked against the binary by
 * test/integration/region/global-dns.test.ts):
 *
 * - a name of the hosts file: its A record, with `ttlSeconds`, authoritative;
 * - any other name in the zone: NXDOMAIN with the zone's SOA (negative TTL `ttlSeconds`). The hosts
 *   plugin alone answers SERVFAIL there ("no SOA", in its source), which stub resolvers treat as a broken
 *   server and retry elsewhere; so its `fallthrough` is limited to the zone and hands such names to the
 *   file plugin, which knows only the SOA. Nothing falls through any further: there is no `forward`;
 * - a name outside the zone: REFUSED, by CoreDNS itself (no server block matches). Not a resolver.
 *
 * `no_reverse`: no PTR records (nothing asks, and the server block serves no in-addr.arpa anyway).
 */
export function renderCorefile(input: CorefileInput): string {
  const zone = dnsName(input.zone, 'zone');
  const host = ipv4(input.listen.host, 'listen.host');
  const p = port(input.listen.port, 'listen.port');
  const hostsFile = corefilePath(input.hostsFile, 'hostsFile');
  const zoneFile = corefilePath(input.zoneFile, 'zoneFile');
  const t = ttl(input.ttlSeconds, 'ttlSeconds');
  const r = reload(input.reloadSeconds, 'reloadSeconds');
  return [
    `# Global name server: answers ${zone} only (no forwarding). Written by kstack (src/region/global-dns.ts).`,
    `dns://${zone}:${p} {`,
    `    bind ${host}`,
    `    errors`,
    `    hosts ${hostsFile} ${zone} {`,
    `        ttl ${t}`,
    `        reload ${r}`,
    `        no_reverse`,
    `        fallthrough ${zone}`,
    `    }`,
    `    file ${zoneFile} ${zone} {`,
    `        reload 0`,
    `    }`,
    `}`,
    '',
  ].join('\n');
}

/**
 * The zone file behind the NXDOMAIN answers: the SOA (and an NS naming the same made-up server) of
 * `zone`, with TTL and minimum `ttlSeconds`, so a client caches "no such name" no longer than an answer.
 */
export function renderZoneFile(input: { zone: string; ttlSeconds: number }): string {
  const zone = dnsName(input.zone, 'zone');
  const t = ttl(input.ttlSeconds, 'ttlSeconds');
  return [
    `$ORIGIN ${zone}.`,
    `@ ${t} IN SOA ns.${zone}. hostmaster.${zone}. 1 3600 600 86400 ${t}`,
    `@ ${t} IN NS ns.${zone}.`,
    '',
  ].join('\n');
}

/** The hosts file: one line `address name`, or no line for the name when there is no answer. */
export function renderHostsFile(name: string, address: string | undefined): string {
  const n = dnsName(name, 'name');
  const header = '# Written by kstack (src/region/global-dns.ts); CoreDNS re-reads it when it changes.\n';
  return address === undefined ? header : `${header}${ipv4(address, 'address')} ${n}\n`;
}

export type RegionRole = 'primary' | 'standby';

export interface Region {
  /** e.g. `east`: a lower-case label. */
  name: string;
  /** The region's entry point (its load-balancer address), IPv4. */
  entryPoint: string;
  role: RegionRole;
  /** Fenced: told to stop taking writes (or cut off); never answered. */
  fenced: boolean;
}

export interface RegionHealth {
  healthy: boolean;
  /** When the check ran (ms since the epoch). */
  checkedAtMs: number;
  /** One line from the check, e.g. `GET /api/info 200` or `connect ETIMEDOUT`. */
  reason: string;
}

export interface AnswerInput {
  regions: readonly Region[];
  /** The latest check of each region, by region name; a region without one counts as unhealthy. */
  health: Readonly<Partial<Record<string, RegionHealth>>>;
  nowMs: number;
  /** A check older than this counts as unhealthy: a checker that stopped must not pin the answer. */
  maxHealthAgeMs: number;
  /** Answer a healthy standby (which cannot take writes) when the primary cannot be answered. Default false. */
  serveStandbyReadOnly?: boolean;
}

export interface Answer {
  /** The address to answer for the global name, or undefined for no answer (NXDOMAIN). */
  address: string | undefined;
  /** The region answered, when one is. */
  region: string | undefined;
  /** One line: why. */
  reason: string;
}

function checkRegions(input: AnswerInput): void {
  const names = new Set<string>();
  const addresses = new Map<string, string>();
  input.regions.forEach((r, i) => {
    const f = `regions[${i}]`;
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(r.name)) {
      fail(`${f}.name`, r.name, 'is not a region name (a lower-case DNS label)');
    }
    if (names.has(r.name)) fail(`${f}.name`, r.name, 'is listed twice');
    names.add(r.name);
    ipv4(r.entryPoint, `${f}.entryPoint`);
    const other = addresses.get(r.entryPoint);
    if (other !== undefined) fail(`${f}.entryPoint`, r.entryPoint, `is also the entry point of ${other}`);
    addresses.set(r.entryPoint, r.name);
    // The inputs come from files and other processes: types are checked at run time too.
    const role: unknown = r.role;
    if (role !== 'primary' && role !== 'standby') fail(`${f}.role`, role, "is not 'primary' or 'standby'");
    const fenced: unknown = r.fenced;
    if (typeof fenced !== 'boolean') fail(`${f}.fenced`, fenced, 'is not a boolean');
  });
  for (const [name, h] of Object.entries(input.health)) {
    if (!names.has(name)) fail(`health.${name}`, name, 'is not a listed region');
    if (h === undefined) continue;
    const healthy: unknown = h.healthy;
    if (typeof healthy !== 'boolean') fail(`health.${name}.healthy`, healthy, 'is not a boolean');
    if (!Number.isFinite(h.checkedAtMs)) fail(`health.${name}.checkedAtMs`, h.checkedAtMs, 'is not a time');
  }
  if (!Number.isFinite(input.nowMs)) fail('nowMs', input.nowMs, 'is not a time');
  if (!Number.isFinite(input.maxHealthAgeMs) || input.maxHealthAgeMs <= 0) {
    fail('maxHealthAgeMs', input.maxHealthAgeMs, 'is not a positive number of milliseconds');
  }
}

/** Healthy by a check no older than maxHealthAgeMs; otherwise why not. */
function healthOf(input: AnswerInput, region: string): { ok: boolean; why: string } {
  const h = input.health[region];
  if (h === undefined) return { ok: false, why: `${region} has no health check yet` };
  const ageMs = input.nowMs - h.checkedAtMs;
  if (ageMs > input.maxHealthAgeMs) {
    return { ok: false, why: `${region}'s last check is ${ageMs} ms old (limit ${input.maxHealthAgeMs} ms)` };
  }
  return { ok: h.healthy, why: `${region} ${h.healthy ? 'healthy' : 'unhealthy'}: ${h.reason}` };
}

/**
 * What the global name answers. The rule, in order:
 *
 * 1. A fenced region is never answered, whatever its role or health.
 * 2. The primary is the one unfenced region with role `primary`. Two or more (a split brain in the
 *    inputs) answer nothing: guessing could send writes to both.
 * 3. The primary, healthy by a fresh check: answer its entry point.
 * 4. Otherwise answer nothing (NXDOMAIN): a region that cannot take writes is not offered as the page.
 *    Only with `serveStandbyReadOnly` is the first healthy, unfenced standby (in `regions` order)
 *    answered instead, read-only.
 *
 * Promoting a standby is not decided here: whoever promotes changes its role to `primary` (and fences
 * the old primary), and the next call answers it.
 */
export function chooseAnswer(input: AnswerInput): Answer {
  checkRegions(input);
  const none = (reason: string): Answer => ({ address: undefined, region: undefined, reason });
  const open = input.regions.filter((r) => !r.fenced);
  const fencedNote = input.regions
    .filter((r) => r.fenced)
    .map((r) => `${r.name} fenced`)
    .join(', ');
  const primaries = open.filter((r) => r.role === 'primary');
  if (primaries.length > 1) {
    return none(`no answer: ${primaries.map((r) => r.name).join(' and ')} are all unfenced primaries`);
  }
  const primary = primaries[0];
  let why: string;
  if (primary === undefined) {
    why = `no unfenced primary${fencedNote ? ` (${fencedNote})` : ''}`;
  } else {
    const h = healthOf(input, primary.name);
    if (h.ok) return { address: primary.entryPoint, region: primary.name, reason: `primary ${h.why}` };
    why = `primary ${h.why}`;
  }
  if (input.serveStandbyReadOnly === true) {
    for (const s of open.filter((r) => r.role === 'standby')) {
      const h = healthOf(input, s.name);
      if (h.ok) return { address: s.entryPoint, region: s.name, reason: `${why}; standby ${h.why} (read-only)` };
    }
    return none(`no answer: ${why}; no healthy unfenced standby`);
  }
  return none(`no answer: ${why}; standbys are not answered (serveStandbyReadOnly is off)`);
}
