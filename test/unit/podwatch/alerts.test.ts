import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AlertPayloadError,
  alertLocation,
  alertsQueryUrl,
  applyNotification,
  applyPollAnswer,
  parseAlertmanagerAlerts,
  parseWebhookPayload,
  sortedAlerts,
  type Alert,
  type AlertState,
} from '../../../src/podwatch/alerts.js';

const now = new Date('2026-03-04T05:06:07.000Z');
const later = new Date('2026-03-04T05:07:00.000Z');

/** One alert as Alertmanager's webhook sends it. */
const webhookAlert = (
  fingerprint: string,
  status: 'firing' | 'resolved',
  labels: Record<string, string> = {},
): Record<string, unknown> => ({
  status,
  labels: { alertname: `Alert-${fingerprint}`, severity: 'critical', namespace: 'web', ...labels },
  annotations: { summary: `summary of ${fingerprint}` },
  startsAt: '2026-03-04T05:00:00.000Z',
  endsAt: status === 'resolved' ? '2026-03-04T05:06:00.000Z' : '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus.invalid/graph?g0.expr=up',
  fingerprint,
});

const payload = (...alerts: Record<string, unknown>[]): Record<string, unknown> => ({
  version: '4',
  groupKey: '{}:{alertname="x"}',
  truncatedAlerts: 0,
  status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
  receiver: 'podwatch',
  groupLabels: {},
  commonLabels: {},
  commonAnnotations: {},
  externalURL: 'http://alertmanager.invalid',
  alerts,
});

/** One alert as GET /api/v2/alerts answers it. */
const apiAlert = (fingerprint: string, severity = 'warning'): Record<string, unknown> => ({
  labels: { alertname: `Alert-${fingerprint}`, severity },
  annotations: { description: `description of ${fingerprint}` },
  startsAt: '2026-03-04T04:00:00.000Z',
  endsAt: '2026-03-04T06:00:00.000Z',
  updatedAt: '2026-03-04T05:00:00.000Z',
  fingerprint,
  receivers: [{ name: 'podwatch' }],
  status: { state: 'active', silencedBy: [], inhibitedBy: [] },
});

const rejects = (body: unknown, field: RegExp): void => {
  assert.throws(
    () => parseWebhookPayload(body),
    (err: unknown) => err instanceof AlertPayloadError && field.test(err.message),
  );
};

describe('parseWebhookPayload', () => {
  it('reads a version 4 payload into alerts with name, severity and summary', () => {
    const n = parseWebhookPayload(payload(webhookAlert('a1', 'firing'), webhookAlert('a2', 'resolved')));
    assert.equal(n.status, 'firing');
    assert.equal(n.receiver, 'podwatch');
    assert.deepEqual(n.alerts[0], {
      fingerprint: 'a1',
      name: 'Alert-a1',
      severity: 'critical',
      summary: 'summary of a1',
      status: 'firing',
      startsAt: '2026-03-04T05:00:00.000Z',
      generatorURL: 'http://prometheus.invalid/graph?g0.expr=up',
      labels: { alertname: 'Alert-a1', severity: 'critical', namespace: 'web' },
      annotations: { summary: 'summary of a1' },
    });
    // Go's zero time on a firing alert means "no end": it is left out; a resolved alert keeps its end.
    assert.equal(n.alerts[1]?.endsAt, '2026-03-04T05:06:00.000Z');
  });

  it('rejects a bad payload with a message that starts with the field at fault', () => {
    rejects('nope', /^body: must be a JSON object/);
    rejects({ ...payload(), version: '3' }, /^version: '3' is not supported/);
    rejects({ ...payload(), status: 'pending' }, /^status: 'pending' must be "firing" or "resolved"/);
    rejects({ ...payload(), receiver: undefined }, /^receiver: must be a non-empty string/);
    rejects({ ...payload(), groupKey: 5 }, /^groupKey: must be a non-empty string/);
    rejects({ ...payload(), alerts: {} }, /^alerts: must be a list/);
    rejects(payload(webhookAlert('a', 'firing'), 'x' as unknown as Record<string, unknown>), /^alerts\[1\]: must be/);
    rejects(payload({ ...webhookAlert('a', 'firing'), fingerprint: '' }), /^alerts\[0\]\.fingerprint: must be/);
    rejects(payload({ ...webhookAlert('a', 'firing'), status: 'ok' }), /^alerts\[0\]\.status: 'ok'/);
    rejects(payload({ ...webhookAlert('a', 'firing'), labels: ['x'] }), /^alerts\[0\]\.labels: must be an object/);
    rejects(
      payload({ ...webhookAlert('a', 'firing'), annotations: { summary: 1 } }),
      /^alerts\[0\]\.annotations\.summary: must be a string/,
    );
    rejects(payload({ ...webhookAlert('a', 'firing'), startsAt: 'yesterday' }), /^alerts\[0\]\.startsAt: 'yesterday'/);
  });

  it('accepts an alert without annotations or generatorURL, and names one without alertname', () => {
    const { annotations: _a, generatorURL: _g, ...bare } = webhookAlert('b', 'firing', {});
    const a = parseWebhookPayload(payload({ ...bare, labels: { job: 'x' } })).alerts[0];
    assert.deepEqual(a?.annotations, {});
    assert.equal(a?.generatorURL, undefined);
    assert.equal(a?.name, '(no alertname)');
  });
});

