// Backups on the local cluster end to end: `kstack up` turns them on against the cluster's own S3 server
// (MinIO on the node bridge's gateway, started by `cluster up`), and every db member's binlog archiver
// ships into its bucket through the release's NetworkPolicies. Not yet here: the backup, verify and
// restore Jobs (docs/dr.md, "On the local cluster": the backup Job's root login from a pod is refused).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { clusterLayout } from '../../src/cluster/layout.js';
import { localS3Config, localS3Credentials, localS3CredentialsFile, LOCAL_S3_BUCKET } from '../../src/cluster/addons/local-s3.js';
import { networkPlanFor, defaultNodeSettings } from '../../src/cluster/nodes/cluster-nodes.js';
import { ObjectStore } from '../../src/dr/s3.js';
import { stackDown, stackUp, type StackUpResult } from '../../src/stack/up.js';
import { createProgress } from '../../src/util/progress.js';
import { eventually } from '../helpers/cluster.js';

const CLUSTER = 'drlocal-e2e';
const NS = 'webstack';
const baseDir = mkdtempSync(join(tmpdir(), 'kstack-drlocal-'));
const progress = createProgress();
let result: StackUpResult | undefined;

/** Every key in the local S3 bucket, read from this host with the cluster's kept credentials. */
async function bucketKeys(): Promise<string[]> {
  const creds = localS3Credentials(clusterLayout(CLUSTER, baseDir), false);
  assert.ok(creds, 'the cluster keeps local S3 credentials');
  const store = new ObjectStore(localS3Config(networkPlanFor(CLUSTER, defaultNodeSettings()).gateway, creds, ''));
  try {
    const list = await store.client.send(new ListObjectsV2Command({ Bucket: LOCAL_S3_BUCKET }));
    return (list.Contents ?? []).map((o) => o.Key ?? '');
  } finally { store.client.destroy(); }
}

describe('backups on the local cluster (local S3, binlog archiving)', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    result = await stackUp({ namespace: NS, release: 'web', valuesFiles: [], clusterName: CLUSTER, baseDir, timeoutMs: 10 * 60_000, progress });
  });
  after(async () => {
    result?.page.stop();
    result?.podwatch?.stop();
    await stackDown({ namespace: NS, release: 'web', clusterName: CLUSTER, baseDir, all: true, progress }).catch(() => undefined);
    rmSync(baseDir, { recursive: true, force: true });
  });

  it('keeps the local S3 credentials in the cluster folder, readable by the owner only', () => {
    assert.equal(statSync(localS3CredentialsFile(clusterLayout(CLUSTER, baseDir))).mode & 0o777, 0o600);
  });

  it('has every db member\'s binlog archiver ship binlogs into the local bucket (egress to the S3 endpoint allowed)', async () => {
    const keys = await eventually('binlogs of 3 members in the bucket', async () => {
      const k = await bucketKeys();
      const members = new Set(k.filter((x) => x.startsWith('webstack/binlogs/') && x.endsWith('/index.json')).map((x) => x.split('/')[2]));
      return members.size === 3 ? k : undefined;
    }, 180_000);
    assert.ok(keys.some((k) => /^webstack\/binlogs\/[^/]+\/mariadb-bin\.\d+/.test(k)), `an archived binlog among ${keys.join(', ')}`);
  });
});
