// Where events go: terminal lines, JSON lines, HTTP webhooks (plain JSON or Slack-compatible) with a bounded
// queue, retries and a drop counter. Formatting is pure; the webhook worker is the only I/O loop here.
import { alertLocation, compareAlerts, isAlertEvent, type AlertEvent } from './alerts.js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';
import type { PodwatchMetrics } from './metrics.js';
import type { Change, PodEvent } from './snapshot.js';

/** Everything podwatch reports: pod changes and alerts. */
export type PodwatchEvent = PodEvent | AlertEvent;

/**
 * What already existed when podwatch started looking (a scope's first pod list, Alertmanager's first
 * answer), as one batch so that a sink can summarise it instead of reporting each item as news.
 */
export type Snapshot =
  | { kind: 'pods'; time: string; /** undefined = all namespaces */ namespace?: string; events: PodEvent[] }
  | { kind: 'alerts'; time: string; events: AlertEvent[] };

export interface Sink {
  readonly name: string;
  emit(event: PodwatchEvent): void;
  /** A snapshot as one batch; sinks without this method get its events one by one through emit. */
  emitSnapshot?(snapshot: Snapshot): void;
  /** Delivers what is queued, giving up after timeoutMs (graceful shutdown). */
  flush(timeoutMs: number): Promise<void>;
}

export function emitSnapshotTo(sink: Sink, snapshot: Snapshot): void {
  if (sink.emitSnapshot) sink.emitSnapshot(snapshot);
  else for (const e of snapshot.events) sink.emit(e);
}

const COLORS = {
  created: '\x1b[32m',
  updated: '\x1b[33m',
  deleted: '\x1b[31m',
  existing: '\x1b[36m',
  snapshot: '\x1b[36m',
  'alert-firing': '\x1b[31m',
  'alert-resolved': '\x1b[32m',
  'alert-existing': '\x1b[33m',
  dim: '\x1b[2m',
  reset: '\x1b[0m',
} as const;

export function formatChange(c: Change): string {
  if (c.from === undefined) return `${c.field} +${c.to ?? ''}`;
  if (c.to === undefined) return `${c.field} -${c.from}`;
  return `${c.field} ${c.from}→${c.to}`;
}

const clock = (iso: string): string => iso.slice(11, 23);

/** `WebstackGaleraClusterSizeLow (critical) web/web-db-0: summary`: what, how bad, where, why. */
export function describeAlert(a: AlertEvent['alert']): string {
  const where = alertLocation(a);
  return (
    `${a.name}${a.severity ? ` (${a.severity})` : ''}` +
    `${where ? ` ${where}` : ''}${a.summary ? `: ${a.summary}` : ''}`
  );
}

/** `ALERT firing <alert>`; the word after ALERT is the event type without its prefix. */
export function formatAlertLine(e: AlertEvent, color: boolean): string {
  const word = e.type.slice('alert-'.length);
  if (!color) return `${clock(e.time)} ALERT ${word} ${describeAlert(e.alert)}`;
  return (
    `${COLORS.dim}${clock(e.time)}${COLORS.reset} ${COLORS[e.type]}` +
    `ALERT ${word}${COLORS.reset} ${describeAlert(e.alert)}`
  );
}

/** One human line per event: time, type, namespace/name, then what changed (or the pod's state). */
export function formatTerminalLine(e: PodwatchEvent, color: boolean): string {
  if (isAlertEvent(e)) return formatAlertLine(e, color);
  const time = clock(e.time);
  const type = e.type.padEnd(7);
  const what = e.changes?.length
    ? e.changes.map(formatChange).join(', ')
    : `phase=${e.phase}${e.node ? ` node=${e.node}` : ''}${e.ready ? ' ready' : ''}`;
  const mark = e.observedOnRelist ? ' (observed on relist)' : '';
  if (!color) return `${time} ${type} ${e.pod.namespace}/${e.pod.name}  ${what}${mark}`;
  return (
    `${COLORS.dim}${time}${COLORS.reset} ${COLORS[e.type]}${type}${COLORS.reset} ` +
    `${e.pod.namespace}/${e.pod.name}  ${what}${COLORS.dim}${mark}${COLORS.reset}`
  );
}

