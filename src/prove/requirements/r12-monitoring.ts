// R12: monitoring sees the stack and the page rings. Every metrics port the release's pods open (mysqld
// exporter and binlog archiver per member, nginx exporter per web replica, podwatch) must be a target
// Prometheus scrapes and finds up, and the release's rules must load. Two drills then show alerts that
// fire and resolve, delivered to a receiver (podwatch's alert view, fed by Alertmanager's webhook):
// a db member deleted and kept away (its node cordoned) fires the cluster-size alert, which resolves once
// it is back; backups stopped (the CronJob suspended) fire the backup-age alert, evaluated by a drill copy
// of the release's own rule whose threshold is the backup's age now plus a few seconds (the release's
// threshold is a day), and resolve when the copy's threshold is put back. Times to fire and resolve are
// judged against the rule's `for`, the scrape and evaluation intervals and Alertmanager's grouping.
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { List } from '../../kube/kube.js';
import { DEFAULT_ROUTE_TIMING } from '../../monitoring/alertmanager-config.js';
import { DEFAULT_MONITORING } from '../../monitoring/manifests.js';
import { activeTargets, alertmanagerAlerts, queryInstant, ruleGroups } from '../../monitoring/prometheus-api.js';
import { componentService, loadBalancerUrl } from '../../stack/endpoints.js';
import { parseDuration } from '../../util/duration.js';
import { isPodReady, podName, podsOf, wsrepStatus } from './stack.js';
import { fail, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

/** Ports that serve /metrics, by the names the chart gives them. */
const METRICS_PORTS: Record<string, string[]> = {
  web: ['metrics'],
  db: ['metrics', 'dr-metrics'],
  podwatch: ['http'],
};

export interface ExpectedTarget {
  pod: string;
  component: string;
  port: string;
  container: string;
}

export interface SeenTarget {
  namespace: string;
  pod: string;
  endpoint: string;
  health: string;
  lastError: string;
}

/** Pure: the metrics ports the release's running pods open, one expected target each. */
export function expectedTargets(pods: readonly V1Pod[]): ExpectedTarget[] {
  const out: ExpectedTarget[] = [];
  for (const pod of pods) {
    if (pod.status?.phase !== 'Running' || !pod.status.podIP) continue;
    const component = pod.metadata?.labels?.['app.kubernetes.io/component'] ?? '';
    const names = METRICS_PORTS[component] ?? [];
    for (const c of pod.spec?.containers ?? [])
      for (const p of c.ports ?? [])
        if (p.name && names.includes(p.name))
          out.push({ pod: podName(pod), component, port: p.name, container: c.name });
  }
  return out.sort((a, b) => `${a.pod}/${a.port}`.localeCompare(`${b.pod}/${b.port}`));
}

const EXPORTER: Record<string, string> = {
  'db/metrics': 'mysqld exporter',
  'db/dr-metrics': 'binlog archiver',
  'web/metrics': 'nginx exporter',
  'podwatch/http': 'podwatch',
};

/** Pure: every expected target scraped and up; problems name the pod, the exporter and what Prometheus says. */
export function judgeTargets(
  namespace: string,
  expected: readonly ExpectedTarget[],
  seen: readonly SeenTarget[],
): string[] {
  const problems: string[] = [];
  for (const x of expected) {
    const what = `${EXPORTER[`${x.component}/${x.port}`] ?? x.port} of ${x.pod} (port ${x.port})`;
    const t = seen.find((s) => s.namespace === namespace && s.pod === x.pod && s.endpoint === x.port);
    if (!t) problems.push(`${what} is not a Prometheus target: nothing scrapes it`);
    else if (t.health !== 'up') problems.push(`${what} is ${t.health}${t.lastError ? `: ${t.lastError}` : ''}`);
  }
  if (expected.length === 0) problems.push('the release runs no pod with a metrics port');
  return problems;
}

/** Pure: the release's rule group loaded and none of its rules in error. */
export function judgeRules(
  group: string,
  groups: readonly { name: string; rules: { name: string; health: string; lastError?: string }[] }[],
): string[] {
  const g = groups.find((x) => x.name === group);
  if (!g) return [`Prometheus has no rule group ${group}: the release's PrometheusRule is not loaded`];
  return g.rules
    .filter((r) => r.health === 'err')
    .map((r) => `rule ${r.name} does not evaluate: ${r.lastError ?? 'error'}`);
}

/**
 * The latest time an alert may take: the condition held for
 * `for`, seen within one scrape and one evaluation, then grouped.
 */
export function fireBudgetSeconds(t: {
  forSeconds: number;
  scrapeSeconds: number;
  evaluationSeconds: number;
  groupWaitSeconds: number;
  slackSeconds: number;
}): number {
  return t.forSeconds + t.scrapeSeconds + t.evaluationSeconds + t.groupWaitSeconds + t.slackSeconds;
}

interface DeliveredAlert {
  labels: Record<string, string>;
}

/** Where delivered alerts are read: podwatch's alert view (a webhook receiver), or Alertmanager's own list. */
interface AlertView {
  what: string;
  firing(): Promise<DeliveredAlert[]>;
}

async function podwatchAlertView(ctx: ProveContext): Promise<AlertView | undefined> {
  const services = (
    await ctx.kube.json<List<V1Service>>(['get', 'services', '-l', `app.kubernetes.io/instance=${ctx.release}`])
  ).items;
  const found = componentService(services, 'podwatch');
  const url = found && loadBalancerUrl(found.service, found.port);
  if (!url) return undefined;
  return {
    what: `podwatch's alert view (${url}api/alerts)`,
    async firing() {
      const res = await fetch(`${url}api/alerts`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`${url}api/alerts answered ${res.status}`);
      const body = (await res.json()) as { alerts?: DeliveredAlert[] } | DeliveredAlert[];
      return Array.isArray(body) ? body : (body.alerts ?? []);
    },
  };
}

const matches = (a: DeliveredAlert, labels: Record<string, string>): boolean =>
  Object.entries(labels).every(([k, v]) => a.labels[k] === v);

/** Polls the view until the alert is there (firing) or gone (resolved); returns when, or undefined at the limit. */
async function waitForAlert(
  view: AlertView,
  labels: Record<string, string>,
  want: 'firing' | 'resolved',
  limitMs: number,
  note: (t: string) => void,
): Promise<number | undefined> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const present = (await view.firing().catch(() => undefined))?.some((a) => matches(a, labels));
    if (present !== undefined && present === (want === 'firing')) return Date.now();
    note(`waiting for ${labels.alertname ?? 'alert'} ${want} in ${view.what}`);
    await sleep(500);
  }
  return undefined;
}

