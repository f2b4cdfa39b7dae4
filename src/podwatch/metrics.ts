// A small Prometheus registry (text exposition format 0.0.4): counters and gauges with labels, and one
// histogram. Enough for podwatch's own metrics without a dependency.

type Labels = Record<string, string>;

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (l: Labels): string => {
  const parts = Object.keys(l)
    .sort()
    .map((k) => `${k}="${escapeLabel(l[k] ?? '')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: 'counter' | 'gauge' | 'histogram',
  ) {}
  abstract samples(): string[];
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.kind}`, ...this.samples()].join('\n');
  }
}

export class Counter extends Metric {
  private readonly values = new Map<string, number>();
  constructor(name: string, help: string, kind: 'counter' | 'gauge' = 'counter') {
    super(name, help, kind);
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = labelText(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  set(labels: Labels, value: number): void {
    this.values.set(labelText(labels), value);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }
  /** Sum over every label set. */
  total(): number {
    let s = 0;
    for (const v of this.values.values()) s += v;
    return s;
  }
  samples(): string[] {
    if (this.values.size === 0 && this.kind === 'gauge') return [`${this.name} 0`];
    return [...this.values].map(([l, v]) => `${this.name}${l} ${v}`);
  }
}

export class Histogram extends Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram');
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    this.buckets.forEach((b, i) => {
      if (v <= b) this.counts[i] = (this.counts[i] ?? 0) + 1;
    });
  }
  samples(): string[] {
    return [
      ...this.buckets.map((b, i) => `${this.name}_bucket{le="${b}"} ${this.counts[i] ?? 0}`),
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${this.sum}`,
      `${this.name}_count ${this.count}`,
    ];
  }
}

/** podwatch's metrics; one instance per runPodwatch. */
export class PodwatchMetrics {
  readonly events = new Counter('podwatch_events_total', 'Pod events emitted, by type and namespace.');
  readonly alertsFiring = new Counter('podwatch_alerts_firing', 'Alerts firing, as Alertmanager last told.', 'gauge');
  readonly alertNotifications = new Counter(
    'podwatch_alert_notifications_total',
    'Alertmanager webhook notifications and poll answers received, ' +
      'by source (webhook, poll) and result (accepted, rejected).',
  );
  readonly alertPollErrors = new Counter(
    'podwatch_alertmanager_poll_errors_total',
    'Polls of Alertmanager that failed, by reason (unreachable, http, invalid).',
  );
  readonly watchRestarts = new Counter(
    'podwatch_watch_restarts_total',
    'Watch connections restarted, by reason (closed, error, stall).',
  );
  readonly relists = new Counter('podwatch_relists_total', 'Full lists, by reason (initial, gone = 410, incomplete).');
  readonly podsTracked = new Counter('podwatch_pods_tracked', 'Pods in the cache.', 'gauge');
  readonly queueDepth = new Counter('podwatch_sink_queue_depth', 'Events waiting in a sink queue, by sink.', 'gauge');
  readonly sinkErrors = new Counter('podwatch_sink_errors_total', 'Failed deliveries (each retry counts), by sink.');
  readonly sinkDrops = new Counter(
    'podwatch_sink_dropped_total',
    'Events dropped because a sink queue was full, by sink.',
  );
  readonly apiRequests = new Counter('podwatch_api_requests_total', 'Requests started against the API server.');
  readonly isLeader = new Counter(
    'podwatch_leader',
    '1 when this replica is the leader (or leader election is off).',
    'gauge',
  );
  readonly latency = new Histogram(
    'podwatch_event_latency_seconds',
    'From the watch event arriving at podwatch to a sink delivering it (webhooks: when the receiver answered).',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );

  render(): string {
    return `${[
      this.events,
      this.alertsFiring,
      this.alertNotifications,
      this.alertPollErrors,
      this.watchRestarts,
      this.relists,
      this.podsTracked,
      this.queueDepth,
      this.sinkErrors,
      this.sinkDrops,
      this.apiRequests,
      this.isLeader,
      this.latency,
    ]
      .map((m) => m.render())
      .join('\n')}\n`;
  }
}