/** A summary names at most this many groups, then says how many items the rest hold. */
const MAX_GROUPS = 10;

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** Joins group descriptions, folding the ones past MAX_GROUPS into `+N more`. */
function joinGroups(groups: readonly { text: string; count: number }[]): string {
  const shown = groups.slice(0, MAX_GROUPS).map((g) => g.text);
  const rest = groups.slice(MAX_GROUPS).reduce((n, g) => n + g.count, 0);
  return rest > 0 ? [...shown, `+${rest} more`].join(', ') : shown.join(', ');
}

/** The label that says what a pod is part of: the chart's component label, else the usual app labels. */
export function podGroupName(labels: Readonly<Record<string, string>>): string {
  return (
    labels['app.kubernetes.io/component'] ??
    labels.app ??
    labels['app.kubernetes.io/name'] ??
    labels['k8s-app'] ??
    'unlabelled'
  );
}

const PHASE_ORDER = ['Running', 'Pending', 'Succeeded', 'Failed', 'Unknown'];
const phaseRank = (phase: string): number => {
  const i = PHASE_ORDER.indexOf(phase);
  return i < 0 ? PHASE_ORDER.length : i;
};

/**
 * `12 pods already exist in web: 3 db Running, 3 web Running (1 not ready), 1 backup Succeeded`: the pods
 * grouped by what they are part of and phase, so a startup says in one line what a list of 12 would.
 */
export function summarisePods(events: readonly PodEvent[], namespace: string | undefined): string {
  const groups = new Map<string, { app: string; phase: string; count: number; notReady: number }>();
  for (const e of events) {
    const app = podGroupName(e.labels);
    const key = `${app}\0${e.phase}`;
    const g = groups.get(key) ?? { app, phase: e.phase, count: 0, notReady: 0 };
    g.count++;
    if (e.phase === 'Running' && !e.ready) g.notReady++;
    groups.set(key, g);
  }
  const ordered = [...groups.values()].sort(
    (a, b) => a.app.localeCompare(b.app) || phaseRank(a.phase) - phaseRank(b.phase) || a.phase.localeCompare(b.phase),
  );
  const where = namespace === undefined ? 'all namespaces' : namespace;
  const head = `${plural(events.length, 'pod already exists', 'pods already exist')} in ${where}`;
  const list = joinGroups(
    ordered.map((g) => ({
      text: `${g.count} ${g.app} ${g.phase}${g.notReady ? ` (${g.notReady} not ready)` : ''}`,
      count: g.count,
    })),
  );
  return `${head}: ${list}`;
}

/** `3 alerts already firing: A (critical) ×2, B (warning)`: most severe first, the same alert counted once. */
export function summariseAlerts(events: readonly AlertEvent[]): string {
  const groups = new Map<string, { text: string; count: number; first: AlertEvent['alert'] }>();
  for (const { alert } of events) {
    const text = `${alert.name}${alert.severity ? ` (${alert.severity})` : ''}`;
    const g = groups.get(text) ?? { text, count: 0, first: alert };
    g.count++;
    groups.set(text, g);
  }
  const ordered = [...groups.values()].sort((a, b) => compareAlerts(a.first, b.first));
  const head = `${plural(events.length, 'alert', 'alerts')} already firing`;
  return `${head}: ${joinGroups(
    ordered.map((g) => ({ text: g.count > 1 ? `${g.text} ×${g.count}` : g.text, count: g.count })),
  )}`;
}

export function summariseSnapshot(s: Snapshot): string {
  return s.kind === 'pods' ? summarisePods(s.events, s.namespace) : summariseAlerts(s.events);
}

