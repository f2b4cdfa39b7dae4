// The db member agent against real MariaDB + galera-4 (Debian packages) on loopback: three members, each
// its own agent process, mariadbd, data dir and ports. One cluster goes through the life a chart's
// StatefulSet sees: first bootstrap, one pod killed mid-write, every pod killed at once, a lost volume.
// A writer keeps inserting through it all; every write the server acknowledged must be on every member.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopbackCluster, MARIADBD, Writer } from '../../helpers/galera-loopback.js';
import { readWsrep } from '../../../src/galera/agent.js';
import { dataSourceFromEnv } from '../../../src/webinfo/data-source.js';
import '../../../src/webinfo/db-source.js';
import { GALERA_LIBRARY, requireFiles } from '../../helpers/require-tools.js';

const ALL = ['db-0', 'db-1', 'db-2'];

function errLog(c: LoopbackCluster, name: string): string {
  const f = join(c.runDir(name), 'mysqld.err');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

async function assertNothingLost(c: LoopbackCluster, w: Writer, members: readonly string[]): Promise<void> {
  assert.ok(w.acked.length > 0, 'the writer got no write acknowledged at all');
  for (const m of members) {
    const missing = await w.missingOn(m);
    assert.deepEqual(missing.slice(0, 20), [], `${m} lost ${missing.length} of ${w.acked.length} acknowledged writes`);
  }
}

async function clusterSizes(c: LoopbackCluster): Promise<number[]> {
  return Promise.all(
    ALL.map(async (m) => {
      const conn = await c.connect(m, 'root');
      try {
        return (await readWsrep(conn)).status.clusterSize;
      } finally {
        await conn.end();
      }
    }),
  );
}

/** Where each member's agent log ends now: a scenario reads only what its members log after it. */
function logMarks(c: LoopbackCluster): Map<string, number> {
  return new Map(ALL.map((m) => [m, existsSync(c.agentLog(m)) ? statSync(c.agentLog(m)).size : 0]));
}

function logLinesSince(c: LoopbackCluster, m: string, marks: Map<string, number>): string[] {
  return readFileSync(c.agentLog(m))
    .subarray(marks.get(m) ?? 0)
    .toString('utf8')
    .split('\n');
}

/**
 * Exactly one member bootstrapped after a full crash (logged since `marks`: an earlier scenario's
 * bootstrapper must not count), and it had the highest position recovered with --wsrep-recover (what every
 * member logged). Returns its name.
 */
function assertMostAdvancedBootstrapped(c: LoopbackCluster, marks: Map<string, number>): string {
  const bootstrapped = ALL.filter((m) =>
    logLinesSince(c, m, marks).some(
      (l) => l.includes('most advanced member') && l.includes('bootstrapping from its data'),
    ),
  );
  assert.equal(bootstrapped.length, 1, `exactly one member should bootstrap, got ${bootstrapped.join(', ') || 'none'}`);
  const recovered = ALL.map((m) => {
    const line = logLinesSince(c, m, marks)
      .filter((l) => l.includes('"recovered position"'))
      .pop();
    assert.ok(line, `${m} logged its recovered position`);
    const pos = (JSON.parse(line) as { position: string | null }).position;
    assert.ok(pos, `${m} recovered a position`);
    return Number(pos.split(':').pop());
  });
  const winner = ALL.indexOf(bootstrapped[0] ?? '');
  assert.equal(
    recovered[winner],
    Math.max(...recovered),
    `the bootstrapper ${bootstrapped[0] ?? '?'} had seqno ${recovered[winner]}, others ${recovered.join(', ')}`,
  );
  return bootstrapped[0] ?? '';
}

describe('galera agent on loopback (real mariadbd + galera-4)', { timeout: 900_000 }, () => {
  requireFiles([MARIADBD, GALERA_LIBRARY]);
  let c: LoopbackCluster;

  before(async () => {
    c = await LoopbackCluster.create({ baseDir: mkdtempSync(join(tmpdir(), 'kstack-galera-')), size: 3 });
  });
  after(async () => {
    if (process.env.KSTACK_KEEP_GALERA) return; // for debugging: leaves the members running
    await c.destroy();
  });

  it('bootstraps a new 3-member cluster: only db-0 initialises, the others join by SST', async () => {
    c.startAll();
    await c.waitReady(ALL);
    assert.deepEqual(await clusterSizes(c), [3, 3, 3]);
    const boot = readFileSync(c.agentLog('db-0'), 'utf8');
    assert.match(boot, /bootstrapping a new cluster/);
    for (const m of ['db-1', 'db-2']) assert.match(readFileSync(c.agentLog(m), 'utf8'), /joining the running cluster/);
    // The application account from the "Secret" works on every member (it was created once and replicated/SST'd).
    const conn = await c.connect('db-2', 'app');
    assert.deepEqual(await conn.query('SELECT CURRENT_USER() AS u'), [{ u: 'app@%' }]);
    await conn.end();
  });

  it('a member killed with SIGKILL while a writer runs rejoins by IST with every acknowledged write', async () => {
    const w = new Writer(c, ['db-0', 'db-2']);
    await w.prepare();
    w.start();
    await sleep(1500);
    await c.kill('db-1');
    await sleep(2000); // writes db-1 misses, which IST must bring
    c.start('db-1');
    await c.waitReady(ALL);
    await sleep(1000);
    await w.stop();
    assert.ok(w.acked.length > 20, `too few writes to prove anything (${w.acked.length})`);
    await assertNothingLost(c, w, ALL);
    const log = errLog(c, 'db-1');
    const lastStart = log.lastIndexOf('Starting MariaDB') >= 0 ? log.slice(log.lastIndexOf('Starting MariaDB')) : log;
    assert.match(lastStart, /IST received/, 'db-1 should have caught up by IST');
    assert.doesNotMatch(lastStart, /rsync SST completed on joiner/, 'db-1 needed a full SST instead of IST');
  });

  it(
    'all three killed at once recover by themselves: ' +
      'the most advanced member bootstraps, nothing acknowledged is lost',
    async () => {
      const w = new Writer(c, ALL);
      await w.prepare();
      w.start();
      await sleep(2000);
      await Promise.all(ALL.map((m) => c.kill(m)));
      await w.stop();
      // Every grastate.dat now says seqno -1 and safe_to_bootstrap 0: what normally needs a human.
      for (const m of ALL) assert.match(readFileSync(join(c.dataDir(m), 'grastate.dat'), 'utf8'), /seqno:\s+-1/);
      const marks = logMarks(c);
      c.startAll();
      await c.waitReady(ALL);
      assert.deepEqual(await clusterSizes(c), [3, 3, 3]);
      await assertNothingLost(c, w, ALL);
      assertMostAdvancedBootstrapped(c, marks);
    },
  );

  it('staggered crash (db-0 dies first, the others later): db-0 is behind and must not bootstrap', async () => {
    const w = new Writer(c, ['db-1', 'db-2']);
    await w.prepare();
    w.start();
    await sleep(1000);
    await c.kill('db-0');
    const ackedWhenDb0Died = w.acked.length;
    // Writes stall until db-0 is evicted (a few seconds), then go on without it: wait for some it never sees.
    for (let i = 0; i < 600 && w.acked.length <= ackedWhenDb0Died + 30; i++) await sleep(100);
    await Promise.all([c.kill('db-1'), c.kill('db-2')]);
    await w.stop();
    assert.ok(w.acked.length > ackedWhenDb0Died + 10, 'writes after db-0 died are what a wrong bootstrap would lose');
    // Only this restart's decisions count: db-0 bootstrapped in the scenario before, and when it starts
    // after db-2 is up it logs only "joining the running cluster" (an earlier run took that old line for a bootstrap).
    const marks = logMarks(c);
    c.startAll();
    await c.waitReady(ALL);
    await assertNothingLost(c, w, ALL);
    // db-1 and db-2 usually tie (then the lower ordinal goes first), but a write set that db-2 applied and
    // db-1 had not when both died makes db-2 the most advanced: either way the bootstrapper had the highest.
    const bootstrapper = assertMostAdvancedBootstrapped(c, marks);
    assert.notEqual(bootstrapper, 'db-0', 'db-0 is behind and must join instead');
  });

  it('a member whose data dir was wiped rejoins by SST with all the data', async () => {
    const w = new Writer(c, ['db-0', 'db-1']);
    await w.prepare();
    w.start();
    await sleep(1000);
    await c.stop('db-2');
    c.wipe('db-2');
    const mark = errLog(c, 'db-2').length;
    c.start('db-2');
    await c.waitReady(ALL);
    await w.stop();
    await assertNothingLost(c, w, ALL);
    assert.match(
      errLog(c, 'db-2').slice(mark),
      /rsync SST completed on joiner/,
      'db-2 should have received a full SST',
    );
    // The earlier writers' rows came along with the snapshot too.
    const conn = await c.connect('db-2', 'app');
    const rows: { n: bigint | number }[] = await conn.query('SELECT COUNT(*) AS n FROM writes');
    await conn.end();
    assert.ok(Number(rows[0]?.n) >= w.acked.length);
  });

  it(
    'a clean stop of all members, in any order, ' + 'restarts without a human (safe_to_bootstrap member goes first)',
    async () => {
      for (const m of ['db-2', 'db-0', 'db-1']) await c.stop(m);
      assert.match(readFileSync(join(c.dataDir('db-1'), 'grastate.dat'), 'utf8'), /safe_to_bootstrap: 1/);
      // Start the last-stopped member alone first: it may bootstrap without waiting for the others.
      c.start('db-1');
      await c.waitReady(['db-1']);
      c.start('db-0');
      c.start('db-2');
      await c.waitReady(ALL);
      assert.deepEqual(await clusterSizes(c), [3, 3, 3]);
    },
  );

  it('the web tier\'s "mariadb" data source counts visits and names the member that answered', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kstack-dbsource-'));
    t.after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const reports = [];
    for (const m of ALL) {
      writeFileSync(join(dir, 'pw'), c.appPassword);
      const source = dataSourceFromEnv({
        WEBINFO_DATA_SOURCE: 'mariadb',
        WEBINFO_DB_HOST: '127.0.0.1',
        WEBINFO_DB_PORT: String(c.member(m).sqlPort),
        WEBINFO_DB_USER: 'app',
        WEBINFO_DB_PASSWORD_FILE: join(dir, 'pw'),
        WEBINFO_DB_DATABASE: 'app',
      });
      try {
        reports.push(await source.read(AbortSignal.timeout(10_000)));
        reports.push(await source.read(AbortSignal.timeout(10_000)));
      } finally {
        await source.close?.();
      }
    }
    assert.ok(
      reports.every((r) => r.ok),
      JSON.stringify(reports),
    );
    assert.deepEqual(
      reports.map((r) => r.values?.answeredBy),
      ['db-0', 'db-0', 'db-1', 'db-1', 'db-2', 'db-2'],
    );
    const visits = reports.map((r) => Number(r.values?.visits));
    assert.deepEqual(
      visits,
      visits.map((_, i) => (visits[0] ?? 0) + i),
      'one counter, replicated: every visit on any member counts once',
    );
    assert.ok(reports.every((r) => r.values?.clusterSize === 3 && r.values.memberState === 'Synced'));
  });
});
