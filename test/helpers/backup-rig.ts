// What the logical and physical backup tests share: a source mariadbd with binary logging and a MinIO
// bucket on loopback, a fresh key, and a writer that commits one acknowledged row per transaction into
// app.acks while a backup runs (so a test can check the backup against exactly what was acknowledged).
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DbTarget } from '../../src/dr/db.js';
import { parseKey, type EncryptionKey } from '../../src/dr/encrypt.js';
import type { ObjectStore } from '../../src/s3/object-store.js';
import { ScratchDb } from '../../src/dr/scratch-db.js';
import { MinioServer } from './minio.js';

/** A root target over the server's socket. */
export const socketTarget = (db: ScratchDb): DbTarget => ({
  socket: db.socket,
  host: '',
  port: 0,
  user: 'root',
  password: '',
});

/** The sequence number of domain 0 in a GTID position ('0-1-42' → 42). */
export const seqOf = (gtid: string): number =>
  Number(
    gtid
      .split(',')
      .map((g) => g.split('-'))
      .find((p) => p[0] === '0')?.[2] ?? 0,
  );

export interface BackupRig {
  dir: string;
  minio: MinioServer;
  store: ObjectStore;
  source: ScratchDb;
  key: EncryptionKey;
  /** Stops MinIO and the source and removes the folder; safe after a partial start. */
  destroy(): Promise<void>;
}

/** Starts MinIO and a source with binary logging under a new temp folder; `storePrefix` is the bucket prefix. */
export async function startBackupRig(folderPrefix: string, storePrefix: string): Promise<BackupRig> {
  const dir = mkdtempSync(join(tmpdir(), folderPrefix));
  chmodSync(dir, 0o755);
  const started = await Promise.allSettled([
    MinioServer.start(join(dir, 'minio')),
    ScratchDb.start({ dir: join(dir, 'source'), extra: ['log-bin=binlog', 'server-id=1', 'binlog-format=ROW'] }),
  ]);
  const [m, s] = started;
  const minio = m.status === 'fulfilled' ? m.value : undefined;
  const source = s.status === 'fulfilled' ? s.value : undefined;
  const stores: ObjectStore[] = [];
  const destroy = async (): Promise<void> => {
    for (const s of stores) s.destroy();
    await Promise.allSettled([minio?.stop(false), source?.stop(false)]);
    rmSync(dir, { recursive: true, force: true });
  };
  if (!minio || !source) {
    await destroy();
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    throw failed?.reason instanceof Error ? failed.reason : new Error('the backup rig did not start');
  }
  const store = await minio.store('backups', storePrefix).catch(async (err: unknown) => {
    await destroy();
    throw err;
  });
  stores.push(store);
  return { dir, minio, store, source, key: parseKey(randomBytes(32), 'test key'), destroy };
}

export interface UnderWriter<T> {
  result: T;
  /** GTID sequence (domain 0) before the writer started: transaction s0+n inserted row n. */
  s0: number;
  /** Rows acknowledged when the backup started, and when it returned. */
  ackedBefore: number;
  ackedAfterBackup: number;
}

/**
 * Runs `backup` while one writer inserts rows 1, 2, … into app.acks (id, note, at), one per transaction;
 * the backup starts after 300 acknowledged rows, and the writer goes on for `moreAfter` rows once it returned.
 */
export async function backupUnderWriter<T>(
  source: ScratchDb,
  backup: () => Promise<T>,
  moreAfter = 0,
): Promise<UnderWriter<T>> {
  const c = await source.connect();
  let stop = false;
  let acked = 0;
  let writer: Promise<void> = Promise.resolve();
  try {
    const [g0] = await c.query<{ g: string }[]>('SELECT @@gtid_binlog_pos AS g');
    const s0 = seqOf(g0?.g ?? '');
    writer = (async () => {
      while (!stop) {
        await c.query('INSERT INTO app.acks (id, note, at) VALUES (?, NULL, NOW(6))', [acked + 1]);
        acked++;
        if (acked % 50 === 0) await sleep(5);
      }
    })();
    while (acked < 300) await sleep(50);
    const ackedBefore = acked;
    const result = await backup();
    const ackedAfterBackup = acked;
    while (acked < ackedAfterBackup + moreAfter) await sleep(50);
    return { result, s0, ackedBefore, ackedAfterBackup };
  } finally {
    stop = true;
    await writer;
    await c.end();
  }
}
