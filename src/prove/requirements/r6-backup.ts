// R6: disaster recovery as a drill against the installed release. Marker rows are written on a db member
// every few seconds from before the backup until the restore starts; a backup Job is made from the release's
// backup CronJob (what `kubectl create job --from` does) and a verify Job from its verify CronJob; then
// `kstack restore --into-namespace <throw-away> --lean` installs a lean copy (standalone db) and restores the
// newest backup plus the archived binlogs into it. The markers read back there decide the row: every write
// acknowledged before the backup started must be present, and what is present must be a prefix of what was
// written (no holes). RTO: restore start → marker rows readable in the copy. RPO: the newest acknowledged
// write before the restore started minus the newest one the copy holds. The throw-away namespace and the
// marker database are removed afterwards.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1CronJob } from '@kubernetes/client-node';
import { cronJobFor, runDrTask, runRestoreJob } from '../../stack/dr.js';
import { messageOf } from '../../util/errors.js';
import type { Progress } from '../../util/progress.js';
import { Kube, type List } from '../../kube/kube.js';
import { startWriter, type WriterLog } from '../writer.js';
import { dbSql, isPodReady, podName, podsOf } from './stack.js';
import { fail, skipped, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

/** One marker write: its sequence number and when the server acknowledged it (ms since the epoch, this host). */
export interface MarkerWrite {
  seq: number;
  ackedAt: number;
}

export interface DrillJudgement {
  problems: string[];
  /** Writes acknowledged before the backup started (all must be restored). */
  beforeBackup: number;
  restored: number;
  /** Seconds of acknowledged writes the restore does not hold (0: it holds the newest). */
  rpoSeconds: number;
}

/**
 * Pure: what the restored copy holds against what was written. `restoredSeqs` are the marker sequence
 * numbers read back; `cutAt` is when the restore started (writes acknowledged after it do not count).
 */
export function judgeDrill(
  writes: readonly MarkerWrite[],
  restoredSeqs: readonly number[],
  backupStartedAt: number,
  cutAt: number,
): DrillJudgement {
  const problems: string[] = [];
  const acked = writes.filter((w) => w.ackedAt <= cutAt).sort((a, b) => a.seq - b.seq);
  const have = new Set(restoredSeqs);
  const before = acked.filter((w) => w.ackedAt < backupStartedAt);
  const missingBefore = before.filter((w) => !have.has(w.seq));
  if (before.length === 0)
    problems.push('no marker write was acknowledged before the backup started; the drill proves nothing');
  if (missingBefore.length > 0)
    problems.push(
      `${missingBefore.length} of ${before.length} writes acknowledged before the ` +
        `backup are missing in the restore (first: #${missingBefore[0]?.seq ?? '?'})`,
    );
  const known = new Set(writes.map((w) => w.seq));
  const unknown = restoredSeqs.filter((s) => !known.has(s));
  if (unknown.length > 0)
    problems.push(`the restore holds marker rows never acknowledged here: ${unknown.slice(0, 5).join(', ')}`);
  // A prefix: once a write is missing, no later one may be present.
  const firstMissing = acked.find((w) => !have.has(w.seq));
  if (firstMissing) {
    const later = acked.filter((w) => w.seq > firstMissing.seq && have.has(w.seq));
    if (later.length > 0)
      problems.push(
        `a hole in the restored writes: #${firstMissing.seq} is missing but #${later[0]?.seq ?? '?'} is there`,
      );
  }
  const newestAcked = acked.at(-1);
  const newestRestored = acked.filter((w) => have.has(w.seq)).at(-1);
  const rpoSeconds =
    newestAcked === undefined
      ? 0
      : Math.max(0, (newestAcked.ackedAt - (newestRestored?.ackedAt ?? backupStartedAt)) / 1000);
  return { problems, beforeBackup: before.length, restored: acked.filter((w) => have.has(w.seq)).length, rpoSeconds };
}

/** Pure: the measured RTO and RPO against the release's objectives (backup.objectives); judged unrounded. */
export function judgeObjectives(
  rtoSeconds: number,
  rpoSeconds: number,
  objectives: { rtoSeconds: number; rpoSeconds: number },
): string[] {
  const problems: string[] = [];
  if (rtoSeconds > objectives.rtoSeconds)
    problems.push(
      `RTO ${rtoSeconds.toFixed(1)} s is above the objective backup.objectives.rtoSeconds=${objectives.rtoSeconds}`,
    );
  if (rpoSeconds > objectives.rpoSeconds)
    problems.push(
      `RPO ${rpoSeconds.toFixed(1)} s is above the objective backup.objectives.rpoSeconds=${objectives.rpoSeconds}`,
    );
  return problems;
}

/** Progress that turns the DR helpers' steps into the row's evidence and progress note. */
function rowProgress(ctx: ProveContext, ev: Evidence): Progress {
  return {
    info(text) {
      ev.add(`  ${text}`);
    },
    async step(title, work) {
      ctx.note(title);
      const t0 = Date.now();
      const out = await work({
        detail(text) {
          ctx.note(`${title}: ${text}`);
        },
      });
      ev.add(`  ${title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return out;
    },
  };
}

const WRITE_EVERY_MS = 1000;

export const r6Backup: Requirement = {
  id: 'R6',
  title: 'Backup, verify, restore (RTO/RPO)',
  checks:
    `Marker rows are written through the db Service every ${WRITE_EVERY_MS / 1000} s by the drills' ` +
    `writer in a web pod (new connection each, 2 s timeout, no retry), from before the backup until ` +
    `the restore starts. A backup Job is created from the release's backup CronJob and a verify Job ` +
    `from its verify CronJob; both must succeed (verify restores the backup into a throw-away MariaDB ` +
    `and compares row counts and checksums with the manifest). Then the release is restored into ` +
    `a new throw-away namespace (kstack restore --into-namespace NS --lean: a standalone db; the newest ` +
    `backup plus the archived binlogs). Every write acknowledged before the backup started must ` +
    `be there, and the restored writes must have no hole. RTO = restore start → marker rows readable ` +
    `in the copy; RPO = newest acknowledged write before the restore started minus the newest restored ` +
    `one; both must be within the release's objectives (backup.objectives.rtoSeconds, rpoSeconds), ` +
    `and verify must have checked the backup this drill took. The throw-away namespace and the marker ` +
    `table are deleted. Skipped only when the release's values turn backups or verification off.`,
  mutates: true,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    if (!ctx.intent.backup.enabled) return skipped(`the release's values turn backups off (backup.enabled is false)`);
    if (!ctx.intent.backup.verify)
      return skipped(
        `the release's values turn backup verification off (backup.verify.enabled is false): the drill needs it`,
      );
    const objectives = ctx.intent.backup.objectives;
    const cronJobs = (
      await ctx.kube.json<List<V1CronJob>>(['get', 'cronjobs', '-l', `app.kubernetes.io/instance=${ctx.release}`], {
        ev,
      })
    ).items;
    ev.add(`  cronjobs: ${cronJobs.map((c) => c.metadata?.name ?? '?').join(', ') || '(none)'}`);
    if (!cronJobFor(cronJobs, 'backup'))
      return fail(`backup.enabled is true but release '${ctx.release}' has no backup CronJob`);
    if (!cronJobFor(cronJobs, 'verify'))
      return fail(`backup.verify.enabled is true but release '${ctx.release}' has no verify CronJob`);
    const web = (await podsOf(ctx.kube, ctx.release, 'web', ev)).find(isPodReady);
    if (!web) return fail('no Ready web pod to write the marker rows from');
    const progress = rowProgress(ctx, ev);
    const throwAway = `${ctx.namespace}-r6-${randomBytes(3).toString('hex')}`.slice(0, 63);
    const copy = new Kube({ ...ctx.kube.opts, namespace: throwAway });
    const table = `kstack_prove_r6_${randomBytes(4).toString('hex')}`;
    const marks = `\`${ctx.intent.db.appDatabase}\`.${table}`;

    // The drills' writer (src/prove/writer.ts) in a web pod: a marker row through the db Service every
    // WRITE_EVERY_MS, from before the backup until the cut. Which writes count as "before the backup" is
    // what the writer had reported when the backup started: no clock of the cluster is compared with ours.
    const writer = await startWriter(
      ctx.kube,
      podName(web),
      { table, intervalMs: WRITE_EVERY_MS, timeoutMs: 2000 },
      ev,
    );
    let log: WriterLog | undefined;
    const stopWriter = async (): Promise<WriterLog> => {
      log ??= await writer.stop();
      return log;
    };

    try {
      for (let i = 0; writer.peek().attempts.filter((a) => a.ok).length < 3; i++) {
        if (i > 120)
          return fail(
            `the writer in ${podName(web)} had fewer than 3 acknowledged writes after ` +
              `60 s: ${writer.peek().attempts.find((a) => !a.ok)?.error ?? 'no answer'}`,
          );
        await sleep(500);
      }
      ev.add(
        `  writing marker rows into ${marks} from ${podName(web)} ` +
          `(webinfo) through the db Service every ${WRITE_EVERY_MS / 1000} s`,
      );

      const seenAtBackup = writer.peek().attempts.filter((a) => a.ok);
      const backupMark = Math.max(...seenAtBackup.map((a) => a.at)) + 1;
      const backup = await runDrTask(ctx.kube, ctx.release, 'backup', progress, 20 * 60_000);
      const b = backup.result as
        { id?: string; bytes?: number; durationMs?: number; gtid?: string; tables?: number } | undefined;
      ev.add(`  backup Job ${backup.job}: ${JSON.stringify(b ?? null)}`);
      if (!b?.id) return fail(`the backup Job ${backup.job} printed no result line`);
      ev.measure('backup_id', b.id);
      if (b.durationMs !== undefined) ev.measure('backup_seconds', Math.round(b.durationMs / 100) / 10);
      if (b.bytes !== undefined) ev.measure('backup_stored_bytes', b.bytes);

      const verify = await runDrTask(ctx.kube, ctx.release, 'verify', progress, 20 * 60_000, [`--backup=${b.id}`]);
      const v = verify.result as
        { backupId?: string; ok?: boolean; problems?: string[]; verifiedAt?: string } | undefined;
      ev.add(`  verify Job ${verify.job}: ${JSON.stringify(v ?? null)}`);
      if (v?.ok !== true)
        return fail(`verification of the backup failed: ${(v?.problems ?? ['no result line']).join('; ')}`);
      if (v.backupId !== b.id)
        return fail(`verify checked backup ${v.backupId ?? '(none named)'}, not ${b.id}, the one this drill took`);
      if (v.verifiedAt) ev.measure('backup_verified_timestamp', v.verifiedAt);

      // The cut: the source is treated as lost from here; the writer stops and every write it reported counts.
      const written = await stopWriter();
      const cutAt = Date.now();
      const restore = await runRestoreJob(ctx.kube, ctx.release, { intoNamespace: throwAway, lean: true }, progress, {
        timeoutMs: 20 * 60_000,
      });
      const r = restore.result as { id?: string; durationMs?: number; gtid?: string } | undefined;
      ev.add(`  restore Job ${restore.job} in ${throwAway}: ${JSON.stringify(r ?? null)}`);
      const copyDb = (await podsOf(copy, ctx.release, 'db', ev)).find(isPodReady);
      if (!copyDb) return fail(`the restored copy in ${throwAway} has no Ready db pod`);
      const rows = await dbSql(copy, podName(copyDb), `SELECT seq FROM ${marks} ORDER BY seq`, ev);
      const readableAt = Date.now();
      // A write whose client saw a failure may still have committed: it is no stranger in the restore.
      const failedSeqs = new Set(written.attempts.filter((a) => !a.ok).map((a) => a.seq));
      const restoredSeqs = rows.map(([s]) => Number(s)).filter((seq) => !failedSeqs.has(seq));
      const writes: MarkerWrite[] = written.attempts.filter((a) => a.ok).map((a) => ({ seq: a.seq, ackedAt: a.at }));
      const j = judgeDrill(writes, restoredSeqs, backupMark, Infinity);
      const rto = (readableAt - cutAt) / 1000;
      ev.add(
        `  markers: ${writes.length} acknowledged (${j.beforeBackup} ` +
          `before the backup started), ${j.restored} restored in ${throwAway}`,
      );
      ev.measure('rto_seconds', Math.round(rto));
      if (r?.durationMs !== undefined) ev.measure('restore_job_seconds', Math.round(r.durationMs / 100) / 10);
      ev.measure('rpo_seconds', Math.round(j.rpoSeconds * 10) / 10);
      ev.measure('writes_before_backup', j.beforeBackup);
      ev.measure('writes_restored', j.restored);
      ev.measure('rto_objective_seconds', objectives.rtoSeconds);
      ev.measure('rpo_objective_seconds', objectives.rpoSeconds);
      const problems = [...j.problems, ...judgeObjectives(rto, j.rpoSeconds, objectives)];
      return verdictOf(
        problems,
        `backup ${b.id} verified and restored into ${throwAway}: all ${j.beforeBackup} ` +
          `writes acknowledged before the backup are there, ${j.restored} in ` +
          `all; RTO ${Math.round(rto)} s ≤ ${objectives.rtoSeconds} s (copy installed + ` +
          `restored), RPO ${j.rpoSeconds.toFixed(1)} s ≤ ${objectives.rpoSeconds} s`,
      );
    } finally {
      await stopWriter();
      ctx.note(`deleting the throw-away namespace ${throwAway}`);
      await copy
        .helm(['uninstall', ctx.release, '--wait', '--timeout', '5m'], { ev, allowFailure: true })
        .catch(() => undefined);
      await ctx.kube
        .kubectl(['delete', 'namespace', throwAway, '--ignore-not-found', '--wait=true', '--timeout=300s'], {
          ev,
          clusterScope: true,
          allowFailure: true,
          timeoutMs: 320_000,
        })
        .catch(() => undefined);
      const member = (await podsOf(ctx.kube, ctx.release, 'db').catch(() => [])).find(isPodReady);
      if (member)
        await dbSql(ctx.kube, podName(member), `DROP TABLE IF EXISTS ${marks}`, ev).catch((err: unknown) => {
          ev.add(`  dropping ${marks} failed: ${messageOf(err)}`);
        });
    }
  },
};
