// Thin typed clients of the Prometheus (2.x, /api/v1) and Alertmanager (0.25, /api/v2) HTTP APIs the health
// view reads. The parsers are pure and take the decoded JSON, so tests feed them recorded answers; the fetch
// edge only builds the URL, bounds the wait and says which URL failed and what to check.

/** One series of an instant query: its labels, its value and the evaluation time (Unix seconds). */
export interface PromSample {
  metric: Record<string, string>;
  /** NaN, +Inf and -Inf are kept as such; callers decide what a non-finite value means. */
  value: number;
  timestamp: number;
}

export type PromTargetHealth = 'up' | 'down' | 'unknown';

export interface PromTarget {
  scrapePool: string;
  scrapeUrl: string;
  health: PromTargetHealth;
  /** Empty when the last scrape succeeded. */
  lastError: string;
  /** The target's labels after relabelling (job, namespace, pod, …). */
  labels: Record<string, string>;
}

export type PromRuleHealth = 'ok' | 'err' | 'unknown';
export type PromAlertState = 'inactive' | 'pending' | 'firing';

/** An alert an alerting rule holds right now (pending or firing), as /api/v1/rules lists it. */
export interface PromRuleAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: PromAlertState;
  /** ISO 8601; absent when Prometheus leaves it out. */
  activeAt?: string;
}

export interface PromRule {
  name: string;
  type: 'alerting' | 'recording';
  /** The rule's expression as Prometheus prints it. */
  query: string;
  health: PromRuleHealth;
  /** Empty when the last evaluation succeeded. */
  lastError: string;
  /** Alerting rules only: the most severe state of its alerts. */
  state?: PromAlertState;
  labels: Record<string, string>;
  /** Alerting rules only (empty for recording rules). */
  alerts: PromRuleAlert[];
}

export interface PromRuleGroup {
  name: string;
  file: string;
  rules: PromRule[];
}

export type AmAlertState = 'active' | 'suppressed' | 'unprocessed';

export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** ISO 8601. */
  startsAt: string;
  fingerprint: string;
  status: { state: AmAlertState; silencedBy: string[]; inhibitedBy: string[] };
}

/** A Prometheus answer with `"status": "error"`: errorType is bad_data, execution, timeout, canceled, … */
export class PromApiError extends Error {
  override readonly name = 'PromApiError';
  constructor(
    readonly errorType: string,
    readonly detail: string,
    message = `Prometheus answered ${errorType}: ${detail}`,
  ) {
    super(message);
  }
}

/** How long one request may take: the page polls every 2 s, so a hung Prometheus must not pile requests up. */
export const DEFAULT_TIMEOUT_MS = 5000;

export interface RequestOptions {
  timeoutMs?: number;
}

// ── pure parsing ─────────────────────────────────────────────────────────────────────────────────────

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function field(o: Obj, key: string, where: string): unknown {
  if (!(key in o)) throw new Error(`${where}: "${key}" is missing`);
  return o[key];
}

function str(o: Obj, key: string, where: string): string {
  const v = field(o, key, where);
  if (typeof v !== 'string') throw new Error(`${where}: "${key}" is not a string (${JSON.stringify(v)})`);
  return v;
}

/** An optional string field: absent or null gives the fallback (Prometheus omits empty ones). */
function optStr(o: Obj, key: string, where: string, fallback = ''): string {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new Error(`${where}: "${key}" is not a string (${JSON.stringify(v)})`);
  return v;
}

function arr(o: Obj, key: string, where: string): unknown[] {
  const v = field(o, key, where);
  if (!Array.isArray(v)) throw new Error(`${where}: "${key}" is not a list`);
  return v;
}

/** A label set: an object of strings (absent or null: none). */
function labelSet(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new Error(`${where} is not an object of labels`);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw new Error(`${where}.${k} is not a string`);
    out[k] = value;
  }
  return out;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], where: string): T {
  const found = allowed.find((a) => a === v);
  if (found === undefined) throw new Error(`${where} is ${JSON.stringify(v)}, expected one of ${allowed.join(', ')}`);
  return found;
}

