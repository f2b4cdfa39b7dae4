// Point-in-time recovery with real MariaDB (Debian's mariadbd, on loopback) and a real MinIO: a member
// with binary logging as the chart configures it, a base backup (src/dr/backup.ts), the binlog archiver
// shipping its closed files encrypted, then the restore Job's code path (runRestore + the PITR hook of
// src/dr/pitr-main.ts) into a fresh server to a time and to a GTID between two known writes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopbackCluster, MARIADBD } from '../../helpers/galera-loopback.js';
import { silentProgress } from '../../../src/util/progress.js';
import { BinlogArchiver, readAllIndexes } from '../../../src/dr/binlog-archiver.js';
import { keySealer, s3ArchiveStore } from '../../../src/dr/binlog-store.js';
import { runBackup } from '../../../src/dr/backup.js';
import type { EncryptionKey } from '../../../src/dr/encrypt.js';
import type { Manifest } from '../../../src/dr/manifest.js';
import { runRestore } from '../../../src/dr/restore.js';
import type { ObjectStore } from '../../../src/s3/object-store.js';
import { pitrHook, withBaseBackup } from '../../../src/dr/pitr-main.js';
import { startPitrRig, type PitrRig } from '../../helpers/pitr-rig.js';
import { requireFiles } from '../../helpers/require-tools.js';

const groups = (...tags: string[]): string[] => tags.flatMap((g) => Array.from({ length: 10 }, () => g));

describe('dr: point-in-time recovery from archived binlogs', { timeout: 300_000 }, () => {
  requireFiles([MARIADBD]);
  const dir = mkdtempSync(join(tmpdir(), 'kstack-pitr-'));
  chmodSync(dir, 0o755);
  let src: LoopbackCluster | undefined;
  let dst: LoopbackCluster | undefined;
  let store: ObjectStore;
  let key: EncryptionKey;
  let env: NodeJS.ProcessEnv;
  let backup: Manifest;
  let afterB = '';
  let timeBC = 0;
  let archiver: BinlogArchiver | undefined;

  let rig: PitrRig | undefined;

  before(async () => {
    rig = await startPitrRig(dir, 'pitr');
    ({ src, dst, store, key, env } = rig);
  });
  after(async () => {
    await rig?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('archives the closed binlogs of a member with writes A, a backup, writes B, then C a second later', async () => {
    assert.ok(src);
    const c = await src.connect('src-0', 'root');
    try {
      await c.query('CREATE TABLE t (id INT PRIMARY KEY, tag CHAR(1))');
      for (let i = 1; i <= 10; i++) await c.query('INSERT INTO t VALUES (?, ?)', [i, 'A']);
      backup = await runBackup({
        db: {
          socket: undefined,
          host: '127.0.0.1',
          port: src.member('src-0').sqlPort,
          user: 'root',
          password: src.rootPassword,
        },
        store,
        key,
        progress: silentProgress,
        member: 'src-0',
      });
      assert.match(backup.position.gtid, /^\d+-\d+-\d+/);
      for (let i = 11; i <= 20; i++) await c.query('INSERT INTO t VALUES (?, ?)', [i, 'B']);
      afterB = (await c.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p'))[0]?.p ?? '';
      await sleep(1100);
      timeBC = Math.floor(Date.now() / 1000);
      for (let i = 21; i <= 30; i++) await c.query('INSERT INTO t VALUES (?, ?)', [i, 'C']);
    } finally {
      await c.end();
    }
    archiver = new BinlogArchiver({
      connect: () => src!.connect('src-0', 'root'),
      binlogDir: src.dataDir('src-0'),
      stream: 'src-0',
      prefix: 'ws',
      store: s3ArchiveStore(store),
      sealer: keySealer(key),
    });
    const shipped = await archiver.tick();
    assert.ok(shipped.length >= 1, 'at least the file with A, B and C was shipped');
    assert.equal(archiver.lagSeconds(), 0, 'everything logged is archived');
    assert.match(archiver.metrics(), /kstack_binlog_archive_lag_seconds\{stream="src-0"\} 0\.000/);
    const [index] = await readAllIndexes(s3ArchiveStore(store), 'ws');
    assert.equal(index?.stream, 'src-0');
    const sealed = await store.getBytes(index.files.at(-1)?.key ?? '');
    assert.ok(!sealed.includes(Buffer.from('mariadb-bin')), 'archived binlogs are encrypted');
    const c2 = await src.connect('src-0', 'root');
    const pos = (await c2.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p'))[0]?.p;
    await c2.end();
    assert.equal(archiver.status.lastArchivedGtid, pos);
  });

  /** What the restore Job runs: the base backup chosen for the target, the dump, then the PITR hook. */
  async function restoreTo(flags: Record<string, string>): Promise<string[]> {
    assert.ok(dst);
    const m = dst.member('dst-0');
    const argv = await withBaseBackup(['restore', ...Object.entries(flags).map(([k, v]) => `--${k}=${v}`)], env);
    const chosen = /--backup=(.+)/.exec(argv.at(-1) ?? '')?.[1];
    if (Object.keys(flags).length > 0)
      assert.equal(chosen, backup.id, 'the only backup, taken before the target, is the base');
    const target = { socket: undefined, host: '127.0.0.1', port: m.sqlPort, user: 'root', password: dst.rootPassword };
    await runRestore({
      store,
      key,
      target,
      progress: silentProgress,
      backupId: backup.id,
      afterDump: pitrHook(flags, env),
    });
    const r = await dst.connect('dst-0', 'root');
    try {
      return (await r.query<{ tag: string }[]>('SELECT tag FROM t ORDER BY id')).map((x) => x.tag);
    } finally {
      await r.end();
    }
  }

  it('PITR to a time between B and C gives back exactly A + B', async () => {
    const tags = await restoreTo({ 'to-time': new Date(timeBC * 1000).toISOString() });
    assert.deepEqual(tags, groups('A', 'B'));
  });

  it('PITR to the GTID of the last B write gives back exactly A + B', async () => {
    const tags = await restoreTo({ 'to-gtid': afterB });
    assert.deepEqual(tags, groups('A', 'B'));
  });

  it('PITR to the end of the archive gives back A + B + C', async () => {
    const tags = await restoreTo({});
    assert.deepEqual(tags, groups('A', 'B', 'C'));
  });
});
