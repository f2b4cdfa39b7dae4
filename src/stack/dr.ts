// `kstack backup now|list|verify` and `kstack restore` against an installed release: each task runs in
// the cluster as a Job made from the chart's backup CronJob (same image, Secrets and network policy), or,
// for restore, the chart's restore Job template rendered with the target. Pure builders below, the
// kubectl/helm edge after them.
import type * as k8s from '@kubernetes/client-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { webstackChartDir } from '../chart/helm.js';
import { parseGtid } from '../dr/binlog.js';
import { parseTargetTime } from '../dr/pitr.js';
import { copySecrets, imagePullSecretNames, Kube, releaseValues, restrictNamespaceArgs } from '../kube/kube.js';
import { UserError } from '../util/errors.js';
import type { Progress, Step } from '../util/progress.js';

export type DrTask = 'backup' | 'verify' | 'list';

export interface RestoreRequest {
  toTime?: string;
  toGtid?: string;
  backupId?: string;
  intoNamespace?: string;
  /**
   * With intoNamespace: install the copy lean — a standalone db (one plain MariaDB, no Galera), one web
   * replica, no podwatch, no binlog archiving of its own — for a drill that only needs to read the restored data.
   */
  lean?: boolean;
}

/**
 * Where a DR task reads backups from instead of the release's own bucket: a copy of another region's backups
 * on the same S3 server (docs/multi-region.md, "Backups across regions"), with that region's backup key.
 */
export interface BackupSource {
  bucket: string;
  /** Secret in the release's namespace whose `backup-key` is the key the backups were encrypted with. */
  keySecret: string;
}

/** A DR Job that reads `source` instead of the release's bucket and key (verify, list). */
export function readingFrom(job: k8s.V1Job, source: BackupSource): k8s.V1Job {
  const out = structuredClone(job);
  const pod = out.spec?.template.spec;
  const c = pod?.containers[0];
  const bucket = c?.env?.find((e) => e.name === 'KSTACK_DR_S3_BUCKET');
  const key = pod?.volumes?.find((v) => v.name === 'backup-key');
  if (!bucket || !key?.secret)
    throw new UserError(
      `Job ${job.metadata?.name ?? ''} has no KSTACK_DR_S3_BUCKET or backup-key volume to point at another ` +
        "region's copy; is it the webstack chart's backup CronJob?",
    );
  bucket.value = source.bucket;
  key.secret.secretName = source.keySecret;
  return out;
}

/** The release's values with the backups read from `source`: what the restore Job is rendered with. */
export function sourceValues(values: Record<string, unknown>, source: BackupSource): Record<string, unknown> {
  const backup = obj(values.backup);
  return {
    ...values,
    backup: {
      ...backup,
      storage: { ...obj(backup.storage), bucket: source.bucket },
      encryption: { ...obj(backup.encryption), existingSecret: source.keySecret },
    },
  };
}

/** Checks restore flags before anything touches the cluster; every problem names the flag. */
export function checkRestoreRequest(r: RestoreRequest): RestoreRequest {
  if (r.toTime !== undefined && r.toGtid !== undefined)
    throw new UserError('--to-time and --to-gtid both given: recover to a time or to a GTID, not both');
  if (r.toTime !== undefined) {
    try {
      parseTargetTime(r.toTime);
    } catch (err) {
      throw new UserError((err as Error).message);
    }
  }
  if (r.toGtid !== undefined) {
    try {
      parseGtid(r.toGtid, '--to-gtid');
    } catch (err) {
      throw new UserError((err as Error).message);
    }
  }
  if (r.backupId !== undefined && !/^[A-Za-z0-9._-]+$/.test(r.backupId))
    throw new UserError(`--backup '${r.backupId}' is not a backup id; see 'kstack backup list'`);
  if (r.intoNamespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(r.intoNamespace)) {
    throw new UserError(
      `--into-namespace '${r.intoNamespace}' is not a namespace name (lowercase letters, digits, '-', at most 63)`,
    );
  }
  if (r.lean === true && r.intoNamespace === undefined)
    throw new UserError(
      '--lean shapes the copy made with --into-namespace; give ' +
        '--into-namespace NS (an in-place restore keeps the release as it is)',
    );
  return r;
}

