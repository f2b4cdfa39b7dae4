// Page requests at a fixed rate, as users reloading the page would make them: each on a new connection
// (no keep-alive, so every request is balanced anew), with a timeout and no retry, each counted once. A
// request succeeds when the page answers 200 and names the replica that served it (its serving-host).
// Pure parts (summing up, judging) are unit-tested; startPageLoad is the I/O edge.
import { request } from 'node:http';

export interface PageAttempt {
  /** ms since the epoch: when the answer came or the attempt failed. */
  at: number;
  ok: boolean;
  /** The serving-host the page named (Host-xxxxx). */
  host?: string;
  error?: string;
}

export interface PageLoadOptions {
  ratePerSecond: number;
  timeoutMs: number;
}

export interface RunningPageLoad {
  /** Attempts finished so far. */
  peek(): readonly PageAttempt[];
  /** Stops starting requests, waits for those in flight, returns every attempt. */
  stop(): Promise<PageAttempt[]>;
}

const SERVING_HOST = /Host-[a-z0-9]{5}/;

function once(url: URL, timeoutMs: number): Promise<PageAttempt> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Omit<PageAttempt, 'at'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...a, at: Date.now() });
    };
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => {
        const host = SERVING_HOST.exec(body)?.[0];
        if (res.statusCode === 200 && host) done({ ok: true, host });
        else done({ ok: false, error: `HTTP ${res.statusCode ?? '?'}${host ? '' : ' without a serving-host'}` });
      });
      res.on('error', (err) => {
        done({ ok: false, error: err.message });
      });
    });
    // One deadline for the whole request (connect, send, answer), as a user's patience is.
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (err) => {
      done({ ok: false, error: err.message });
    });
    req.end();
  });
}

export function startPageLoad(pageUrl: string, o: PageLoadOptions): RunningPageLoad {
  const url = new URL(pageUrl);
  const attempts: PageAttempt[] = [];
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const p = once(url, o.timeoutMs).then((a) => {
      attempts.push(a);
      inFlight.delete(p);
    });
    inFlight.add(p);
  }, 1000 / o.ratePerSecond);
  return {
    peek: () => attempts,
    stop: async () => {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return [...attempts].sort((a, b) => a.at - b.at);
    },
  };
}

export interface PageLoadSummary {
  attempted: number;
  failed: number;
  failedPercent: number;
  /** Answers per serving-host. */
  byHost: Record<string, number>;
  /** The most frequent failure reason, for the evidence. */
  commonError?: string;
}

export function summarizePageLoad(attempts: readonly PageAttempt[]): PageLoadSummary {
  const byHost: Record<string, number> = {};
  const errors = new Map<string, number>();
  for (const a of attempts) {
    if (a.ok && a.host) byHost[a.host] = (byHost[a.host] ?? 0) + 1;
    if (!a.ok) errors.set(a.error ?? '?', (errors.get(a.error ?? '?') ?? 0) + 1);
  }
  const failed = attempts.filter((a) => !a.ok).length;
  const commonError = [...errors].sort((a, b) => b[1] - a[1])[0]?.[0];
  return {
    attempted: attempts.length,
    failed,
    failedPercent: attempts.length ? Number(((100 * failed) / attempts.length).toFixed(2)) : 0,
    byHost,
    ...(commonError ? { commonError } : {}),
  };
}
