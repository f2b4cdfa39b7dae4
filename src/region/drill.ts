// The two-region drill's client and its judge (docs/multi-region.md): a writer that follows the global name
// as any client would (its DNS server, TTL honoured) and asks the page's own write path every 0.2 s, keeping
// each acknowledged visit (its id, the region that served it, when); then the figures a failover is judged
// by: how long no visit was acknowledged, when the new primary acknowledged its first, and which
// acknowledged visits a region lacks. The judges are pure; the writer is the thin I/O edge.
import { setTimeout as sleep } from 'node:timers/promises';
import { GLOBAL_NAME } from './global-name.js';
import { TtlResolver } from './resolver.js';

export interface AckedVisit {
  id: string;
  /** The region whose page acknowledged it (/api/info `region`). */
  region: string;
  /** When the acknowledgement arrived (ms since the epoch). */
  at: number;
}

export interface WriterReport {
  acked: AckedVisit[];
  /** Requests that got no visit id: no DNS answer, no connection, a timeout, or a read-only database. */
  unanswered: number;
  /** Why, counted (the first 80 characters of each reason). */
  reasons: Record<string, number>;
  /** DNS queries the writer's resolver sent: with the TTL honoured, about one per TTL. */
  dnsQueries: number;
  startedAt: number;
  stoppedAt: number;
}

export interface GlobalWriter {
  /** The visits acknowledged so far (a live view). */
  acked(): readonly AckedVisit[];
  /** Stops after the request in flight and reports. */
  stop(): Promise<WriterReport>;
}

interface InfoAnswer {
  region?: unknown;
  data?: { message?: unknown; values?: { visitId?: unknown } };
}

/** What one /api/info answer acknowledged: a visit id and the region, or why not. Pure. */
export function readVisit(body: unknown, at: number): AckedVisit | { reason: string } {
  const info = body as InfoAnswer | undefined;
  const id = info?.data?.values?.visitId;
  if (typeof id === 'string' && id !== '')
    return { id, region: typeof info?.region === 'string' ? info.region : '?', at };
  const message = info?.data?.message;
  return { reason: typeof message === 'string' && message !== '' ? message : 'no visit id in the answer' };
}

/**
 * Starts writing through the global name: resolve it (through `dnsServer`, at most one query per TTL),
 * GET /api/info from the address it gives, one request every `intervalMs`, each with its own timeout and
 * no retry. Bounded: it stops by itself after `maxMs` if nobody stops it.
 */
export function startGlobalWriter(opts: {
  dnsServer: string;
  name?: string;
  intervalMs?: number;
  requestTimeoutMs?: number;
  maxMs?: number;
}): GlobalWriter {
  const resolver = new TtlResolver({ server: opts.dnsServer });
  const name = opts.name ?? GLOBAL_NAME;
  const interval = opts.intervalMs ?? 200;
  const report: WriterReport = {
    acked: [],
    unanswered: 0,
    reasons: {},
    dnsQueries: 0,
    startedAt: Date.now(),
    stoppedAt: 0,
  };
  const flags = { stopping: false };
  const miss = (reason: string): void => {
    report.unanswered++;
    const key = reason.slice(0, 80);
    report.reasons[key] = (report.reasons[key] ?? 0) + 1;
  };
  const loop = (async () => {
    const deadline = Date.now() + (opts.maxMs ?? 30 * 60_000);
    while (!flags.stopping && Date.now() < deadline) {
      const started = Date.now();
      try {
        const address = await resolver.address(name);
        const res = await fetch(`http://${address}/api/info`, {
          signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 2000),
          headers: { host: name },
        });
        const visit = readVisit(await res.json(), Date.now());
        if ('id' in visit) report.acked.push(visit);
        else miss(visit.reason);
      } catch (err) {
        miss((err as Error).message);
      }
      await sleep(Math.max(0, interval - (Date.now() - started)));
    }
  })();
  return {
    acked: () => report.acked,
    async stop() {
      flags.stopping = true;
      await loop;
      report.stoppedAt = Date.now();
      report.dnsQueries = resolver.queries;
      return report;
    },
  };
}

/** The longest time between two acknowledged visits from `from` on (ms): the outage clients saw. Pure. */
export function longestGapMs(acked: readonly AckedVisit[], from = 0): number {
  const times = acked.filter((v) => v.at >= from).map((v) => v.at);
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, (times[i] ?? 0) - (times[i - 1] ?? 0));
  return longest;
}

/** From `since` to the first visit `region` acknowledged after it (ms), or undefined if none: the RTO. Pure. */
export function firstAckAfterMs(acked: readonly AckedVisit[], region: string, since: number): number | undefined {
  const first = acked.find((v) => v.region === region && v.at >= since);
  return first === undefined ? undefined : first.at - since;
}

/** Acknowledged visits missing from `present` (the ids a region's member holds). Pure. */
export function missingVisits(acked: readonly AckedVisit[], present: ReadonlySet<string>): AckedVisit[] {
  return acked.filter((v) => !present.has(v.id));
}

/**
 * The RPO of an unplanned failover, in time: from the oldest acknowledged visit the new primary lacks to the
 * loss (0 when it lacks none). Pure.
 */
export function rpoMs(missing: readonly AckedVisit[], lostAt: number): number {
  const oldest = Math.min(...missing.map((v) => v.at));
  return missing.length === 0 ? 0 : Math.max(0, lostAt - oldest);
}