/** The snapshot's one terminal line, e.g. `15:32:06.412 snapshot 12 pods already exist in web: …`. */
export function formatSnapshotLine(s: Snapshot, color: boolean): string {
  if (!color) return `${clock(s.time)} snapshot ${summariseSnapshot(s)}`;
  return (
    `${COLORS.dim}${clock(s.time)}${COLORS.reset} ${COLORS.snapshot}` +
    `snapshot${COLORS.reset} ${summariseSnapshot(s)}`
  );
}

/** A Slack-compatible incoming-webhook payload (text with mrkdwn), also understood by Mattermost and others. */
export function slackPayload(e: PodwatchEvent): { text: string; blocks: unknown[] } {
  if (isAlertEvent(e)) {
    const icon = {
      'alert-firing': ':rotating_light:',
      'alert-resolved': ':white_check_mark:',
      'alert-existing': ':bell:',
    }[e.type];
    return slackText(`${icon} *ALERT ${e.type.slice('alert-'.length)}* ${describeAlert(e.alert)}`);
  }
  const icon = {
    created: ':large_green_circle:',
    updated: ':large_yellow_circle:',
    deleted: ':red_circle:',
    existing: ':white_circle:',
  }[e.type];
  const changes = e.changes?.map((c) => `• \`${c.field}\` ${c.from ?? '∅'} → ${c.to ?? '∅'}`).join('\n');
  const text =
    `${icon} *${e.type}* \`${e.pod.namespace}/${e.pod.name}\` ` +
    `phase ${e.phase}${e.observedOnRelist ? ' _(observed on relist)_' : ''}`;
  return {
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: changes ? `${text}\n${changes}` : text } }],
  };
}

function slackText(text: string): { text: string; blocks: unknown[] } {
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** A snapshot as one Slack message: a chat channel wants the summary, not one message per pod. */
export function slackSnapshotPayload(s: Snapshot): { text: string; blocks: unknown[] } {
  return slackText(`:camera: *snapshot* ${summariseSnapshot(s)}`);
}

class StreamSink implements Sink {
  readonly emitSnapshot?: (snapshot: Snapshot) => void;
  constructor(
    readonly name: string,
    private readonly out: NodeJS.WritableStream,
    private readonly format: (e: PodwatchEvent) => string,
    /** Without it, a snapshot's events are written one line each. */
    summarise?: (s: Snapshot) => string,
  ) {
    if (summarise)
      this.emitSnapshot = (snapshot) => {
        if (snapshot.events.length > 0) this.out.write(`${summarise(snapshot)}\n`);
      };
  }
  emit(event: PodwatchEvent): void {
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
  return new StreamSink(
    'terminal',
    out,
    (e) => formatTerminalLine(e, color),
    (s) => formatSnapshotLine(s, color),
  );
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
  /** Bodies serialised when queued: a snapshot becomes one Slack message but many JSON ones. */
  private readonly queue: { body: string; time: string }[] = [];
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

  emit(event: PodwatchEvent): void {
    const body = this.opts.format === 'slack' ? slackPayload(event) : event;
    this.enqueue({ body: JSON.stringify(body), time: event.time });
  }

  emitSnapshot(snapshot: Snapshot): void {
    if (this.opts.format === 'json') for (const e of snapshot.events) this.emit(e);
    else if (snapshot.events.length > 0)
      this.enqueue({ body: JSON.stringify(slackSnapshotPayload(snapshot)), time: snapshot.time });
  }

  private enqueue(item: { body: string; time: string }): void {
    if (this.queue.length >= this.opts.queueSize) {
      this.opts.metrics.sinkDrops.inc({ sink: this.name, reason: 'queue-full' });
      return;
    }
    this.queue.push(item);
    this.opts.metrics.queueDepth.set({ sink: this.name }, this.queue.length);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    let attempt = 0;
    for (let e = this.queue[0]; e && !this.stop.signal.aborted; e = this.queue[0]) {
      try {
        await this.send(e.body);
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

  private async send(body: string): Promise<void> {
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