/**
 * A sample value as Prometheus writes it: a decimal string, or NaN, +Inf, -Inf (Go's formatting, which
 * Number() does not read for the infinities).
 */
export function parseSampleValue(text: unknown): number {
  if (typeof text !== 'string') throw new Error(`sample value ${JSON.stringify(text)} is not a string`);
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  const n = Number(text);
  if (text.trim() === '' || Number.isNaN(n)) throw new Error(`sample value ${JSON.stringify(text)} is not a number`);
  return n;
}

/** `[<unix seconds>, "<value>"]`, the pair every instant sample and scalar is written as. */
function samplePair(v: unknown, where: string): { timestamp: number; value: number } {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'number')
    throw new Error(`${where} is not a [timestamp, "value"] pair`);
  return { timestamp: v[0], value: parseSampleValue(v[1]) };
}

/**
 * The `data` of a Prometheus answer, or a PromApiError for `"status": "error"` (which Prometheus sends with
 * HTTP 400, 422 or 503 and which still carries errorType and error).
 */
export function unwrapPromEnvelope(body: unknown): unknown {
  if (!isObject(body)) throw new Error('answer is not a JSON object');
  if (body.status === 'error') {
    const errorType = typeof body.errorType === 'string' ? body.errorType : 'unknown';
    const detail = typeof body.error === 'string' ? body.error : '(no message)';
    throw new PromApiError(errorType, detail);
  }
  if (body.status !== 'success') throw new Error(`answer has status ${JSON.stringify(body.status)}`);
  return field(body, 'data', 'answer');
}

/**
 * The result of GET /api/v1/query: a vector gives one sample per series, a scalar one sample without labels.
 * Range vectors and strings are refused: the health view asks only for numbers at one instant.
 */
export function parseQueryResponse(body: unknown): PromSample[] {
  const data = unwrapPromEnvelope(body);
  if (!isObject(data)) throw new Error('query answer: "data" is not an object');
  const resultType = str(data, 'resultType', 'query answer');
  const result = field(data, 'result', 'query answer');
  switch (resultType) {
    case 'vector': {
      if (!Array.isArray(result)) throw new Error('query answer: vector "result" is not a list');
      return result.map((s, i) => {
        const where = `query answer: result[${i}]`;
        if (!isObject(s)) throw new Error(`${where} is not an object`);
        // Native histograms (a "histogram" field instead of "value") are not numbers we can show.
        if (!('value' in s)) throw new Error(`${where} has no "value" (a native histogram?)`);
        return { metric: labelSet(s.metric, `${where}.metric`), ...samplePair(s.value, `${where}.value`) };
      });
    }
    case 'scalar':
      return [{ metric: {}, ...samplePair(result, 'query answer: scalar result') }];
    case 'matrix':
      throw new Error('query answer is a range vector (matrix): ask for an instant vector');
    case 'string':
      throw new Error('query answer is a string, not a number');
    default:
      throw new Error(`query answer has resultType ${JSON.stringify(resultType)}`);
  }
}

/** The active targets of GET /api/v1/targets?state=active (dropped targets are ignored). */
export function parseTargetsResponse(body: unknown): PromTarget[] {
  const data = unwrapPromEnvelope(body);
  if (!isObject(data)) throw new Error('targets answer: "data" is not an object');
  return arr(data, 'activeTargets', 'targets answer').map((t, i) => {
    const where = `targets answer: activeTargets[${i}]`;
    if (!isObject(t)) throw new Error(`${where} is not an object`);
    return {
      scrapePool: str(t, 'scrapePool', where),
      scrapeUrl: str(t, 'scrapeUrl', where),
      health: oneOf(t.health, ['up', 'down', 'unknown'] as const, `${where}.health`),
      lastError: optStr(t, 'lastError', where),
      labels: labelSet(t.labels, `${where}.labels`),
    };
  });
}

