// Where events go: terminal lines, JSON lines, HTTP webhooks (plain JSON or Slack-compatible) with a bounded
// queue, retries and a drop counter. Formatting is pure; the webhook worker is the only I/O loop here.
import { backoffDelay, type BackoffPolicy } from './informer.js';
import type { PodwatchMetrics } from './metrics.js';
import type { Change, PodEvent } from './snapshot.js';

export interface Sink {
  readonly name: string;
  emit(event: PodEvent): void;
  /** Delivers what is queued, giving up after timeoutMs (graceful shutdown). */
  flush(timeoutMs: number): Promise<void>;
}

const COLORS = {
  created: '\x1b[32m',
  updated: '\x1b[33m',
  deleted: '\x1b[31m',
  dim: '\x1b[2m',
  reset: '\x1b[0m',
} as const;

export function formatChange(c: Change): string {
  if (c.from === undefined) return `${c.field} +${c.to ?? ''}`;
  if (c.to === undefined) return `${c.field} -${c.from}`;
  return `${c.field} ${c.from}→${c.to}`;
}

/** One human line per event: time, type, namespace/name, then what changed (or the pod's state). */
export function formatTerminalLine(e: PodEvent, color: boolean): string {
  const time = e.time.slice(11, 23);
  const type = e.type.padEnd(7);
  const what = e.changes?.length
    ? e.changes.map(formatChange).join(', ')
    : `phase=${e.phase}${e.node ? ` node=${e.node}` : ''}${e.ready ? ' ready' : ''}`;
  const mark = e.observedOnRelist ? ' (observed on relist)' : '';
  if (!color) return `${time} ${type} ${e.pod.namespace}/${e.pod.name}  ${what}${mark}`;
  return `${COLORS.dim}${time}${COLORS.reset} ${COLORS[e.type]}${type}${COLORS.reset} ${e.pod.namespace}/${e.pod.name}  ${what}${COLORS.dim}${mark}${COLORS.reset}`;
}

/** A Slack-compatible incoming-webhook payload (text with mrkdwn), also understood by Mattermost and others. */
export function slackPayload(e: PodEvent): { text: string; blocks: unknown[] } {
  const icon = { created: ':large_green_circle:', updated: ':large_yellow_circle:', deleted: ':red_circle:' }[e.type];
  const changes = e.changes?.map((c) => `• \`${c.field}\` ${c.from ?? '∅'} → ${c.to ?? '∅'}`).join('\n');
  const text = `${icon} *${e.type}* \`${e.pod.namespace}/${e.pod.name}\` phase ${e.phase}${e.observedOnRelist ? ' _(observed on relist)_' : ''}`;
  return {
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: changes ? `${text}\n${changes}` : text } }],
  };
}

class StreamSink implements Sink {
  constructor(
    readonly name: string,
    private readonly out: NodeJS.WritableStream,
    private readonly format: (e: PodEvent) => string,
  ) {}
  emit(event: PodEvent): void {
    this.out.write(`${this.format(event)}\n`);
  }
  flush(timeoutMs: number): Promise<void> {
    // An empty write's callback runs once everything before it has been handed to the OS.
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.out.write('', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

export function terminalSink(out: NodeJS.WritableStream, color: boolean): Sink {
  return new StreamSink('terminal', out, (e) => formatTerminalLine(e, color));
}

export function jsonLinesSink(out: NodeJS.WritableStream): Sink {
  return new StreamSink('jsonl', out, (e) => JSON.stringify(e));
}

export interface WebhookOptions {
  name: string;
  url: string;
  format: 'json' | 'slack';
  queueSize: number;
  /** Attempts per event before it is dropped (counted as a drop with reason "retries"). */
  maxAttempts: number;
  timeoutMs: number;
  backoff: BackoffPolicy;
  metrics: PodwatchMetrics;
  log(message: string): void;
}

/**
 * Delivers events one at a time, in order, to an HTTP endpoint. A full queue drops the newest event (the
 * ones already queued are older and as important) and counts it; a failing endpoint is retried with
 * jittered backoff, so a receiver that is down then comes back gets everything that still fits the queue.
 */
export class WebhookSink implements Sink {
  readonly name: string;
  private readonly queue: PodEvent[] = [];
  private running: Promise<void> | undefined;
  private readonly stop = new AbortController();
  private wake: (() => void) | undefined;
  delivered = 0;

  constructor(private readonly opts: WebhookOptions) {
    this.name = opts.name;
  }

  get depth(): number {
    return this.queue.length;
  }

  emit(event: PodEvent): void {
    if (this.queue.length >= this.opts.queueSize) {
      this.opts.metrics.sinkDrops.inc({ sink: this.name, reason: 'queue-full' });
      return;
    }
    this.queue.push(event);
    this.opts.metrics.queueDepth.set({ sink: this.name }, this.queue.length);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    let attempt = 0;
    for (let e = this.queue[0]; e && !this.stop.signal.aborted; e = this.queue[0]) {
      try {
        await this.send(e);
        this.delivered++;
        this.opts.metrics.latency.observe((Date.now() - Date.parse(e.time)) / 1000);
        attempt = 0;
        this.queue.shift();
      } catch (err) {
        this.opts.metrics.sinkErrors.inc({ sink: this.name });
        attempt++;
        if (attempt >= this.opts.maxAttempts) {
          this.opts.log(
            `sink ${this.name}: giving up on an event after ${attempt} attempts (${(err as Error).message})`,
          );
          this.opts.metrics.sinkDrops.inc({ sink: this.name, reason: 'retries' });
          this.queue.shift();
          attempt = 0;
        } else {
          // Wait out the backoff, unless a flush (shutdown) wants the queue delivered now.
          await new Promise<void>((r) => {
            const t = setTimeout(
              () => {
                this.wake = undefined;
                r();
              },
              backoffDelay(attempt - 1, this.opts.backoff),
            );
            this.wake = () => {
              clearTimeout(t);
              this.wake = undefined;
              r();
            };
          });
        }
      }
      this.opts.metrics.queueDepth.set({ sink: this.name }, this.queue.length);
    }
  }

  private async send(e: PodEvent): Promise<void> {
    const body = JSON.stringify(this.opts.format === 'slack' ? slackPayload(e) : e);
    // A timer we hold ourselves: an AbortSignal.timeout() only referenced through AbortSignal.any() can be
    // garbage-collected before it fires, and a receiver that never answers would then stall the queue.
    const attempt = new AbortController();
    const timer = setTimeout(() => {
      attempt.abort(new Error(`no answer within ${this.opts.timeoutMs} ms`));
    }, this.opts.timeoutMs);
    const onStop = (): void => {
      attempt.abort(new Error('shutting down'));
    };
    this.stop.signal.addEventListener('abort', onStop, { once: true });
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        signal: attempt.signal,
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } finally {
      clearTimeout(timer);
      this.stop.signal.removeEventListener('abort', onStop);
    }
  }

  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.wake?.();
    while (this.queue.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.queue.length > 0) {
      this.opts.log(`sink ${this.name}: ${this.queue.length} events not delivered at shutdown`);
      this.opts.metrics.sinkDrops.inc({ sink: this.name, reason: 'shutdown' }, this.queue.length);
    }
    this.stop.abort();
    await this.running;
  }
}