/** The container name the chart gives each DR Job's container is its task. */
export function cronJobFor(list: readonly k8s.V1CronJob[], task: 'backup' | 'verify'): k8s.V1CronJob | undefined {
  return list.find((cj) => cj.spec?.jobTemplate.spec?.template.spec?.containers[0]?.name === task);
}

/** A Job from a CronJob's template (what `kubectl create job --from=cronjob/…` does), running `task` instead. */
export function jobFromCronJob(
  cj: k8s.V1CronJob,
  name: string,
  task: DrTask,
  taskArgs: readonly string[] = [],
): k8s.V1Job {
  const spec = structuredClone(cj.spec?.jobTemplate.spec);
  if (!spec) throw new UserError(`CronJob ${cj.metadata?.name ?? ''} has no job template`);
  const c = spec.template.spec?.containers[0];
  if (!c?.command)
    throw new UserError(
      `CronJob ${cj.metadata?.name ?? ''} has no command to adapt; is it the webstack chart's backup CronJob?`,
    );
  const i = c.command.findIndex((a) => a === 'backup' || a === 'verify');
  if (i < 0) throw new UserError(`CronJob ${cj.metadata?.name ?? ''}: its command has no backup/verify task`);
  c.command = [...c.command.slice(0, i), task, ...taskArgs];
  c.name = task;
  spec.backoffLimit = 0;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: cj.metadata?.namespace,
      labels: { ...(cj.spec?.jobTemplate.metadata?.labels ?? {}), 'kstack.io/dr-task': task },
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
    },
    spec,
  };
}

/** A short lowercase suffix for Job names. */
export const runId = (now: Date, rand: string): string =>
  `${now.toISOString().slice(11, 19).replace(/:/g, '')}${rand}`.toLowerCase();

type Values = Record<string, unknown>;
const obj = (v: unknown): Values => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Values) : {});

/** The release's values with the restore Job turned on for `req`. */
export function restoreValues(values: Values, req: RestoreRequest, id: string, sourcePrefix?: string): Values {
  const backup = obj(values.backup);
  return {
    ...values,
    backup: {
      ...backup,
      restore: {
        enabled: true,
        backupId: req.backupId ?? '',
        toTime: req.toTime ?? '',
        toGtid: req.toGtid ?? '',
        runId: id,
        sourcePrefix: sourcePrefix ?? '',
      },
    },
  };
}

/** Values for a copy of the release in another namespace that restores from this one's storage prefix. */
export function copyValues(
  values: Values,
  names: { keySecret: string; storageSecret: string },
  prefix: string,
  namespace: string,
  lean = false,
): Values {
  const backup = obj(values.backup);
  const storage = obj(backup.storage);
  const shape: Values = lean
    ? {
        db: { ...obj(values.db), mode: 'standalone', replicaCount: 1 },
        web: {
          ...obj(values.web),
          replicaCount: 1,
          autoscaling: { ...obj(obj(values.web).autoscaling), enabled: false },
        },
        podwatch: { ...obj(values.podwatch), enabled: false },
      }
    : {};
  return {
    ...values,
    ...shape,
    backup: {
      ...backup,
      ...(lean ? { binlog: { ...obj(backup.binlog), enabled: false } } : {}),
      storage: {
        ...storage,
        prefix: `${prefix === '' ? 'webstack' : prefix}-restored-${namespace}`,
        credentials: { ...obj(storage.credentials), existingSecret: names.storageSecret },
      },
      encryption: { existingSecret: names.keySecret },
    },
  };
}

/** What a finished Job's status says: undefined while it runs. */
export function jobOutcome(job: k8s.V1Job): 'succeeded' | 'failed' | undefined {
  const conds = job.status?.conditions ?? [];
  if (conds.some((c) => c.type === 'Complete' && c.status === 'True') || (job.status?.succeeded ?? 0) > 0)
    return 'succeeded';
  if (conds.some((c) => c.type === 'Failed' && c.status === 'True')) return 'failed';
  return undefined;
}

