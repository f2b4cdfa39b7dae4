// The stack's health per release namespace, from Prometheus and Alertmanager: pure PromQL builders, pure
// judgments (each figure gets ok / warn / critical / unknown), a pure healthModel() over what was fetched,
// and one collectHealth() edge that fetches it all. The model is plain JSON: the controller serves it at
// /api/health and the health page (health-page.ts) renders it.
import {
  activeTargets,
  alertmanagerAlerts,
  queryInstant,
  ruleGroups,
  type AmAlert,
  type AmAlertState,
  type PromRuleGroup,
  type PromSample,
  type PromTarget,
} from './prometheus-api.js';

export type Status = 'ok' | 'warn' | 'critical' | 'unknown';

// ── which series belong to which component ──────────────────────────────────────────────────────────

/**
 * The one place that says which scrape job is which webstack component. Prometheus's `job` label is, for
 * the chart's PodMonitors (Prometheus Operator), `<namespace>/<fullname>-<component>`, and for the chart's
 * scrape-config ConfigMap (a Prometheus without the Operator), `webstack/<namespace>/<release>/<component>`.
 * Both end in `-<component>` or `/<component>`, which these patterns match (PromQL regexes are anchored at
 * both ends, like the `^(?:…)$` jobComponent() uses). The db job also scrapes the binlog archivers'
 * `dr-metrics` port, so the backup metrics are selected by the db job as well.
 * We match the job rather than pod names: a release whose name contains "webstack" has pods named
 * `<release>-web-…`, not `<release>-webstack-web-…`, while the job always ends in the component.
 */
export const COMPONENT_JOB_PATTERNS = {
  web: '.+[-/]web',
  db: '.+[-/]db',
  podwatch: '.+[-/]podwatch',
} as const;

export type Component = keyof typeof COMPONENT_JOB_PATTERNS;

/** The label matcher of a component's series, e.g. `job=~".+[-/]db"`. */
export function componentSelector(component: Component): string {
  return `job=~"${COMPONENT_JOB_PATTERNS[component]}"`;
}

const JOB_REGEXES = Object.entries(COMPONENT_JOB_PATTERNS).map(
  ([component, pattern]) => [component as Component, new RegExp(`^(?:${pattern})$`)] as const,
);

/** The component a scrape job belongs to, by the same patterns as the PromQL (for /api/v1/targets). */
export function jobComponent(job: string): Component | undefined {
  return JOB_REGEXES.find(([, re]) => re.test(job))?.[0];
}

// ── PromQL ───────────────────────────────────────────────────────────────────────────────────────────

export const HEALTH_QUERY_NAMES = [
  'galeraSize',
  'galeraMembers',
  'galeraSynced',
  'galeraPrimary',
  'galeraReady',
  'writeRate',
  'webUp',
  'webTargets',
  'podwatchUp',
  'podwatchTargets',
  'backupLastSuccess',
  'backupVerifyFailed',
  'backupVerified',
  'binlogLag',
] as const;

export type HealthQueryName = (typeof HEALTH_QUERY_NAMES)[number];

export interface QueryOptions {
  /**
   * The window of rate() for the write rate. It needs at least two scrapes inside it: 1m suits a scrape
   * interval up to 30 s only when scrapes are not late; give 2m or more for a slower interval.
   */
  rateWindow?: string;
}

/** A PromQL duration (1m, 90s, 2h), checked so a flag cannot smuggle PromQL into the query. */
function promDuration(value: string): string {
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(value)) throw new Error(`rateWindow ${JSON.stringify(value)} is not like 1m`);
  return value;
}

/**
 * Every query of the health view, each one vector `by (namespace)`. Counts use sum()/count() so that a
 * namespace whose members are all down still gives 0 rather than no series.
 */
