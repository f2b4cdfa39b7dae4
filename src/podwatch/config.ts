// podwatch configuration from flags, environment and a YAML file (in that order of precedence), validated
// into one typed object. Every error is a UserError naming the field (as the user wrote it) and what is allowed.
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../util/duration.js';
import { UserError } from '../util/errors.js';

/** The duration parser is shared with the kstack command (src/util/duration.ts); re-exported for podwatch's callers. */
export { parseDuration };

export type OutputKind = 'terminal' | 'json' | 'none';

export interface WebhookConfig {
  url: string;
  format: 'json' | 'slack';
  queueSize: number;
  maxAttempts: number;
  timeoutMs: number;
}

export interface AlertmanagerPoll {
  /** Alertmanager's base URL, e.g. http://127.0.0.1:9093/ (a path prefix is kept). */
  url: string;
  intervalMs: number;
  /** Per request: a hung Alertmanager must not stop the next poll for long. */
  timeoutMs: number;
}

/** Alertmanager is polled every 2 s, each request bounded: the terminal shows a firing alert within seconds. */
export const ALERTMANAGER_POLL = { intervalMs: 2000, timeoutMs: 5000 } as const;

export interface PodwatchConfig {
  /** Path to a kubeconfig; undefined = in-cluster service account when inCluster, else the default loading rules. */
  kubeconfig?: string;
  inCluster: boolean;
  /** Empty = all namespaces. */
  namespaces: string[];
  labelSelector?: string;
  fieldSelector?: string;
  output: OutputKind;
  color: 'auto' | 'always' | 'never';
  webhooks: WebhookConfig[];
  /** host:port for /metrics, /healthz, /readyz and the web view; undefined = no HTTP server. */
  listen?: { host: string; port: number };
  /** Also report the pods that exist at start: as `existing` events, which the terminal sums up in one line. */
  emitInitial: boolean;
  /** Poll this Alertmanager's active alerts (the webhook at POST /api/alerts works without it). */
  alertmanager?: AlertmanagerPoll;
  pageSize: number;
  streamingList: boolean;
  watchTimeoutSeconds: number;
  stallTimeoutMs: number;
  backoff: { baseMs: number; maxMs: number };
  leaderElection?: {
    leaseName: string;
    leaseNamespace: string;
    identity: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  shutdownTimeoutMs: number;
}

/** Help text for the flags below (the entrypoint's --help; `kstack watch --help` can show it too). */
export const PODWATCH_HELP = `podwatch — reports pod changes (created / updated / deleted, with what changed) and alerts

  -n, --namespace NS        watch these namespaces (repeat or comma-separate; default: all)
  -l, --selector SEL        label selector;  --field-selector SEL
  -o, --output KIND         terminal (default), json (JSON lines) or none;  --color auto|always|never
      --webhook URL         POST each event as JSON (repeatable);  --slack-webhook URL (Slack-compatible payload)
      --webhook-queue-size N, --webhook-max-attempts N, --webhook-timeout DUR
      --listen HOST:PORT    serve /metrics, /healthz, /readyz, the live web view and POST /api/alerts
                            (Alertmanager's webhook receiver)
      --emit-initial        also report the pods that exist at start, as "existing" (a snapshot: one summary
                            line on the terminal), never as created
      --alertmanager URL    poll this Alertmanager's active alerts every 2s; alerts firing at start are a
                            snapshot (alert-existing), then changes are alert-firing / alert-resolved
      --watch-timeout DUR   rewatch period (default 30s);  --stall-timeout DUR (default 45s)
      --leader-elect        run as one of several replicas (Lease --lease-name, --lease-namespace, --identity,
                            --lease-duration 15s, --renew-deadline 10s, --retry-period 2s)
      --config FILE         YAML file with the same settings (camelCase); flags > PODWATCH_* env > file
      --kubeconfig PATH | --in-cluster
`;

/** The flags podwatch understands, in node:util parseArgs form (for the CLI and the container entrypoint). */
export const PODWATCH_FLAGS = {
  config: { type: 'string' },
  kubeconfig: { type: 'string' },
  'in-cluster': { type: 'boolean' },
  namespace: { type: 'string', short: 'n', multiple: true },
  'all-namespaces': { type: 'boolean', short: 'A' },
  selector: { type: 'string', short: 'l' },
  'field-selector': { type: 'string' },
  output: { type: 'string', short: 'o' },
  color: { type: 'string' },
  webhook: { type: 'string', multiple: true },
  'slack-webhook': { type: 'string', multiple: true },
  'webhook-queue-size': { type: 'string' },
  'webhook-max-attempts': { type: 'string' },
  'webhook-timeout': { type: 'string' },
  listen: { type: 'string' },
  'emit-initial': { type: 'boolean' },
  alertmanager: { type: 'string' },
  'page-size': { type: 'string' },
  'streaming-list': { type: 'string' },
  'watch-timeout': { type: 'string' },
  'stall-timeout': { type: 'string' },
  'leader-elect': { type: 'boolean' },
  'lease-name': { type: 'string' },
  'lease-namespace': { type: 'string' },
  identity: { type: 'string' },
  'lease-duration': { type: 'string' },
  'renew-deadline': { type: 'string' },
  'retry-period': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type PodwatchFlags = Partial<Record<keyof typeof PODWATCH_FLAGS, string | boolean | string[] | undefined>>;

/** One setting looked up in flags, then environment, then the YAML file; `where` names it as the user wrote it. */
interface Found {
  value: unknown;
  where: string;
}

const envName = (flag: string): string => `PODWATCH_${flag.toUpperCase().replace(/-/g, '_')}`;
const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

function parseInteger(value: unknown, where: string, min: number, max: number): number {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UserError(`${where}: '${String(value)}' must be a whole number from ${min} to ${max}`);
  return n;
}

function parseBool(value: unknown, where: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new UserError(`${where}: '${String(value)}' must be true or false`);
}

function parseChoice<T extends string>(value: unknown, where: string, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new UserError(`${where}: '${String(value)}' is not allowed: use one of ${allowed.join(', ')}`);
}

function parseUrl(value: unknown, where: string): string {
  try {
    const u = new URL(String(value));
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.toString();
  } catch {
    /* reported below */
  }
  throw new UserError(`${where}: '${String(value)}' is not an http(s) URL`);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
function parseName(value: unknown, where: string): string {
  if (typeof value === 'string' && DNS_LABEL.test(value)) return value;
  throw new UserError(
    `${where}: '${String(value)}' is not a valid name: use lower-case letters, digits and '-', at most 63 characters`,
  );
}

function parseListen(value: unknown, where: string): { host: string; port: number } {
  const m = typeof value === 'string' ? /^(?:(\[[^\]]+\]|[^:]+):)?(\d+)$/.exec(value) : null;
  if (!m) throw new UserError(`${where}: '${String(value)}' must be host:port or a port, e.g. 127.0.0.1:8080`);
  return { host: (m[1] ?? '0.0.0.0').replace(/^\[|\]$/g, ''), port: parseInteger(m[2], where, 0, 65535) };
}

const YAML_KEYS = new Set([
  'kubeconfig',
  'inCluster',
  'namespaces',
  'labelSelector',
  'fieldSelector',
  'output',
  'color',
  'webhooks',
  'listen',
  'emitInitial',
  'alertmanager',
  'pageSize',
  'streamingList',
  'watchTimeout',
  'stallTimeout',
  'leaderElection',
  'shutdownTimeout',
]);
const WEBHOOK_KEYS = new Set(['url', 'format', 'queueSize', 'maxAttempts', 'timeout']);
const LEADER_KEYS = new Set([
  'enabled',
  'leaseName',
  'leaseNamespace',
  'identity',
  'leaseDuration',
  'renewDeadline',
  'retryPeriod',
]);

function yamlObject(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UserError(`config file: not valid YAML (${(err as Error).message.split('\n')[0] ?? ''})`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UserError('config file: the top level must be a mapping of settings');
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!YAML_KEYS.has(k))
      throw new UserError(`config file: unknown setting '${k}': allowed are ${[...YAML_KEYS].join(', ')}`);
  }
  return o;
}

/**
 * The variables the webstack chart sets (PODWATCH_PORT, PODWATCH_SCOPE, PODWATCH_LEADER_ELECTION), mapped onto
 * podwatch's own names; an explicitly set podwatch name wins.
 */
export function chartEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  if (env.PODWATCH_PORT && !env.PODWATCH_LISTEN) {
    parseInteger(env.PODWATCH_PORT, 'PODWATCH_PORT', 1, 65535);
    out.PODWATCH_LISTEN = `0.0.0.0:${env.PODWATCH_PORT}`;
  }
  if (env.PODWATCH_LEADER_ELECTION && !env.PODWATCH_LEADER_ELECT) {
    parseBool(env.PODWATCH_LEADER_ELECTION, 'PODWATCH_LEADER_ELECTION');
    out.PODWATCH_LEADER_ELECT = env.PODWATCH_LEADER_ELECTION;
  }
  if (env.PODWATCH_SCOPE !== undefined && env.PODWATCH_SCOPE !== '') {
    const scope = parseChoice(env.PODWATCH_SCOPE, 'PODWATCH_SCOPE', ['cluster', 'namespace'] as const);
    if (scope === 'namespace' && !env.PODWATCH_NAMESPACE) {
      if (!env.POD_NAMESPACE)
        throw new UserError('PODWATCH_SCOPE: namespace scope needs PODWATCH_NAMESPACE or POD_NAMESPACE');
      out.PODWATCH_NAMESPACE = env.POD_NAMESPACE;
    }
    if (scope === 'cluster') delete out.PODWATCH_NAMESPACE;
  }
  return out;
}