function parseRuleAlert(a: unknown, where: string): PromRuleAlert {
  if (!isObject(a)) throw new Error(`${where} is not an object`);
  const activeAt = optStr(a, 'activeAt', where);
  return {
    labels: labelSet(a.labels, `${where}.labels`),
    annotations: labelSet(a.annotations, `${where}.annotations`),
    state: oneOf(a.state, ['inactive', 'pending', 'firing'] as const, `${where}.state`),
    ...(activeAt ? { activeAt } : {}),
  };
}

function parseRule(r: unknown, where: string): PromRule {
  if (!isObject(r)) throw new Error(`${where} is not an object`);
  const type = oneOf(r.type, ['alerting', 'recording'] as const, `${where}.type`);
  const rule: PromRule = {
    name: str(r, 'name', where),
    type,
    query: str(r, 'query', where),
    health: oneOf(r.health, ['ok', 'err', 'unknown'] as const, `${where}.health`),
    lastError: optStr(r, 'lastError', where),
    labels: labelSet(r.labels, `${where}.labels`),
    alerts: [],
  };
  if (type === 'alerting') {
    rule.state = oneOf(r.state, ['inactive', 'pending', 'firing'] as const, `${where}.state`);
    // Prometheus writes "alerts": [] for a quiet rule, but an empty list may also be left out.
    const alerts = r.alerts ?? [];
    if (!Array.isArray(alerts)) throw new Error(`${where}.alerts is not a list`);
    rule.alerts = alerts.map((a, i) => parseRuleAlert(a, `${where}.alerts[${i}]`));
  }
  return rule;
}

/** The rule groups of GET /api/v1/rules, alerting and recording rules alike. */
export function parseRulesResponse(body: unknown): PromRuleGroup[] {
  const data = unwrapPromEnvelope(body);
  if (!isObject(data)) throw new Error('rules answer: "data" is not an object');
  return arr(data, 'groups', 'rules answer').map((g, i) => {
    const where = `rules answer: groups[${i}]`;
    if (!isObject(g)) throw new Error(`${where} is not an object`);
    return {
      name: str(g, 'name', where),
      file: optStr(g, 'file', where),
      rules: arr(g, 'rules', where).map((r, j) => parseRule(r, `${where}.rules[${j}]`)),
    };
  });
}

/** The list of GET /api/v2/alerts (Alertmanager's v2 API answers a bare JSON list, no envelope). */
export function parseAlertmanagerAlerts(body: unknown): AmAlert[] {
  if (!Array.isArray(body)) throw new Error('alerts answer is not a list');
  return body.map((a, i) => {
    const where = `alerts answer: [${i}]`;
    if (!isObject(a)) throw new Error(`${where} is not an object`);
    const status = field(a, 'status', where);
    if (!isObject(status)) throw new Error(`${where}.status is not an object`);
    const names = (v: unknown, key: string): string[] => {
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
        throw new Error(`${where}.status.${key} is not a list of strings`);
      return v as string[];
    };
    return {
      labels: labelSet(a.labels, `${where}.labels`),
      annotations: labelSet(a.annotations, `${where}.annotations`),
      startsAt: str(a, 'startsAt', where),
      fingerprint: str(a, 'fingerprint', where),
      status: {
        state: oneOf(status.state, ['active', 'suppressed', 'unprocessed'] as const, `${where}.status.state`),
        silencedBy: names(status.silencedBy, 'silencedBy'),
        inhibitedBy: names(status.inhibitedBy, 'inhibitedBy'),
      },
    };
  });
}

/**
 * `path` under `baseUrl`, keeping any path prefix the server runs under (--web.route-prefix, a proxy):
 * `http://h:9090/prom` + `api/v1/query` is `http://h:9090/prom/api/v1/query`.
 */