const secondsOf = (v: string | undefined, dflt: string): number =>
  parseDuration(v ?? dflt, 'monitoring interval') / 1000;

interface Timing {
  forSeconds: number;
  scrapeSeconds: number;
  evaluationSeconds: number;
  groupWaitSeconds: number;
  groupIntervalSeconds: number;
  /** Prometheus's resend delay: after a rule changes on reload, its alert may resolve only at the next resend. */
  resendSeconds: number;
}

/** Drill 1: a member deleted and held away (node cordoned) fires the size alert; back, it resolves. */
async function memberDrill(ctx: ProveContext, ev: Evidence, view: AlertView, t: Timing): Promise<string[]> {
  const { kube } = ctx;
  const members = (await podsOf(kube, ctx.release, 'db', ev)).sort((a, b) => podName(b).localeCompare(podName(a)));
  const victim = members[0];
  const node = victim?.spec?.nodeName;
  if (!victim || !node) return ['no db member with a node to delete'];
  const labels = { alertname: 'WebstackGaleraClusterSizeLow', namespace: ctx.namespace };
  const problems: string[] = [];
  // The member's data lives on its node, so while the node is
  // cordoned it stays Pending: away for as long as the drill needs.
  await kube.kubectl(['cordon', node], { ev });
  let firedAt: number | undefined;
  const deletedAt = Date.now();
  try {
    await kube.kubectl(['delete', 'pod', podName(victim), '--wait=false'], { ev });
    const budget = fireBudgetSeconds({ ...t, slackSeconds: 30 });
    firedAt = await waitForAlert(view, labels, 'firing', (budget + 60) * 1000, (t) => {
      ctx.note(t);
    });
    if (firedAt === undefined)
      problems.push(
        `${labels.alertname} never reached ${view.what} within ${budget + 60} s of deleting ${podName(victim)}`,
      );
    else {
      const s = (firedAt - deletedAt) / 1000;
      ev.measure('member_down_fire_seconds', Number(s.toFixed(1)));
      ev.add(
        `${labels.alertname} delivered ${s.toFixed(1)} s after ${podName(victim)} was ` +
          `deleted (budget ${budget} s: for ${t.forSeconds} + scrape ${t.scrapeSeconds} + ` +
          `evaluation ${t.evaluationSeconds} + group_wait ${t.groupWaitSeconds} + 30 shutdown)`,
      );
      if (s > budget) problems.push(`${labels.alertname} took ${s.toFixed(1)} s to fire (objective ${budget} s)`);
    }
  } finally {
    await kube.kubectl(['uncordon', node], { ev, allowFailure: true });
  }
  // Back: Ready and the Galera cluster whole again, then the resolved notification.
  const backDeadline = Date.now() + 5 * 60_000;
  let backAt: number | undefined;
  while (Date.now() < backDeadline) {
    const pod = (await podsOf(kube, ctx.release, 'db')).find((p) => podName(p) === podName(victim));
    if (pod && isPodReady(pod)) {
      const status: Record<string, string> = await wsrepStatus(kube, podName(pod)).catch(() => ({}));
      const size = status.wsrep_cluster_size;
      if (size === String(members.length)) {
        backAt = Date.now();
        break;
      }
    }
    ctx.note(`waiting for ${podName(victim)} to rejoin`);
    await sleep(1000);
  }
  if (backAt === undefined)
    return [...problems, `${podName(victim)} did not rejoin within 5 minutes of its node being uncordoned`];
  ev.add(`${podName(victim)} rejoined, cluster size ${members.length}`);
  if (firedAt === undefined) return problems;
  const resolveBudget = t.scrapeSeconds + t.evaluationSeconds + t.groupIntervalSeconds + 15;
  const resolvedAt = await waitForAlert(view, labels, 'resolved', (resolveBudget + 60) * 1000, (t) => {
    ctx.note(t);
  });
  if (resolvedAt === undefined)
    problems.push(
      `${labels.alertname} was not resolved in ${view.what} within ${resolveBudget + 60} s of the member's return`,
    );
  else {
    const s = (resolvedAt - backAt) / 1000;
    ev.measure('member_down_resolve_seconds', Number(s.toFixed(1)));
    ev.add(`${labels.alertname} resolved ${s.toFixed(1)} s after the member rejoined (budget ${resolveBudget} s)`);
    if (s > resolveBudget)
      problems.push(`${labels.alertname} took ${s.toFixed(1)} s to resolve (objective ${resolveBudget} s)`);
  }
  return problems;
}

