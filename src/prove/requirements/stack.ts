// What several rows need to know about the webstack release: its pods by component, SQL on a db member,
// HTTP from inside a pod. Each call records its command in the row's evidence.
import type { V1Pod } from '@kubernetes/client-node';
import { rootClientLine } from '../../chart/db-member.js';
import { componentSelector, type Kube, type List } from '../../kube/kube.js';
import type { Evidence } from './types.js';

export async function podsOf(kube: Kube, release: string, component: string, ev?: Evidence): Promise<V1Pod[]> {
  const pods = (
    await kube.json<List<V1Pod>>(['get', 'pods', '-l', componentSelector(release, component)], ev ? { ev } : {})
  ).items;
  return pods.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

export const podName = (p: V1Pod): string => p.metadata?.name ?? '?';

export const isPodReady = (p: V1Pod): boolean =>
  p.metadata?.deletionTimestamp === undefined &&
  (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The db container's name in the webstack chart. */
export const DB_CONTAINER = 'mariadb';

/** The db's ports, by the mariadb container's port names (the chart's db.ports). */
export const DB_PORT_NAMES = ['mysql', 'galera', 'ist', 'sst'] as const;

/** Pure: the named db ports of a db pod's mariadb container. */
export function dbPortsOf(pod: V1Pod): Record<string, number> {
  const c = pod.spec?.containers.find((x) => x.name === DB_CONTAINER);
  const out: Record<string, number> = {};
  for (const p of c?.ports ?? [])
    if (p.name && (DB_PORT_NAMES as readonly string[]).includes(p.name)) out[p.name] = p.containerPort;
  return out;
}

/** Runs SQL as root over the member's socket; rows as tab-separated lines. Throws with mariadb's error. */
export async function dbSql(kube: Kube, pod: string, sql: string, ev?: Evidence): Promise<string[][]> {
  const res = await kube.exec(
    pod,
    DB_CONTAINER,
    ['sh', '-c', rootClientLine('mariadb', '-N -B -e "$1"'), 'sql', sql],
    ev ? { ev } : {},
  );
  if (res.code !== 0)
    throw new Error(
      `SQL on ${pod} failed (${res.code}): ${(res.stderr || res.stdout).trim().split('\n').slice(-2).join(' ')}`,
    );
  return res.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** wsrep status variables of one member, by name. */
export async function wsrepStatus(kube: Kube, pod: string, ev?: Evidence): Promise<Record<string, string>> {
  const rows = await dbSql(
    kube,
    pod,
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_local_state_comment'," +
      "'wsrep_cluster_status','wsrep_incoming_addresses','wsrep_ready','wsrep_connected')",
    ev,
  );
  return Object.fromEntries(rows.map(([k = '', v = '']) => [k, v]));
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses a raw HTTP/1.x response (as read from a socket). */
export function parseHttp(raw: string): HttpAnswer | undefined {
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(m[1]), headers, body: split >= 0 ? raw.slice(split + 4) : '' };
}

/** GET `path` from 127.0.0.1:`port` inside a container, with bash's /dev/tcp (no curl needed). */
export async function httpInPod(
  kube: Kube,
  pod: string,
  container: string,
  port: number,
  path: string,
  ev?: Evidence,
): Promise<HttpAnswer | undefined> {
  const script =
    `exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET ${path} ` +
    `HTTP/1.0\\r\\nHost: web\\r\\n\\r\\n' >&3 && timeout 10 cat <&3`;
  const res = await kube.exec(pod, container, ['bash', '-c', script], ev ? { ev } : {});
  return parseHttp(res.stdout);
}
