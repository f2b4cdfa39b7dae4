// R4: every web replica serves a page with its own pod IP and serving-host "Host-" + the last 5
// characters of its pod name, fetched from each pod and through the Service (once the web Deployment is
// settled) until every replica has answered, with live data from
// the database; plus one screenshot from headless Chromium.
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { clientPod, NO_CLIENT, sampleInCluster, serviceUrl } from './in-cluster.js';
import { httpInPod, isPodReady, podName, podsOf, type HttpAnswer } from './stack.js';
import { screenshotPage } from './screenshot.js';
import { fail, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export const expectedServingHost = (pod: string): string => `Host-${pod.slice(-5)}`;

/**
 * The page's fields by their data-field name (the chart's index.html marks each value), as text. Pure:
 * matching a whole field, not a substring of the page, so 10.0.0.1 is not found in 10.0.0.12.
 */
export function pageFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<([a-z0-9]+)\b[^>]*\bdata-field="([a-z-]+)"[^>]*>([^<]*)<\/\1>/g)) {
    const [, , name = '', value = ''] = m;
    fields[name] ??= value.trim();
  }
  return fields;
}

/** Problems with one replica's own page (fetched inside that pod): its IP and serving-host, exactly. */
export function judgeOwnPage(pod: string, podIp: string, answer: HttpAnswer | undefined): string[] {
  if (!answer) return [`${pod}: no HTTP answer from nginx on the pod`];
  if (answer.status !== 200) return [`${pod}: GET / answered ${answer.status}`];
  const problems: string[] = [];
  const f = pageFields(answer.body);
  if (f['pod-ip'] !== podIp)
    problems.push(`${pod}: its page shows pod IP ${f['pod-ip'] ?? '(no pod-ip field)'}, its pod IP is ${podIp}`);
  const host = expectedServingHost(pod);
  if (f['serving-host'] !== host)
    problems.push(`${pod}: its page does not show ${host} (serving-host field: ${f['serving-host'] ?? '(none)'})`);
  return problems;
}

export interface InfoDoc {
  pod?: { name?: string; ip?: string };
  servingHost?: string | null;
  data?: { source?: string; ok?: boolean; message?: string };
}

/** Problems with the /api/info answers seen through the Service, against the replicas there are. */
export function judgeServiceAnswers(
  replicas: ReadonlyMap<string, string>,
  infos: readonly InfoDoc[],
  dbExpected: boolean,
): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const info of infos) {
    const name = info.pod?.name ?? '?';
    seen.add(name);
    const ip = replicas.get(name);
    if (ip === undefined) {
      problems.push(`the Service answered from ${name}, which is not a Ready web replica`);
      continue;
    }
    if (info.pod?.ip !== ip)
      problems.push(`${name} reports IP ${info.pod?.ip ?? '(none)'} through the Service, its pod IP is ${ip}`);
    if (info.servingHost !== expectedServingHost(name))
      problems.push(
        `${name} reports serving-host ${info.servingHost ?? '(none)'}, expected ${expectedServingHost(name)}`,
      );
    if (dbExpected && !(info.data?.ok === true && info.data.source === 'mariadb'))
      problems.push(`${name} shows no live database data: ${info.data?.message ?? 'no data section'}`);
  }
  for (const name of replicas.keys())
    if (!seen.has(name)) problems.push(`replica ${name} never answered through the Service`);
  return [...new Set(problems)];
}

