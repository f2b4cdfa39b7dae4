// Alertmanager's configuration on the local cluster (pure): one route to one receiver that fans out to
// every destination users asked for (webhooks and Slack, from the receivers Secret) and to every Service
// that declares itself an alert receiver (podwatch's web view, by the annotation below). Firing and
// resolved notifications both go out.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { namedPort } from './scrape-targets.js';
import { UserError } from '../util/errors.js';

/** A Service with this annotation receives Alertmanager webhooks at http://<svc>.<ns>.svc:<http port><path>. */
export const ALERTS_PATH_ANNOTATION = 'monitoring.kstack.io/alerts-path';
/** The Secret (namespace monitoring) and key users' receivers are read from. */
export const RECEIVERS_SECRET = 'alert-receivers';
export const RECEIVERS_KEY = 'receivers.json';

export interface SlackReceiver {
  /** Slack's incoming-webhook URL (or anything that speaks its format). */
  url: string;
  channel?: string;
}

export interface Receivers {
  webhooks: string[];
  slack: SlackReceiver[];
}

export interface RouteTiming {
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
}

export const DEFAULT_ROUTE_TIMING: RouteTiming = { groupWait: '5s', groupInterval: '10s', repeatInterval: '4h' };

const isHttpUrl = (v: unknown): boolean => {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

/** The receivers document (the Secret's receivers.json), checked field by field (pure; throws naming the field). */
export function parseReceivers(text: string): Receivers {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${RECEIVERS_KEY}: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error(`${RECEIVERS_KEY}: expected an object with "webhooks" and "slack"`);
  const doc = raw as { webhooks?: unknown; slack?: unknown };
  const webhooks = doc.webhooks ?? [];
  const slack = doc.slack ?? [];
  if (!Array.isArray(webhooks)) throw new Error(`${RECEIVERS_KEY}: webhooks must be a list of http(s) URLs`);
  if (!Array.isArray(slack)) throw new Error(`${RECEIVERS_KEY}: slack must be a list of {url, channel}`);
  webhooks.forEach((w, i) => {
    if (!isHttpUrl(w))
      throw new Error(`${RECEIVERS_KEY}: webhooks[${i}] must be an http(s) URL, got ${JSON.stringify(w)}`);
  });
  const slackReceivers = slack.map((s: unknown, i): SlackReceiver => {
    const r = (s ?? {}) as { url?: unknown; channel?: unknown };
    if (!isHttpUrl(r.url)) throw new Error(`${RECEIVERS_KEY}: slack[${i}].url must be an http(s) URL`);
    if (r.channel !== undefined && typeof r.channel !== 'string')
      throw new Error(`${RECEIVERS_KEY}: slack[${i}].channel must be a string`);
    return { url: String(r.url), ...(typeof r.channel === 'string' && r.channel ? { channel: r.channel } : {}) };
  });
  return { webhooks: webhooks as string[], slack: slackReceivers };
}

/**
 * Webhook URLs of the Services that declare themselves alert receivers: one per ready pod behind the
 * Service, not the Service's address, so every replica (podwatch runs two) holds the same alerts (pure, sorted).
 */
export function serviceReceivers(services: readonly V1Service[], pods: readonly V1Pod[]): string[] {
  const urls: string[] = [];
  for (const svc of services) {
    const path = svc.metadata?.annotations?.[ALERTS_PATH_ANNOTATION];
    const port = svc.spec?.ports?.find((p) => p.name === 'http') ?? svc.spec?.ports?.[0];
    const selector = svc.spec?.selector;
    if (!path || !port || !selector || Object.keys(selector).length === 0) continue;
    const slash = path.startsWith('/') ? '' : '/';
    for (const pod of pods) {
      if (pod.metadata?.namespace !== svc.metadata?.namespace || !pod.status?.podIP || !isReady(pod)) continue;
      const labels = pod.metadata?.labels ?? {};
      if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
      const target = targetPortOf(pod, port.targetPort ?? port.port);
      if (target !== undefined) urls.push(`http://${pod.status.podIP}:${target}${slash}${path}`);
    }
  }
  return urls.sort();
}

const isReady = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Running' &&
  (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** A Service port's target on a pod: a number as is, a name through the pod's container ports. */
function targetPortOf(pod: V1Pod, target: number | string): number | undefined {
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  return namedPort(pod, target)?.port;
}

/** alertmanager.yml (pure). With no destination at all, alerts still reach Alertmanager's API and view. */
export function alertmanagerConfig(receivers: Receivers, timing: RouteTiming = DEFAULT_ROUTE_TIMING): object {
  const webhookConfigs = receivers.webhooks.map((url) => ({ url, send_resolved: true, max_alerts: 0 }));
  const slackConfigs = receivers.slack.map((s) => ({
    api_url: s.url,
    ...(s.channel ? { channel: s.channel } : {}),
    send_resolved: true,
    title: '{{ .Status | toUpper }}: {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})',
    text: '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}',
  }));
  return {
    route: {
      receiver: 'kstack',
      group_by: ['alertname', 'namespace'],
      group_wait: timing.groupWait,
      group_interval: timing.groupInterval,
      repeat_interval: timing.repeatInterval,
    },
    receivers: [
      {
        name: 'kstack',
        ...(webhookConfigs.length ? { webhook_configs: webhookConfigs } : {}),
        ...(slackConfigs.length ? { slack_configs: slackConfigs } : {}),
      },
    ],
  };
}

/**
 * Receivers from `kstack up --alert-webhook URL … --alert-slack URL[#channel] …` (pure). A bad URL is
 * refused naming the flag; nothing is applied then.
 */
export function receiversFromFlags(webhooks: readonly string[], slack: readonly string[]): Receivers {
  webhooks.forEach((w) => {
    if (!isHttpUrl(w)) throw new UserError(`--alert-webhook '${w}' is not an http(s) URL`);
  });
  const slackReceivers = slack.map((raw): SlackReceiver => {
    const hash = raw.lastIndexOf('#');
    const url = hash >= 0 ? raw.slice(0, hash) : raw;
    const channel = hash >= 0 ? raw.slice(hash) : '';
    if (!isHttpUrl(url))
      throw new UserError(`--alert-slack '${raw}' is not an http(s) URL (optionally followed by #channel)`);
    return { url, ...(channel.length > 1 ? { channel } : {}) };
  });
  return { webhooks: [...webhooks], slack: slackReceivers };
}
