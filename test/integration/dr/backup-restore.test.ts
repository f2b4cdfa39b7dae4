// Backups end to end with a real MariaDB (Debian mariadbd, private data dirs and sockets) and a real S3
// server (MinIO built from its Go module) on loopback: backup under a concurrent writer, restore, verify,
// damaged backups rejected, retention, and a storage outage in the middle of an upload.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backupUnderWriter, seqOf, socketTarget, startBackupRig, type BackupRig } from '../../helpers/backup-rig.js';
import type { MinioServer } from '../../helpers/minio.js';
import { DUMP_OBJECT, MANIFEST_OBJECT, backupKey, runBackup } from '../../../src/dr/backup.js';
import { listCatalog } from '../../../src/dr/catalog.js';
import { tableStats } from '../../../src/dr/db.js';
import { parseKey, type EncryptionKey } from '../../../src/dr/encrypt.js';
import { parseVerification, type Manifest } from '../../../src/dr/manifest.js';
import { runRestore } from '../../../src/dr/restore.js';
import { runRetention } from '../../../src/dr/retention.js';
import type { ObjectStore } from '../../../src/s3/object-store.js';
import { ScratchDb } from '../../../src/dr/scratch-db.js';
import { runVerify } from '../../../src/dr/verify.js';
import { silentProgress } from '../../../src/util/progress.js';

const target = socketTarget;

