// Backups on the local cluster end to end: `kstack up` turns them on against the cluster's own S3 server
// (MinIO on the node bridge's gateway, started by `cluster up`); every db member's binlog archiver ships
// into its bucket; the chart's backup CronJob, run by hand (`kubectl create job --from`), logs in with its
// own account, backs up one member and leaves a manifest with row counts; the verify CronJob passes and the
// archivers expose backup_verified_timestamp; `kstack restore --into-namespace` brings the data up in a new
// namespace, and the restored release's page serves it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { clusterLayout } from '../../src/cluster/layout.js';
import {
  localS3Config,
  localS3Credentials,
  localS3CredentialsFile,
  LOCAL_S3_BUCKET,
} from '../../src/cluster/addons/local-s3.js';
import { networkPlanFor, defaultNodeSettings } from '../../src/cluster/nodes/cluster-nodes.js';
import { parseManifest, parseVerification, type Manifest } from '../../src/dr/manifest.js';
import { ObjectStore } from '../../src/s3/object-store.js';
import { Kube } from '../../src/kube/kube.js';
import { resolveTarget } from '../../src/prove/run.js';
import { dbSql } from '../../src/prove/requirements/stack.js';
import { jobOutcome, resultLine, runRestoreJob } from '../../src/stack/dr.js';
import { portForward } from '../../src/stack/port-forward.js';
import { stackUp, type StackUpResult } from '../../src/stack/up.js';
import { createProgress } from '../../src/util/progress.js';
import { eventually } from '../helpers/cluster.js';
import { e2eCluster, leaveStack } from '../helpers/e2e-cluster.js';

const NS = 'webstack';
const RESTORED_NS = 'drjobs-restored';
const RELEASE = 'web';
const own = e2eCluster('drjobs-e2e');
const { name: CLUSTER, baseDir } = own;
const progress = createProgress();
let result: StackUpResult | undefined;
let kube: Kube;

function store(): ObjectStore {
  const creds = localS3Credentials(clusterLayout(CLUSTER, baseDir), false);
  assert.ok(creds, 'the cluster keeps local S3 credentials');
  return new ObjectStore(localS3Config(networkPlanFor(CLUSTER, defaultNodeSettings()).gateway, creds, ''));
}

/** Every key in the local S3 bucket, read from this host with the cluster's kept credentials. */
async function bucketKeys(): Promise<string[]> {
  const s = store();
  try {
    const list = await s.client.send(new ListObjectsV2Command({ Bucket: LOCAL_S3_BUCKET }));
    return (list.Contents ?? []).map((o) => o.Key ?? '');
  } finally {
    s.destroy();
  }
}

async function bucketJson(key: string): Promise<unknown> {
  const s = store();
  try {
    return JSON.parse((await s.getBytes(key)).toString('utf8')) as unknown;
  } finally {
    s.destroy();
  }
}

/** `kubectl create job --from=cronjob/<name>`, then waits for it; returns its result line and logs. */
async function runFromCronJob(
  cronJob: string,
  job: string,
  timeoutMs: number,
): Promise<{ result: unknown; logs: string }> {
  await kube.kubectl(['create', 'job', `--from=cronjob/${cronJob}`, job]);
  const outcome = await eventually(
    `Job ${job} finished`,
    async () => jobOutcome(await kube.json<k8s.V1Job>(['get', 'job', job])),
    timeoutMs,
  );
  const logs = (await kube.kubectl(['logs', `job/${job}`, '--all-containers', '--tail=100'], { allowFailure: true }))
    .stdout;
  assert.equal(outcome, 'succeeded', `Job ${job} ${outcome}; its log:\n${logs}`);
  return { result: resultLine(logs), logs };
}

const firstDbPod = `${RELEASE}-webstack-db-0`;

/** The /metrics text of the first member's binlog archiver sidecar (its port, 9106, from the chart's defaults). */
async function archiverMetrics(): Promise<string> {
  const res = await kube.exec(
    firstDbPod,
    'binlog-archiver',
    [
      '/opt/webstack-agent/node',
      '-e',
      "fetch('http://127.0.0.1:9106/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))",
    ],
    { allowFailure: true },
  );
  return res.stdout;
}
const MARKS = 'kstack_drjobs.marks';

