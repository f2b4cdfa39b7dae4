// Binlogs on a real 3-member Galera cluster (loopback) with the settings the chart turns on for PITR:
// writes made on different members get one GTID each, the same on every member, and every member's
// archived stream reaches the same last GTID — so any member's archive can replay the cluster's history.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopbackCluster, MARIADBD } from '../../helpers/galera-loopback.js';
import { BinlogArchiver, readAllIndexes, type ArchiveStore, type Sealer } from '../../../src/dr/binlog-archiver.js';
import { keySealer, s3ArchiveStore } from '../../../src/dr/binlog-store.js';
import { parseKey } from '../../../src/dr/encrypt.js';
import { randomBytes } from 'node:crypto';
import { MinioServer } from '../../helpers/minio.js';
import { parseGtidPosition } from '../../../src/dr/binlog.js';
import { planFromStreams } from '../../../src/dr/pitr.js';
import { requireFiles } from '../../helpers/require-tools.js';

describe('dr: binlogs on a Galera cluster', { timeout: 400_000 }, () => {
  requireFiles([MARIADBD]);
  const dir = mkdtempSync(join(tmpdir(), 'kstack-pitr-galera-'));
  chmodSync(dir, 0o755);
  let c: LoopbackCluster | undefined;
  let minio: MinioServer | undefined;
  let store: ArchiveStore;
  let sealer: Sealer;

  before(async () => {
    c = await LoopbackCluster.create({ baseDir: join(dir, 'db'), size: 3, baseConfig: { binlog: true } });
    c.startAll();
    minio = await MinioServer.start(join(dir, 'minio'));
    store = s3ArchiveStore(await minio.store('galera', 'ws'));
    sealer = keySealer(parseKey(randomBytes(32), 'test key'));
    await c.waitReady();
  });
  after(async () => {
    await c?.destroy();
    await minio?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives each write one GTID, the same on every member, and every member's archive ends at it", async () => {
    assert.ok(c);
    const cl = c;
    const names = cl.members.map((m) => m.name);
    const first = await cl.connect(names[0] ?? '', 'root');
    await first.query('CREATE TABLE g (id INT PRIMARY KEY)');
    for (let i = 1; i <= 5; i++) await first.query('INSERT INTO g VALUES (?)', [i]);
    await first.end();
    const second = await cl.connect(names[1] ?? '', 'root');
    for (let i = 6; i <= 10; i++) await second.query('INSERT INTO g VALUES (?)', [i]);
    await second.end();
    const positions: string[] = [];
    for (const n of names) {
      const conn = await cl.connect(n, 'root');
      // Galera applies asynchronously on the others: wait until this member has all 10 rows.
      for (let k = 0; k < 100; k++) {
        const [row] = await conn.query<{ n: bigint | number }[]>('SELECT COUNT(*) AS n FROM g');
        if (Number(row?.n) === 10) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      positions.push((await conn.query<{ p: string }[]>('SELECT @@GLOBAL.gtid_binlog_pos AS p'))[0]?.p ?? '');
      await conn.end();
    }
    assert.ok(
      positions.every((p) => p === positions[0]),
      `the same binlog position on every member: ${positions.join(' | ')}`,
    );
    assert.match(positions[0] ?? '', /^0-1-\d+$/, 'one GTID domain (the wsrep domain) and server id for the cluster');
    for (const n of names) {
      await new BinlogArchiver({
        connect: () => cl.connect(n, 'root'),
        binlogDir: cl.dataDir(n),
        stream: n,
        prefix: 'ws',
        store,
        sealer,
      }).tick();
    }
    const indexes = await readAllIndexes(store, 'ws');
    assert.deepEqual(indexes.map((i) => i.stream).sort(), [...names].sort());
    // A member that joined by snapshot transfer archives only what it logged since; PITR from an early
    // backup position picks the stream that covers it (the first member's).
    const plan = planFromStreams(indexes, parseGtidPosition('0-1-5'), { kind: 'latest' });
    assert.equal(plan.files.at(-1)?.lastGtid, positions[0]);
    assert.equal(
      plan.files[0]?.domains['0']?.first !== undefined && plan.files[0].domains['0'].first <= 6,
      true,
      `the chosen stream (${plan.stream}) starts at or before 0-1-6`,
    );
    for (const ix of indexes)
      process.stdout.write(
        `# ${ix.stream}: ${ix.files
          .map((f) => `${f.name}@${f.created} ${f.firstGtid ?? '-'}..${f.lastGtid ?? '-'}`)
          .join(', ')}\n`,
      );
    for (const ix of indexes)
      assert.equal(ix.files.at(-1)?.lastGtid, positions[0], `${ix.stream}'s archive ends at the cluster's last GTID`);
  });
});