export function healthQueries(opts: QueryOptions = {}): Record<HealthQueryName, string> {
  const db = componentSelector('db');
  const web = componentSelector('web');
  const pw = componentSelector('podwatch');
  const window = promDuration(opts.rateWindow ?? '1m');
  return {
    // Each member reports the size of the primary component it sees; the smallest is the honest one.
    galeraSize: `min by (namespace) (mysql_global_status_wsrep_cluster_size{${db}})`,
    // Members whose exporter reaches mysqld (the exporter drops the status series when it cannot).
    galeraMembers: `count by (namespace) (mysql_global_status_wsrep_local_state{${db}})`,
    // wsrep_local_state 4 = Synced.
    galeraSynced: `count by (namespace) (mysql_global_status_wsrep_local_state{${db}} == 4)`,
    // Members in a Primary component: the exporter maps wsrep_cluster_status Primary to 1, non-Primary and
    // Disconnected to 0, but only since its later versions; galeraReady is the fallback.
    galeraPrimary: `sum by (namespace) (mysql_global_status_wsrep_cluster_status{${db}})`,
    // wsrep_ready ON (1) only in a Primary component.
    galeraReady: `sum by (namespace) (mysql_global_status_wsrep_ready{${db}})`,
    // Every member applies every write set, so the fastest-moving member's commit rate is the cluster's.
    writeRate: `max by (namespace) (rate(mysql_global_status_wsrep_last_committed{${db}}[${window}]))`,
    webUp: `sum by (namespace) (up{${web}})`,
    webTargets: `count by (namespace) (up{${web}})`,
    podwatchUp: `sum by (namespace) (up{${pw}})`,
    podwatchTargets: `count by (namespace) (up{${pw}})`,
    // The raw time (not time() - it): 0 means "no backup yet" (src/dr/binlog-metrics.ts), which an age
    // would hide; the age is taken against the sample's evaluation time, so no clock but Prometheus's counts.
    backupLastSuccess: `max by (namespace) (kstack_backup_last_success_timestamp_seconds{${db}})`,
    backupVerifyFailed: `max by (namespace) (kstack_backup_verify_failed{${db}})`,
    // Time of the newest passed verification; 0 = none yet (then "not failed" is not "passed").
    backupVerified: `max by (namespace) (kstack_backup_verified_timestamp_seconds{${db}})`,
    // Exported by the binlog archivers (src/dr/binlog-archiver.ts) when point-in-time recovery is on.
    binlogLag: `max by (namespace) (kstack_binlog_archive_lag_seconds{${db}})`,
  };
}

// ── judgments ────────────────────────────────────────────────────────────────────────────────────────

