// The firing set between calls: Alertmanager's webhook notifications and the poll's answers both update it
// (keyed by fingerprint, so the two sources agree), through the pure functions of alerts.ts. This is where
// the first poll answer becomes a snapshot and where the lease decides who reports.
import {
  applyNotification,
  applyPollAnswer,
  sortedAlerts,
  type Alert,
  type AlertEvent,
  type AlertNotification,
  type AlertState,
  type AlertUpdate,
} from './alerts.js';
import type { PodwatchMetrics } from './metrics.js';
import type { Snapshot } from './sinks.js';

export interface AlertTrackerOptions {
  metrics: PodwatchMetrics;
  deliver(event: AlertEvent): void;
  deliverSnapshot(snapshot: Extract<Snapshot, { kind: 'alerts' }>): void;
  /** False on a replica that does not hold the lease (always true without leader election). */
  isLeader(): boolean;
  now?: () => Date;
}

export class AlertTracker {
  private state: AlertState = new Map();
  private pollAnswered = false;
  private readonly now: () => Date;

  constructor(private readonly opts: AlertTrackerOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** The firing alerts, most severe first. */
  firing(): Alert[] {
    return sortedAlerts(this.state);
  }

  private apply(update: AlertUpdate): AlertEvent[] {
    this.state = update.state;
    this.opts.metrics.alertsFiring.set({}, this.state.size);
    return update.events;
  }

  /** A webhook notification; returns how many alerts fire after it. */
  onNotification(notification: AlertNotification): number {
    this.opts.metrics.alertNotifications.inc({ source: 'webhook', result: 'accepted' });
    // Not gated by the lease: Alertmanager sends each notification to one replica (the Service picks it),
    // so a replica that kept it to itself would lose it.
    for (const e of this.apply(applyNotification(this.state, notification, this.now()))) this.opts.deliver(e);
    return this.state.size;
  }

  /** One poll answer: the first is a snapshot of what already fired, later ones are compared with the set. */
  onPollAnswer(answer: readonly Alert[]): void {
    this.opts.metrics.alertNotifications.inc({ source: 'poll', result: 'accepted' });
    const snapshot = !this.pollAnswered;
    this.pollAnswered = true;
    const now = this.now();
    const events = this.apply(applyPollAnswer(this.state, answer, now, snapshot));
    // Every replica polls the same Alertmanager and keeps the set for its own view; only the leader reports.
    if (!this.opts.isLeader()) return;
    const existing = events.filter((e) => e.type === 'alert-existing');
    if (existing.length > 0) this.opts.deliverSnapshot({ kind: 'alerts', time: now.toISOString(), events: existing });
    for (const e of events) if (e.type !== 'alert-existing') this.opts.deliver(e);
  }
}
