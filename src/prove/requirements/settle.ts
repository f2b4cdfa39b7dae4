// Waiting for the release to be settled before a row judges it (run.ts does it before every row): a
// rollout still running (or old pods still terminating, still in the Service for a moment) would be judged
// as if it were the release's steady state. R4 read the previous revision's pages right after a rollback;
// R9 took an earlier rollout's events for its drill's.
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { List } from '../../kube/kube.js';
import { isPodReady } from './stack.js';
import type { Evidence, ProveContext } from './types.js';

/** Why the Deployment is not settled yet (undefined when it is). Pure, unit-tested. */
export function unsettledReason(dep: V1Deployment, pods: readonly V1Pod[]): string | undefined {
  const want = dep.spec?.replicas ?? 1;
  const st = dep.status ?? {};
  if ((st.observedGeneration ?? 0) < (dep.metadata?.generation ?? 0))
    return 'the Deployment controller has not seen the latest spec';
  if ((st.updatedReplicas ?? 0) !== want) return `${st.updatedReplicas ?? 0} of ${want} replicas updated`;
  const going = pods.filter((p) => p.metadata?.deletionTimestamp !== undefined);
  if (going.length)
    return `${going.length} pod(s) still terminating (${going.map((p) => p.metadata?.name ?? '?').join(', ')})`;
  if (pods.length !== want) return `${pods.length} pods for ${want} replicas`;
  const ready = pods.filter(isPodReady).length;
  if (ready !== want) return `${ready} of ${want} pods Ready`;
  return undefined;
}

/** Why a StatefulSet is not settled yet (undefined when it is). Pure, unit-tested. */
export function statefulSetUnsettledReason(sts: V1StatefulSet): string | undefined {
  const want = sts.spec?.replicas ?? 1;
  const st = sts.status;
  const name = sts.metadata?.name ?? '?';
  if ((st?.observedGeneration ?? 0) < (sts.metadata?.generation ?? 0))
    return `the StatefulSet controller has not seen ${name}'s latest spec`;
  if (st?.updateRevision !== undefined && st.currentRevision !== st.updateRevision)
    return `${name} is rolling out (${st.updatedReplicas ?? 0} of ${want} updated)`;
  if ((st?.readyReplicas ?? 0) !== want) return `${name}: ${st?.readyReplicas ?? 0} of ${want} Ready`;
  return undefined;
}

/** A pod the scheduler cannot place: waiting will not settle it, so the rows judge it as it is. */
export const isUnschedulable = (p: V1Pod): boolean =>
  (p.status?.conditions ?? []).some(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );

/**
 * Pure: why the release is not settled (undefined when it is, or when it is stuck on a pod that cannot be
 * scheduled, which no wait fixes). Pods of Jobs (backups) are not part of a rollout.
 */
export function releaseUnsettledReason(
  deployments: readonly V1Deployment[],
  statefulSets: readonly V1StatefulSet[],
  pods: readonly V1Pod[],
): string | undefined {
  const owned = pods.filter((p) => !(p.metadata?.ownerReferences ?? []).some((o) => o.kind === 'Job'));
  if (owned.some(isUnschedulable)) return undefined;
  for (const d of deployments) {
    const mine = owned.filter(
      (p) =>
        (p.metadata?.labels?.['app.kubernetes.io/component'] ?? '') ===
        (d.metadata?.labels?.['app.kubernetes.io/component'] ?? '-'),
    );
    const why = unsettledReason(d, mine);
    if (why !== undefined) return `${d.metadata?.name ?? '?'}: ${why}`;
  }
  for (const s of statefulSets) {
    const why = statefulSetUnsettledReason(s);
    if (why !== undefined) return why;
  }
  const going = owned.filter((p) => p.metadata?.deletionTimestamp !== undefined);
  if (going.length)
    return `${going.length} pod(s) still terminating (${going.map((p) => p.metadata?.name ?? '?').join(', ')})`;
  return undefined;
}

/** How long a row waits for the release to settle before it is judged unsettled. */
export const SETTLE_LIMIT_MS = 5 * 60_000;

/**
 * Waits (at most SETTLE_LIMIT_MS) until the release's Deployments and StatefulSets are rolled out and none
 * of its pods is terminating. Returns undefined when settled, or the reason for the row to fail with.
 */
export async function waitForSettledRelease(ctx: ProveContext, ev: Evidence): Promise<string | undefined> {
  const selector = `app.kubernetes.io/instance=${ctx.release}`;
  const start = Date.now();
  for (;;) {
    const deployments = (await ctx.kube.json<List<V1Deployment>>(['get', 'deployments', '-l', selector])).items;
    const statefulSets = (await ctx.kube.json<List<V1StatefulSet>>(['get', 'statefulsets', '-l', selector])).items;
    const pods = (await ctx.kube.json<List<V1Pod>>(['get', 'pods', '-l', selector])).items;
    const why = releaseUnsettledReason(deployments, statefulSets, pods);
    const waited = Date.now() - start;
    if (why === undefined) {
      if (waited > 1000) ev.add(`  release settled after ${(waited / 1000).toFixed(1)} s`);
      return undefined;
    }
    if (waited > SETTLE_LIMIT_MS)
      return `release '${ctx.release}' did not settle within ${SETTLE_LIMIT_MS / 60_000} min (${why})`;
    ctx.note(`waiting for the release to settle: ${why}`);
    await sleep(1000);
  }
}
