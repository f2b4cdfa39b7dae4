// The settings of the chart's `helm test` pods (charts/webstack/templates/tests/), read from the
// environment the templates set. Pure: a missing or bad variable is an error that names it.

/** Settings every test has: its total bound and the bound of one connection attempt. */
export interface CommonSettings {
  /** The whole test must end within this (retries included). */
  timeoutMs: number;
  /** One connection (HTTP, SQL, TCP probe) gives up after this. */
  connectTimeoutMs: number;
}

export interface PageSettings extends CommonSettings {
  /** The web Service, e.g. http://ws-webstack-web.shop.svc.cluster.local:80 (no trailing slash). */
  webUrl: string;
  /** web.page.servingHostFormat: {suffix} and {podName} are replaced. */
  servingHostFormat: string;
  /** web.page.suffixLength. */
  suffixLength: number;
  /** Good answers wanted for the page and for /api/info each. */
  requests: number;
  /** webinfo.enabled: /api/info is checked only when the companion runs. */
  webinfo: boolean;
  /** db.enabled (and webinfo's data source left to the chart): /api/info must report data read from the db. */
  expectData: boolean;
}

export interface DbSettings extends CommonSettings {
  /** The members' stable DNS names (<pod>.<headless>.<namespace>.svc.<domain>), in ordinal order. */
  members: string[];
  port: number;
  /** "galera" or "standalone" (db.mode). */
  mode: 'galera' | 'standalone';
  user: string;
  password: string;
  /** The db's CA (PEM): set, every connection uses TLS and verifies the member's certificate and name. */
  tlsCa: string | undefined;
}

export interface ClosedSettings extends CommonSettings {
  members: string[];
  /** Ports that must be closed to this pod on every member (SQL and Galera). */
  ports: number[];
  /** host:port this pod may reach (the positive control), or null when none is allowed. */
  control: { host: string; port: number } | null;
}

type Env = Readonly<Record<string, string | undefined>>;

function need(env: Env, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new Error(`${name} is not set; the chart's test pod template sets it`);
  return v;
}

function integer(env: Env, name: string, min: number, max: number, fallback?: number): number {
  const raw = env[name]?.trim();
  if (!raw) {
    if (fallback !== undefined) return fallback;
    throw new Error(`${name} is not set; the chart's test pod template sets it`);
  }
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name}='${raw}' must be a whole number from ${min} to ${max}`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error(`${name}='${raw}' must be true or false`);
}

function list(env: Env, name: string): string[] {
  const items = need(env, name)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new Error(`${name} names nothing`);
  return items;
}

export function commonSettings(env: Env): CommonSettings {
  return {
    timeoutMs: integer(env, 'CHARTTEST_TIMEOUT_SECONDS', 1, 3600, 60) * 1000,
    connectTimeoutMs: integer(env, 'CHARTTEST_CONNECT_TIMEOUT_SECONDS', 1, 300, 3) * 1000,
  };
}

export function pageSettings(env: Env): PageSettings {
  const webUrl = need(env, 'CHARTTEST_WEB_URL').replace(/\/+$/, '');
  if (!/^http:\/\/[^/]+$/.test(webUrl))
    throw new Error(`CHARTTEST_WEB_URL='${webUrl}' must be http://host:port (the web Service)`);
  return {
    ...commonSettings(env),
    webUrl,
    servingHostFormat: need(env, 'CHARTTEST_SERVING_HOST_FORMAT'),
    suffixLength: integer(env, 'CHARTTEST_SUFFIX_LENGTH', 1, 63, 5),
    requests: integer(env, 'CHARTTEST_REQUESTS', 1, 100, 6),
    webinfo: bool(env, 'CHARTTEST_WEBINFO', true),
    expectData: bool(env, 'CHARTTEST_EXPECT_DATA', false),
  };
}

export function dbSettings(env: Env): DbSettings {
  const mode = need(env, 'CHARTTEST_DB_MODE');
  if (mode !== 'galera' && mode !== 'standalone')
    throw new Error(`CHARTTEST_DB_MODE='${mode}' must be galera or standalone`);
  return {
    ...commonSettings(env),
    members: list(env, 'CHARTTEST_DB_MEMBERS'),
    port: integer(env, 'CHARTTEST_DB_PORT', 1, 65535, 3306),
    mode,
    user: need(env, 'CHARTTEST_DB_USER'),
    // Not trimmed: a password is taken as the Secret holds it.
    password: env.CHARTTEST_DB_PASSWORD ?? need(env, 'CHARTTEST_DB_PASSWORD'),
    tlsCa: env.CHARTTEST_DB_TLS_CA?.includes('BEGIN CERTIFICATE') ? env.CHARTTEST_DB_TLS_CA : undefined,
  };
}

/** "host:port" → its parts; the port must be a port number. */
export function parseHostPort(text: string, name: string): { host: string; port: number } {
  const m = /^([^:\s]+):([0-9]{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m?.[1] || port < 1 || port > 65535) throw new Error(`${name}='${text}' must be host:port`);
  return { host: m[1], port };
}

export function closedSettings(env: Env): ClosedSettings {
  const ports = list(env, 'CHARTTEST_CLOSED_PORTS').map((p) => {
    const n = Number(p);
    if (!/^[0-9]+$/.test(p) || n < 1 || n > 65535)
      throw new Error(`CHARTTEST_CLOSED_PORTS: '${p}' is not a port number`);
    return n;
  });
  const control = env.CHARTTEST_CONTROL?.trim();
  return {
    ...commonSettings(env),
    members: list(env, 'CHARTTEST_DB_MEMBERS'),
    ports,
    control: control ? parseHostPort(control, 'CHARTTEST_CONTROL') : null,
  };
}