/** The last JSON line a DR process printed (its result). */
export function resultLine(logs: string): unknown {
  const line = logs
    .trim()
    .split('\n')
    .reverse()
    .find((l) => /^[[{]/.test(l.trim()));
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

// --- the cluster edge ---

const releaseSelector = (release: string): string =>
  `app.kubernetes.io/instance=${release},app.kubernetes.io/component=backup`;

async function findCronJob(kube: Kube, release: string, task: 'backup' | 'verify'): Promise<k8s.V1CronJob> {
  const list = await kube.json<{ items: k8s.V1CronJob[] }>(['get', 'cronjobs', '-l', releaseSelector(release)]);
  const cj = cronJobFor(list.items, task);
  if (!cj) {
    throw new UserError(
      task === 'verify' && cronJobFor(list.items, 'backup')
        ? `release '${release}' has verification turned off (backup.verify.enabled=false); turn it on with helm upgrade`
        : `release '${release}' in namespace '${kube.namespace}' has no backup ` +
            `CronJob: install the chart with backup.enabled=true and backup.storage.* set`,
    );
  }
  return cj;
}

async function waitForJob(kube: Kube, name: string, timeoutMs: number, step: Step): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await kube.json<k8s.V1Job>(['get', 'job', name]);
    const outcome = jobOutcome(job);
    const logs = async (): Promise<string> =>
      (await kube.kubectl(['logs', `job/${name}`, '--all-containers', '--tail=200'], { allowFailure: true })).stdout;
    if (outcome === 'succeeded') return logs();
    if (outcome === 'failed') {
      const tail = (await logs()).trim().split('\n').slice(-15).join('\n');
      throw new UserError(
        `Job ${name} failed. Its last lines:\n${tail}\nMore: kubectl -n ${kube.namespace} ` +
          `logs job/${name} --all-containers; kubectl -n ${kube.namespace} describe job ${name}`,
      );
    }
    const pods = await kube.json<{ items: k8s.V1Pod[] }>(['get', 'pods', '-l', `job-name=${name}`]);
    const pod = pods.items[0];
    const waiting =
      pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason ??
      pod?.status?.initContainerStatuses?.find((c) => c.state?.waiting)?.state?.waiting?.reason;
    step.detail(`${pod?.status?.phase ?? 'Pending'}${waiting ? ` (${waiting})` : ''}`);
    if (waiting && /ErrImage|ImagePullBackOff|CreateContainerConfigError|InvalidImageName/.test(waiting)) {
      throw new UserError(
        `Job ${name} cannot start: ${waiting}. See kubectl ` +
          `-n ${kube.namespace} describe pod ${pod?.metadata?.name ?? ''}`,
      );
    }
    if (Date.now() > deadline)
      throw new UserError(
        `Job ${name} did not finish within ${Math.round(timeoutMs / 1000)} ` +
          `s; it keeps running: kubectl -n ${kube.namespace} logs -f job/${name}`,
      );
    await sleep(2000);
  }
}

export interface DrTaskResult {
  job: string;
  result: unknown;
  logs: string;
}

/**
 * Runs backup, verify or list as a Job from the release's CronJob and waits for it. `taskArgs` follow the
 * task (e.g. verify's --backup=ID).
 */
export async function runDrTask(
  kube: Kube,
  release: string,
  task: DrTask,
  progress: Progress,
  timeoutMs = 3_600_000,
  taskArgs: readonly string[] = [],
  source?: BackupSource,
): Promise<DrTaskResult> {
  if (source && task === 'backup')
    throw new UserError("a backup is written to the release's own bucket; another region's copy is only read");
  const cj = await findCronJob(kube, release, task === 'verify' ? 'verify' : 'backup');
  const name =
    `${(cj.metadata?.name ?? 'backup').slice(0, 40)}-${task}-` +
    runId(new Date(), Math.random().toString(36).slice(2, 6));
  const made = jobFromCronJob(cj, name, task, taskArgs);
  if (source) await requireKeySecret(kube, source);
  const job = source ? readingFrom(made, source) : made;
  await kube.kubectl(['apply', '-f', '-'], { input: stringify(job) });
  const logs = await progress.step(`${task} (Job ${name})`, (step) => waitForJob(kube, name, timeoutMs, step));
  return { job: name, result: resultLine(logs), logs };
}

async function renderRestoreJob(kube: Kube, release: string, values: Values, namespace: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-restore-'));
  try {
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(values), { mode: 0o600 });
    const res = await kube.helm(
      [
        'template',
        release,
        webstackChartDir,
        '--namespace',
        namespace,
        '--show-only',
        'templates/backup/job-restore.yaml',
        '-f',
        file,
      ],
      { allowFailure: true },
    );
    if (res.code !== 0) throw new UserError(`rendering the restore Job failed: ${res.stderr.trim()}`);
    return res.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function installCopy(kube: Kube, release: string, values: Values): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-restore-'));
  try {
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(values), { mode: 0o600 });
    const res = await kube.helm(
      ['upgrade', '--install', release, webstackChartDir, '-f', file, '--wait', '--timeout', '15m'],
      { allowFailure: true, timeoutMs: 16 * 60_000 },
    );
    if (res.code !== 0)
      throw new UserError(
        `installing the copy of '${release}' in namespace ${kube.namespace} ` +
          `failed: ${res.stderr.trim()}; see kubectl -n ${kube.namespace} get pods`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The copy's key Secret must be in the namespace, else the Job would wait for it forever. */
async function requireKeySecret(kube: Kube, source: BackupSource): Promise<void> {
  const res = await kube.kubectl(['get', 'secret', source.keySecret, '-o', 'name'], { allowFailure: true });
  if (res.code !== 0)
    throw new UserError(
      `namespace ${kube.namespace} has no Secret ${source.keySecret} with the other region's backup key; ` +
        "'kstack region up' copies it there (run it again), or create it with the key as 'backup-key'",
    );
}

export interface RestoreResult {
  namespace: string;
  job: string;
  result: unknown;
}

/**
 * Restores the release's database: in place, or into a copy of the release in `intoNamespace` (installed
 * with the same values, the backup key and storage Secrets copied, archiving to its own prefix).
 */
export async function runRestoreJob(
  kube: Kube,
  release: string,
  req: RestoreRequest,
  progress: Progress,
  opts: { timeoutMs?: number; source?: BackupSource } = {},
): Promise<RestoreResult> {
  checkRestoreRequest(req);
  const { source } = opts;
  if (source) await requireKeySecret(kube, source);
  const values = await releaseValues(kube, release);
  const backup = obj(values.backup);
  if (backup.enabled !== true)
    throw new UserError(
      `release '${release}' has backups turned off (backup.enabled); there is nothing to restore from`,
    );
  const id = runId(new Date(), Math.random().toString(36).slice(2, 6));
  let target = kube;
  let jobValues = restoreValues(values, req, id);
  if (req.intoNamespace !== undefined && req.intoNamespace !== kube.namespace) {
    const ns = req.intoNamespace;
    const cj = await findCronJob(kube, release, 'backup');
    const vols = cj.spec?.jobTemplate.spec?.template.spec?.volumes ?? [];
    const names = {
      keySecret: vols.find((v) => v.name === 'backup-key')?.secret?.secretName ?? '',
      storageSecret: vols.find((v) => v.name === 'backup-storage')?.secret?.secretName ?? '',
    };
    const p = obj(backup.storage).prefix;
    const prefix = typeof p === 'string' ? p : 'webstack';
    const pullSecrets = imagePullSecretNames(values);
    await progress.step(`copy the backup key, storage and image pull Secrets to namespace ${ns}`, async () => {
      await kube.kubectl(['create', 'namespace', ns], { clusterScope: true, allowFailure: true });
      await kube.kubectl(restrictNamespaceArgs(ns), { clusterScope: true });
      const copyKey = source ? [source.keySecret] : [];
      await copySecrets(kube, [names.keySecret, names.storageSecret, ...copyKey, ...pullSecrets], ns);
    });
    const copy = copyValues(values, names, prefix, ns, req.lean === true);
    target = new Kube({ ...kube.opts, namespace: ns });
    await progress.step(`install release '${release}' in namespace ${ns} and wait for it`, () =>
      installCopy(target, release, copy),
    );
    jobValues = restoreValues(copy, req, id, prefix);
  }
  // Reading another region's copy: only the Job reads from it; the release (or its copy) keeps its own bucket.
  if (source) jobValues = sourceValues(jobValues, source);
  const manifest = await renderRestoreJob(target, release, jobValues, target.namespace);
  const applied = await target.kubectl(['apply', '-f', '-', '-o', 'name'], { input: manifest });
  const name = applied.stdout.trim().replace(/^job\.batch\//, '');
  const what = req.toTime
    ? `to ${req.toTime}`
    : req.toGtid
      ? `to GTID ${req.toGtid}`
      : 'to the newest archived transaction';
  const logs = await progress.step(`restore ${req.backupId ?? 'the newest backup'} ${what} (Job ${name})`, (step) =>
    waitForJob(target, name, opts.timeoutMs ?? 3_600_000, step),
  );
  return { namespace: target.namespace, job: name, result: resultLine(logs) };
}