describe('applyNotification (webhook)', () => {
  const notify = (state: AlertState, ...alerts: Record<string, unknown>[]) =>
    applyNotification(state, parseWebhookPayload(payload(...alerts)), now);

  it('firing → alert-firing; the same again → nothing; resolved → alert-resolved; resolved again → nothing', () => {
    const fired = notify(new Map(), webhookAlert('a1', 'firing'));
    assert.deepEqual(
      fired.events.map((e) => [e.type, e.alert.fingerprint, e.source, e.time]),
      [['alert-firing', 'a1', 'webhook', now.toISOString()]],
    );
    assert.deepEqual([...fired.state.keys()], ['a1']);

    const repeated = notify(fired.state, webhookAlert('a1', 'firing'));
    assert.deepEqual(repeated.events, [], 'Alertmanager repeats a firing alert: no new event');
    assert.equal(repeated.state.size, 1);

    const resolved = notify(repeated.state, webhookAlert('a1', 'resolved'));
    assert.deepEqual(
      resolved.events.map((e) => [e.type, e.alert.status, e.alert.endsAt]),
      [['alert-resolved', 'resolved', '2026-03-04T05:06:00.000Z']],
    );
    assert.equal(resolved.state.size, 0);

    assert.deepEqual(notify(resolved.state, webhookAlert('a1', 'resolved')).events, [], 'a repeated resolve');
  });

  it('a group message reports only what changed in it, and never mutates the state it was given', () => {
    const start = notify(new Map(), webhookAlert('a1', 'firing'));
    const before = new Map(start.state);
    const next = notify(start.state, webhookAlert('a1', 'firing'), webhookAlert('a2', 'firing'));
    assert.deepEqual(
      next.events.map((e) => [e.type, e.alert.fingerprint]),
      [['alert-firing', 'a2']],
    );
    assert.deepEqual(start.state, before);
  });

  it('a repeat with new annotations updates the kept alert without an event', () => {
    const start = notify(new Map(), webhookAlert('a1', 'firing'));
    const changed = { ...webhookAlert('a1', 'firing'), annotations: { summary: 'now 1 of 3 members' } };
    const next = notify(start.state, changed);
    assert.deepEqual(next.events, []);
    assert.equal(next.state.get('a1')?.summary, 'now 1 of 3 members');
  });
});

