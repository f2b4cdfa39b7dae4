// Alerts from Alertmanager, the pure part: reading its webhook payload (version 4) and its /api/v2/alerts
// answer, and applying either to the set of firing alerts (keyed by fingerprint), which returns the events
// to report. No I/O here: the HTTP handler (server.ts) and the poller (alert-poller.ts) are thin edges
// around these functions, and run.ts keeps the state between calls.

/** One alert as podwatch keeps and reports it. */
export interface Alert {
  /** Alertmanager's identity of the alert (a hash of its labels): the key of the firing set. */
  fingerprint: string;
  /** labels.alertname. */
  name: string;
  /** labels.severity, when set. */
  severity?: string;
  /** annotations.summary, else annotations.description, when set. */
  summary?: string;
  status: 'firing' | 'resolved';
  startsAt: string;
  /** Only on resolved alerts: when it ended (from Alertmanager, or when podwatch saw it leave the active set). */
  endsAt?: string;
  generatorURL?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export type AlertEventType = 'alert-firing' | 'alert-resolved' | 'alert-existing';

export interface AlertEvent {
  type: AlertEventType;
  /** When podwatch learnt it (ISO 8601). */
  time: string;
  /** Which source told podwatch: Alertmanager's webhook notification or the poll of its API. */
  source: 'webhook' | 'poll';
  alert: Alert;
}

/** The firing alerts by fingerprint. Never mutated: every apply returns a new map. */
export type AlertState = ReadonlyMap<string, Alert>;

export interface AlertUpdate {
  state: AlertState;
  events: AlertEvent[];
}

/** One webhook notification, validated. */
export interface AlertNotification {
  status: 'firing' | 'resolved';
  receiver: string;
  groupKey: string;
  alerts: Alert[];
}

/** A payload podwatch cannot use; the message starts with the field at fault, e.g. `alerts[0].fingerprint: …`. */
export class AlertPayloadError extends Error {}

export const isAlertEvent = (e: { type: string }): e is AlertEvent => e.type.startsWith('alert-');

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function requireString(o: Json, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new AlertPayloadError(`${where}${key}: must be a non-empty string`);
  return v;
}

function requireStatus(o: Json, key: string, where: string): 'firing' | 'resolved' {
  const v = o[key];
  if (v === 'firing' || v === 'resolved') return v;
  throw new AlertPayloadError(`${where}${key}: '${String(v)}' must be "firing" or "resolved"`);
}

function requireTime(o: Json, key: string, where: string): string {
  const v = requireString(o, key, where);
  if (Number.isNaN(Date.parse(v))) throw new AlertPayloadError(`${where}${key}: '${v}' is not an RFC 3339 time`);
  return v;
}

/**
 * A map of strings; `optional` lets a missing one be empty (Alertmanager always sends labels, not always annotations).
 */
function stringMap(o: Json, key: string, where: string, optional: boolean): Record<string, string> {
  const v = o[key];
  if (v === undefined && optional) return {};
  if (!isObject(v)) throw new AlertPayloadError(`${where}${key}: must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') throw new AlertPayloadError(`${where}${key}.${k}: must be a string`);
    out[k] = s;
  }
  return out;
}

// Alertmanager writes Go's zero time for "no end" on firing alerts.
const isZeroTime = (t: string): boolean => t.startsWith('0001-01-01');

/** Builds an Alert from the fields both Alertmanager formats share; `where` prefixes error messages. */
function alertFrom(o: Json, status: 'firing' | 'resolved', where: string): Alert {
  const labels = stringMap(o, 'labels', where, false);
  const annotations = stringMap(o, 'annotations', where, true);
  const alert: Alert = {
    fingerprint: requireString(o, 'fingerprint', where),
    name: labels.alertname ?? '(no alertname)',
    status,
    startsAt: requireTime(o, 'startsAt', where),
    labels,
    annotations,
  };
  if (labels.severity) alert.severity = labels.severity;
  const summary = annotations.summary ?? annotations.description;
  if (summary) alert.summary = summary;
  if (o.generatorURL !== undefined && o.generatorURL !== '')
    alert.generatorURL = requireString(o, 'generatorURL', where);
  if (status === 'resolved' && o.endsAt !== undefined) {
    const endsAt = requireTime(o, 'endsAt', where);
    if (!isZeroTime(endsAt)) alert.endsAt = endsAt;
  }
  return alert;
}

/** Validates Alertmanager's webhook payload (version "4"); throws AlertPayloadError naming the field at fault. */
export function parseWebhookPayload(body: unknown): AlertNotification {
  if (!isObject(body)) throw new AlertPayloadError('body: must be a JSON object (Alertmanager webhook, version "4")');
  if (body.version !== '4')
    throw new AlertPayloadError(
      `version: '${String(body.version)}' is not supported: podwatch reads Alertmanager's webhook version "4"`,
    );
  const status = requireStatus(body, 'status', '');
  const receiver = requireString(body, 'receiver', '');
  const groupKey = requireString(body, 'groupKey', '');
  if (!Array.isArray(body.alerts)) throw new AlertPayloadError('alerts: must be a list');
  const alerts = body.alerts.map((a: unknown, i) => {
    const where = `alerts[${i}].`;
    if (!isObject(a)) throw new AlertPayloadError(`alerts[${i}]: must be an object`);
    return alertFrom(a, requireStatus(a, 'status', where), where);
  });
  return { status, receiver, groupKey, alerts };
}

/**
 * Reads Alertmanager's GET /api/v2/alerts answer. Asked with active=true&silenced=false&inhibited=false,
 * every alert in it is firing and not muted; throws AlertPayloadError naming the field at fault.
 */
export function parseAlertmanagerAlerts(body: unknown): Alert[] {
  if (!Array.isArray(body)) throw new AlertPayloadError('answer: must be a list of alerts');
  return body.map((a: unknown, i) => {
    if (!isObject(a)) throw new AlertPayloadError(`[${i}]: must be an object`);
    return alertFrom(a, 'firing', `[${i}].`);
  });
}

/**
 * Where the poller asks: the active, unsilenced, uninhibited alerts
 * under Alertmanager's base URL (which may have a path prefix).
 */
export function alertsQueryUrl(base: string): string {
  const u = new URL(base);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return new URL('api/v2/alerts?active=true&silenced=false&inhibited=false', u).toString();
}

const event = (type: AlertEventType, alert: Alert, source: AlertEvent['source'], now: Date): AlertEvent => ({
  type,
  time: now.toISOString(),
  source,
  alert,
});

/**
 * Applies one webhook notification. A firing alert not yet known → alert-firing; a known one that arrives
 * resolved → alert-resolved, and it leaves the set. Alertmanager repeats notifications (repeat_interval,
 * every group member in every message), so a known firing alert or an unknown resolved one reports nothing.
 */
export function applyNotification(state: AlertState, notification: AlertNotification, now: Date): AlertUpdate {
  const next = new Map(state);
  const events: AlertEvent[] = [];
  for (const alert of notification.alerts) {
    const known = next.has(alert.fingerprint);
    if (alert.status === 'firing') {
      // A repeat may carry newer annotations: keep the latest copy, silently.
      next.set(alert.fingerprint, alert);
      if (!known) events.push(event('alert-firing', alert, 'webhook', now));
    } else if (known) {
      next.delete(alert.fingerprint);
      events.push(event('alert-resolved', alert, 'webhook', now));
    }
  }
  return { state: next, events };
}

/**
 * Applies one poll answer (the complete active set). With `snapshot` (the first answer podwatch gets) the
 * alerts it has not heard of were already firing before it looked: alert-existing, not alert-firing.
 * Alerts in the state but no longer in the answer were resolved (or silenced, or inhibited: the answer
 * cannot tell, and in each case they stopped needing attention); their endsAt is when podwatch noticed.
 */
export function applyPollAnswer(
  state: AlertState,
  answer: readonly Alert[],
  now: Date,
  snapshot: boolean,
): AlertUpdate {
  const next = new Map<string, Alert>();
  const events: AlertEvent[] = [];
  for (const alert of answer) {
    const isNew = !state.has(alert.fingerprint) && !next.has(alert.fingerprint);
    next.set(alert.fingerprint, alert);
    if (isNew) events.push(event(snapshot ? 'alert-existing' : 'alert-firing', alert, 'poll', now));
  }
  for (const [fingerprint, alert] of state) {
    if (next.has(fingerprint)) continue;
    events.push(event('alert-resolved', { ...alert, status: 'resolved', endsAt: now.toISOString() }, 'poll', now));
  }
  return { state: next, events };
}

const SEVERITY_RANK: Readonly<Record<string, number>> = { critical: 0, error: 1, warning: 2, info: 3 };
const severityRank = (a: Alert): number => SEVERITY_RANK[a.severity ?? ''] ?? 4;

/** Most severe first, then oldest first: the order in which someone on call reads them. */
export const compareAlerts = (a: Alert, b: Alert): number =>
  severityRank(a) - severityRank(b) || a.startsAt.localeCompare(b.startsAt) || a.name.localeCompare(b.name);

/** The firing set as GET /api/alerts shows it. */
export function sortedAlerts(state: AlertState): Alert[] {
  return [...state.values()].sort(compareAlerts);
}

/** Where an alert points, for one-line displays: namespace/pod (or service, job, instance) from its labels. */
export function alertLocation(a: Alert): string {
  const l = a.labels;
  return [l.namespace, l.pod ?? l.service ?? l.job ?? l.instance].filter((s) => s !== undefined && s !== '').join('/');
}
