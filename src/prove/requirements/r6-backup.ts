// R6: disaster recovery — a backup, verified, restored into a new namespace, with RTO and RPO measured.
// Until kstack's backup modules and the chart's backup CronJob are part of this build, the row reports
// what it found and is skipped with that reason; it never passes without running the drill.
import type { V1CronJob } from '@kubernetes/client-node';
import type { List } from './kube.js';
import { skipped, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export const r6Backup: Requirement = {
  id: 'R6',
  title: 'Backup, verify, restore (RTO/RPO)',
  checks: 'A backup of the database is taken, verified, and restored into a new namespace; the time to a serving restore (RTO) and the age of the newest restored write (RPO) are measured. Requires backups enabled in the release (its backup CronJob).',
  mutates: true,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    const cronJobs = (await ctx.kube.json<List<V1CronJob>>(['get', 'cronjobs', '-l', `app.kubernetes.io/instance=${ctx.release}`], { ev })).items;
    ev.add(`  cronjobs: ${cronJobs.map((c) => c.metadata?.name ?? '?').join(', ') || '(none)'}`);
    if (cronJobs.length === 0) return skipped(`backups are not enabled in release '${ctx.release}' (no backup CronJob)`);
    return skipped('this kstack build has no backup/restore drill yet (kstack backup/restore); the backup CronJob exists but the drill is not run');
  },
};