export const r4Page: Requirement = {
  id: 'R4',
  title: 'Page shows pod IP and serving-host',
  checks:
    'Once the web Deployment is settled (rollout done, no pod terminating), inside each Ready ' +
    "web pod, GET / from nginx must show exactly that pod's IP in its pod-ip field and Host- + " +
    "the last 5 characters of its name as serving-host. Through the web Service (from kstack's " +
    'client pod in the namespace <namespace>-prove, by ClusterIP), /api/info is fetched until every ' +
    'replica has answered: each must report its own name, IP and serving-host, and live data ' +
    'from MariaDB when the db is enabled. Headless Chromium loads the page through a port-forward ' +
    'and the screenshot is kept (screenshot.png); a page Chromium cannot show fails the row.',
  mutates: false,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    // The runner settled the release before this row (run.ts): right after a rollout or a rollback the old
    // revision's pods could still answer through the Service.
    const pods = (await podsOf(ctx.kube, ctx.release, 'web', ev)).filter(
      (p: V1Pod) => p.metadata?.deletionTimestamp === undefined,
    );
    if (pods.length === 0) return fail(`release '${ctx.release}' has no web pods`);
    const problems: string[] = [];
    const replicas = new Map<string, string>();
    for (const p of pods) {
      const name = podName(p);
      const ip = p.status?.podIP ?? '';
      if (!isPodReady(p)) {
        problems.push(`${name} is not Ready`);
        continue;
      }
      replicas.set(name, ip);
      const answer = await httpInPod(ctx.kube, name, 'nginx', 8080, '/', ev);
      const own = judgeOwnPage(name, ip, answer);
      ev.add(
        `  ${name} (${ip}): ${answer ? `HTTP ${answer.status}` : 'no answer'}` +
          (own.length ? ` — ${own.join('; ')}` : `, shows ${ip} and ${expectedServingHost(name)}`),
      );
      problems.push(...own);
    }
    ev.measure('replicas', pods.length);

    const dbExpected =
      (
        await ctx.kube.kubectl(
          [
            'get',
            'statefulsets',
            '-l',
            `app.kubernetes.io/instance=${ctx.release},app.kubernetes.io/component=db`,
            '-o',
            'name',
          ],
          { ev },
        )
      ).stdout.trim() !== '';
    const svc = await serviceUrl(ctx.kube, ctx.release, 'web', ev);
    if (!svc) return fail(`release '${ctx.release}' has no web Service`);
    const client = await clientPod(ctx.kube, ctx.release, ev);
    if (!client) return fail(NO_CLIENT);
    // Fetch through the Service until every replica answered (at most 15 per replica).
    const infos: InfoDoc[] = [];
    const seen = new Set<string>();
    for (let round = 0; round < 5 && [...replicas.keys()].some((r) => !seen.has(r)); round++) {
      const samples = await sampleInCluster(
        ctx.kube,
        client,
        `${svc.url}/api/info`,
        3 * replicas.size,
        round === 0 ? ev : undefined,
      );
      for (const s of samples) {
        if (s.status !== 200 || !s.body) {
          problems.push(`GET ${svc.url}/api/info answered ${s.status}${s.error ? ` (${s.error})` : ''}`);
          continue;
        }
        const info = JSON.parse(s.body) as InfoDoc;
        infos.push(info);
        seen.add(info.pod?.name ?? '?');
      }
    }
    const perReplica = [...replicas.keys()]
      .map((r) => `${r} ×${infos.filter((i) => i.pod?.name === r).length}`)
      .join(', ');
    ev.add(`  through Service ${svc.name} (${svc.url}): ${infos.length} answers: ${perReplica}`);
    const withData = infos.find((i) => i.data?.ok);
    if (withData) ev.add(`  live data: ${withData.data?.message ?? ''}`);
    ev.measure('serviceRequests', infos.length);
    problems.push(...judgeServiceAnswers(replicas, infos, dbExpected));

    const shot = await screenshotPage(ctx.kube, svc.name, svc.port, join(ctx.reportDir, 'screenshot.png')).catch(
      (err: unknown) => `screenshot failed: ${String(err)}`,
    );
    if (typeof shot === 'string') {
      ev.add(`  screenshot: none (${shot})`);
      problems.push(`the page could not be shown in Chromium: ${shot}`);
    } else {
      ev.artifact('screenshot.png');
      ev.add(
        `  Chromium shows pod ${shot.podName}, IP ${shot.podIp}, serving-host ` +
          `${shot.servingHost}; live data: ${shot.liveStatus.split('\n')[0] ?? ''}`,
      );
      if (replicas.get(shot.podName) !== shot.podIp)
        problems.push(
          `the page in Chromium shows pod ${shot.podName} with IP ${shot.podIp}, which does not match the replica's IP`,
        );
      if (shot.servingHost !== expectedServingHost(shot.podName))
        problems.push(`the page in Chromium shows serving-host ${shot.servingHost} for ${shot.podName}`);
    }
    return verdictOf(
      [...new Set(problems)],
      `all ${replicas.size} replicas show their own IP and Host-xxxxx (from each ` +
        `pod and through the Service)${dbExpected ? ', with live database data' : ''}`,
    );
  },
};
