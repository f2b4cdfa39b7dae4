// The pure part of `kstack backup …` / `kstack restore` (src/stack/dr.ts): flag checks, the Job made from
// the chart's CronJob, the values of the restore Job and of a copy in another namespace, Job outcomes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { helmTemplate } from '../../../src/chart/helm.js';
import { parseManifests } from '../../../src/chart/manifests.js';
import {
  checkRestoreRequest,
  copyValues,
  cronJobFor,
  jobFromCronJob,
  jobOutcome,
  readingFrom,
  restoreValues,
  resultLine,
  sourceValues,
} from '../../../src/stack/dr.js';
import { imagePullSecretNames, secretCopy } from '../../../src/kube/kube.js';

describe('image pull Secrets of a release', () => {
  it('reads the names from global.imagePullSecrets (names or {name}), none when unset', () => {
    assert.deepEqual(imagePullSecretNames({ global: { imagePullSecrets: ['reg', { name: 'other' }, 3] } }), [
      'reg',
      'other',
    ]);
    assert.deepEqual(imagePullSecretNames({ global: {} }), []);
    assert.deepEqual(imagePullSecretNames({}), []);
  });
});

describe('kstack restore flags', () => {
  it('refuses a time and a GTID together, bad times, bad GTIDs and bad namespaces, naming the flag', () => {
    assert.throws(
      () => checkRestoreRequest({ toTime: '2026-11-25T18:00:00Z', toGtid: '0-1-2' }),
      /--to-time and --to-gtid both given/,
    );
    assert.throws(() => checkRestoreRequest({ toTime: '18:00' }), /--to-time: '18:00' is not a time/);
    assert.throws(() => checkRestoreRequest({ toGtid: 'abc' }), /--to-gtid: 'abc' is not a GTID/);
    assert.throws(
      () => checkRestoreRequest({ intoNamespace: 'Bad_NS' }),
      /--into-namespace 'Bad_NS' is not a namespace name/,
    );
    assert.deepEqual(checkRestoreRequest({ toGtid: '0-1-5', intoNamespace: 'restored' }), {
      toGtid: '0-1-5',
      intoNamespace: 'restored',
    });
  });
});

describe("Jobs from the chart's CronJobs", () => {
  it('finds the backup and verify CronJobs and turns one into a list Job with the same pod', async () => {
    const objs = parseManifests(
      await helmTemplate({
        release: 'ws',
        namespace: 'shop',
        values: { backup: { enabled: true, storage: { bucket: 'bkt' } } },
      }),
    );
    const cjs = objs.filter((o) => o.kind === 'CronJob') as unknown as k8s.V1CronJob[];
    const backup = cronJobFor(cjs, 'backup');
    assert.equal(backup?.metadata?.name, 'ws-webstack-backup');
    assert.equal(cronJobFor(cjs, 'verify')?.metadata?.name, 'ws-webstack-backup-verify');
    assert.ok(backup);
    const job = jobFromCronJob(backup, 'ws-list-1', 'list');
    const c = job.spec?.template.spec?.containers[0];
    assert.deepEqual(c?.command?.slice(-2), ['/opt/webstack-agent/kstack/dist/src/dr/main.js', 'list']);
    assert.equal(job.metadata?.namespace, 'shop');
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(
      job.metadata?.labels?.['app.kubernetes.io/component'],
      'backup',
      'the backup NetworkPolicy applies to it',
    );
    assert.deepEqual(job.spec?.template.spec?.volumes, backup.spec?.jobTemplate.spec?.template.spec?.volumes);
    assert.deepEqual(
      backup.spec?.jobTemplate.spec?.template.spec?.containers[0]?.command?.slice(-1),
      ['backup'],
      'the CronJob itself is unchanged',
    );
  });

  it("reads a Job's outcome and the result line a DR process prints last", () => {
    assert.equal(jobOutcome({ status: { conditions: [{ type: 'Complete', status: 'True' }] } }), 'succeeded');
    assert.equal(jobOutcome({ status: { conditions: [{ type: 'Failed', status: 'True' }] } }), 'failed');
    assert.equal(jobOutcome({ status: { active: 1 } }), undefined);
    assert.deepEqual(resultLine('▸ dump\n✓ dump (3s)\n{"id":"x","bytes":5}\n'), { id: 'x', bytes: 5 });
    assert.equal(resultLine('no json here'), undefined);
  });
});

