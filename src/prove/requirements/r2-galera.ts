// R2: the Galera cluster is whole (size = db.replicaCount, every member Synced, one Bound PVC each) and its
// data lives on the volumes: every member deleted at once under acknowledged writes through the db Service,
// all back, and every acknowledged write on every member (nothing could come from a surviving peer).
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1PersistentVolumeClaim, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { componentSelector, type List } from '../../kube/kube.js';
import { dbSql, isPodReady, podName, podsOf, wsrepStatus } from './stack.js';
import { judgeWrites, startWriter, type WriteJudgement, type WriterLog } from '../writer.js';
import { fail, skipped, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export interface MemberFacts {
  pod: string;
  ready: boolean;
  wsrep: Record<string, string>;
  pvcs: { name: string; phase: string }[];
}

/** Problems with a Galera cluster of `replicas` members as its members report it. */
export function judgeGalera(members: readonly MemberFacts[], replicas: number): string[] {
  const problems: string[] = [];
  if (members.length !== replicas) problems.push(`${members.length} db pods, expected ${replicas}`);
  for (const m of members) {
    if (!m.ready) problems.push(`${m.pod} is not Ready`);
    const size = m.wsrep.wsrep_cluster_size;
    if (size !== String(replicas))
      problems.push(`${m.pod} reports wsrep_cluster_size=${size ?? '(none)'}, expected ${replicas}`);
    const state = m.wsrep.wsrep_local_state_comment;
    if (state !== 'Synced') problems.push(`${m.pod} is ${state ?? '(no wsrep state)'}, not Synced`);
    if (m.wsrep.wsrep_cluster_status !== undefined && m.wsrep.wsrep_cluster_status !== 'Primary')
      problems.push(`${m.pod} is in a ${m.wsrep.wsrep_cluster_status} component, not Primary`);
    if (m.pvcs.length === 0) problems.push(`${m.pod} has no PersistentVolumeClaim`);
    for (const c of m.pvcs) if (c.phase !== 'Bound') problems.push(`${m.pod}'s PVC ${c.name} is ${c.phase}, not Bound`);
  }
  return problems;
}

async function memberFacts(ctx: ProveContext, ev: Evidence, pod: V1Pod): Promise<MemberFacts> {
  const name = podName(pod);
  const wsrep: Record<string, string> = isPodReady(pod)
    ? await wsrepStatus(ctx.kube, name, ev).catch((err: unknown) => {
        ev.add(`  ${String(err)}`);
        return {};
      })
    : {};
  const claims = (pod.spec?.volumes ?? []).flatMap((v) =>
    v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
  );
  const pvcs = [];
  for (const claim of claims) {
    const pvc = await ctx.kube.json<V1PersistentVolumeClaim>(['get', 'pvc', claim], { ev });
    pvcs.push({ name: claim, phase: pvc.status?.phase ?? 'Unknown' });
  }
  const facts = { pod: name, ready: isPodReady(pod), wsrep, pvcs };
  ev.add(
    `  ${name}: Ready=${facts.ready} size=${wsrep.wsrep_cluster_size ?? '-'} ` +
      `state=${wsrep.wsrep_local_state_comment ?? '-'} status=${wsrep.wsrep_cluster_status ?? '-'} ` +
      `pvc=${pvcs.map((c) => `${c.name}:${c.phase}`).join(',') || '-'}`,
  );
  return facts;
}

/** Pure: the drill's judgement — nothing acknowledged lost on any member, the cluster back, writes resumed. */
export function judgeFullCrash(
  j: WriteJudgement,
  perMemberLost: ReadonlyMap<string, number[]>,
  recovered: boolean,
  ackedAfterRecovery: number,
): string[] {
  const problems: string[] = [];
  if (j.acknowledged === 0) problems.push('no write was acknowledged: the drill proves nothing');
  for (const [member, lost] of perMemberLost) {
    if (lost.length)
      problems.push(
        `${member} lacks ${lost.length} acknowledged write${lost.length === 1 ? '' : 's'} (first: #${lost[0] ?? '?'})`,
      );
  }
  if (recovered && ackedAfterRecovery === 0)
    problems.push('no write was acknowledged through the db Service after the members were back');
  return problems;
}

/** How long the members may take to come back after all of them were deleted. */
const RECOVERY_LIMIT_MS = 8 * 60_000;

export const r2Galera: Requirement = {
  id: 'R2',
  title: 'Galera cluster with persistent data',
  checks:
    "The db StatefulSet's members all report wsrep_cluster_size = db.replicaCount, Synced, Primary, " +
    'each with a Bound PVC; fewer members than db.replicaCount, or one, fails. Then the full-crash ' +
    'drill: from inside a web pod (its webinfo container, the application account) a write starts ' +
    'every 0.2 s through the db Service, each on a new connection with a 2 s timeout and no retry, ' +
    'each counted once; every member pod is deleted at once with grace period 0; once all are back ' +
    '(new pods, Ready, Synced, full size; at most 8 min) writes go on for a few seconds. Every ' +
    'acknowledged write must be on every member (read back as root on each), and writes must resume; the ' +
    'recovery time and the longest write outage are measured. The test table is dropped afterwards.',
  mutates: true,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    if (!ctx.intent.db.enabled) return skipped(`the release's values turn the db off (db.enabled is false)`);
    if (!ctx.intent.db.galera)
      return skipped(
        `the release's values run the db without Galera (db.mode standalone): there is no cluster to check`,
      );
    const sts = (
      await ctx.kube.json<List<V1StatefulSet>>(['get', 'statefulsets', '-l', componentSelector(ctx.release, 'db')], {
        ev,
      })
    ).items[0];
    if (!sts) return fail(`db.enabled is true but release '${ctx.release}' has no db StatefulSet`);
    const replicas = ctx.intent.db.replicas;
    ev.measure('replicas', replicas);
    if ((sts.spec?.replicas ?? 1) < replicas)
      return fail(
        `the db StatefulSet runs ${sts.spec?.replicas ?? 1} members, ` +
          `the release's values ask for db.replicaCount=${replicas}`,
      );
    const pods = await podsOf(ctx.kube, ctx.release, 'db', ev);
    const members: MemberFacts[] = [];
    for (const p of pods) members.push(await memberFacts(ctx, ev, p));
    const before = judgeGalera(members, replicas);
    if (before.length)
      return fail(before.length === 1 ? (before[0] ?? '') : `${before[0] ?? ''} (and ${before.length - 1} more)`);
    if (replicas < 2)
      return fail('a Galera cluster of one member cannot lose a member and keep its data online (db.replicaCount=1)');

    const web = (await podsOf(ctx.kube, ctx.release, 'web', ev)).find(isPodReady);
    if (!web) return fail('no Ready web pod to write through the db Service from');
    const table = `kstack_prove_r2_${randomBytes(4).toString('hex')}`;
    const qualified = `\`${ctx.intent.db.appDatabase}\`.${table}`;
    const writer = await startWriter(ctx.kube, podName(web), { table, intervalMs: 200, timeoutMs: 2000 }, ev);
    ev.add(`  writing into ${qualified} from ${podName(web)} (webinfo) through the db Service every 0.2 s`);
    let log: WriterLog | undefined;
    let recoveredAt: number | undefined;
    const oldUids = new Set(pods.map((p) => p.metadata?.uid));
    await sleep(3000); // acknowledged writes before the crash
    const crashAt = Date.now();
    try {
      ctx.note('deleting every member at once (grace period 0)');
      await ctx.kube.kubectl(
        ['delete', 'pod', '-l', componentSelector(ctx.release, 'db'), '--grace-period=0', '--wait=false'],
        { ev },
      );
      while (Date.now() - crashAt < RECOVERY_LIMIT_MS) {
        const now = await podsOf(ctx.kube, ctx.release, 'db');
        const fresh = now.filter((p) => !oldUids.has(p.metadata?.uid) && isPodReady(p));
        if (fresh.length === replicas) {
          const states = await Promise.all(
            fresh.map((p) => wsrepStatus(ctx.kube, podName(p)).catch((): Record<string, string> => ({}))),
          );
          if (
            states.every((w) => w.wsrep_local_state_comment === 'Synced' && w.wsrep_cluster_size === String(replicas))
          ) {
            recoveredAt = Date.now();
            break;
          }
        }
        ctx.note(
          `waiting for the members to come back (${Math.round((Date.now() - crashAt) / 1000)} ` +
            `s; ${fresh.length}/${replicas} new and Ready)`,
        );
        await sleep(2000);
      }
      if (recoveredAt !== undefined) await sleep(3000);
    } finally {
      log = await writer.stop();
    }
    const recoverySeconds = recoveredAt === undefined ? undefined : (recoveredAt - crashAt) / 1000;
    try {
      if (recoverySeconds === undefined)
        return fail(
          `the members were not all back (new pods, Ready, Synced, size ${replicas}) ` +
            `within ${RECOVERY_LIMIT_MS / 60_000} min of deleting them all`,
        );
      ev.add(`  all ${replicas} members back, Synced, after ${recoverySeconds.toFixed(1)} s`);
      const after = await podsOf(ctx.kube, ctx.release, 'db', ev);
      const perMemberLost = new Map<string, number[]>();
      let judgement: WriteJudgement | undefined;
      for (const p of after) {
        const rows = new Set(
          (await dbSql(ctx.kube, podName(p), `SELECT seq FROM ${qualified}`, ev)).map(([seq]) => Number(seq)),
        );
        const j = judgeWrites(log.attempts, rows);
        judgement ??= j;
        perMemberLost.set(podName(p), j.lost);
        ev.add(`  ${podName(p)}: ${rows.size} rows, ${j.lost.length} acknowledged writes missing`);
      }
      const j = judgement ?? judgeWrites(log.attempts, new Set());
      const ackedAfter = log.attempts.filter((a) => a.ok && a.at >= (recoveredAt ?? Infinity) - 1000).length;
      ev.add(
        `  writes: ${j.attempted} attempted, ${j.acknowledged} acknowledged, ${j.failed} failed; longest ` +
          `outage ${(j.longestOutageMs / 1000).toFixed(1)} s${log.error ? `; writer: ${log.error}` : ''}`,
      );
      ev.measure('recoverySeconds', Number(recoverySeconds.toFixed(1)));
      ev.measure('writeOutageSeconds', Number((j.longestOutageMs / 1000).toFixed(1)));
      ev.measure('writesAcknowledged', j.acknowledged);
      ev.measure('writesFailed', j.failed);
      ev.measure(
        'writesLost',
        [...perMemberLost.values()].reduce((n, l) => Math.max(n, l.length), 0),
      );
      const problems = judgeFullCrash(j, perMemberLost, true, ackedAfter);
      return verdictOf(
        problems,
        `${replicas}/${replicas} members Synced with Bound PVCs; after every member was deleted at ` +
          `once they were back in ${recoverySeconds.toFixed(0)} s with all ${j.acknowledged} acknowledged ` +
          `writes on every member (longest write outage ${(j.longestOutageMs / 1000).toFixed(1)} s)`,
      );
    } finally {
      const any = (await podsOf(ctx.kube, ctx.release, 'db').catch(() => [])).find(isPodReady);
      if (any)
        await dbSql(ctx.kube, podName(any), `DROP TABLE IF EXISTS ${qualified}`, ev).catch((err: unknown) => {
          ev.add(`  cleanup failed: ${String(err)}`);
        });
    }
  },
};