/**
 * Builds the config from parsed flags (parseArgs values for PODWATCH_FLAGS), the environment (PODWATCH_*
 * variables) and the text of the YAML config file (or undefined). Flags win over environment, environment
 * over the file. Throws a UserError naming the offending field.
 */
export function parsePodwatchConfig(
  flags: PodwatchFlags,
  envIn: NodeJS.ProcessEnv,
  yamlText: string | undefined,
): PodwatchConfig {
  const env = chartEnvironment(envIn);
  const y = yamlObject(yamlText);
  const find = (flag: keyof typeof PODWATCH_FLAGS, yamlKey: string = camel(flag)): Found | undefined => {
    const f = flags[flag];
    if (f !== undefined && !(Array.isArray(f) && f.length === 0)) return { value: f, where: `--${flag}` };
    const e = env[envName(flag)];
    if (e !== undefined && e !== '') return { value: e, where: envName(flag) };
    if (y[yamlKey] !== undefined) return { value: y[yamlKey], where: `${yamlKey} (config file)` };
    return undefined;
  };
  const str = (flag: keyof typeof PODWATCH_FLAGS, yamlKey?: string): string | undefined => {
    const f = find(flag, yamlKey);
    if (!f) return undefined;
    if (typeof f.value !== 'string' || f.value === '') throw new UserError(`${f.where}: must be a non-empty string`);
    return f.value;
  };
  const dur = (flag: keyof typeof PODWATCH_FLAGS, def: number, yamlKey?: string): number => {
    const f = find(flag, yamlKey);
    return f ? parseDuration(f.value, f.where) : def;
  };
  const bool = (flag: keyof typeof PODWATCH_FLAGS, yamlKey?: string): boolean => {
    const f = find(flag, yamlKey);
    return f ? parseBool(f.value, f.where) : false;
  };

  // Namespaces: repeatable flag, comma-separated env, YAML list.
  let namespaces: string[] = [];
  const ns = find('namespace', 'namespaces');
  if (ns) {
    const list = Array.isArray(ns.value) ? ns.value.flatMap((v) => String(v).split(',')) : String(ns.value).split(',');
    namespaces = [...new Set(list.map((s) => s.trim()).filter(Boolean))].map((n) => parseName(n, ns.where));
    if (namespaces.length === 0)
      throw new UserError(`${ns.where}: name at least one namespace, or use --all-namespaces`);
  }
  if (bool('all-namespaces')) {
    if (flags.namespace !== undefined)
      throw new UserError('--all-namespaces and --namespace contradict each other: use one of them');
    namespaces = [];
  }

  const output = parseChoice(find('output')?.value ?? 'terminal', find('output')?.where ?? '--output', [
    'terminal',
    'json',
    'none',
  ] as const);
  const color = parseChoice(find('color')?.value ?? 'auto', find('color')?.where ?? '--color', [
    'auto',
    'always',
    'never',
  ] as const);

  const defaults = {
    queueSize: parseInteger(
      find('webhook-queue-size')?.value ?? 1000,
      find('webhook-queue-size')?.where ?? '--webhook-queue-size',
      1,
      1_000_000,
    ),
    maxAttempts: parseInteger(
      find('webhook-max-attempts')?.value ?? 20,
      find('webhook-max-attempts')?.where ?? '--webhook-max-attempts',
      1,
      1000,
    ),
    timeoutMs: dur('webhook-timeout', 5000),
  };
  const webhooks: WebhookConfig[] = [];
  const addUrls = (flag: 'webhook' | 'slack-webhook', format: 'json' | 'slack'): void => {
    const f = flags[flag] ?? env[envName(flag)];
    if (f === undefined) return;
    const where = flags[flag] !== undefined ? `--${flag}` : envName(flag);
    const urls = Array.isArray(f) ? f : String(f).split(',');
    for (const u of urls.map((s) => s.trim()).filter(Boolean))
      webhooks.push({ url: parseUrl(u, where), format, ...defaults });
  };
  addUrls('webhook', 'json');
  addUrls('slack-webhook', 'slack');
  if (y.webhooks !== undefined) {
    if (!Array.isArray(y.webhooks))
      throw new UserError('webhooks (config file): must be a list of {url, format, queueSize, maxAttempts, timeout}');
    y.webhooks.forEach((w: unknown, i) => {
      const where = `webhooks[${i}]`;
      if (typeof w !== 'object' || w === null)
        throw new UserError(`${where} (config file): must be a mapping with at least url`);
      const o = w as Record<string, unknown>;
      for (const k of Object.keys(o))
        if (!WEBHOOK_KEYS.has(k))
          throw new UserError(
            `${where}.${k} (config file): unknown setting: allowed are ${[...WEBHOOK_KEYS].join(', ')}`,
          );
      webhooks.push({
        url: parseUrl(o.url, `${where}.url (config file)`),
        format:
          o.format === undefined
            ? 'json'
            : parseChoice(o.format, `${where}.format (config file)`, ['json', 'slack'] as const),
        queueSize:
          o.queueSize === undefined
            ? defaults.queueSize
            : parseInteger(o.queueSize, `${where}.queueSize (config file)`, 1, 1_000_000),
        maxAttempts:
          o.maxAttempts === undefined
            ? defaults.maxAttempts
            : parseInteger(o.maxAttempts, `${where}.maxAttempts (config file)`, 1, 1000),
        timeoutMs:
          o.timeout === undefined ? defaults.timeoutMs : parseDuration(o.timeout, `${where}.timeout (config file)`),
      });
    });
  }

  const listenFound = find('listen');
  const pageSizeFound = find('page-size');
  const streamingFound = find('streaming-list');
  const watchTimeoutMs = dur('watch-timeout', 30_000);
  const stallTimeoutMs = dur('stall-timeout', 45_000);
  if (watchTimeoutMs < 1000)
    throw new UserError(`${find('watch-timeout')?.where ?? '--watch-timeout'}: must be at least 1s`);
  if (stallTimeoutMs <= watchTimeoutMs) {
    throw new UserError(
      `${find('stall-timeout')?.where ?? '--stall-timeout'}: must be longer than the ` +
        `watch timeout (${watchTimeoutMs / 1000}s), or every quiet watch looks stalled`,
    );
  }

  const config: PodwatchConfig = {
    inCluster: bool('in-cluster'),
    namespaces,
    output,
    color,
    webhooks,
    emitInitial: bool('emit-initial'),
    pageSize: pageSizeFound ? parseInteger(pageSizeFound.value, pageSizeFound.where, 1, 10_000) : 500,
    streamingList: streamingFound ? parseBool(streamingFound.value, streamingFound.where) : true,
    watchTimeoutSeconds: Math.round(watchTimeoutMs / 1000),
    stallTimeoutMs,
    backoff: { baseMs: 2000, maxMs: 30_000 },
    shutdownTimeoutMs: dur('shutdown-timeout', 10_000),
  };
  const kubeconfig = str('kubeconfig');
  if (kubeconfig) config.kubeconfig = kubeconfig;
  if (config.inCluster && kubeconfig)
    throw new UserError('--in-cluster and --kubeconfig contradict each other: use one of them');
  const labelSelector = str('selector', 'labelSelector');
  if (labelSelector) config.labelSelector = labelSelector;
  const fieldSelector = str('field-selector');
  if (fieldSelector) config.fieldSelector = fieldSelector;
  if (listenFound) config.listen = parseListen(listenFound.value, listenFound.where);
  const alertmanagerFound = find('alertmanager');
  if (alertmanagerFound)
    config.alertmanager = { url: parseUrl(alertmanagerFound.value, alertmanagerFound.where), ...ALERTMANAGER_POLL };

  // Leader election: flags/env, or a leaderElection mapping in the file.
  const le = y.leaderElection;
  if (le !== undefined && (typeof le !== 'object' || le === null || Array.isArray(le)))
    throw new UserError('leaderElection (config file): must be a mapping');
  const leY = (le ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(leY))
    if (!LEADER_KEYS.has(k))
      throw new UserError(
        `leaderElection.${k} (config file): unknown setting: allowed are ${[...LEADER_KEYS].join(', ')}`,
      );
  const leFound = (flag: keyof typeof PODWATCH_FLAGS, key: string): Found | undefined => {
    const f = flags[flag];
    if (f !== undefined) return { value: f, where: `--${flag}` };
    const e = env[envName(flag)];
    if (e !== undefined && e !== '') return { value: e, where: envName(flag) };
    return leY[key] !== undefined ? { value: leY[key], where: `leaderElection.${key} (config file)` } : undefined;
  };
  const enabled = leFound('leader-elect', 'enabled');
  if (enabled && parseBool(enabled.value, enabled.where)) {
    const d = (flag: keyof typeof PODWATCH_FLAGS, key: string, def: number): number => {
      const f = leFound(flag, key);
      return f ? parseDuration(f.value, f.where) : def;
    };
    const nameF = leFound('lease-name', 'leaseName');
    const nsF = leFound('lease-namespace', 'leaseNamespace');
    const idF = leFound('identity', 'identity');
    const leaseDurationMs = d('lease-duration', 'leaseDuration', 15_000);
    const renewDeadlineMs = d('renew-deadline', 'renewDeadline', 10_000);
    const retryPeriodMs = d('retry-period', 'retryPeriod', 2000);
    if (!(retryPeriodMs < renewDeadlineMs && renewDeadlineMs < leaseDurationMs)) {
      throw new UserError('leader election: need retry period < renew deadline < lease duration (e.g. 2s < 10s < 15s)');
    }
    const identity = idF ? String(idF.value) : (env.POD_NAME ?? `${hostname()}-${process.pid}`);
    if (!identity) throw new UserError(`${idF?.where ?? '--identity'}: must not be empty`);
    config.leaderElection = {
      leaseName: nameF ? parseName(nameF.value, nameF.where) : 'podwatch',
      leaseNamespace: nsF ? parseName(nsF.value, nsF.where) : (env.POD_NAMESPACE ?? 'default'),
      identity,
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
    };
  }
  return config;
}
