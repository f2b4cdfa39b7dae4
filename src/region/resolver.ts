// A client-side resolver that honours the TTL, for programs that follow the global name (the drill's writer):
// one query per TTL, through one given DNS server, and a count of the queries so a test can see the TTL held.
import { Resolver } from 'node:dns/promises';
import { dnsName, ipv4, port } from './global-dns.js';

export interface ResolvedRecord {
  address: string;
  /** Seconds, as the server sent it. */
  ttl: number;
}

/** Asks the server for the A records of a name (the seam unit tests replace). */
export type QueryA = (name: string) => Promise<ResolvedRecord[]>;

export type DnsFailure = 'NXDOMAIN' | 'NODATA' | 'REFUSED' | 'SERVFAIL' | 'TIMEOUT' | 'OTHER';

/** A lookup that gave no address, with what the server (or the network) said. */
export class DnsLookupError extends Error {
  constructor(
    readonly lookupName: string,
    readonly server: string,
    readonly failure: DnsFailure,
    detail: string,
  ) {
    super(`${lookupName} via ${server}: ${detail}`);
    this.name = 'DnsLookupError';
  }
}

export interface TtlAnswer {
  addresses: string[];
  /** The smallest TTL of the records, in seconds. */
  ttlSeconds: number;
  /** When this answer stops being used (ms, on the resolver's clock). */
  expiresAtMs: number;
  /** True when no query was made for this call. */
  fromCache: boolean;
}

export interface TtlResolverOptions {
  /** The DNS server, `a.b.c.d:port` (IPv4). */
  server: string;
  /** Per query; default 1000 ms. */
  timeoutMs?: number;
  /** Attempts per query; default 2. */
  tries?: number;
  /** Clock (ms); default Date.now. */
  now?: () => number;
  /** Default: node:dns Resolver.resolve4 with ttl against `server`. */
  query?: QueryA;
}

function failureOf(code: string | undefined): { failure: DnsFailure; detail: string } {
  switch (code) {
    case 'ENOTFOUND':
      return { failure: 'NXDOMAIN', detail: 'no such name (NXDOMAIN)' };
    case 'ENODATA':
      return { failure: 'NODATA', detail: 'the name has no IPv4 address (no A record)' };
    case 'EREFUSED':
      return { failure: 'REFUSED', detail: 'the server refused the query (REFUSED: not its zone?)' };
    case 'ESERVFAIL':
      return { failure: 'SERVFAIL', detail: 'the server failed (SERVFAIL)' };
    case 'ETIMEOUT':
    case 'ECONNREFUSED':
      return { failure: 'TIMEOUT', detail: `no answer from the server (${code})` };
    default:
      return { failure: 'OTHER', detail: `DNS query failed (${code ?? 'unknown error'})` };
  }
}

/** `a.b.c.d:port`, checked. */
function parseServer(server: string): string {
  const m = /^([^:]+):(\d+)$/.exec(server);
  if (!m?.[1] || !m[2]) throw new Error(`server: ${JSON.stringify(server)} is not IPv4:port`);
  ipv4(m[1], 'server');
  port(Number(m[2]), 'server port');
  return server;
}

/**
 * Resolves names through one DNS server and keeps each answer for its TTL: no query before it expires,
 * a new one at the first call after. Concurrent calls for a name share one query. Failures are not
 * cached (the next call asks again). A TTL of 0 is not cached at all.
 */
export class TtlResolver {
  readonly server: string;
  private readonly now: () => number;
  private readonly query: QueryA;
  private readonly cache = new Map<string, TtlAnswer>();
  private readonly inFlight = new Map<string, Promise<TtlAnswer>>();
  private count = 0;

  constructor(opts: TtlResolverOptions) {
    this.server = parseServer(opts.server);
    this.now = opts.now ?? Date.now;
    if (opts.query) {
      this.query = opts.query;
    } else {
      const r = new Resolver({ timeout: opts.timeoutMs ?? 1000, tries: opts.tries ?? 2 });
      r.setServers([this.server]);
      this.query = (name) => r.resolve4(name, { ttl: true });
    }
  }

  /** Queries sent to the server so far. */
  get queries(): number {
    return this.count;
  }

  /** The IPv4 addresses of `name`: from the cache while its TTL lasts, else from the server. */
  async resolve(name: string): Promise<TtlAnswer> {
    const key = dnsName(name, 'name');
    const cached = this.cache.get(key);
    if (cached && this.now() < cached.expiresAtMs) return { ...cached, fromCache: true };
    this.cache.delete(key);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.ask(key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** The first address of `name` (the global name has one). */
  async address(name: string): Promise<string> {
    const a = await this.resolve(name);
    const first = a.addresses[0];
    if (first === undefined) throw new DnsLookupError(name, this.server, 'NODATA', 'no address in the answer');
    return first;
  }

  private async ask(name: string): Promise<TtlAnswer> {
    this.count++;
    let records: ResolvedRecord[];
    try {
      records = await this.query(name);
    } catch (err) {
      const { failure, detail } = failureOf((err as NodeJS.ErrnoException).code);
      throw new DnsLookupError(name, this.server, failure, detail);
    }
    if (records.length === 0) throw new DnsLookupError(name, this.server, 'NODATA', 'empty answer');
    const ttlSeconds = Math.min(...records.map((r) => r.ttl));
    const answer: TtlAnswer = {
      addresses: records.map((r) => r.address),
      ttlSeconds,
      expiresAtMs: this.now() + ttlSeconds * 1000,
      fromCache: false,
    };
    if (ttlSeconds > 0) this.cache.set(name, answer);
    return answer;
  }
}
