// Wakes a host daemon's reconcile loop when the objects it reads change, so the loop can re-list rarely
// instead of every second (each LIST of every Service or claim costs the API server and the daemon on
// the 2 cores the whole cluster shares). The loop still re-lists on a long period: a watch that broke
// and was re-opened may have missed an event, and the period bounds how long that can matter.
import * as k8s from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../util/backoff.js';

/** A change flag a loop can take, or wait on with a limit (pure state, no I/O). */
export class Wakeup {
  private pending = false;
  private waiter: (() => void) | undefined;

  notify(): void {
    this.pending = true;
    this.waiter?.();
  }

  /** True once per burst of changes since the last take. */
  take(): boolean {
    const was = this.pending;
    this.pending = false;
    return was;
  }

  /** Resolves 'changed' at the next change (at once if one is pending), else 'timeout' after maxMs or on abort. */
  async wait(maxMs: number, signal: AbortSignal): Promise<'changed' | 'timeout'> {
    if (this.take()) return 'changed';
    const changed = new Promise<'changed'>((resolve) => {
      this.waiter = () => {
        resolve('changed');
      };
    });
    // The timer ends with the wait, so a loop woken often leaves no timers behind.
    const done = new AbortController();
    const limit = sleep(maxMs, 'timeout' as const, { signal: AbortSignal.any([signal, done.signal]) }).catch(
      () => 'timeout' as const,
    );
    const outcome = await Promise.race([changed, limit]);
    done.abort();
    this.waiter = undefined;
    if (outcome === 'changed') this.take();
    return outcome;
  }
}

const isAborted = (signal: AbortSignal): boolean => signal.aborted;

/**
 * Delay before re-opening a watch that ended: 1 s, doubling to 30 s while it keeps failing at once. Without
 * jitter (the top of backoffDelay's range): each daemon watches its own cluster, nothing retries in lockstep.
 */
export function reopenDelayMs(failuresInARow: number): number {
  return backoffDelay(Math.max(0, failuresInARow - 1), { baseMs: 1000, maxMs: 30_000 }, () => 1);
}

/**
 * Keeps a watch open on each API path (e.g. `/api/v1/services`) until the signal aborts, and notifies the
 * wakeup on every event. A watch that ends (the server's timeout, an error) is re-opened, and the wakeup
 * notified then too, since events between the two watches were not seen.
 */
export function watchForChanges(
  kc: k8s.KubeConfig,
  paths: readonly string[],
  wakeup: Wakeup,
  log: (line: string) => void,
  signal: AbortSignal,
): void {
  const watch = new k8s.Watch(kc);
  for (const path of paths) {
    let current: AbortController | undefined;
    signal.addEventListener('abort', () => current?.abort(), { once: true });
    void (async () => {
      let failures = 0;
      while (!signal.aborted) {
        const opened = Date.now();
        const err = await new Promise<unknown>((resolve) => {
          const onEvent = (): void => {
            wakeup.notify();
          };
          watch.watch(path, {}, onEvent, resolve).then((ctl) => {
            current = ctl;
            if (signal.aborted) ctl.abort();
          }, resolve);
        });
        current = undefined;
        // Read again after the await (the linter narrows it to the loop condition's value).
        if (isAborted(signal)) return;
        // A watch that lived a while ended normally (the server closes them); one that ended at once failed.
        failures = Date.now() - opened > 10_000 ? 0 : failures + 1;
        if (failures > 0) log(`watch ${path} ended (${err instanceof Error ? err.message : String(err)}); re-opening`);
        wakeup.notify();
        await sleep(reopenDelayMs(failures), undefined, { signal }).catch(() => undefined);
      }
    })();
  }
}