describe('restore values', () => {
  const values = {
    db: { mode: 'galera' },
    backup: {
      enabled: true,
      storage: {
        bucket: 'bkt',
        prefix: 'prod',
        credentials: { accessKeyId: 'AK', secretAccessKey: 'SK', existingSecret: '' },
      },
    },
  };
  it('turns the restore Job on with the target, keeping every other value', () => {
    const v = restoreValues(values, { toTime: '2026-11-25T18:00:00Z' }, 'r1');
    assert.deepEqual((v.backup as { restore: unknown }).restore, {
      enabled: true,
      backupId: '',
      toTime: '2026-11-25T18:00:00Z',
      toGtid: '',
      runId: 'r1',
      sourcePrefix: '',
    });
    assert.deepEqual(v.db, values.db);
    assert.equal((v.backup as { storage: { bucket: string } }).storage.bucket, 'bkt');
  });
  it('a copy in another namespace uses the copied Secrets and archives to its own prefix', () => {
    const v = copyValues(
      values,
      { keySecret: 'ws-webstack-backup-key', storageSecret: 'ws-webstack-backup-storage' },
      'prod',
      'restored',
    );
    const b = v.backup as {
      storage: { prefix: string; credentials: { existingSecret: string } };
      encryption: { existingSecret: string };
    };
    assert.equal(b.storage.prefix, 'prod-restored-restored');
    assert.equal(b.storage.credentials.existingSecret, 'ws-webstack-backup-storage');
    assert.equal(b.encryption.existingSecret, 'ws-webstack-backup-key');
  });
  it('a lean copy runs a standalone db, one web replica and no podwatch, and keeps the rest', () => {
    const v = copyValues(
      { ...values, web: { replicaCount: 3, service: { port: 80 } } },
      { keySecret: 'k', storageSecret: 's' },
      'prod',
      'drill',
      true,
    );
    assert.deepEqual(
      [(v.db as { mode: string }).mode, (v.db as { replicaCount: number }).replicaCount],
      ['standalone', 1],
      'the schema allows standalone with one member only',
    );
    assert.equal((v.web as { replicaCount: number; service: unknown }).replicaCount, 1);
    assert.deepEqual((v.web as { service: unknown }).service, { port: 80 });
    assert.equal((v.podwatch as { enabled: boolean }).enabled, false);
    assert.equal(
      copyValues(values, { keySecret: 'k', storageSecret: 's' }, 'prod', 'drill').podwatch,
      undefined,
      'only a lean copy changes podwatch',
    );
    assert.throws(() => checkRestoreRequest({ lean: true }), {
      message: /^--lean shapes the copy made with --into-namespace/,
    });
  });
  it("copies a Secret's data into another namespace without server fields", () => {
    const s = secretCopy(
      {
        metadata: { name: 'k', namespace: 'a', uid: 'u', resourceVersion: '5' },
        data: { 'backup-key': 'eA==' },
        type: 'Opaque',
      },
      'b',
    );
    assert.deepEqual(s.metadata?.name, 'k');
    assert.equal(s.metadata?.namespace, 'b');
    assert.equal(s.metadata?.uid, undefined);
    assert.deepEqual(s.data, { 'backup-key': 'eA==' });
    assert.equal(s.metadata?.labels?.['app.kubernetes.io/managed-by'], 'kstack');
  });
  it("marks a copy as a helm release's when the release is to adopt it, and keeps it on uninstall", () => {
    const s = secretCopy({ metadata: { name: 'db-tls-ca', namespace: 'a' }, data: { 'ca.crt': 'eA==' } }, 'b', {
      release: 'web',
    });
    assert.equal(s.metadata?.labels?.['app.kubernetes.io/managed-by'], 'Helm');
    assert.deepEqual(s.metadata?.annotations, {
      'meta.helm.sh/release-name': 'web',
      'meta.helm.sh/release-namespace': 'b',
      'helm.sh/resource-policy': 'keep',
    });
    assert.deepEqual(s.data, { 'ca.crt': 'eA==' });
  });
});

describe("reading another region's copy of the backups (--from-region)", () => {
  const source = { bucket: 'kstack-backups-from-east', keySecret: 'kstack-backup-key-from-east' };
  const env = (c: k8s.V1Container | undefined, name: string): string | undefined =>
    c?.env?.find((e) => e.name === name)?.value;

  it("points a verify Job and the restore Job at the copy's bucket and key, and nothing else", async () => {
    const values = {
      backup: { enabled: true, storage: { bucket: 'kstack-backups' }, restore: { enabled: true, runId: 'r1' } },
    };
    const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: 'shop', values }));
    const cj = cronJobFor(
      objs.filter((o) => o.kind === 'CronJob'),
      'verify',
    );
    assert.ok(cj);
    const job = readingFrom(jobFromCronJob(cj, 'ws-verify-1', 'verify'), source);
    const pod = job.spec?.template.spec;
    assert.equal(env(pod?.containers[0], 'KSTACK_DR_S3_BUCKET'), 'kstack-backups-from-east');
    assert.equal(pod?.volumes?.find((v) => v.name === 'backup-key')?.secret?.secretName, source.keySecret);
    assert.equal(
      pod?.volumes?.find((v) => v.name === 'backup-storage')?.secret?.secretName,
      'ws-webstack-backup-storage',
      "the same S3 server's credentials",
    );
    const restore = parseManifests(
      await helmTemplate({ release: 'ws', namespace: 'shop', values: sourceValues(values, source) }),
    ).find((o) => o.kind === 'Job') as unknown as k8s.V1Job | undefined;
    const rpod = restore?.spec?.template.spec;
    assert.equal(env(rpod?.containers[0], 'KSTACK_DR_S3_BUCKET'), 'kstack-backups-from-east');
    assert.equal(rpod?.volumes?.find((v) => v.name === 'backup-key')?.secret?.secretName, source.keySecret);
    assert.throws(() => readingFrom({ spec: { template: { spec: { containers: [] } } } }, source), /no KSTACK_DR_S3/);
  });
});
