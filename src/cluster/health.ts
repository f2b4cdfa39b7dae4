import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HealthTarget {
  url: string;
  caFile: string;
  /** Stem of the client certificate in `pkiDir` to present, if the endpoint wants one. */
  clientCert?: string;
  pkiDir: string;
}

export interface HealthResult {
  ok: boolean;
  status?: number;
  body: string;
}

/** One HTTPS health probe: verifies the server against our CA, presents a client cert when asked. */
export function probe(target: HealthTarget, timeoutMs = 2000): Promise<HealthResult> {
  return new Promise((resolvePromise) => {
    const tls = {
      ca: readFileSync(target.caFile),
      ...(target.clientCert
        ? {
            cert: readFileSync(join(target.pkiDir, `${target.clientCert}.crt`)),
            key: readFileSync(join(target.pkiDir, `${target.clientCert}.key`)),
          }
        : {}),
    };
    const req = request(target.url, { method: 'GET', timeout: timeoutMs, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => {
        resolvePromise({ ok: res.statusCode === 200, status: res.statusCode, body });
      });
    });
    req.on('timeout', () => {
      req.destroy(new Error('timeout'));
    });
    req.on('error', (err) => {
      resolvePromise({ ok: false, body: err.message });
    });
    req.end();
  });
}

export interface WaitOptions {
  timeoutMs: number;
  /** Stop waiting early (e.g. the process died); return a reason to give up with. */
  giveUp?: () => string | undefined;
  onAttempt?: (last: HealthResult) => void;
}

/** Polls until healthy; resolves with the last result (ok=false on timeout or give-up). */
export async function waitHealthy(
  target: HealthTarget,
  opts: WaitOptions,
): Promise<HealthResult & { reason?: string }> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = 50;
  let last: HealthResult = { ok: false, body: 'not probed yet' };
  while (Date.now() < deadline) {
    last = await probe(target);
    if (last.ok) return last;
    opts.onAttempt?.(last);
    const reason = opts.giveUp?.();
    if (reason) return { ...last, reason };
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
  return { ...last, reason: `not healthy after ${Math.round(opts.timeoutMs / 1000)}s` };
}
