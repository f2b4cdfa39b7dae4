// Physical backups (mariadb-backup) end to end with a real MariaDB (Debian mariadbd with a binary log, private
// data dir and socket) and a real S3 server (MinIO built from its Go module) on loopback: a backup under a
// concurrent writer restored into an empty datadir and started, verify (and its refusal of damaged or
// wrongly keyed backups), refusal of a non-empty datadir, and a storage outage in the middle of an upload.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupUnderWriter, seqOf, socketTarget, startBackupRig, type BackupRig } from '../../helpers/backup-rig.js';
import type { MinioServer } from '../../helpers/minio.js';
import { MANIFEST_OBJECT, backupKey } from '../../../src/dr/backup.js';
import { findBackup, listCatalog } from '../../../src/dr/catalog.js';
import { parseKey, type EncryptionKey } from '../../../src/dr/encrypt.js';
import { main } from '../../../src/dr/main.js';
import { parseVerification, type Manifest } from '../../../src/dr/manifest.js';
import { PHYSICAL_OBJECT, runPhysicalBackup, runPhysicalRestore } from '../../../src/dr/physical.js';
import { compareWithManifest, runRestore } from '../../../src/dr/restore.js';
import type { ObjectStore } from '../../../src/s3/object-store.js';
import { ScratchDb } from '../../../src/dr/scratch-db.js';
import { runVerify } from '../../../src/dr/verify.js';
import { silentProgress } from '../../../src/util/progress.js';

const target = socketTarget;
const BACKUP_PASSWORD = 'p#ss "w0rd" \\ x';