describe('dr: backup, verify, restore, retention on real MariaDB and MinIO', { timeout: 240_000 }, () => {
  let dir: string;
  let minio: MinioServer;
  let store: ObjectStore;
  let source: ScratchDb;
  let key: EncryptionKey;
  let first: Manifest;

  let rig: BackupRig | undefined;

  before(async () => {
    rig = await startBackupRig('kstack-dr-', 'it/webstack');
    ({ dir, minio, store, source, key } = rig);
    const c = await source.connect();
    try {
      await c.query('CREATE DATABASE app');
      await c.query('CREATE TABLE app.acks (id INT PRIMARY KEY, note VARCHAR(64), at DATETIME(6) NOT NULL)');
      await c.query(
        'CREATE TABLE app.misc (k VARCHAR(10) PRIMARY KEY, ' +
          'v BLOB NULL, d DECIMAL(10,2), f DOUBLE) DEFAULT CHARSET=utf8mb4',
      );
      await c.query(
        "INSERT INTO app.misc VALUES ('a', NULL, 1.50, 0.1), ('b', " +
          "'', NULL, 1e300), ('ü', UNHEX('00FF10'), -3.00, NULL)",
      );
      await c.query('CREATE VIEW app.recent AS SELECT id FROM app.acks WHERE id > 10');
      await c.query(
        'CREATE TRIGGER app.note_default BEFORE INSERT ON app.acks ' +
          "FOR EACH ROW SET NEW.note = COALESCE(NEW.note, 'trig')",
      );
      await c.query('CREATE PROCEDURE app.count_acks() SELECT COUNT(*) FROM app.acks');
      await c.query('CREATE DATABASE empty_db');
    } finally {
      await c.end();
    }
  });

  after(async () => {
    await rig?.destroy();
  });

  it(
    'backs up under a concurrent writer; the restore holds every row ' +
      'acknowledged before the backup and exactly the rows up to its GTID',
    async () => {
      const w = await backupUnderWriter(
        source,
        () => runBackup({ db: target(source), store, key, progress: silentProgress, member: 'source' }),
        100,
      );
      first = w.result;
      const { s0, ackedBefore, ackedAfterBackup } = w;

      const inDump = seqOf(first.position.gtid) - s0;
      assert.ok(
        inDump >= ackedBefore,
        `the backup's GTID covers ${inDump} writes; ${ackedBefore} were acknowledged before it started`,
      );
      assert.ok(
        inDump <= ackedAfterBackup,
        `the backup claims ${inDump} writes, only ${ackedAfterBackup} were acknowledged when it ended`,
      );
      assert.equal(first.tables['app.acks']?.rows, inDump, 'the manifest counts exactly the rows up to its GTID');
      assert.deepEqual(Object.keys(first.tables).sort(), ['app.acks', 'app.misc']);
      assert.equal(first.status, 'complete');
      assert.ok(first.object.dumpBytes > first.object.bytes, 'the dump was compressed');

      const fresh = await ScratchDb.start({ dir: join(dir, 'restore-1') });
      try {
        const r = await runRestore({ store, key, target: target(fresh), progress: silentProgress });
        assert.equal(r.manifest.id, first.id);
        const rc = await fresh.connect();
        try {
          const [row] = await rc.query<{ n: number; lo: number; hi: number }[]>(
            'SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM app.acks',
          );
          assert.deepEqual(row, { n: inDump, lo: 1, hi: inDump }, 'rows 1..N, no gap, nothing after the GTID position');
          const misc = await rc.query<{ k: string; v: Buffer | null }[]>('SELECT k, v FROM app.misc ORDER BY k');
          assert.deepEqual(
            misc.map((m) => [m.k, m.v === null ? null : m.v.toString('hex')]),
            [
              ['a', null],
              ['b', ''],
              ['ü', '00ff10'],
            ],
          );
          // Routines, triggers and views came along; the empty database too.
          await rc.query('INSERT INTO app.acks (id, at) VALUES (1000000, NOW())');
          const [t] = await rc.query<{ note: string }[]>('SELECT note FROM app.acks WHERE id = 1000000');
          assert.equal(t?.note, 'trig');
          const procs = await rc.query<unknown[]>("SHOW PROCEDURE STATUS WHERE Db = 'app'");
          assert.equal(procs.length, 1);
          const [v] = await rc.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM app.recent');
          assert.ok((v?.n ?? 0) > 0);
          const dbs = await rc.query<{ Database: string }[]>("SHOW DATABASES LIKE 'empty_db'");
          assert.equal(dbs.length, 1);
        } finally {
          await rc.end();
        }
      } finally {
        await fresh.stop(true);
      }
    },
  );

  it('verify restores the newest backup into a throw-away server and records backup_verified_timestamp', async () => {
    const v = await runVerify({ store, key, progress: silentProgress });
    assert.equal(v.backupId, first.id);
    assert.equal(v.ok, true);
    const stored = parseVerification(
      JSON.parse((await store.getBytes(backupKey(store, first.id, 'verification.json'))).toString('utf8')),
    );
    assert.deepEqual(stored, v);
  });

  it(
    'a manifest from before the one-pass checksum (64-bit ' +
      'CRC32|CRC32C sums) still verifies, and a wrong one fails',
    async () => {
      assert.ok(
        Object.values(first.tables).every((t) => t.checksum.startsWith('crc32c:')),
        'new backups record crc32c checksums',
      );
      // The older algorithm's sums of exactly the backed-up rows: from a restore of the backup.
      const fresh = await ScratchDb.start({ dir: join(dir, 'restore-legacy') });
      let legacy: Manifest['tables'];
      try {
        await runRestore({ store, key, target: target(fresh), progress: silentProgress, backupId: first.id });
        const rc = await fresh.connect();
        try {
          legacy = await tableStats(rc, ['app'], 'crc64');
        } finally {
          await rc.end();
        }
      } finally {
        await fresh.stop(true);
      }
      assert.ok(Object.values(legacy).every((t) => /^\d+$/.test(t.checksum)));
      // Ids that sort before the first backup's, so the retention test below still sees it as the newest verified one.
      const asOld = async (suffix: string, tables: Manifest['tables']): Promise<string> => {
        const id = first.id.replace(/-[0-9a-f]{6}$/, `-${suffix}`);
        await store.putBytes(backupKey(store, id, MANIFEST_OBJECT), JSON.stringify({ ...first, id, tables }));
        return id;
      };
      const good = await asOld('000000', legacy);
      assert.equal((await runVerify({ store, key, progress: silentProgress, backupId: good })).ok, true);
      const [name, stat] = Object.entries(legacy)[0] ?? [];
      assert.ok(name && stat);
      const wrong = await asOld('000001', {
        ...legacy,
        [name]: { ...stat, checksum: (BigInt(stat.checksum) + 1n).toString() },
      });
      await assert.rejects(
        runVerify({ store, key, progress: silentProgress, backupId: wrong }),
        new RegExp(`FAILED verification.*table ${name.replace('.', '\\.')}: checksum`),
      );
    },
  );

  /** A copy of the first backup under a new id, its dump changed by `damage`. */
  async function damagedCopy(idSuffix: string, damage: (b: Buffer) => Buffer): Promise<string> {
    const id = first.id.replace(/-[0-9a-f]{6}$/, `-${idSuffix}`);
    const dump = await store.getBytes(first.object.key);
    const m: Manifest = { ...first, id, object: { ...first.object, key: backupKey(store, id, DUMP_OBJECT) } };
    await store.putBytes(m.object.key, damage(dump), 'application/octet-stream');
    await store.putBytes(backupKey(store, id, MANIFEST_OBJECT), JSON.stringify(m));
    return id;
  }

  it(
    'verify rejects a corrupted backup (one flipped byte), ' +
      'a truncated one and a wrong key, and records the failure',
    async () => {
      const corrupted = await damagedCopy('c0c0c0', (b) => {
        const x = Buffer.from(b);
        const i = Math.floor(x.length / 2);
        x[i] = (x[i] ?? 0) ^ 0x01;
        return x;
      });
      await assert.rejects(
        runVerify({ store, key, progress: silentProgress, backupId: corrupted }),
        /FAILED verification.*(corrupted|tampered)/,
      );
      const rec = parseVerification(
        JSON.parse((await store.getBytes(backupKey(store, corrupted, 'verification.json'))).toString('utf8')),
      );
      assert.equal(rec.ok, false);

      const truncated = await damagedCopy('7e7e7e', (b) => b.subarray(0, Math.floor(b.length * 0.6)));
      await assert.rejects(
        runVerify({ store, key, progress: silentProgress, backupId: truncated }),
        /FAILED verification.*truncated/,
      );

      const otherKey = parseKey(randomBytes(32), 'other key');
      await assert.rejects(
        runVerify({ store, key: otherKey, progress: silentProgress, backupId: first.id }),
        /FAILED verification.*wrong encryption key/,
      );
      // Restore refuses the damaged backup before touching the server.
      const fresh = await ScratchDb.start({ dir: join(dir, 'restore-2') });
      try {
        await assert.rejects(
          runRestore({ store, key, target: target(fresh), progress: silentProgress, backupId: corrupted }),
          /corrupted/,
        );
        const rc = await fresh.connect();
        const dbs = await rc.query<unknown[]>("SHOW DATABASES LIKE 'app'");
        await rc.end();
        assert.equal(dbs.length, 0, 'nothing was loaded from a damaged backup');
      } finally {
        await fresh.stop(true);
      }
    },
  );

  it('retention keeps the newest backups and the newest verified one, and deletes the rest', async () => {
    // first (verified ok) + corrupted/truncated copies (verification failed) + two new ones.
    const b2 = await runBackup({ db: target(source), store, key, progress: silentProgress });
    await sleep(1100);
    const b3 = await runBackup({ db: target(source), store, key, progress: silentProgress });
    // A day later: nothing is young enough to be kept by age.
    const decision = await runRetention(
      store,
      { keepLast: 1, keepDays: 0 },
      silentProgress,
      new Date(Date.now() + 86_400_000 * 2),
    );
    const left = (await listCatalog(store)).filter((e) => e.manifest).map((e) => e.id);
    assert.deepEqual(left, [first.id, b3.id]);
    assert.ok(decision.remove.some((r) => r.id === b2.id));
    assert.deepEqual(
      (await store.list(`${store.key('backups', b2.id)}/`)).length,
      0,
      'every object of a deleted backup is gone',
    );
  });

  it('a storage outage in the middle of an upload fails the backup cleanly; the next run succeeds', async () => {
    const c = await source.connect('app');
    try {
      // ~24 MiB of incompressible rows, so the upload takes several 5 MiB parts.
      await c.query('CREATE TABLE app.big (id INT PRIMARY KEY, b VARBINARY(1024))');
      for (let i = 0; i < 4; i++)
        await c.query(
          `INSERT INTO app.big SELECT seq, RANDOM_BYTES(1024) FROM seq_${i * 6000 + 1}_to_${(i + 1) * 6000}`,
        );
    } finally {
      await c.end();
    }
    const before = (await listCatalog(store)).filter((e) => e.manifest).length;
    let killed: Promise<void> | undefined;
    const err = await runBackup({
      db: target(source),
      store,
      key,
      progress: silentProgress,
      partSize: 5 * 1024 * 1024,
      onUploaded: (n) => {
        if (n > 0 && !killed) killed = minio.kill();
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await killed;
    assert.ok(killed, 'the upload had started when the storage went away');
    assert.ok(err instanceof Error, 'the backup failed');
    assert.match(err.message, /failed, no manifest was written/);
    await minio.start();
    const entries = await listCatalog(store);
    assert.equal(entries.filter((e) => e.manifest).length, before, 'no manifest claims success');
    const next = await runBackup({ db: target(source), store, key, progress: silentProgress });
    assert.equal(next.tables['app.big']?.rows, 24_000);
    const v = await runVerify({ store, key, progress: silentProgress, backupId: next.id });
    assert.equal(v.ok, true);
  });
});