/** The bar of each judgment. */
export interface HealthThresholds {
  /** Galera members a release should have (the chart's db.replicaCount). */
  expectedGaleraMembers: number;
  /** Per namespace, where a release differs from expectedGaleraMembers. */
  expectedGaleraMembersByNamespace: Readonly<Record<string, number>>;
  /** The newest successful backup may be this old (the chart's monitoring.rules.backupMaxAgeSeconds). */
  backupMaxAgeSeconds: number;
  /** Binlog archiving lag above this warns: the RPO target of docs/dr.md is 60 s. */
  binlogLagWarnSeconds: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = {
  expectedGaleraMembers: 3,
  expectedGaleraMembersByNamespace: {},
  backupMaxAgeSeconds: 93600,
  binlogLagWarnSeconds: 60,
};

const RANK: Record<Status, number> = { unknown: 0, ok: 1, warn: 2, critical: 3 };

/**
 * The worst of several statuses. "unknown" ranks lowest: a figure without data (binlog lag where point-in-time
 * recovery is off) must not hide a known problem, and all-unknown stays unknown.
 */
export function worstStatus(statuses: readonly Status[]): Status {
  return statuses.reduce<Status>((worst, s) => (RANK[s] > RANK[worst] ? s : worst), 'unknown');
}

/** Fewer members in the primary component than the release has: one is gone (WebstackGaleraClusterSizeLow). */
export function judgeGaleraSize(size: number | null, expected: number): Status {
  if (size === null) return 'unknown';
  return size < expected ? 'critical' : 'ok';
}

/** A member not Synced is not serving (WebstackGaleraMemberNotSynced warns); none Synced is an outage. */
export function judgeGaleraSynced(synced: number | null, members: number | null): Status {
  if (synced === null || members === null) return 'unknown';
  if (synced === 0) return 'critical';
  return synced < members ? 'warn' : 'ok';
}

/** No Primary component: the cluster refuses writes. Some members outside it: they are partitioned off. */
export function judgeGaleraPrimary(primaryMembers: number | null, members: number | null): Status {
  if (primaryMembers === null) return 'unknown';
  if (primaryMembers === 0) return 'critical';
  return members !== null && primaryMembers < members ? 'warn' : 'ok';
}

/** n of m replicas answering: none is critical, some missing warns. */
export function judgeAnswering(up: number | null, total: number | null): Status {
  if (up === null || total === null || total === 0) return 'unknown';
  if (up === 0) return 'critical';
  return up < total ? 'warn' : 'ok';
}

/** Backup age in seconds, or 'none' when the archivers report no backup at all (as WebstackBackupTooOld). */
export function judgeBackupAge(age: number | 'none' | null, maxAgeSeconds: number): Status {
  if (age === null) return 'unknown';
  if (age === 'none') return 'critical';
  return age > maxAgeSeconds ? 'warn' : 'ok';
}

/** The newest verification (restore + checks) failed: the backups may not restore (WebstackBackupVerifyFailed). */
export function judgeVerifyFailed(failed: boolean | null): Status {
  if (failed === null) return 'unknown';
  return failed ? 'critical' : 'ok';
}

export function judgeBinlogLag(lagSeconds: number | null, warnSeconds: number): Status {
  if (lagSeconds === null) return 'unknown';
  return lagSeconds > warnSeconds ? 'warn' : 'ok';
}

/** Firing alerts by their severity label: critical is critical, anything else warns. */
export function judgeAlerts(severities: readonly string[]): Status {
  if (severities.length === 0) return 'ok';
  return severities.includes('critical') ? 'critical' : 'warn';
}

// ── the model ────────────────────────────────────────────────────────────────────────────────────────

/** One figure of the page: its value (null: no data), what it is out of, and why it has its status. */
export interface Figure<V extends number | boolean = number> {
  status: Status;
  value: V | null;
  /** The total for x/y figures (members, replicas, targets); absent otherwise. */
  of?: number;
  /** A few words on the value or on why there is none. */
  note: string;
}

export interface NamespaceFigures {
  /** Smallest wsrep_cluster_size a member reports, of the members expected. */
  galeraSize: Figure;
  /** Members Synced, of the members reporting. */
  galeraSynced: Figure;
  /** Whether a Primary component exists; `of` is the members reporting. */
  galeraPrimary: Figure<boolean>;
  /** Committed transactions per second. */
  writeRate: Figure;
  /** Web replicas whose /metrics answers, of the web targets. */
  webReplicas: Figure;
  /** podwatch replicas answering, of its targets. */
  podwatch: Figure;
  /** Seconds since the newest successful backup. */
  backupAge: Figure;
  /** Whether the newest verification of a backup failed. */
  backupVerifyFailed: Figure<boolean>;
  /** Seconds the oldest binlogged transaction not yet archived has waited. */
  binlogLag: Figure;
  /** The release's scrape targets up, of all of them. */
  targets: Figure;
  /** Alerts firing (Alertmanager state active). */
  alerts: Figure;
}

export type FigureKey = keyof NamespaceFigures;

export interface AlertRow {
  name: string;
  /** The severity label ("" when the rule sets none). */
  severity: string;
  /** null: neither the alert's labels nor its rule name a namespace. */
  namespace: string | null;
  summary: string;
  /** ISO 8601: when it started firing. */
  since: string;
  /** active = firing; suppressed = silenced or inhibited. */
  state: AmAlertState;
  fingerprint: string;
}

export interface DownTarget {
  job: string;
  pod: string;
  scrapeUrl: string;
  health: 'down' | 'unknown';
  lastError: string;
}

export interface NamespaceHealth {
  namespace: string;
  /** The worst of its figures. */
  status: Status;
  figures: NamespaceFigures;
  alerts: AlertRow[];
  downTargets: DownTarget[];
}

export interface SourceState {
  url: string;
  ok: boolean;
  /** The first failure, when something could not be read. */
  error?: string;
}

export interface HealthModel {
  /** ISO 8601, when the model was built. */
  generatedAt: string;
  /** The worst of the namespaces; unknown when there is no namespace to judge. */
  status: Status;
  sources: { prometheus: SourceState; alertmanager: SourceState };
  namespaces: NamespaceHealth[];
  /** Alerts of no release namespace: none could be found for them, or theirs has no webstack series. */
  otherAlerts: AlertRow[];
  /** Rules whose last evaluation failed: a broken alert rule never fires, which looks like all is well. */
  ruleErrors: { group: string; rule: string; lastError: string }[];
}

/** A fetch that worked or the message of why not: one failing query must not blank the whole page. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

export interface HealthInputs {
  /** Milliseconds since the epoch. */
  now: number;
  prometheusUrl: string;
  alertmanagerUrl: string;
  queries: Record<HealthQueryName, Outcome<PromSample[]>>;
  targets: Outcome<PromTarget[]>;
  rules: Outcome<PromRuleGroup[]>;
  alerts: Outcome<AmAlert[]>;
}