interface RuleDoc {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface PrometheusRuleObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { groups?: { name: string; rules?: RuleDoc[] }[] };
}

/**
 * Pure: the release's backup-age rule as a drill copy with another
 * threshold (undefined when the expression does not hold it).
 */
export function backupDrillRule(rule: RuleDoc, releaseThreshold: number, threshold: number): RuleDoc | undefined {
  const expr = rule.expr ?? '';
  const needle = `> ${releaseThreshold}`;
  if (!expr.includes(needle)) return undefined;
  return { ...rule, expr: expr.replace(needle, `> ${threshold}`), labels: { ...rule.labels, drill: 'r12' } };
}

/** Drill 2: backups stop; the age alert (a drill copy with a near threshold) fires, then resolves. */
async function backupDrill(
  ctx: ProveContext,
  ev: Evidence,
  view: AlertView,
  t: Timing,
  prometheusUrl: string,
  maxAge: number,
): Promise<string[]> {
  const { kube } = ctx;
  const rules = await kube.json<List<PrometheusRuleObject>>(
    ['get', 'prometheusrules', '-l', `app.kubernetes.io/instance=${ctx.release}`],
    { ev },
  );
  const original = rules.items
    .flatMap((r) => r.spec.groups ?? [])
    .flatMap((g) => g.rules ?? [])
    .find((r) => r.alert === 'WebstackBackupTooOld');
  if (!original) return ["the release's PrometheusRule has no WebstackBackupTooOld rule"];
  const last =
    (
      await queryInstant(
        prometheusUrl,
        `max(kstack_backup_last_success_timestamp_seconds{namespace="${ctx.namespace}"})`,
      )
    )[0]?.value ?? 0;
  if (!last)
    return [
      'no backup has succeeded yet (kstack_backup_last_success_timestamp_seconds ' +
        'is 0): run one (kstack backup) before the drill',
    ];
  const threshold = Math.ceil(Date.now() / 1000 - last) + 15;
  const drill = backupDrillRule(original, maxAge, threshold);
  if (!drill)
    return [`WebstackBackupTooOld's expression does not compare with its threshold ${maxAge}: ${original.expr ?? ''}`];
  const cronjobs = await kube.json<
    List<{ metadata: { name: string; labels?: Record<string, string> }; spec: { suspend?: boolean } }>
  >(['get', 'cronjobs', '-l', `app.kubernetes.io/instance=${ctx.release}`], { ev });
  const backupJob = cronjobs.items.find((c) => c.metadata.labels?.['app.kubernetes.io/component'] === 'backup');
  if (!backupJob) return ['the release has no backup CronJob'];
  const ruleName = `${ctx.release}-r12-backup-drill`;
  const ruleObject = (expr: string): string =>
    JSON.stringify({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: ruleName,
        namespace: ctx.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'kstack-prove' },
      },
      spec: { groups: [{ name: `r12-drill-${ctx.release}`, rules: [{ ...drill, expr }] }] },
    });
  const labels = { alertname: 'WebstackBackupTooOld', namespace: ctx.namespace, drill: 'r12' };
  const problems: string[] = [];
  const wasSuspended = backupJob.spec.suspend === true;
  await kube.kubectl(['patch', 'cronjob', backupJob.metadata.name, '-p', '{"spec":{"suspend":true}}'], { ev });
  try {
    await kube.kubectl(['apply', '-f', '-'], { input: ruleObject(drill.expr ?? ''), ev });
    ev.add(
      `backups suspended; drill rule ${ruleName}: ${drill.expr ?? ''} ` +
        `(newest backup ${Math.round(Date.now() / 1000 - last)} s old)`,
    );
    const crossing = (last + threshold) * 1000;
    const budget = fireBudgetSeconds({ ...t, slackSeconds: 10 });
    const firedAt = await waitForAlert(view, labels, 'firing', (threshold + budget + 60) * 1000, (t) => {
      ctx.note(t);
    });
    if (firedAt === undefined) return [`WebstackBackupTooOld (drill) never reached ${view.what}`];
    const s = (firedAt - crossing) / 1000;
    ev.measure('backup_age_fire_seconds', Number(s.toFixed(1)));
    ev.add(
      `WebstackBackupTooOld delivered ${s.toFixed(1)} s after the ` +
        `backup's age crossed ${threshold} s (budget ${budget} s)`,
    );
    if (s > budget)
      problems.push(`WebstackBackupTooOld took ${s.toFixed(1)} s to fire after the threshold (objective ${budget} s)`);
    // Back to the release's threshold: the condition clears at the next evaluation.
    const restoredAt = Date.now();
    await kube.kubectl(['apply', '-f', '-'], { input: ruleObject(original.expr ?? ''), ev });
    const resolveBudget = t.evaluationSeconds + t.resendSeconds + t.groupIntervalSeconds + 15;
    const resolvedAt = await waitForAlert(view, labels, 'resolved', (resolveBudget + 60) * 1000, (t) => {
      ctx.note(t);
    });
    if (resolvedAt === undefined) problems.push(`WebstackBackupTooOld (drill) was not resolved in ${view.what}`);
    else {
      const r = (resolvedAt - restoredAt) / 1000;
      ev.measure('backup_age_resolve_seconds', Number(r.toFixed(1)));
      ev.add(
        `WebstackBackupTooOld resolved ${r.toFixed(1)} s after the threshold was restored (budget ${resolveBudget} s)`,
      );
      if (r > resolveBudget)
        problems.push(`WebstackBackupTooOld took ${r.toFixed(1)} s to resolve (objective ${resolveBudget} s)`);
    }
  } finally {
    await kube.kubectl(['delete', 'prometheusrule', ruleName, '--ignore-not-found'], { ev, allowFailure: true });
    await kube.kubectl(
      ['patch', 'cronjob', backupJob.metadata.name, '-p', JSON.stringify({ spec: { suspend: wasSuspended } })],
      { ev, allowFailure: true },
    );
  }
  return problems;
}

