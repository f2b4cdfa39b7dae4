// The local cluster's object storage: a MinIO (built from its pinned Go module) run on the host as an
// add-on process, like the local-path provisioner. It listens on the node bridge's gateway address
// (10.77.<k>.1), where pods reach the host; its data and the credentials (generated once, mode 0600) live
// under the cluster's folder, so `down` removes them with the cluster.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { ObjectStore, type StorageConfig } from '../../s3/object-store.js';
import { UserError } from '../../util/errors.js';
import { executableOf, startDaemon } from '../../util/process.js';
import type { ClusterLayout } from '../layout.js';

export const LOCAL_S3_PORT = 9000;
export const LOCAL_S3_CONSOLE_PORT = 9001;
export const LOCAL_S3_BUCKET = 'kstack-backups';

export interface LocalS3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export const localS3Dir = (layout: ClusterLayout): string => join(layout.root, 's3');
export const localS3CredentialsFile = (layout: ClusterLayout): string => join(layout.config, 'local-s3.json');

export function localS3Endpoint(gateway: string): string {
  return `http://${gateway}:${LOCAL_S3_PORT}`;
}

/** Fresh credentials: MinIO wants an access key of at least 3 and a secret of at least 8 characters. */
export function newCredentials(random: (n: number) => Buffer = randomBytes): LocalS3Credentials {
  return { accessKeyId: `kstack${random(8).toString('hex')}`, secretAccessKey: random(24).toString('base64url') };
}

/** Parses the credentials file; a wrong one names the field. */
export function parseCredentials(text: string, file: string): LocalS3Credentials {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserError(`${file} is not JSON; delete it and run 'kstack cluster up' again to make new credentials`);
  }
  const r = raw as Partial<Record<keyof LocalS3Credentials, unknown>>;
  for (const k of ['accessKeyId', 'secretAccessKey'] as const) {
    if (typeof r[k] !== 'string' || r[k].length < (k === 'accessKeyId' ? 3 : 8)) {
      throw new UserError(
        `${file}: ${k} must be a string (access key ≥ 3, secret ≥ 8 ` +
          `characters); delete the file and run 'kstack cluster up' again`,
      );
    }
  }
  return { accessKeyId: r.accessKeyId as string, secretAccessKey: r.secretAccessKey as string };
}

/** The credentials of the cluster's MinIO: read when kept, otherwise generated once and written 0600. */
export function localS3Credentials(layout: ClusterLayout, create = true): LocalS3Credentials | undefined {
  const file = localS3CredentialsFile(layout);
  if (existsSync(file)) return parseCredentials(readFileSync(file, 'utf8'), file);
  if (!create) return undefined;
  const creds = newCredentials();
  mkdirSync(layout.config, { recursive: true });
  writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  return creds;
}

/** The storage target of the local cluster (what the backup Jobs and `kstack backup` use). */
export function localS3Config(gateway: string, creds: LocalS3Credentials, prefix: string): StorageConfig {
  return {
    endpoint: localS3Endpoint(gateway),
    bucket: LOCAL_S3_BUCKET,
    prefix,
    region: 'us-east-1',
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    forcePathStyle: true,
  };
}

/** Starts MinIO unless it runs, waits until it is ready and makes the bucket. Returns the process entry. */
export async function ensureLocalS3(
  layout: ClusterLayout,
  gateway: string,
  binary: string,
  running: { pid: number; binary: string } | undefined,
): Promise<{ pid: number; binary: string }> {
  const creds = localS3Credentials(layout) as LocalS3Credentials;
  let entry = running;
  const log = join(layout.logs, 'local-s3.log');
  if (!entry || executableOf(entry.pid) !== entry.binary) {
    mkdirSync(join(localS3Dir(layout), 'data'), { recursive: true });
    const pid = startDaemon({
      binary,
      args: [
        'server',
        join(localS3Dir(layout), 'data'),
        '--quiet',
        '--address',
        `${gateway}:${LOCAL_S3_PORT}`,
        '--console-address',
        `${gateway}:${LOCAL_S3_CONSOLE_PORT}`,
      ],
      logFile: log,
      env: {
        ...process.env,
        MINIO_ROOT_USER: creds.accessKeyId,
        MINIO_ROOT_PASSWORD: creds.secretAccessKey,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
      },
    });
    entry = { pid, binary };
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (executableOf(entry.pid) !== entry.binary)
      throw new UserError(`the local S3 server (MinIO) exited while starting; see ${log}`);
    try {
      const res = await fetch(`${localS3Endpoint(gateway)}/minio/health/ready`, { signal: AbortSignal.timeout(2000) });
      await res.text();
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline)
      throw new UserError(`the local S3 server (MinIO) did not become ready in 60 s; see ${log}`);
    await sleep(250);
  }
  const store = new ObjectStore(localS3Config(gateway, creds, ''), { maxAttempts: 3, requestTimeoutMs: 30_000 });
  try {
    try {
      await store.client.send(new HeadBucketCommand({ Bucket: LOCAL_S3_BUCKET }));
    } catch {
      await store.client.send(new CreateBucketCommand({ Bucket: LOCAL_S3_BUCKET }));
    }
  } finally {
    store.client.destroy();
  }
  return entry;
}

/** The Secret (in the release's namespace) the chart's backup Jobs read the local S3 credentials from. */
export const LOCAL_S3_SECRET = 'kstack-local-s3';

export function localS3Secret(namespace: string, creds: LocalS3Credentials): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: LOCAL_S3_SECRET, namespace, labels: { 'app.kubernetes.io/managed-by': 'kstack' } },
    stringData: { 'access-key-id': creds.accessKeyId, 'secret-access-key': creds.secretAccessKey },
  };
}

/** Chart values that turn backups on against the local S3 server (the static parts are in values-local.yaml). */
export function localS3Values(gateway: string): object {
  return {
    backup: {
      enabled: true,
      storage: {
        endpoint: localS3Endpoint(gateway),
        bucket: LOCAL_S3_BUCKET,
        credentials: { existingSecret: LOCAL_S3_SECRET },
      },
    },
    networkPolicy: { objectStorage: { cidrs: [`${gateway}/32`], ports: [LOCAL_S3_PORT] } },
  };
}
