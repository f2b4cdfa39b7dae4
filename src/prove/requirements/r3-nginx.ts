// R3: nginx runs all its replicas with the chart's custom configuration in force, and a configuration
// change rolls out under steady load (≈50 requests/s through the Service) with no failed request.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { webstackChartDir } from '../../chart/helm.js';
import { componentSelector, releaseValues, type List } from '../../kube/kube.js';
import { clientPod, failedRequests, NO_CLIENT, serviceUrl, startLoad, type LoadSummary } from './in-cluster.js';
import { httpInPod, isPodReady, podName, podsOf, type HttpAnswer } from './stack.js';
import { fail, pass, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export const LOAD_RATE = 50;
export const PROVE_PATH = '/kstack-prove';

/** The custom configuration's marks on one pod: /healthz answered by nginx itself with "ok". */
export function judgeMarker(pod: string, healthz: HttpAnswer | undefined): string[] {
  if (!healthz) return [`${pod}: nginx did not answer on 8080`];
  if (healthz.status !== 200 || healthz.body.trim() !== 'ok')
    return [
      `${pod}: /healthz answered ${healthz.status} ` +
        `'${healthz.body.trim().slice(0, 40)}', not the custom config's 200 'ok'`,
    ];
  return [];
}

/** The rollout under load passed when nothing failed and enough requests were sent to mean something. */
export function judgeLoad(s: LoadSummary, seconds: number, rate: number): string[] {
  const problems: string[] = [];
  const failed = failedRequests(s);
  if (failed > 0)
    problems.push(`${failed} of ${s.sent} requests failed during the rollout (${s.failures.slice(0, 3).join('; ')})`);
  if (s.sent < rate * seconds * 0.5)
    problems.push(
      `only ${s.sent} requests were sent in ${seconds.toFixed(0)} s (expected about ${Math.round(rate * seconds)})`,
    );
  return problems;
}

/** The extra server directives the drill adds: an exact location answering the token. */
export const proveSnippet = (existing: string, token: string): string =>
  `${existing ? `${existing}\n` : ''}location = ${PROVE_PATH} { default_type text/plain; return 200 "${token}"; }`;

interface HelmRelease {
  name: string;
  revision: string;
  chart: string;
}

async function waitRollout(ctx: ProveContext, ev: Evidence, deployment: string): Promise<void> {
  await ctx.kube.kubectl(['rollout', 'status', `deployment/${deployment}`, '--timeout=300s'], {
    ev,
    timeoutMs: 320_000,
  });
}

export const r3Nginx: Requirement = {
  id: 'R3',
  title: 'nginx replicas with custom config',
  checks:
    `The web Deployment runs web.replicaCount replicas (or more), all Ready, and each answers /healthz ` +
    `with the custom config's 'ok'. Then, under ${LOAD_RATE} requests/s sent to the web Service from inside ` +
    `the cluster, the config is changed (helm upgrade --reuse-values adding a ${PROVE_PATH} location), rolled ` +
    `out, seen on every new pod, and rolled back (helm rollback); every request must get a 2xx answer.`,
  mutates: true,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    const dep = (
      await ctx.kube.json<List<V1Deployment>>(['get', 'deployments', '-l', componentSelector(ctx.release, 'web')], {
        ev,
      })
    ).items[0];
    if (!dep) return fail(`release '${ctx.release}' has no web Deployment`);
    const depName = dep.metadata?.name ?? '';
    const desired = dep.spec?.replicas ?? 1;
    const ready = dep.status?.readyReplicas ?? 0;
    ev.add(`  deployment ${depName}: ${ready}/${desired} Ready`);
    ev.measure('replicas', desired);
    const wanted = ctx.intent.web.replicas;
    if (!ctx.intent.web.autoscaled && desired < wanted)
      return fail(
        `the web Deployment runs ${desired} replicas, the release's values ask for web.replicaCount=${wanted}`,
      );
    if (ready < desired) return fail(`web has ${ready}/${desired} replicas Ready`);
    const problems: string[] = [];
    const pods = (await podsOf(ctx.kube, ctx.release, 'web', ev)).filter(isPodReady);
    for (const p of pods) {
      const h = await httpInPod(ctx.kube, podName(p), 'nginx', 8080, '/healthz', ev);
      const pr = judgeMarker(podName(p), h);
      ev.add(
        `  ${podName(p)}: /healthz ${h ? `${h.status} '${h.body.trim()}'` : 'no answer'}` +
          (h?.headers['content-security-policy'] ? '; Content-Security-Policy set' : ''),
      );
      problems.push(...pr);
    }
    if (problems.length) return verdictOf(problems, '');

    // The rollout drill needs helm, this kstack's chart (same version as installed) and an in-cluster client.
    const releases = JSON.parse(
      (await ctx.kube.helm(['list', '--filter', `^${ctx.release}$`, '-o', 'json'], { ev })).stdout,
    ) as HelmRelease[];
    const rel = releases[0];
    const ours = parseYaml(readFileSync(join(webstackChartDir, 'Chart.yaml'), 'utf8')) as {
      name: string;
      version: string;
    };
    if (!rel)
      return fail(`release '${ctx.release}' is not in helm's list, so its config cannot be changed the way users do`);
    if (rel.chart !== `${ours.name}-${ours.version}`)
      return fail(
        `the release runs chart ${rel.chart}, this kstack has ${ours.name}-${ours.version}: ` +
          `the rollout drill upgrades with kstack's chart; run the kstack that matches the release`,
      );
    const svc = await serviceUrl(ctx.kube, ctx.release, 'web', ev);
    if (!svc) return fail(`release '${ctx.release}' has no web Service`);
    const client = await clientPod(ctx.kube, ctx.release, ev);
    if (!client) return fail(NO_CLIENT);
    const values = (await releaseValues(ctx.kube, ctx.release, ev)) as {
      web?: { config?: { serverSnippet?: string } };
    };
    const token = `prove-${randomBytes(6).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), 'kstack-prove-values-'));
    const file = join(dir, 'change.json');
    writeFileSync(
      file,
      JSON.stringify({
        web: { config: { serverSnippet: proveSnippet(values.web?.config?.serverSnippet ?? '', token) } },
      }),
    );
    const load = startLoad(ctx.kube, client, `${svc.url}/`, LOAD_RATE, 600, ev);
    const t0 = Date.now();
    let summary: LoadSummary | undefined;
    let rolledBack = false;
    try {
      ctx.note('config change: helm upgrade');
      await ctx.kube.helm(['upgrade', ctx.release, webstackChartDir, '--reuse-values', '-f', file], { ev });
      await waitRollout(ctx, ev, depName);
      const rolloutSeconds = (Date.now() - t0) / 1000;
      ev.measure('rolloutSeconds', Number(rolloutSeconds.toFixed(1)));
      const newPods = (await podsOf(ctx.kube, ctx.release, 'web', ev)).filter((p) => isPodReady(p));
      for (const p of newPods) {
        const a = await httpInPod(ctx.kube, podName(p), 'nginx', 8080, PROVE_PATH, ev);
        const ok = a?.status === 200 && a.body.trim() === token;
        ev.add(
          `  ${podName(p)}: ${PROVE_PATH} ` +
            `→ ${a ? `${a.status} '${a.body.trim()}'` : 'no answer'}${ok ? ' (new config)' : ''}`,
        );
        if (!ok) problems.push(`${podName(p)} does not serve the changed config after the rollout`);
      }
      ctx.note('restoring: helm rollback');
      await ctx.kube.helm(['rollback', ctx.release, rel.revision], { ev });
      rolledBack = true;
      await waitRollout(ctx, ev, depName);
    } finally {
      summary = await load.stop().catch((err: unknown) => {
        problems.push(String(err));
        return undefined;
      });
      if (!rolledBack) await ctx.kube.helm(['rollback', ctx.release, rel.revision], { ev, allowFailure: true });
      rmSync(dir, { recursive: true, force: true });
    }
    const seconds = (Date.now() - t0) / 1000;
    if (summary) {
      ev.add(
        `  load: ${summary.sent} requests in ${seconds.toFixed(0)} s, ` +
          `answers ${JSON.stringify(summary.byStatus)}, no answer ${summary.errors}`,
      );
      ev.measure('requests', summary.sent);
      ev.measure('failedRequests', failedRequests(summary));
      ev.measure('drillSeconds', Number(seconds.toFixed(1)));
      problems.push(...judgeLoad(summary, seconds, LOAD_RATE));
    }
    if (problems.length) return verdictOf(problems, '');
    return pass(
      `${desired}/${desired} Ready with the custom config; a config change rolled out ` +
        `and back under ${LOAD_RATE} req/s with 0 failed of ${summary?.sent ?? 0} requests`,
    );
  },
};
