// The DR Jobs' database accounts (src/galera/config.ts drAccountsSql) on a real MariaDB over TCP, as the
// chart's Jobs log in from their pods: the backup account takes a full backup (views, triggers, routines,
// events, GTID position) and cannot write; the restore account loads that backup into another server —
// objects with the original DEFINER included — and replays binlogs after it (point-in-time recovery).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MinioServer } from '../../helpers/minio.js';
import { runBackup } from '../../../src/dr/backup.js';
import { connect, type DbTarget } from '../../../src/dr/db.js';
import { parseKey } from '../../../src/dr/encrypt.js';
import { pipeBinlogs } from '../../../src/dr/pitr-apply.js';
import { runRestore } from '../../../src/dr/restore.js';
import type { ObjectStore } from '../../../src/s3/object-store.js';
import { ScratchDb } from '../../../src/dr/scratch-db.js';
import { drAccountsSql } from '../../../src/galera/config.js';
import { pickFreePorts } from '../../../src/util/net.js';
import { silentProgress } from '../../../src/util/progress.js';

const BINLOG = ['log-bin=binlog', 'server-id=1', 'binlog-format=ROW'];
const accounts = [
  { role: 'backup' as const, user: 'kstack_backup', password: 'b-pw' },
  { role: 'restore' as const, user: 'kstack_restore', password: 'r-pw' },
];
const tcp = (db: ScratchDb, user: string, password: string): DbTarget => ({
  socket: undefined,
  host: '127.0.0.1',
  port: db.port ?? 0,
  user,
  password,
});

async function sql(db: ScratchDb, statements: string[]): Promise<void> {
  const c = await db.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

describe("dr: the Jobs' accounts on a real MariaDB over TCP", { timeout: 180_000 }, () => {
  let dir: string;
  let minio: MinioServer;
  let store: ObjectStore;
  let source: ScratchDb;
  let dest: ScratchDb;
  const key = parseKey(randomBytes(32), 'test key');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kstack-dr-accounts-'));
    chmodSync(dir, 0o755);
    const [p1, p2] = await pickFreePorts(2);
    assert.ok(p1 && p2);
    // Both servers at once: each has its own tmpdir, so one's start cannot delete the other's temporary tables.
    [minio, source, dest] = await Promise.all([
      MinioServer.start(join(dir, 'minio')),
      ScratchDb.start({ dir: join(dir, 'source'), port: p1, extra: [...BINLOG, 'skip-name-resolve'] }),
      ScratchDb.start({ dir: join(dir, 'dest'), port: p2, extra: [...BINLOG, 'skip-name-resolve'] }),
    ]);
    store = await minio.store('backups', 'it/accounts');
    await sql(source, [
      'CREATE DATABASE app',
      'CREATE TABLE app.visits (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(32))',
      "INSERT INTO app.visits (note) VALUES ('one'), ('two'), ('three')",
      'CREATE VIEW app.v AS SELECT COUNT(*) AS n FROM app.visits',
      "CREATE TRIGGER app.t BEFORE INSERT ON app.visits FOR EACH ROW SET NEW.note = COALESCE(NEW.note, 'trig')",
      'CREATE PROCEDURE app.p() SELECT COUNT(*) FROM app.visits',
      'CREATE EVENT app.e ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM app.visits WHERE id < 0',
      ...drAccountsSql(accounts),
    ]);
    await sql(dest, drAccountsSql(accounts));
  });

  after(async () => {
    store?.destroy();
    await Promise.allSettled([minio?.stop(false), source?.stop(false), dest?.stop(false)]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'the backup account backs up over TCP, and restore loads ' +
      'it with the restore account; then binlogs replay on top',
    async () => {
      const manifest = await runBackup({
        db: tcp(source, 'kstack_backup', 'b-pw'),
        store,
        key,
        progress: silentProgress,
        member: 'source-0',
      });
      assert.equal(manifest.tables['app.visits']?.rows, 3);
      assert.match(manifest.position.gtid, /^0-1-\d+$/);
      assert.equal(manifest.server.member, 'source-0');

      // A write after the backup: only the binlog replay brings it.
      await sql(source, ["INSERT INTO app.visits (note) VALUES ('after')"]);

      const restoreAs = tcp(dest, 'kstack_restore', 'r-pw');
      const r = await runRestore({ store, key, target: restoreAs, progress: silentProgress });
      assert.equal(r.manifest.id, manifest.id);
      const files = readdirSync(join(source.dir, 'data'))
        .filter((f) => /^binlog\.\d+$/.test(f))
        .sort()
        .map((f) => join(source.dir, 'data', f));
      await pipeBinlogs(files, [`--start-position=${manifest.position.gtid}`], restoreAs);

      const c = await connect(tcp(dest, 'kstack_restore', 'r-pw'));
      try {
        const rows = await c.query<{ note: string }[]>('SELECT note FROM app.visits ORDER BY id');
        assert.deepEqual(
          rows.map((x) => x.note),
          ['one', 'two', 'three', 'after'],
        );
        assert.equal((await c.query<{ n: number }[]>('SELECT n FROM app.v'))[0]?.n, 4);
        assert.equal((await c.query<unknown[]>("SHOW TRIGGERS FROM app LIKE 'visits'")).length, 1);
        assert.equal((await c.query<unknown[]>("SHOW PROCEDURE STATUS WHERE Db = 'app'")).length, 1);
        assert.equal((await c.query<unknown[]>('SHOW EVENTS FROM app')).length, 1);
      } finally {
        await c.end();
      }
    },
  );

  it('the backup account cannot change data', async () => {
    const c = await connect(tcp(source, 'kstack_backup', 'b-pw'));
    try {
      await assert.rejects(c.query("INSERT INTO app.visits (note) VALUES ('no')"), /denied/i);
      await assert.rejects(c.query('DROP DATABASE app'), /denied/i);
      await assert.rejects(c.query("CREATE USER 'x'@'%'"), /denied/i);
    } finally {
      await c.end();
    }
  });
});
