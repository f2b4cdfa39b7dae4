// Waiting for the web Deployment to be settled before a row judges it: a rollout still running (or old
// pods still terminating, still in the Service for a moment) would be judged as if it were the release's
// steady state. R4 read the previous revision's pages right after a rollback; R9 took an earlier
// rollout's events for its drill's.
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { componentSelector, type List } from '../../kube/kube.js';
import { isPodReady, podsOf } from './stack.js';
import type { Evidence, ProveContext } from './types.js';

/** Why the Deployment is not settled yet (undefined when it is). Pure, unit-tested. */
export function unsettledReason(dep: V1Deployment, pods: readonly V1Pod[]): string | undefined {
  const want = dep.spec?.replicas ?? 1;
  const st = dep.status ?? {};
  if ((st.observedGeneration ?? 0) < (dep.metadata?.generation ?? 0)) return 'the Deployment controller has not seen the latest spec';
  if ((st.updatedReplicas ?? 0) !== want) return `${st.updatedReplicas ?? 0} of ${want} replicas updated`;
  const going = pods.filter((p) => p.metadata?.deletionTimestamp !== undefined);
  if (going.length) return `${going.length} pod(s) still terminating (${going.map((p) => p.metadata?.name ?? '?').join(', ')})`;
  if (pods.length !== want) return `${pods.length} pods for ${want} replicas`;
  const ready = pods.filter(isPodReady).length;
  if (ready !== want) return `${ready} of ${want} pods Ready`;
  return undefined;
}

export interface Settled { deployment: V1Deployment; waitedMs: number }

/**
 * Waits (terminationGracePeriodSeconds + 90 s at most) until the release's web Deployment is settled.
 * Returns it, or the reason it did not settle, for the row to fail with.
 */
export async function waitForSettledWeb(ctx: ProveContext, ev: Evidence): Promise<Settled | { unsettled: string }> {
  const dep = (await ctx.kube.json<List<V1Deployment>>(['get', 'deployments', '-l', componentSelector(ctx.release, 'web')], { ev })).items[0];
  if (!dep) return { unsettled: `release '${ctx.release}' has no web Deployment` };
  const name = dep.metadata?.name ?? '';
  const limitMs = ((dep.spec?.template.spec?.terminationGracePeriodSeconds ?? 30) + 90) * 1000;
  const start = Date.now();
  for (;;) {
    const d = await ctx.kube.json<V1Deployment>(['get', `deployment/${name}`]);
    const why = unsettledReason(d, await podsOf(ctx.kube, ctx.release, 'web'));
    if (why === undefined) {
      const waitedMs = Date.now() - start;
      if (waitedMs > 1000) ev.add(`  web Deployment settled after ${(waitedMs / 1000).toFixed(1)} s`);
      return { deployment: d, waitedMs };
    }
    if (Date.now() - start > limitMs) return { unsettled: `web Deployment ${name} did not settle within ${limitMs / 1000} s (${why})` };
    await sleep(1000);
  }
}