/** The targets and rules part of R12, alone (read-only): what its break test turns red. */
export async function checkTargetsAndRules(
  ctx: Pick<ProveContext, 'kube' | 'namespace' | 'release' | 'note'>,
  ev: Evidence,
  prometheusUrl: string,
  waitMs: number,
): Promise<string[]> {
  const pods = (
    await ctx.kube.json<List<V1Pod>>(['get', 'pods', '-l', `app.kubernetes.io/instance=${ctx.release}`], {
      ev,
    })
  ).items;
  const expected = expectedTargets(pods);
  ev.measure('metrics_ports', expected.length);
  // A target just discovered is "unknown" until its first scrape: wait a little for every one to be judged.
  const deadline = Date.now() + waitMs;
  let problems: string[];
  for (;;) {
    const seen: SeenTarget[] = (await activeTargets(prometheusUrl)).map((t) => ({
      namespace: t.labels.namespace ?? '',
      pod: t.labels.pod ?? '',
      endpoint: t.labels.endpoint ?? '',
      health: t.health,
      lastError: t.lastError,
    }));
    problems = judgeTargets(ctx.namespace, expected, seen);
    if (problems.length === 0 || Date.now() > deadline) {
      ev.measure('targets_up', expected.length - problems.length);
      break;
    }
    ctx.note(`waiting for ${problems.length} target(s) to be scraped`);
    await sleep(1000);
  }
  ev.add(
    `${expected.length} metrics ports on the release's ` +
      `pods; ${problems.length ? problems.join('; ') : 'every one scraped and up'}`,
  );
  const ruleProblems = judgeRules(`webstack-${ctx.release}`, await ruleGroups(prometheusUrl));
  ev.add(
    `rule group webstack-${ctx.release}: ${ruleProblems.length ? ruleProblems.join('; ') : 'loaded, no rule in error'}`,
  );
  return [...problems, ...ruleProblems];
}