describe('dr: physical backups (mariadb-backup) on real MariaDB and MinIO', { timeout: 300_000 }, () => {
  let dir: string;
  let minio: MinioServer;
  let store: ObjectStore;
  let source: ScratchDb;
  let key: EncryptionKey;
  let first: Manifest;

  let rig: BackupRig | undefined;

  before(async () => {
    rig = await startBackupRig('kstack-physical-it-', 'it/physical');
    ({ dir, minio, store, source, key } = rig);
    const c = await source.connect();
    try {
      await c.query('CREATE DATABASE app');
      await c.query('CREATE TABLE app.acks (id INT PRIMARY KEY, note VARCHAR(64), at DATETIME(6) NOT NULL)');
      await c.query(
        'CREATE TABLE app.misc (k VARCHAR(10) PRIMARY KEY, v BLOB NULL, d DECIMAL(10,2)) DEFAULT CHARSET=utf8mb4',
      );
      await c.query("INSERT INTO app.misc VALUES ('a', NULL, 1.50), ('b', '', NULL), ('ü', UNHEX('00FF10'), -3.00)");
      await c.query('CREATE TABLE app.legacy (id INT PRIMARY KEY, s VARCHAR(20)) ENGINE=Aria');
      await c.query("INSERT INTO app.legacy VALUES (1, 'aria row')");
      // An account with only the privileges docs/dr.md lists, and a password an option file must quote.
      await c.query(`CREATE USER 'backup'@'localhost' IDENTIFIED BY ?`, [BACKUP_PASSWORD]);
      await c.query(
        "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SHOW DATABASES ON *.* TO 'backup'@'localhost'",
      );
    } finally {
      await c.end();
    }
  });

  after(async () => {
    await rig?.destroy();
  });

  it(
    'backs up under a concurrent writer; restored into an empty datadir and started, ' +
      'it holds every acknowledged row and matches its manifest',
    async () => {
      const w = await backupUnderWriter(source, () =>
        runPhysicalBackup({ db: target(source), store, key, progress: silentProgress, member: 'source', workDir: dir }),
      );
      first = w.result;
      const { s0, ackedBefore, ackedAfterBackup } = w;

      assert.equal(first.kind, 'physical');
      assert.equal(first.object.key, backupKey(store, first.id, PHYSICAL_OBJECT));
      assert.match(first.position.binlogFile ?? '', /^binlog\.\d+$/);
      const inCopy = seqOf(first.position.gtid) - s0;
      assert.ok(
        inCopy >= ackedBefore,
        `the backup's GTID covers ${inCopy} writes; ${ackedBefore} were acknowledged before it started`,
      );
      assert.ok(
        inCopy <= ackedAfterBackup,
        `the backup claims ${inCopy} writes, only ${ackedAfterBackup} were acknowledged when it ended`,
      );
      assert.equal(first.tables['app.acks']?.rows, inCopy, 'the manifest counts exactly the rows up to its GTID');
      assert.deepEqual(Object.keys(first.tables).sort(), ['app.acks', 'app.legacy', 'app.misc']);
      assert.ok(first.object.dumpBytes > first.object.bytes, 'the stream was compressed');
      assert.deepEqual(
        readdirSync(dir).filter((e) => e.startsWith('kstack-physical-')),
        [],
        'the scratch copy is gone',
      );

      const restored = join(dir, 'restored');
      const r = await runPhysicalRestore({ store, key, datadir: join(restored, 'data'), progress: silentProgress });
      assert.equal(r.manifest.id, first.id);
      const server = await ScratchDb.start({ dir: restored });
      try {
        const rc = await server.connect();
        try {
          const [row] = await rc.query<{ n: number; lo: number; hi: number }[]>(
            'SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM app.acks',
          );
          assert.deepEqual(row, { n: inCopy, lo: 1, hi: inCopy }, 'rows 1..N, no gap, nothing after the GTID position');
          const misc = await rc.query<{ k: string; v: Buffer | null }[]>('SELECT k, v FROM app.misc ORDER BY k');
          assert.deepEqual(
            misc.map((m) => [m.k, m.v === null ? null : m.v.toString('hex')]),
            [
              ['a', null],
              ['b', ''],
              ['ü', '00ff10'],
            ],
          );
          const [legacy] = await rc.query<{ s: string }[]>('SELECT s FROM app.legacy WHERE id = 1');
          assert.equal(legacy?.s, 'aria row');
        } finally {
          await rc.end();
        }
        const { problems } = await compareWithManifest(target(server), first);
        assert.deepEqual(problems, [], 'row counts and checksums of the started copy match the manifest');
      } finally {
        await server.stop(true);
      }
      // A logical restore refuses it and says how to restore it instead.
      await assert.rejects(
        runRestore({ store, key, target: target(source), progress: silentProgress, backupId: first.id }),
        /physical backup.*--datadir/,
      );
    },
  );

  it('verify extracts, prepares and starts the backup, and records backup_verified_timestamp', async () => {
    const v = await runVerify({ store, key, progress: silentProgress, backupId: first.id, workDir: dir });
    assert.equal(v.ok, true);
    const stored = parseVerification(
      JSON.parse((await store.getBytes(backupKey(store, first.id, 'verification.json'))).toString('utf8')),
    );
    assert.deepEqual(stored, v);
  });

  /** A copy of the first backup under a new id, its data object changed by `damage`. */
  async function damagedCopy(idSuffix: string, damage: (b: Buffer) => Buffer): Promise<string> {
    const id = first.id.replace(/-[0-9a-f]{6}$/, `-${idSuffix}`);
    const data = await store.getBytes(first.object.key);
    const m: Manifest = { ...first, id, object: { ...first.object, key: backupKey(store, id, PHYSICAL_OBJECT) } };
    await store.putBytes(m.object.key, damage(data), 'application/octet-stream');
    await store.putBytes(backupKey(store, id, MANIFEST_OBJECT), JSON.stringify(m));
    return id;
  }

  it('verify rejects a physical backup with one flipped byte, a truncated one and a wrong key', async () => {
    const corrupted = await damagedCopy('c0c0c0', (b) => {
      const x = Buffer.from(b);
      const i = Math.floor(x.length / 2);
      x[i] = (x[i] ?? 0) ^ 0x01;
      return x;
    });
    await assert.rejects(
      runVerify({ store, key, progress: silentProgress, backupId: corrupted, workDir: dir }),
      /FAILED verification.*(corrupted|tampered)/,
    );
    const rec = parseVerification(
      JSON.parse((await store.getBytes(backupKey(store, corrupted, 'verification.json'))).toString('utf8')),
    );
    assert.equal(rec.ok, false);

    const truncated = await damagedCopy('7e7e7e', (b) => b.subarray(0, Math.floor(b.length * 0.6)));
    await assert.rejects(
      runVerify({ store, key, progress: silentProgress, backupId: truncated, workDir: dir }),
      /FAILED verification.*truncated/,
    );

    const otherKey = parseKey(randomBytes(32), 'other key');
    await assert.rejects(
      runVerify({ store, key: otherKey, progress: silentProgress, backupId: first.id, workDir: dir }),
      /FAILED verification.*wrong encryption key/,
    );
    assert.deepEqual(
      readdirSync(dir).filter((e) => e.startsWith('kstack-verify-')),
      [],
      'failed verifications leave no scratch folder behind',
    );

    // A restore of the damaged backup fails and leaves the (empty) datadir empty.
    const empty = join(dir, 'restore-damaged');
    await assert.rejects(
      runPhysicalRestore({ store, key, datadir: empty, progress: silentProgress, backupId: corrupted }),
      /corrupted|tampered/,
    );
    assert.deepEqual(readdirSync(empty), []);
  });

  it('refuses to restore into a non-empty datadir and leaves it untouched', async () => {
    const busy = join(dir, 'busy');
    mkdirSync(join(busy, 'mysql'), { recursive: true });
    writeFileSync(join(busy, 'ibdata1'), 'precious');
    await assert.rejects(
      runPhysicalRestore({ store, key, datadir: busy, progress: silentProgress, backupId: first.id }),
      /is not empty \(2 entries, e\.g\. 'ibdata1', 'mysql'\).*move the old datadir away/,
    );
    assert.deepEqual(readdirSync(busy).sort(), ['ibdata1', 'mysql']);
    assert.deepEqual(readdirSync(join(busy, 'mysql')), []);
    assert.equal(readFileSync(join(busy, 'ibdata1'), 'utf8'), 'precious');
    assert.deepEqual(
      readdirSync(dir).filter((e) => e.startsWith('.kstack-restore-')),
      [],
      'no staging folder was left',
    );
  });

  it(
    'the dr entry point: backup --physical, and restore by ' + "the manifest's kind (a physical one needs --datadir)",
    async () => {
      const keyFile = join(dir, 'key');
      writeFileSync(keyFile, key.key.toString('hex'), { mode: 0o600 });
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...minio.env('backups', 'it/physical'),
        KSTACK_DR_KEY_FILE: keyFile,
        KSTACK_DR_DB_SOCKET: source.socket,
        KSTACK_DR_DB_USER: 'root',
        KSTACK_DR_WORK_DIR: dir,
      };
      assert.equal(await main(['backup', '--physical'], env), 0);
      const newest = await findBackup(store);
      assert.equal(newest.kind, 'physical');
      assert.equal(
        await main(['restore', `--backup=${newest.id}`], env),
        1,
        'a physical restore without a datadir is refused',
      );
      const datadir = join(dir, 'cli-restore', 'data');
      assert.equal(await main(['restore', `--backup=${newest.id}`, `--datadir=${datadir}`], env), 0);
      assert.ok(
        readdirSync(join(datadir, 'app')).some((f) => f.startsWith('acks.')),
        'the restored datadir holds the tables',
      );
      rmSync(join(dir, 'cli-restore'), { recursive: true, force: true });
    },
  );

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
    const err = await runPhysicalBackup({
      db: target(source),
      store,
      key,
      progress: silentProgress,
      partSize: 5 * 1024 * 1024,
      workDir: dir,
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
    assert.deepEqual(
      readdirSync(dir).filter((e) => e.startsWith('kstack-physical-')),
      [],
      'the scratch copy is gone',
    );
    await minio.start();
    assert.equal((await listCatalog(store)).filter((e) => e.manifest).length, before, 'no manifest claims success');
    // As the least-privileged account, whose password reaches mariadb-backup through the option file.
    const next = await runPhysicalBackup({
      db: { ...target(source), user: 'backup', password: BACKUP_PASSWORD },
      store,
      key,
      progress: silentProgress,
      workDir: dir,
    });
    assert.equal(next.tables['app.big']?.rows, 24_000);
    const v = await runVerify({ store, key, progress: silentProgress, backupId: next.id, workDir: dir });
    assert.equal(v.ok, true);
    assert.equal(existsSync(join(dir, 'source', 'data', 'app')), true);
  });
});
