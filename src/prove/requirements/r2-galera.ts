// R2: the Galera cluster is whole (size = replicas, every member Synced, one Bound PVC each) and keeps
// data through the loss of a member: a row written, a member pod deleted, the row still there, and the
// member back, Synced, with the row.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1PersistentVolumeClaim, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { componentSelector, type List } from '../../kube/kube.js';
import { dbSql, isPodReady, podName, podsOf, wsrepStatus } from './stack.js';
import { fail, pass, skipped, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export interface MemberFacts { pod: string; ready: boolean; wsrep: Record<string, string>; pvcs: { name: string; phase: string }[] }

/** Problems with a Galera cluster of `replicas` members as its members report it. */
export function judgeGalera(members: readonly MemberFacts[], replicas: number): string[] {
  const problems: string[] = [];
  if (members.length !== replicas) problems.push(`${members.length} db pods, expected ${replicas}`);
  for (const m of members) {
    if (!m.ready) problems.push(`${m.pod} is not Ready`);
    const size = m.wsrep.wsrep_cluster_size;
    if (size !== String(replicas)) problems.push(`${m.pod} reports wsrep_cluster_size=${size ?? '(none)'}, expected ${replicas}`);
    const state = m.wsrep.wsrep_local_state_comment;
    if (state !== 'Synced') problems.push(`${m.pod} is ${state ?? '(no wsrep state)'}, not Synced`);
    if (m.wsrep.wsrep_cluster_status !== undefined && m.wsrep.wsrep_cluster_status !== 'Primary') problems.push(`${m.pod} is in a ${m.wsrep.wsrep_cluster_status} component, not Primary`);
    if (m.pvcs.length === 0) problems.push(`${m.pod} has no PersistentVolumeClaim`);
    for (const c of m.pvcs) if (c.phase !== 'Bound') problems.push(`${m.pod}'s PVC ${c.name} is ${c.phase}, not Bound`);
  }
  return problems;
}

async function memberFacts(ctx: ProveContext, ev: Evidence, pod: V1Pod): Promise<MemberFacts> {
  const name = podName(pod);
  const wsrep: Record<string, string> = isPodReady(pod) ? await wsrepStatus(ctx.kube, name, ev).catch((err: unknown) => { ev.add(`  ${String(err)}`); return {}; }) : {};
  const claims = (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
  const pvcs = [];
  for (const claim of claims) {
    const pvc = await ctx.kube.json<V1PersistentVolumeClaim>(['get', 'pvc', claim], { ev });
    pvcs.push({ name: claim, phase: pvc.status?.phase ?? 'Unknown' });
  }
  const facts = { pod: name, ready: isPodReady(pod), wsrep, pvcs };
  ev.add(`  ${name}: Ready=${facts.ready} size=${wsrep.wsrep_cluster_size ?? '-'} state=${wsrep.wsrep_local_state_comment ?? '-'} status=${wsrep.wsrep_cluster_status ?? '-'} pvc=${pvcs.map((c) => `${c.name}:${c.phase}`).join(',') || '-'}`);
  return facts;
}

const TABLE = 'kstack_prove.marks';

export const r2Galera: Requirement = {
  id: 'R2',
  title: 'Galera cluster with persistent data',
  checks: 'The db StatefulSet\'s members all report wsrep_cluster_size = replicas, Synced, Primary, each with a Bound PVC. Fails below db.replicaCount. Then a row is written on the first member, the last member\'s pod is deleted, the row is read on a member that neither wrote it nor was deleted, and once the member is back (Ready, Synced, full size) the row is read on it too. The test database is dropped afterwards.',
  mutates: true,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    if (!ctx.intent.db.enabled) return skipped(`the release's values turn the db off (db.enabled is false)`);
    if (!ctx.intent.db.galera) return skipped(`the release's values run the db without Galera (db.mode standalone): there is no cluster to check`);
    const sts = (await ctx.kube.json<List<V1StatefulSet>>(['get', 'statefulsets', '-l', componentSelector(ctx.release, 'db')], { ev })).items[0];
    if (!sts) return fail(`db.enabled is true but release '${ctx.release}' has no db StatefulSet`);
    const replicas = ctx.intent.db.replicas;
    ev.measure('replicas', replicas);
    if ((sts.spec?.replicas ?? 1) < replicas) return fail(`the db StatefulSet runs ${sts.spec?.replicas ?? 1} members, the release's values ask for db.replicaCount=${replicas}`);
    const pods = await podsOf(ctx.kube, ctx.release, 'db', ev);
    const members: MemberFacts[] = [];
    for (const p of pods) members.push(await memberFacts(ctx, ev, p));
    const before = judgeGalera(members, replicas);
    if (before.length) return fail(before.length === 1 ? before[0] ?? '' : `${before[0] ?? ''} (and ${before.length - 1} more)`);
    if (replicas < 2) return fail('a Galera cluster of one member cannot lose a member and keep its data online (db.replicaCount=1)');

    const writer = members[0]?.pod ?? '';
    const victim = members[members.length - 1]?.pod ?? '';
    // The read while the victim is gone is on a member that neither wrote the row nor was deleted, when there is one.
    const survivor = members.length > 2 ? members[1]?.pod ?? writer : writer;
    const token = `prove-${randomBytes(6).toString('hex')}`;
    try {
      await dbSql(ctx.kube, writer, `CREATE DATABASE IF NOT EXISTS kstack_prove; CREATE TABLE IF NOT EXISTS ${TABLE} (token VARCHAR(64) PRIMARY KEY, at DATETIME(3) NOT NULL); INSERT INTO ${TABLE} VALUES ('${token}', NOW(3))`, ev);
      ev.add(`  wrote token ${token} on ${writer}`);
      const oldUid = pods.find((p) => podName(p) === victim)?.metadata?.uid;
      ctx.note(`deleting member ${victim}`);
      const t0 = Date.now();
      await ctx.kube.kubectl(['delete', 'pod', victim, '--wait=false'], { ev });
      const read = await dbSql(ctx.kube, survivor, `SELECT token FROM ${TABLE} WHERE token = '${token}'`, ev);
      ev.add(`  on ${survivor} while ${victim} is replaced: ${read.length ? 'token present' : 'token MISSING'}`);
      if (!read.length) return fail(`the row written on ${writer} is not on ${survivor} after deleting ${victim}`);
      // The member back: a new pod (new uid), Ready (= Synced), seeing the full cluster.
      const deadline = Date.now() + 6 * 60_000;
      let back: MemberFacts | undefined;
      while (Date.now() < deadline) {
        const p = await ctx.kube.json<V1Pod>(['get', 'pod', victim]).catch(() => undefined);
        if (p && p.metadata?.uid !== oldUid && isPodReady(p)) {
          const w = await wsrepStatus(ctx.kube, victim).catch((): Record<string, string> => ({}));
          if (w.wsrep_local_state_comment === 'Synced' && w.wsrep_cluster_size === String(replicas)) { back = { pod: victim, ready: true, wsrep: w, pvcs: [] }; break; }
        }
        ctx.note(`waiting for ${victim} to be back (${Math.round((Date.now() - t0) / 1000)} s)`);
        await sleep(2000);
      }
      const backSeconds = (Date.now() - t0) / 1000;
      if (!back) return fail(`member ${victim} was not back (Ready, Synced, size ${replicas}) within 6 minutes of its pod's deletion`);
      ev.add(`  ${victim} back after ${backSeconds.toFixed(1)} s: size=${back.wsrep.wsrep_cluster_size ?? ''} state=${back.wsrep.wsrep_local_state_comment ?? ''}`);
      ev.measure('memberBackSeconds', Number(backSeconds.toFixed(1)));
      const onVictim = await dbSql(ctx.kube, victim, `SELECT token FROM ${TABLE} WHERE token = '${token}'`, ev);
      ev.add(`  on ${victim}: ${onVictim.length ? 'token present' : 'token MISSING'}`);
      if (!onVictim.length) return fail(`member ${victim} came back without the row written before its deletion`);
      return pass(`${replicas}/${replicas} members Synced with Bound PVCs; a row survived deleting ${victim}, which was back and Synced with it after ${backSeconds.toFixed(0)} s`);
    } finally {
      await dbSql(ctx.kube, writer, 'DROP DATABASE IF EXISTS kstack_prove', ev).catch((err: unknown) => { ev.add(`  cleanup failed: ${String(err)}`); });
    }
  },
};
