// The `page` test's judgement (pure): what one answer of the web Service shows, whether it is right, and
// the verdict over all answers. The page is rendered by the init container (files/web/render-page.sh)
// into the template's data-field elements; /api/info is webinfo's JSON (src/webinfo/info.ts).
import { isIP } from 'node:net';

/** Who answered, as the page or /api/info said it. */
export interface Served {
  podName: string;
  podIP: string;
  servingHost: string;
}

/**
 * One answer, judged. `retry`: worth asking again (no answer, not 200, data not read yet); `bad`: a 200
 * whose content is wrong, which asking again would not fix.
 */
export type Judged = { kind: 'good'; served: Served; note?: string } | { kind: 'retry' | 'bad'; reason: string };

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The text of the first element with data-field="name" (HTML entities decoded), or null. */
export function dataField(html: string, name: string): string | null {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`data-field="${escaped}"[^>]*>([^<]*)<`).exec(html);
  if (!m) return null;
  return (m[1] ?? '').replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] ?? e).trim();
}

/** What render-page.sh writes as serving-host for a pod name: the format with {suffix} and {podName} filled. */
export function expectedServingHost(format: string, suffixLength: number, podName: string): string {
  const suffix = podName.length > suffixLength ? podName.slice(-suffixLength) : podName;
  return format.replaceAll('{suffix}', suffix).replaceAll('{podName}', podName);
}

/** A pattern for the serving-host of any pod: the format's literal text, {suffix} as that many name characters. */
export function servingHostPattern(format: string, suffixLength: number): RegExp {
  const parts = format.split(/(\{suffix\}|\{podName\})/);
  const body = parts
    .map((p) =>
      p === '{suffix}'
        ? `[a-z0-9.-]{1,${suffixLength}}`
        : p === '{podName}'
          ? '[a-z0-9.-]+'
          : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${body}$`);
}

interface Form {
  format: string;
  suffixLength: number;
}

function checkServed(s: Served, form: Form, where: string): string | null {
  if (!servingHostPattern(form.format, form.suffixLength).test(s.servingHost))
    return `${where}: serving-host '${s.servingHost}' is not of the form '${form.format}'`;
  const expected = expectedServingHost(form.format, form.suffixLength, s.podName);
  if (s.servingHost !== expected)
    return `${where}: serving-host '${s.servingHost}' does not belong to pod ${s.podName} (expected '${expected}')`;
  if (isIP(s.podIP) === 0) return `${where}: pod IP '${s.podIP}' is not an IP address`;
  return null;
}

/** The page (GET /): 200, and its serving-host, pod name and pod IP fields agree. */
export function judgePage(status: number | null, body: string, form: Form): Judged {
  if (status === null) return { kind: 'retry', reason: `page: no answer (${body})` };
  if (status !== 200) return { kind: 'retry', reason: `page: HTTP ${status}` };
  const servingHost = dataField(body, 'serving-host');
  const podIP = dataField(body, 'pod-ip');
  const podName = dataField(body, 'pod-name');
  if (servingHost === null || podIP === null || podName === null)
    return {
      kind: 'bad',
      reason:
        'page: no data-field="serving-host", "pod-ip" or "pod-name" ' +
        'element (a web.page.template must keep them for this test)',
    };
  const served = { podName, podIP, servingHost };
  const problem = checkServed(served, form, 'page');
  return problem ? { kind: 'bad', reason: problem } : { kind: 'good', served };
}

/** /api/info: 200 JSON naming the pod, its IP and serving-host; with expectData, the db was read just now. */
export function judgeInfo(status: number | null, body: string, form: Form, expectData: boolean): Judged {
  if (status === null) return { kind: 'retry', reason: `/api/info: no answer (${body})` };
  if (status !== 200) return { kind: 'retry', reason: `/api/info: HTTP ${status} ${body.slice(0, 160)}` };
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { kind: 'bad', reason: `/api/info: not JSON: ${body.slice(0, 120)}` };
  }
  const d = doc as {
    pod?: { name?: unknown; ip?: unknown };
    servingHost?: unknown;
    data?: { ok?: unknown; configured?: unknown; message?: unknown; source?: unknown };
  };
  const name = d.pod?.name;
  const ip = d.pod?.ip;
  if (typeof name !== 'string' || typeof ip !== 'string' || typeof d.servingHost !== 'string')
    return { kind: 'bad', reason: '/api/info: pod.name, pod.ip or servingHost missing' };
  const served = { podName: name, podIP: ip, servingHost: d.servingHost };
  const problem = checkServed(served, form, '/api/info');
  if (problem) return { kind: 'bad', reason: problem };
  const message = typeof d.data?.message === 'string' ? d.data.message : '';
  if (expectData) {
    if (d.data?.configured !== true)
      return { kind: 'bad', reason: `/api/info: no data source configured (${message || 'no message'})` };
    if (d.data.ok !== true) return { kind: 'retry', reason: `/api/info: data not read: ${message || 'no message'}` };
  }
  return message ? { kind: 'good', served, note: message } : { kind: 'good', served };
}

export interface PageVerdict {
  ok: boolean;
  /** Distinct pods that answered well, by name. */
  replicas: string[];
  summary: string;
}

/**
 * Over every answer: ok when `wanted` good answers came for each path asked, none was bad, and no pod
 * named two different IPs.
 */
export function pageVerdict(
  page: readonly Judged[],
  info: readonly Judged[] | null,
  wanted: number,
  timedOut: boolean,
): PageVerdict {
  const good = (js: readonly Judged[]): Served[] => js.flatMap((j) => (j.kind === 'good' ? [j.served] : []));
  const all = [...good(page), ...good(info ?? [])];
  const replicas = [...new Set(all.map((s) => s.podName))].sort();
  const byPod = new Map<string, Served>();
  for (const s of all) {
    const seen = byPod.get(s.podName);
    if (seen !== undefined && seen.podIP !== s.podIP)
      return { ok: false, replicas, summary: `pod ${s.podName} showed two IPs: ${seen.podIP} and ${s.podIP}` };
    byPod.set(s.podName, s);
  }
  const bad = [...page, ...(info ?? [])].find((j) => j.kind === 'bad');
  if (bad && bad.kind === 'bad') return { ok: false, replicas, summary: bad.reason };
  const short = (name: string, js: readonly Judged[]): string | null => {
    const n = good(js).length;
    if (n >= wanted) return null;
    const last = [...js].reverse().find((j) => j.kind === 'retry');
    const why = last && last.kind === 'retry' ? `; last: ${last.reason}` : '';
    return `${name}: ${n} of ${wanted} good answers${timedOut ? ' before the time ran out' : ''}${why}`;
  };
  const missing = [short('page', page), info ? short('/api/info', info) : null].filter((s) => s !== null);
  if (missing.length > 0) return { ok: false, replicas, summary: missing.join('; ') };
  return {
    ok: true,
    replicas,
    summary:
      `${replicas.length} replica(s) answered: ` +
      replicas
        .map((n) => {
          const s = byPod.get(n);
          return s ? `${s.servingHost} = ${n} (${s.podIP})` : n;
        })
        .join(', ') +
      ` over ${good(page).length} page and ${info ? good(info).length : 0} /api/info answers`,
  };
}
