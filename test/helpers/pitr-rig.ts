// What the PITR tests share: a source member with binary logging, an empty target member (both real
// mariadbd on loopback), a real MinIO bucket, and an encryption key file with the env the DR entry
// points read.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoopbackCluster } from './galera-loopback.js';
import { parseKey, type EncryptionKey } from '../../src/dr/encrypt.js';
import type { ObjectStore } from '../../src/s3/object-store.js';
import { MinioServer } from './minio.js';

export interface PitrRig {
  src: LoopbackCluster;
  dst: LoopbackCluster;
  minio: MinioServer;
  store: ObjectStore;
  key: EncryptionKey;
  env: NodeJS.ProcessEnv;
  /** Stops MinIO and both members; safe after a partial start. */
  destroy(): Promise<void>;
}

/** Starts the rig under `dir` with the bucket `bucket` (prefix "ws"); waits until both members answer. */
export async function startPitrRig(dir: string, bucket: string): Promise<PitrRig> {
  let src: LoopbackCluster | undefined;
  let dst: LoopbackCluster | undefined;
  let minio: MinioServer | undefined;
  const destroy = async (): Promise<void> => {
    await minio?.stop();
    await src?.destroy();
    await dst?.destroy();
  };
  try {
    src = await LoopbackCluster.create({
      baseDir: join(dir, 'src'),
      size: 1,
      mode: 'standalone',
      prefix: 'src',
      baseConfig: { binlog: true },
    });
    dst = await LoopbackCluster.create({ baseDir: join(dir, 'dst'), size: 1, mode: 'standalone', prefix: 'dst' });
    src.startAll();
    dst.startAll();
    minio = await MinioServer.start(join(dir, 'minio'));
    const store = await minio.store(bucket, 'ws');
    const keyBytes = randomBytes(32);
    const key = parseKey(keyBytes, 'test key');
    writeFileSync(join(dir, 'key'), keyBytes, { mode: 0o600 });
    const env = { ...process.env, ...minio.env(bucket, 'ws'), KSTACK_DR_KEY_FILE: join(dir, 'key') };
    await Promise.all([src.waitReady(), dst.waitReady()]);
    return { src, dst, minio, store, key, env, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}
