import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertTracker } from '../../../src/podwatch/alert-tracker.js';
import { parseAlertmanagerAlerts, parseWebhookPayload, type AlertEvent } from '../../../src/podwatch/alerts.js';
import { PodwatchMetrics } from '../../../src/podwatch/metrics.js';
import type { Snapshot } from '../../../src/podwatch/sinks.js';

type AlertSnapshot = Extract<Snapshot, { kind: 'alerts' }>;

const active = (...names: string[]) =>
  parseAlertmanagerAlerts(
    names.map((n) => ({
      labels: { alertname: n, severity: 'warning' },
      annotations: {},
      startsAt: '2026-03-04T05:00:00Z',
      endsAt: '2026-03-04T06:00:00Z',
      fingerprint: n,
      status: { state: 'active' },
    })),
  );

function tracker(leader = true): {
  t: AlertTracker;
  events: AlertEvent[];
  snapshots: AlertSnapshot[];
  metrics: PodwatchMetrics;
  setLeader: (v: boolean) => void;
} {
  const events: AlertEvent[] = [];
  const snapshots: AlertSnapshot[] = [];
  const metrics = new PodwatchMetrics();
  let isLeader = leader;
  const t = new AlertTracker({
    metrics,
    deliver: (e) => events.push(e),
    deliverSnapshot: (s) => snapshots.push(s),
    isLeader: () => isLeader,
    now: () => new Date('2026-03-04T05:06:07Z'),
  });
  return {
    t,
    events,
    snapshots,
    metrics,
    setLeader: (v) => {
      isLeader = v;
    },
  };
}

describe('AlertTracker', () => {
  it('the first poll answer is one snapshot of alert-existing events; later answers report differences', () => {
    const { t, events, snapshots, metrics } = tracker();
    t.onPollAnswer(active('A', 'B'));
    assert.equal(snapshots.length, 1);
    assert.deepEqual(
      snapshots[0]?.events.map((e) => [e.type, e.alert.name]),
      [
        ['alert-existing', 'A'],
        ['alert-existing', 'B'],
      ],
    );
    assert.equal(events.length, 0, 'nothing reported as a new firing');
    t.onPollAnswer(active('B', 'C'));
    assert.deepEqual(
      events.map((e) => [e.type, e.alert.name]),
      [
        ['alert-firing', 'C'],
        ['alert-resolved', 'A'],
      ],
    );
    assert.equal(snapshots.length, 1);
    assert.deepEqual(
      t.firing().map((a) => a.name),
      ['B', 'C'],
    );
    assert.equal(metrics.alertsFiring.get(), 2);
    assert.equal(metrics.alertNotifications.get({ source: 'poll', result: 'accepted' }), 2);
  });

  it('an empty first answer is a snapshot of nothing: an alert after it is a firing', () => {
    const { t, events, snapshots } = tracker();
    t.onPollAnswer([]);
    t.onPollAnswer(active('A'));
    assert.deepEqual(snapshots, []);
    assert.deepEqual(
      events.map((e) => e.type),
      ['alert-firing'],
    );
  });

  it('a replica without the lease keeps the set from polls but reports only webhook notifications', () => {
    const { t, events, snapshots, setLeader } = tracker(false);
    t.onPollAnswer(active('A'));
    assert.deepEqual([snapshots, events], [[], []]);
    assert.equal(t.firing().length, 1);
    const n = parseWebhookPayload({
      version: '4',
      status: 'firing',
      receiver: 'podwatch',
      groupKey: 'g',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'W' },
          startsAt: '2026-03-04T05:00:00Z',
          fingerprint: 'W',
        },
      ],
    });
    assert.equal(t.onNotification(n), 2);
    assert.deepEqual(
      events.map((e) => [e.type, e.source]),
      [['alert-firing', 'webhook']],
    );
    // Taking the lease over: the set is already known, so only real changes are reported.
    setLeader(true);
    t.onPollAnswer(active('A'));
    assert.deepEqual(
      events.slice(1).map((e) => [e.type, e.alert.name]),
      [['alert-resolved', 'W']],
    );
  });
});
