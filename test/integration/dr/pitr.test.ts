// Point-in-time recovery with real MariaDB (Debian's mariadbd, on loopback): a member with binary logging
// as the chart configures it, the binlog archiver shipping its closed files, a base backup, then PITR
// into a fresh server to a time and to a GTID between two known writes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopbackCluster, MARIADBD } from '../../../src/galera/loopback.js';
import { run } from '../../../src/util/exec.js';
import { BinlogArchiver, readIndex, type ArchiveStore, type Sealer } from '../../../src/dr/binlog-archiver.js';
import { parseGtid, parseGtidPosition } from '../../../src/dr/binlog.js';
import { planPitr } from '../../../src/dr/pitr.js';
import { replayPitr } from '../../../src/dr/pitr-apply.js';

// TEMPORARY until drcore's S3 store lands: a directory as the store, and an identity sealer.
class DirStore implements ArchiveStore {
  constructor(readonly dir: string) {}
  put(key: string, body: Buffer): Promise<void> { const p = join(this.dir, key); mkdirSync(dirname(p), { recursive: true }); writeFileSync(p, body); return Promise.resolve(); }
  get(key: string): Promise<Buffer | undefined> { const p = join(this.dir, key); return Promise.resolve(existsSync(p) ? readFileSync(p) : undefined); }
  list(): Promise<string[]> { return Promise.resolve([]); }
}
const groups = (...tags: string[]): string[] => tags.flatMap((g) => Array.from({ length: 10 }, () => g));
const plainSealer: Sealer = { seal: (b) => Promise.resolve(b), open: (b) => Promise.resolve(b) };

describe('dr: point-in-time recovery from archived binlogs', { skip: existsSync(MARIADBD) ? false : 'mariadb-server not installed; run ./kstack setup', timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-pitr-'));
  chmodSync(dir, 0o755);
  let src: LoopbackCluster | undefined;
  let dst: LoopbackCluster | undefined;
  const store = new DirStore(join(dir, 'store'));
  let dump = '';
  let backupPos = '';
  let afterB = '';
  let timeBC = 0;
  let archiver: BinlogArchiver | undefined;

  before(async () => {
    src = await LoopbackCluster.create({ baseDir: join(dir, 'src'), size: 1, mode: 'standalone', prefix: 'src', baseConfig: { binlog: true } });
    dst = await LoopbackCluster.create({ baseDir: join(dir, 'dst'), size: 1, mode: 'standalone', prefix: 'dst' });
    src.startAll();
    dst.startAll();
    await Promise.all([src.waitReady(), dst.waitReady()]);
  });
  after(async () => {
    await src?.destroy();
    await dst?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('archives the closed binlogs of a member with writes A, a backup, writes B, then C a second later', async () => {
    assert.ok(src);
    const c = await src.connect('src-0', 'root');
    try {
      await c.query('CREATE TABLE t (id INT PRIMARY KEY, tag CHAR(1))');
      for (let i = 1; i <= 10; i++) await c.query('INSERT INTO t VALUES (?, ?)', [i, 'A']);
      const m = src.member('src-0');
      const { stdout } = await run('mariadb-dump', ['--host=127.0.0.1', `--port=${m.sqlPort}`, '--user=root', '--single-transaction', '--gtid', '--master-data=2', '--databases', 'app'], { env: { ...process.env, MYSQL_PWD: src.rootPassword } });
      dump = stdout;
      backupPos = /gtid_slave_pos='([^']*)'/.exec(dump)?.[1] ?? '';
      assert.match(backupPos, /^\d+-\d+-\d+/);
      for (let i = 11; i <= 20; i++) await c.query('INSERT INTO t VALUES (?, ?)', [i, 'B']);
      afterB = (await c.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p'))[0]?.p ?? '';
      await sleep(1100);
      timeBC = Math.floor(Date.now() / 1000);
      for (let i = 21; i <= 30; i++) await c.query('INSERT INTO t VALUES (?, ?)', [i, 'C']);
    } finally {
      await c.end();
    }
    archiver = new BinlogArchiver({
      connect: () => src!.connect('src-0', 'root'), binlogDir: src.dataDir('src-0'), stream: 'src-0', prefix: 'dr', store, sealer: plainSealer,
    });
    const shipped = await archiver.tick();
    assert.ok(shipped.length >= 1, 'at least the file with A, B and C was shipped');
    assert.equal(archiver.lagSeconds(), 0, 'everything logged is archived');
    assert.match(archiver.metrics(), /kstack_binlog_archive_lag_seconds\{stream="src-0"\} 0\.000/);
    const index = await readIndex(store, 'dr', 'src-0');
    const last = index.files.at(-1);
    assert.ok(last);
    const c2 = await src.connect('src-0', 'root');
    const pos = (await c2.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p'))[0]?.p;
    await c2.end();
    assert.equal(archiver.status.lastArchivedGtid, pos);
  });

  async function restoreTo(targetDesc: Parameters<typeof planPitr>[2]): Promise<string[]> {
    assert.ok(dst);
    const m = dst.member('dst-0');
    const c = await dst.connect('dst-0', 'root');
    await c.query('DROP TABLE IF EXISTS t');
    await c.end();
    await run('mariadb', ['--host=127.0.0.1', `--port=${m.sqlPort}`, '--user=root'], { input: dump, env: { ...process.env, MYSQL_PWD: dst.rootPassword } });
    const plan = planPitr(await readIndex(store, 'dr', 'src-0'), parseGtidPosition(backupPos), targetDesc);
    await replayPitr({ plan, store, sealer: plainSealer, target: { host: '127.0.0.1', port: m.sqlPort, user: 'root', password: dst.rootPassword } });
    const r = await dst.connect('dst-0', 'root');
    try {
      return (await r.query<{ tag: string }[]>('SELECT tag FROM t ORDER BY id')).map((x) => x.tag);
    } finally {
      await r.end();
    }
  }

  it('PITR to a time between B and C gives back exactly A + B', async () => {
    const tags = await restoreTo({ kind: 'time', time: timeBC });
    assert.deepEqual(tags, groups('A', 'B'));
  });

  it('PITR to the GTID of the last B write gives back exactly A + B', async () => {
    const tags = await restoreTo({ kind: 'gtid', gtid: parseGtid(afterB) });
    assert.deepEqual(tags, groups('A', 'B'));
  });

  it('PITR to the end of the archive gives back A + B + C', async () => {
    const tags = await restoreTo({ kind: 'latest' });
    assert.deepEqual(tags, groups('A', 'B', 'C'));
  });
});