/** A query's samples by namespace; series without a namespace label or with a non-finite value are dropped. */
function byNamespace(outcome: Outcome<PromSample[]>): Map<string, PromSample> {
  const out = new Map<string, PromSample>();
  if (!outcome.ok) return out;
  for (const s of outcome.value) {
    const ns = s.metric.namespace;
    if (ns !== undefined && Number.isFinite(s.value)) out.set(ns, s);
  }
  return out;
}

type Lookup = (name: HealthQueryName) => { value: number | null; sample?: PromSample; error?: string };

/** Reads one namespace's value of each query. */
function lookupFor(
  ns: string,
  queries: HealthInputs['queries'],
  maps: Map<HealthQueryName, Map<string, PromSample>>,
): Lookup {
  return (name) => {
    const outcome = queries[name];
    if (!outcome.ok) return { value: null, error: outcome.error };
    const sample = maps.get(name)?.get(ns);
    return sample ? { value: sample.value, sample } : { value: null };
  };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The note of a figure without a value: the failing query, else "no data yet". */
function missing(error: string | undefined, what: string): string {
  return error !== undefined ? `query failed: ${error}` : `no ${what} yet`;
}

function galeraFigures(
  get: Lookup,
  expected: number,
): Pick<NamespaceFigures, 'galeraSize' | 'galeraSynced' | 'galeraPrimary'> {
  const size = get('galeraSize');
  const members = get('galeraMembers');
  const synced = get('galeraSynced');
  // count(x == 4) gives no series when none is Synced: zero once we know members report.
  const syncedValue = synced.value ?? (members.value !== null && synced.error === undefined ? 0 : null);
  const primary = get('galeraPrimary');
  const ready = get('galeraReady');
  const fromStatus = primary.value !== null;
  const primaryMembers = fromStatus ? primary.value : ready.value;
  const source = fromStatus ? 'wsrep_cluster_status' : 'wsrep_ready';
  const ofMembers = members.value !== null ? { of: members.value } : {};
  return {
    galeraSize: {
      status: judgeGaleraSize(size.value, expected),
      value: size.value,
      of: expected,
      note:
        size.value === null
          ? missing(size.error, 'Galera metrics')
          : size.value < expected
            ? `${plural(expected - size.value, 'member')} missing from the cluster`
            : `all ${plural(expected, 'member')} in the cluster`,
    },
    galeraSynced: {
      status: judgeGaleraSynced(syncedValue, members.value),
      value: syncedValue,
      ...ofMembers,
      note:
        syncedValue === null || members.value === null
          ? missing(synced.error ?? members.error, 'Galera metrics')
          : `${syncedValue} of ${plural(members.value, 'member')} reporting Synced`,
    },
    galeraPrimary: {
      status: judgeGaleraPrimary(primaryMembers, members.value),
      value: primaryMembers === null ? null : primaryMembers > 0,
      ...ofMembers,
      note:
        primaryMembers === null
          ? missing(primary.error ?? ready.error, 'Galera metrics')
          : primaryMembers === 0
            ? `no Primary component (${source}): writes are refused`
            : `${plural(primaryMembers, 'member')} in the Primary component (${source})`,
    },
  };
}

function answeringFigure(up: ReturnType<Lookup>, total: ReturnType<Lookup>, what: string): Figure {
  // sum(up) and count(up) come together; a namespace without the component has neither.
  const status = judgeAnswering(up.value, total.value);
  return {
    status,
    value: up.value,
    ...(total.value !== null ? { of: total.value } : {}),
    note:
      up.value === null || total.value === null
        ? missing(up.error ?? total.error, `${what} targets`)
        : `${up.value} of ${plural(total.value, `${what} replica`)} answer /metrics`,
  };
}

function backupFigures(
  get: Lookup,
  t: HealthThresholds,
): Pick<NamespaceFigures, 'backupAge' | 'backupVerifyFailed' | 'binlogLag'> {
  const last = get('backupLastSuccess');
  // The age against Prometheus's own evaluation time; 0 is the archivers' "no backup yet".
  const age: number | 'none' | null =
    last.sample === undefined
      ? null
      : last.sample.value <= 0
        ? 'none'
        : Math.max(0, last.sample.timestamp - last.sample.value);
  const failed = get('backupVerifyFailed');
  const verified = get('backupVerified');
  // Not failed but never passed either: no verification has run yet, which the page must not show as "passed".
  const neverVerified = failed.value !== null && failed.value <= 0 && verified.value !== null && verified.value <= 0;
  const failedValue = failed.value === null || neverVerified ? null : failed.value > 0;
  const lag = get('binlogLag');
  return {
    backupAge: {
      status: judgeBackupAge(age, t.backupMaxAgeSeconds),
      value: typeof age === 'number' ? age : null,
      note:
        age === null
          ? missing(last.error, 'backup metrics')
          : age === 'none'
            ? 'no successful backup yet'
            : age > t.backupMaxAgeSeconds
              ? `older than the ${t.backupMaxAgeSeconds} s allowed`
              : 'newest successful backup',
    },
    backupVerifyFailed: {
      status: neverVerified ? 'warn' : judgeVerifyFailed(failedValue),
      value: failedValue,
      note: neverVerified
        ? 'no verification yet'
        : failedValue === null
          ? missing(failed.error, 'verification metrics')
          : failedValue
            ? 'the newest verification failed'
            : 'no failed verification',
    },
    binlogLag: {
      status: judgeBinlogLag(lag.value, t.binlogLagWarnSeconds),
      value: lag.value,
      note:
        lag.value === null
          ? lag.error !== undefined
            ? `query failed: ${lag.error}`
            : 'no binlog archiving metrics (point-in-time recovery off?)'
          : lag.value > t.binlogLagWarnSeconds
            ? `above the ${t.binlogLagWarnSeconds} s allowed`
            : 'oldest binlogged transaction not yet archived',
    },
  };
}

/** The namespaces a PromQL query's text selects by `namespace="…"`; `exported_namespace` does not count. */
export function queryNamespaces(query: string): string[] {
  return [...new Set([...query.matchAll(/(?<![\w])namespace\s*=\s*"([^"]*)"/g)].map((m) => m[1] ?? ''))];
}

const isSubset = (small: Readonly<Record<string, string>>, big: Readonly<Record<string, string>>): boolean =>
  Object.entries(small).every(([k, v]) => big[k] === v);

/**
 * The namespace of an Alertmanager alert. Its `namespace` label when it has one; otherwise the chart's rules
 * aggregate it away (min(), max()), so we find the Prometheus rule that holds an alert with the same labels
 * (Alertmanager adds the external labels, hence a subset) or, failing that, the only rule of that name, and
 * read the namespace its query selects. null when that is not exactly one namespace.
 */
export function alertNamespace(alert: AmAlert, groups: readonly PromRuleGroup[]): string | null {
  const own = alert.labels.namespace;
  if (own !== undefined && own !== '') return own;
  const name = alert.labels.alertname;
  const rules = groups.flatMap((g) => g.rules).filter((r) => r.type === 'alerting' && r.name === name);
  const holding = rules.filter((r) => r.alerts.some((a) => isSubset(a.labels, alert.labels)));
  const candidates = holding.length > 0 ? holding : rules;
  const namespaces = new Set(candidates.flatMap((r) => queryNamespaces(r.query)));
  return namespaces.size === 1 ? ([...namespaces][0] ?? null) : null;
}

export function alertRow(alert: AmAlert, groups: readonly PromRuleGroup[]): AlertRow {
  return {
    name: alert.labels.alertname ?? '(no alertname)',
    severity: alert.labels.severity ?? '',
    namespace: alertNamespace(alert, groups),
    summary: alert.annotations.summary ?? alert.annotations.description ?? '',
    since: alert.startsAt,
    state: alert.status.state,
    fingerprint: alert.fingerprint,
  };
}

/** Firing first, then critical before the rest, then oldest first: the order an operator reads them in. */
function byUrgency(a: AlertRow, b: AlertRow): number {
  const firing = Number(b.state === 'active') - Number(a.state === 'active');
  const critical = Number(b.severity === 'critical') - Number(a.severity === 'critical');
  return firing || critical || a.since.localeCompare(b.since) || a.name.localeCompare(b.name);
}

function alertsFigure(rows: readonly AlertRow[], source: Outcome<AmAlert[]>): Figure {
  if (!source.ok) return { status: 'unknown', value: null, note: `Alertmanager: ${source.error}` };
  const firing = rows.filter((r) => r.state === 'active');
  const suppressed = rows.length - firing.length;
  return {
    status: judgeAlerts(firing.map((r) => r.severity)),
    value: firing.length,
    note:
      (firing.length === 0 ? 'none firing' : `${plural(firing.length, 'alert')} firing`) +
      (suppressed > 0 ? `, ${suppressed} silenced or inhibited` : ''),
  };
}

/** The release targets (jobs of a webstack component) of one namespace. */
function releaseTargets(targets: readonly PromTarget[], ns: string): PromTarget[] {
  return targets.filter((t) => t.labels.namespace === ns && jobComponent(t.labels.job ?? '') !== undefined);
}

function targetsFigure(targets: Outcome<PromTarget[]>, ns: string): { figure: Figure; down: DownTarget[] } {
  if (!targets.ok) return { figure: { status: 'unknown', value: null, note: `targets: ${targets.error}` }, down: [] };
  const mine = releaseTargets(targets.value, ns);
  const up = mine.filter((t) => t.health === 'up').length;
  const down: DownTarget[] = mine
    .filter((t): t is PromTarget & { health: 'down' | 'unknown' } => t.health !== 'up')
    .map((t) => ({
      job: t.labels.job ?? '',
      pod: t.labels.pod ?? '',
      scrapeUrl: t.scrapeUrl,
      health: t.health,
      lastError: t.lastError,
    }));
  return {
    figure: {
      status: judgeAnswering(up, mine.length),
      value: mine.length === 0 ? null : up,
      ...(mine.length > 0 ? { of: mine.length } : {}),
      note: mine.length === 0 ? 'no targets yet' : down.length === 0 ? 'all targets up' : `${down.length} down`,
    },
    down,
  };
}

/** One release namespace: every figure judged, its alerts and its targets that are not up. */
function namespaceHealth(
  ns: string,
  inputs: HealthInputs,
  maps: Map<HealthQueryName, Map<string, PromSample>>,
  alerts: readonly AlertRow[],
  t: HealthThresholds,
): NamespaceHealth {
  const get = lookupFor(ns, inputs.queries, maps);
  const expected = t.expectedGaleraMembersByNamespace[ns] ?? t.expectedGaleraMembers;
  const rate = get('writeRate');
  const { figure: targets, down } = targetsFigure(inputs.targets, ns);
  const figures: NamespaceFigures = {
    ...galeraFigures(get, expected),
    writeRate: {
      status: rate.value === null ? 'unknown' : 'ok',
      value: rate.value,
      note: rate.value === null ? missing(rate.error, 'commit rate') : 'committed transactions per second',
    },
    webReplicas: answeringFigure(get('webUp'), get('webTargets'), 'web'),
    podwatch: answeringFigure(get('podwatchUp'), get('podwatchTargets'), 'podwatch'),
    ...backupFigures(get, t),
    targets,
    alerts: alertsFigure(alerts, inputs.alerts),
  };
  return {
    namespace: ns,
    status: worstStatus((Object.keys(figures) as FigureKey[]).map((key) => figures[key].status)),
    figures,
    alerts: [...alerts].sort(byUrgency),
    downTargets: down,
  };
}

function sourceState(url: string, outcomes: readonly Outcome<unknown>[]): SourceState {
  const failed = outcomes.find((o): o is { ok: false; error: string } => !o.ok);
  return failed ? { url, ok: false, error: failed.error } : { url, ok: true };
}

/** Pure: the health model from what was fetched. */
export function healthModel(inputs: HealthInputs, thresholds: HealthThresholds = DEFAULT_THRESHOLDS): HealthModel {
  const maps = new Map(HEALTH_QUERY_NAMES.map((name) => [name, byNamespace(inputs.queries[name])] as const));
  const groups = inputs.rules.ok ? inputs.rules.value : [];
  const rows = inputs.alerts.ok ? inputs.alerts.value.map((a) => alertRow(a, groups)) : [];
  // A release namespace: one with webstack series or targets. An alert of another namespace (Prometheus's
  // own, say) is listed under otherAlerts rather than given a section of empty figures.
  const names = new Set<string>();
  for (const m of maps.values()) for (const ns of m.keys()) names.add(ns);
  if (inputs.targets.ok)
    for (const t of inputs.targets.value)
      if (t.labels.namespace !== undefined && jobComponent(t.labels.job ?? '') !== undefined)
        names.add(t.labels.namespace);
  const namespaces = [...names].sort().map((ns) =>
    namespaceHealth(
      ns,
      inputs,
      maps,
      rows.filter((r) => r.namespace === ns),
      thresholds,
    ),
  );
  return {
    generatedAt: new Date(inputs.now).toISOString(),
    status: worstStatus(namespaces.map((n) => n.status)),
    sources: {
      prometheus: sourceState(inputs.prometheusUrl, [
        ...HEALTH_QUERY_NAMES.map((n) => inputs.queries[n]),
        inputs.targets,
        inputs.rules,
      ]),
      alertmanager: sourceState(inputs.alertmanagerUrl, [inputs.alerts]),
    },
    namespaces,
    otherAlerts: rows.filter((r) => r.namespace === null || !names.has(r.namespace)).sort(byUrgency),
    ruleErrors: groups.flatMap((g) =>
      g.rules.filter((r) => r.health === 'err').map((r) => ({ group: g.name, rule: r.name, lastError: r.lastError })),
    ),
  };
}

// ── the edge ─────────────────────────────────────────────────────────────────────────────────────────

export interface CollectOptions extends Partial<HealthThresholds>, QueryOptions {
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** Per request (default DEFAULT_TIMEOUT_MS of prometheus-api.ts). */
  timeoutMs?: number;
  /** The clock, for generatedAt (tests). */
  now?: () => number;
}

async function settle<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Fetches every query, the targets, the rules and the alerts at once, then builds the model. */
export async function collectHealth(opts: CollectOptions): Promise<HealthModel> {
  const { prometheusUrl, alertmanagerUrl } = opts;
  const req = opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {};
  const queries = healthQueries(opts);
  const [answers, targets, rules, alerts] = await Promise.all([
    Promise.all(HEALTH_QUERY_NAMES.map((name) => settle(queryInstant(prometheusUrl, queries[name], req)))),
    settle(activeTargets(prometheusUrl, req)),
    settle(ruleGroups(prometheusUrl, req)),
    settle(alertmanagerAlerts(alertmanagerUrl, req)),
  ]);
  const byName = Object.fromEntries(HEALTH_QUERY_NAMES.map((name, i) => [name, answers[i]])) as Record<
    HealthQueryName,
    Outcome<PromSample[]>
  >;
  const thresholds: HealthThresholds = {
    expectedGaleraMembers: opts.expectedGaleraMembers ?? DEFAULT_THRESHOLDS.expectedGaleraMembers,
    expectedGaleraMembersByNamespace:
      opts.expectedGaleraMembersByNamespace ?? DEFAULT_THRESHOLDS.expectedGaleraMembersByNamespace,
    backupMaxAgeSeconds: opts.backupMaxAgeSeconds ?? DEFAULT_THRESHOLDS.backupMaxAgeSeconds,
    binlogLagWarnSeconds: opts.binlogLagWarnSeconds ?? DEFAULT_THRESHOLDS.binlogLagWarnSeconds,
  };
  return healthModel(
    {
      now: (opts.now ?? Date.now)(),
      prometheusUrl,
      alertmanagerUrl,
      queries: byName,
      targets,
      rules,
      alerts,
    },
    thresholds,
  );
}