export function apiUrl(baseUrl: string, path: string, params: Readonly<Record<string, string>> = {}): URL {
  let base: URL;
  try {
    base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new Error(`${JSON.stringify(baseUrl)} is not a URL: give one like http://127.0.0.1:9090`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new Error(`${baseUrl} is not an http(s) URL: give one like http://127.0.0.1:9090`);
  const url = new URL(path.replace(/^\/+/, ''), base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}

// ── the fetch edge ───────────────────────────────────────────────────────────────────────────────────

type Server = 'Prometheus' | 'Alertmanager';

/** What to check when a server cannot be reached, by server. */
const CHECK: Record<Server, string> = {
  Prometheus: 'check the URL (host, port 9090, route prefix) and that Prometheus is running and ready (/-/ready)',
  Alertmanager: 'check the URL (host, port 9093, route prefix) and that Alertmanager is running and ready (/-/ready)',
};

/**
 * GET `url` and decode its JSON. A non-2xx answer that is JSON is returned too (Prometheus explains its
 * errors in the body); one that is not JSON, a timeout or a refused connection throws, naming the URL.
 */
async function getJson(server: Server, url: URL, opts: RequestOptions): Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    // The timeout covers the body too: a server that stalls mid-answer fails here, named like a silent one.
    text = await res.text();
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const why = timedOut ? `no answer within ${timeoutMs} ms` : causeOf(err);
    throw new Error(`GET ${url.href} failed (${why}): ${CHECK[server]}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const status = `HTTP ${res.status}${res.ok ? '' : ` ${res.statusText}`}`;
    throw new Error(
      `GET ${url.href} answered ${status} that is not JSON (${JSON.stringify(text.slice(0, 80))}): ` +
        `is this ${server}'s address? ${CHECK[server]}`,
    );
  }
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, ENOTFOUND) in its cause. */
function causeOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause: unknown = err.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${err.message}: ${code}` : `${err.message}: ${cause.message}`;
  }
  return err.message;
}

/** Runs a parser on an answer; its error names the URL it came from. */
function parsed<T>(url: URL, body: unknown, parse: (body: unknown) => T): T {
  try {
    return parse(body);
  } catch (err) {
    if (err instanceof PromApiError)
      throw new PromApiError(err.errorType, err.detail, `GET ${url.href}: ${err.message}`);
    throw new Error(`GET ${url.href}: ${(err as Error).message}`, { cause: err });
  }
}

/** GET /api/v1/query: one instant query, evaluated at the server's current time. */
export async function queryInstant(baseUrl: string, promql: string, opts: RequestOptions = {}): Promise<PromSample[]> {
  const url = apiUrl(baseUrl, 'api/v1/query', { query: promql });
  return parsed(url, await getJson('Prometheus', url, opts), parseQueryResponse);
}

/** GET /api/v1/targets?state=active. */
export async function activeTargets(baseUrl: string, opts: RequestOptions = {}): Promise<PromTarget[]> {
  const url = apiUrl(baseUrl, 'api/v1/targets', { state: 'active' });
  return parsed(url, await getJson('Prometheus', url, opts), parseTargetsResponse);
}

/** GET /api/v1/rules. */
export async function ruleGroups(baseUrl: string, opts: RequestOptions = {}): Promise<PromRuleGroup[]> {
  const url = apiUrl(baseUrl, 'api/v1/rules');
  return parsed(url, await getJson('Prometheus', url, opts), parseRulesResponse);
}

/** GET /api/v2/alerts?active=true: the alerts Alertmanager holds (silenced and inhibited ones included). */
export async function alertmanagerAlerts(baseUrl: string, opts: RequestOptions = {}): Promise<AmAlert[]> {
  const url = apiUrl(baseUrl, 'api/v2/alerts', { active: 'true' });
  const body = await getJson('Alertmanager', url, opts);
  // Alertmanager's v2 errors are a bare JSON string or {code, message}, never a list.
  if (!Array.isArray(body)) {
    const said =
      typeof body === 'string' ? body : isObject(body) && typeof body.message === 'string' ? body.message : '';
    if (said) throw new Error(`GET ${url.href}: Alertmanager answered: ${said}`);
  }
  return parsed(url, body, parseAlertmanagerAlerts);
}