export const r12Monitoring: Requirement = {
  id: 'R12',
  title: 'Monitoring and alerts',
  checks:
    "Every metrics port of the release's running pods (mysqld exporter and binlog archiver per db " +
    'member, nginx exporter per web replica, podwatch) must be a Prometheus target that is up, and the ' +
    "release's rule group must load with no rule in error. Drills, with alerts read where Alertmanager " +
    "delivers them (podwatch's alert view): the highest db member deleted and kept away by cordoning " +
    'its node must fire WebstackGaleraClusterSizeLow, and resolve it once the member is back; with the ' +
    "backup CronJob suspended, a drill copy of the release's WebstackBackupTooOld rule whose threshold " +
    "is the newest backup's age plus 15 s must fire, and resolve when its threshold is put back. Each " +
    "time to fire is judged against the rule's for + scrape + evaluation interval + group_wait (+30 " +
    "s for the member's shutdown, +10 s for the backup drill), each time to resolve against scrape/evaluation " +
    "+ group_interval + 15 s (the backup drill's also + Prometheus's resend delay: a rule changed " +
    'on reload may resolve only at the next resend). Cordon, CronJob and drill rule are restored.',
  mutates: true,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    if (!ctx.monitoring)
      return fail(
        "no Prometheus and Alertmanager found for this cluster: kstack's monitoring " +
          'is not installed (kstack up does that; kstack up --context with ' +
          '--monitoring too), and none was given with --prometheus URL --alertmanager URL',
      );
    const { prometheusUrl, alertmanagerUrl } = ctx.monitoring;
    ev.add(`Prometheus ${prometheusUrl}, Alertmanager ${alertmanagerUrl}`);
    const m = ctx.intent.monitoring;
    const timing: Timing = {
      forSeconds: m.forSeconds,
      scrapeSeconds: m.intervalSeconds,
      evaluationSeconds: secondsOf(undefined, DEFAULT_MONITORING.evaluationInterval),
      groupWaitSeconds: secondsOf(undefined, DEFAULT_ROUTE_TIMING.groupWait),
      groupIntervalSeconds: secondsOf(undefined, DEFAULT_ROUTE_TIMING.groupInterval),
      resendSeconds: secondsOf(undefined, DEFAULT_MONITORING.resendDelay),
    };
    const problems = await checkTargetsAndRules(ctx, ev, prometheusUrl, (3 * m.intervalSeconds + 10) * 1000);
    if (problems.length) return verdictOf(problems, '');
    const view =
      (await podwatchAlertView(ctx)) ??
      ({
        what: `Alertmanager (${alertmanagerUrl}; podwatch has no address to read delivered alerts from)`,
        firing: async () => (await alertmanagerAlerts(alertmanagerUrl)).map((a) => ({ labels: a.labels })),
      } satisfies AlertView);
    if (ctx.intent.db.galera) problems.push(...(await memberDrill(ctx, ev, view, timing)));
    if (ctx.intent.backup.enabled)
      problems.push(...(await backupDrill(ctx, ev, view, timing, prometheusUrl, m.backupMaxAgeSeconds)));
    else ev.add('backups are off in the values: no backup drill');
    if (!ctx.intent.db.galera && !ctx.intent.backup.enabled)
      return fail('the release has neither Galera nor backups: no alert to drill');
    return verdictOf(
      problems,
      `${ev.measurements.metrics_ports ?? 0} targets up, rules loaded; member-down ` +
        `alert fired in ${ev.measurements.member_down_fire_seconds ?? '?'} s and resolved ` +
        `in ${ev.measurements.member_down_resolve_seconds ?? '?'} s; backup alert ` +
        `fired ${ev.measurements.backup_age_fire_seconds ?? '?'} s after its threshold`,
    );
  },
};
