// Polls Alertmanager's active alerts: the I/O edge around alerts.ts. Each answer is handed over whole
// (run.ts applies it to the firing set); a failed poll is reported and retried at the next tick, never
// fatal, since Alertmanager may start after podwatch or restart under it.
import { AlertPayloadError, alertsQueryUrl, parseAlertmanagerAlerts, type Alert } from './alerts.js';

export type PollFailure = 'unreachable' | 'http' | 'invalid';

export interface AlertPollerOptions {
  /** Alertmanager's base URL. */
  url: string;
  intervalMs: number;
  timeoutMs: number;
  signal: AbortSignal;
  onAnswer(alerts: Alert[]): void;
  onFailure(reason: PollFailure): void;
  log(message: string): void;
}

type PollResult = { ok: true; alerts: Alert[] } | { ok: false; reason: PollFailure; message: string };

async function fetchActiveAlerts(url: string, timeoutMs: number, stop: AbortSignal): Promise<PollResult> {
  // A timer we hold ourselves, as in the webhook sink: a bare AbortSignal.timeout() inside AbortSignal.any()
  // can be garbage-collected before it fires.
  const attempt = new AbortController();
  const timer = setTimeout(() => {
    attempt.abort(new Error(`no answer within ${timeoutMs} ms`));
  }, timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.any([stop, attempt.signal]) });
  } catch (err) {
    clearTimeout(timer);
    const cause = attempt.signal.aborted ? (attempt.signal.reason as Error) : (err as Error);
    return { ok: false, reason: 'unreachable', message: messageWithCause(cause) };
  }
  try {
    const text = await res.text();
    if (!res.ok) return { ok: false, reason: 'http', message: `HTTP ${res.status}: ${text.slice(0, 200)}` };
    return { ok: true, alerts: parseAlertmanagerAlerts(JSON.parse(text)) };
  } catch (err) {
    if (err instanceof AlertPayloadError || err instanceof SyntaxError)
      return { ok: false, reason: 'invalid', message: `not an Alertmanager alert list (${err.message})` };
    return { ok: false, reason: 'unreachable', message: messageWithCause(err as Error) };
  } finally {
    clearTimeout(timer);
  }
}

// fetch() says only "fetch failed"; the reason (ECONNREFUSED, a DNS error) is in its cause.
function messageWithCause(err: Error): string {
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

// Read through a function so the type checker does not narrow it: it changes while we await.
const isAborted = (signal: AbortSignal): boolean => signal.aborted;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** Polls until the signal aborts. Logs the first failure of an outage and the recovery, not every tick. */
export async function pollAlertmanager(opts: AlertPollerOptions): Promise<void> {
  const url = alertsQueryUrl(opts.url);
  let failing: string | undefined;
  while (!opts.signal.aborted) {
    const result = await fetchActiveAlerts(url, opts.timeoutMs, opts.signal);
    if (isAborted(opts.signal)) return;
    if (result.ok) {
      if (failing !== undefined) opts.log(`alertmanager: ${url} answers again`);
      failing = undefined;
      opts.onAnswer(result.alerts);
    } else {
      opts.onFailure(result.reason);
      if (failing !== result.message)
        opts.log(`alertmanager: polling ${url} failed (${result.message}); retrying every ${opts.intervalMs} ms`);
      failing = result.message;
    }
    await sleep(opts.intervalMs, opts.signal);
  }
}