async function visitsIn(k: Kube, pod: string): Promise<number> {
  const rows = await dbSql(k, pod, 'SELECT visits FROM app.webinfo_visits WHERE id = 1');
  return Number(rows[0]?.[0] ?? 0);
}

/** The visit number the page shows: its live data ("visit N, answered by …") comes from /api/info. */
async function pageVisit(url: string): Promise<number | undefined> {
  const res = await fetch(new URL('api/info', url), { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
  if (!res?.ok) return undefined;
  const info = (await res.json().catch(() => undefined)) as { data?: { ok?: boolean; message?: string } } | undefined;
  const m = /visit (\d+), answered by/.exec(info?.data?.ok === true ? (info.data.message ?? '') : '');
  return m ? Number(m[1]) : undefined;
}

describe('backups on the local cluster: backup, verify and restore Jobs', { timeout: 45 * 60_000 }, () => {
  let manifest: Manifest;
  let visitsAtBackup = 0;

  before(async () => {
    result = await stackUp({
      namespace: NS,
      release: RELEASE,
      valuesFiles: [],
      clusterName: CLUSTER,
      baseDir,
      timeoutMs: 12 * 60_000,
      progress,
    });
    kube = (await resolveTarget({ clusterName: CLUSTER, baseDir, namespace: NS, progress })).kube;
  });
  after(async () => {
    if (kube) {
      await kube
        .helm(['uninstall', RELEASE, '--namespace', RESTORED_NS, '--wait', '--timeout', '5m'], { allowFailure: true })
        .catch(() => undefined);
      await kube
        .kubectl(['delete', 'namespace', RESTORED_NS, '--wait=true', '--timeout=180s'], {
          clusterScope: true,
          allowFailure: true,
        })
        .catch(() => undefined);
    }
    await leaveStack(own, result, progress, { namespace: NS, release: RELEASE });
  });

  it('keeps the local S3 credentials in the cluster folder, readable by the owner only', () => {
    assert.equal(statSync(localS3CredentialsFile(clusterLayout(CLUSTER, baseDir))).mode & 0o777, 0o600);
  });

  it(
    "has every db member's binlog archiver ship binlogs into " + 'the local bucket (egress to the S3 endpoint allowed)',
    async () => {
      const keys = await eventually(
        'binlogs of 3 members in the bucket',
        async () => {
          const k = await bucketKeys();
          const members = new Set(
            k.filter((x) => x.startsWith('webstack/binlogs/') && x.endsWith('/index.json')).map((x) => x.split('/')[2]),
          );
          return members.size === 3 ? k : undefined;
        },
        180_000,
      );
      assert.ok(
        keys.some((k) => /^webstack\/binlogs\/[^/]+\/mariadb-bin\.\d+/.test(k)),
        `an archived binlog among ${keys.join(', ')}`,
      );
    },
  );

  it(
    'the backup CronJob, run by hand, backs up one member with its own account; ' +
      'the manifest has the rows written through the page and the db',
    async () => {
      // Known data: page visits (the page's counter row) and 25 marker rows.
      assert.ok(result);
      const page = result.page.url;
      await eventually('the page shows live data', () => pageVisit(page), 120_000);
      for (let i = 0; i < 4; i++)
        assert.ok((await pageVisit(page)) !== undefined, 'the page answers with a visit number');
      await dbSql(
        kube,
        firstDbPod,
        `CREATE DATABASE IF NOT EXISTS kstack_drjobs; ` +
          `CREATE TABLE IF NOT EXISTS ${MARKS} (id INT PRIMARY KEY, note VARCHAR(32)); ` +
          Array.from({ length: 25 }, (_, i) => `INSERT INTO ${MARKS} VALUES (${i + 1}, 'before-${i + 1}')`).join('; '),
      );
      visitsAtBackup = await visitsIn(kube, firstDbPod);
      assert.ok(visitsAtBackup >= 5, `visits counted: ${visitsAtBackup}`);

      const { result: line, logs } = await runFromCronJob(`${RELEASE}-webstack-backup`, 'drjobs-backup-1', 10 * 60_000);
      const id = (line as { id?: string } | undefined)?.id;
      assert.ok(id, `the backup printed its id:\n${logs}`);
      manifest = parseManifest(await bucketJson(`webstack/backups/${id}/manifest.json`));
      assert.equal(manifest.tables[MARKS]?.rows, 25);
      assert.equal(manifest.tables['app.webinfo_visits']?.rows, 1);
      assert.match(
        manifest.server.member,
        /^web-webstack-db-[0-2]$/,
        'the manifest names the one member the dump came from',
      );
      assert.match(manifest.position.gtid, /^0-1-\d+/);
      assert.match(logs, /choose a Synced member/);
    },
  );

  it(
    'the verify CronJob, run by hand, passes and records ' + 'backup_verified_timestamp, which the archivers expose',
    async () => {
      await runFromCronJob(`${RELEASE}-webstack-backup-verify`, 'drjobs-verify-1', 10 * 60_000);
      const v = parseVerification(await bucketJson(`webstack/backups/${manifest.id}/verification.json`));
      assert.equal(v.ok, true, `verification problems: ${v.problems.join('; ')}`);
      const verifiedAt = Math.floor(Date.parse(v.verifiedAt) / 1000);
      const metric = await eventually(
        'kstack_backup_verified_timestamp_seconds on an archiver',
        async () => {
          const m = /^kstack_backup_verified_timestamp_seconds (\d+)$/m.exec(await archiverMetrics());
          return m && Number(m[1]) >= verifiedAt ? Number(m[1]) : undefined;
        },
        240_000,
      );
      assert.equal(metric, verifiedAt);
    },
  );

  it('kstack restore --into-namespace brings the data up in a new namespace, and its page serves it', async () => {
    // A write after the backup: the restore replays the archived binlogs after the dump, so it comes too.
    // Restore once the archiver has shipped it (it flushes and ships every 30 s).
    const [[writtenAt = '0'] = []] = await dbSql(
      kube,
      firstDbPod,
      `INSERT INTO ${MARKS} VALUES (1000, 'after-backup'); SELECT UNIX_TIMESTAMP()`,
    );
    await eventually(
      'the write after the backup archived',
      async () => {
        const m = /^kstack_binlog_last_archived_transaction_timestamp_seconds\{[^}]*\} (\d+)$/m.exec(
          await archiverMetrics(),
        );
        return m && Number(m[1]) >= Number(writtenAt) ? true : undefined;
      },
      180_000,
    );
    const r = await runRestoreJob(kube, RELEASE, { intoNamespace: RESTORED_NS, lean: true }, progress, {
      timeoutMs: 15 * 60_000,
    });
    assert.equal(r.namespace, RESTORED_NS);
    assert.equal((r.result as { id?: string } | undefined)?.id, manifest.id, 'restored from the backup taken above');
    const restored = new Kube({ ...kube.opts, namespace: RESTORED_NS });
    const jobLog = (
      await restored.kubectl(['logs', `job/${r.job}`, '--all-containers', '--tail=60'], { allowFailure: true })
    ).stdout;
    process.stdout.write(`restore Job log:\n${jobLog}\n`);
    const marks = await dbSql(restored, firstDbPod, `SELECT id, note FROM ${MARKS} ORDER BY id`);
    assert.deepEqual(
      marks.slice(0, 25).map(([id]) => Number(id)),
      Array.from({ length: 25 }, (_, i) => i + 1),
      'every row written before the backup',
    );
    assert.deepEqual(
      marks.slice(25),
      [['1000', 'after-backup']],
      `the write after the backup, from the archived binlogs; the restore Job said:\n${jobLog}`,
    );
    const visits = await visitsIn(restored, firstDbPod);
    assert.ok(visits >= visitsAtBackup, `restored visit counter ${visits} ≥ ${visitsAtBackup} at the backup`);

    const svc = (
      await restored.json<{ items: k8s.V1Service[] }>([
        'get',
        'services',
        '-l',
        `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=web`,
      ])
    ).items[0];
    assert.ok(svc?.metadata?.name, 'the restored release has a web Service');
    const port = svc.spec?.ports?.find((p) => p.name === 'http') ?? svc.spec?.ports?.[0];
    const pf = await portForward(
      kube.opts.kubectl,
      kube.opts.kubeArgs,
      RESTORED_NS,
      svc.metadata.name,
      port?.port ?? 80,
    );
    try {
      const shown = await eventually('the restored page shows a visit number', () => pageVisit(pf.url), 120_000);
      assert.ok(
        shown > visits,
        `the restored release's page counts on from the restored counter: ` +
          `shows ${shown}, the restored row had ${visits}`,
      );
    } finally {
      pf.stop();
    }
  });
});