describe('applyPollAnswer (Alertmanager API)', () => {
  const answer = (...fingerprints: string[]): Alert[] => parseAlertmanagerAlerts(fingerprints.map((f) => apiAlert(f)));

  it('the first answer is a snapshot (alert-existing), later differences are alert-firing / alert-resolved', () => {
    const first = applyPollAnswer(new Map(), answer('a', 'b'), now, true);
    assert.deepEqual(
      first.events.map((e) => [e.type, e.alert.fingerprint, e.source]),
      [
        ['alert-existing', 'a', 'poll'],
        ['alert-existing', 'b', 'poll'],
      ],
    );
    assert.deepEqual(applyPollAnswer(first.state, answer('a', 'b'), later, false).events, [], 'unchanged answer');

    const next = applyPollAnswer(first.state, answer('b', 'c'), later, false);
    assert.deepEqual(
      next.events.map((e) => [e.type, e.alert.fingerprint]),
      [
        ['alert-firing', 'c'],
        ['alert-resolved', 'a'],
      ],
    );
    // The API does not say when it ended: podwatch says when it noticed.
    assert.equal(next.events[1]?.alert.endsAt, later.toISOString());
    assert.equal(next.events[1]?.alert.status, 'resolved');
    assert.deepEqual([...next.state.keys()].sort(), ['b', 'c']);
  });

  it('an empty first answer reports nothing, and a fingerprint listed twice is one alert', () => {
    assert.deepEqual(applyPollAnswer(new Map(), [], now, true).events, []);
    const twice = applyPollAnswer(new Map(), answer('a', 'a'), now, false);
    assert.equal(twice.events.length, 1);
    assert.equal(twice.state.size, 1);
  });

  it('shares the state with the webhook: no second event for an alert either source already reported', () => {
    const viaWebhook = applyNotification(new Map(), parseWebhookPayload(payload(webhookAlert('a', 'firing'))), now);
    const polled = applyPollAnswer(viaWebhook.state, answer('a'), later, true);
    assert.deepEqual(polled.events, []);
    const resolvedByWebhook = applyNotification(
      polled.state,
      parseWebhookPayload(payload(webhookAlert('a', 'resolved'))),
      later,
    );
    assert.deepEqual(
      resolvedByWebhook.events.map((e) => e.type),
      ['alert-resolved'],
    );
    assert.deepEqual(applyPollAnswer(resolvedByWebhook.state, [], later, false).events, []);
  });

  it('rejects an answer that is not an alert list, naming the element and field', () => {
    const fails = (body: unknown, message: RegExp): void => {
      assert.throws(
        () => parseAlertmanagerAlerts(body),
        (err: unknown) => err instanceof AlertPayloadError && message.test(err.message),
      );
    };
    fails({ alerts: [] }, /^answer: must be a list of alerts/);
    fails([apiAlert('a'), { ...apiAlert('b'), fingerprint: undefined }], /^\[1\]\.fingerprint: must be/);
    fails([{ ...apiAlert('a'), labels: undefined }], /^\[0\]\.labels: must be an object/);
  });
});

describe('alert helpers', () => {
  it('builds the poll URL under a base URL, path prefix included', () => {
    const q = 'api/v2/alerts?active=true&silenced=false&inhibited=false';
    assert.equal(alertsQueryUrl('http://127.0.0.1:9093'), `http://127.0.0.1:9093/${q}`);
    assert.equal(alertsQueryUrl('http://am.invalid/alertmanager'), `http://am.invalid/alertmanager/${q}`);
    assert.equal(alertsQueryUrl('http://am.invalid/alertmanager/'), `http://am.invalid/alertmanager/${q}`);
  });

  it('sorts most severe first, then oldest first; places an alert by namespace and pod (or service, job)', () => {
    const alerts = parseAlertmanagerAlerts([
      { ...apiAlert('info', 'info'), startsAt: '2026-01-01T00:00:00Z' },
      { ...apiAlert('new', 'critical'), startsAt: '2026-03-01T00:00:00Z' },
      { ...apiAlert('old', 'critical'), startsAt: '2026-02-01T00:00:00Z' },
      { ...apiAlert('none'), labels: { alertname: 'X' } },
    ]);
    assert.deepEqual(
      sortedAlerts(new Map(alerts.map((a) => [a.fingerprint, a]))).map((a) => a.fingerprint),
      ['old', 'new', 'info', 'none'],
    );
    const at = (labels: Record<string, string>): string =>
      alertLocation({ ...(alerts[0] as Alert), labels: { alertname: 'X', ...labels } });
    assert.equal(at({ namespace: 'web', pod: 'web-db-0', job: 'j' }), 'web/web-db-0');
    assert.equal(at({ namespace: 'web', service: 'web-db' }), 'web/web-db');
    assert.equal(at({ job: 'node' }), 'node');
    assert.equal(at({}), '');
  });
});
