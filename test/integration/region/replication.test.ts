// Two regions on loopback, each its own Galera cluster of real agents and mariadbd with TLS: the standby
// applies the primary's binlog by GTID replication over TLS with its own account, stays read-only for the
// app, keeps its accounts and role to itself, and a planned switchover (stop writes, catch up, promote)
// loses no acknowledged write; the old primary then replicates from the new one.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as mariadb from 'mariadb';
import { eventually as pollUntil } from '../../helpers/cluster.js';
import { LoopbackCluster } from '../../helpers/galera-loopback.js';
import { GALERA_LIBRARY, requireFiles } from '../../helpers/require-tools.js';
import type { TlsFiles } from '../../../src/galera/config.js';
import {
  binlogPosition,
  formatGtidList,
  promote,
  replicaPosition,
  replicaStatus,
  setRegionPeer,
  setRegionRole,
  startReplica,
  transactionsBehind,
  writeDomain,
  type ReplicationSource,
  type SqlSession,
} from '../../../src/region/replication.js';

const REPL_USER = 'kstack_repl';
/** Both regions run from one copy of the db Secret (kstack copies the primary's), so one password. */
const REPL_PASSWORD = 'loopback-repl-pw';

async function region(
  name: string,
  serverId: number,
  initialRole: 'primary' | 'standby',
  size: number,
  tlsFrom?: TlsFiles,
) {
  const baseDir = mkdtempSync(join(tmpdir(), `kstack-region-${name}-`));
  const passwordFile = join(baseDir, 'repl-password');
  writeFileSync(passwordFile, REPL_PASSWORD, { mode: 0o644 });
  const c = await LoopbackCluster.create({
    baseDir,
    size,
    // SST over TLS is mariabackup's (socat with OpenSSL), as in the chart.
    sstMethod: 'mariabackup',
    prefix: name,
    tls: true,
    ...(tlsFrom ? { tlsFrom } : {}),
    baseConfig: {
      allowEvenMembers: true,
      binlog: true,
      region: {
        name,
        serverId,
        gtidDomainId: serverId,
        initialRole,
        replicationAccount: { user: REPL_USER, passwordFile },
      },
    },
  });
  try {
    c.startAll();
    await c.waitReady();
  } catch (err) {
    await c.destroy(); // a region that cannot start leaves nothing running
    throw err;
  }
  return c;
}

/** A session on a member as root, shaped as the replication module expects. */
async function session(c: LoopbackCluster, member: string): Promise<SqlSession & { end(): Promise<void> }> {
  const conn = await c.connect(member, 'root');
  return {
    query: async (sql: string) => {
      const out: unknown = await conn.query(sql);
      return Array.isArray(out) ? (out as Record<string, unknown>[]) : [];
    },
    end: () => conn.end(),
  };
}

async function withSession<T>(c: LoopbackCluster, member: string, fn: (s: SqlSession) => Promise<T>): Promise<T> {
  const s = await session(c, member);
  try {
    return await fn(s);
  } finally {
    await s.end();
  }
}

async function appQuery(c: LoopbackCluster, member: string, sql: string): Promise<unknown> {
  const conn: mariadb.Connection = await c.connect(member, 'app');
  try {
    return await conn.query(sql);
  } finally {
    await conn.end();
  }
}

async function ids(c: LoopbackCluster, member: string): Promise<Set<number>> {
  const rows = (await appQuery(c, member, 'SELECT id FROM visits')) as { id: number }[];
  return new Set(rows.map((r) => r.id));
}

/** The shared poll for a yes/no check; the 60 s bound is loose (a loaded 2-core machine), only for a hung test. */
const eventually = (what: string, check: () => Promise<boolean>): Promise<true> =>
  pollUntil(what, async () => ((await check()) ? true : undefined), 60_000);

function sourceOf(c: LoopbackCluster, member: string): ReplicationSource {
  return {
    host: '127.0.0.1',
    port: c.member(member).sqlPort,
    user: REPL_USER,
    password: REPL_PASSWORD,
    caFile: c.tlsFiles?.ca,
    verifyServerName: true,
  };
}

const errnoOf = (err: unknown): number | undefined => (err as { errno?: number }).errno;

describe('two regions on loopback: GTID replication between Galera clusters', { timeout: 600_000 }, () => {
  let east: LoopbackCluster;
  let west: LoopbackCluster;

  before(async () => {
    requireFiles([GALERA_LIBRARY]);
    // The primary is one member, the standby two: enough to show Galera spreading what the replica applies.
    // One after the other, so that a region already made is cleaned up when the other fails to start.
    east = await region('east', 1, 'primary', 1);
    // One CA for both, as kstack copies the primary's to the standby: each region's agents check the other.
    west = await region('west', 2, 'standby', 2, east.tlsFiles);
    await appQuery(east, 'east-0', 'CREATE TABLE visits (id INT PRIMARY KEY, at TIMESTAMP(3) DEFAULT NOW(3))');
    await appQuery(east, 'east-0', 'INSERT INTO visits (id) VALUES (1), (2), (3)');
    await withSession(west, 'west-0', (s) => startReplica(s, sourceOf(east, 'east-0'), ''));
  });
  after(async () => {
    await Promise.all([east?.destroy(), west?.destroy()]);
  });

  it('the standby applies the primary over TLS, verified, and Galera spreads it to every standby member', async () => {
    await appQuery(east, 'east-0', 'INSERT INTO visits (id) VALUES (4)');
    for (const m of ['west-0', 'west-1'])
      await eventually(`${m} has the primary's rows`, async () => (await ids(west, m)).size === 4);
    const status = await withSession(west, 'west-0', (s) => s.query('SHOW SLAVE STATUS'));
    assert.equal(status[0]?.Slave_IO_Running, 'Yes');
    assert.equal(status[0]?.Master_SSL_Allowed, 'Yes', 'the replica connects with TLS');
    assert.equal(status[0]?.Master_SSL_Verify_Server_Cert, 'Yes', 'and checks the certificate names the source');
    const parsed = await withSession(west, 'west-0', replicaStatus);
    assert.equal(parsed.lastError, undefined);
    assert.equal(parsed.secondsBehind, 0);
  });

  it('the replication account needs TLS and can do nothing but replicate and read the region state', async () => {
    const grants = await withSession(east, 'east-0', (s) => s.query(`SHOW GRANTS FOR '${REPL_USER}'@'%'`));
    const text = grants.map((g) => String(Object.values(g)[0])).join('\n');
    assert.match(text, /GRANT REPLICATION SLAVE ON \*\.\*/);
    assert.match(text, /REQUIRE SSL/);
    assert.match(text, /GRANT SELECT ON `kstack_region`\.\*/);
    assert.doesNotMatch(text, /ALL PRIVILEGES|INSERT|UPDATE|DELETE|SUPER/);
  });

  it('the standby refuses the app writes (read-only) while applying the stream', async () => {
    for (const m of ['west-0', 'west-1']) {
      await assert.rejects(
        appQuery(west, m, 'INSERT INTO visits (id) VALUES (100)'),
        (err) => errnoOf(err) === 1290,
        `${m} should be read-only`,
      );
    }
    const writable = await withSession(east, 'east-0', (s) => s.query('SELECT @@GLOBAL.read_only AS ro'));
    assert.equal(Number(writable[0]?.ro), 0, 'the primary opened writes itself (agent, initial role primary)');
  });

  it("each region's role and accounts stay in that region", async () => {
    await withSession(east, 'east-0', (s) => setRegionRole(s, { role: 'primary', epoch: 1, reason: 'test' }));
    await appQuery(east, 'east-0', 'INSERT INTO visits (id) VALUES (5)');
    await eventually('the standby has row 5', async () => (await ids(west, 'west-1')).has(5));
    const state = await withSession(west, 'west-1', (s) =>
      s.query(
        "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'kstack_region' AND " +
          "TABLE_NAME = 'state'",
      ),
    );
    if (Number(state[0]?.n) === 1) {
      const rows = await withSession(west, 'west-1', (s) => s.query('SELECT role FROM kstack_region.state'));
      assert.equal(rows.length, 0, "the primary's role row must not reach the standby");
    }
    // Account statements do cross (the primary's agent ensures its accounts on every start): with one copy
    // of the Secret in both regions they change nothing and stop nothing.
    await withSession(east, 'east-0', (s) =>
      s.query(`ALTER USER '${REPL_USER}'@'%' IDENTIFIED BY '${REPL_PASSWORD}' REQUIRE SSL`),
    );
    await appQuery(east, 'east-0', 'INSERT INTO visits (id) VALUES (6)');
    await eventually('the standby has row 6', async () => (await ids(west, 'west-1')).has(6));
    const status = await withSession(west, 'west-0', replicaStatus);
    assert.equal(status.lastError, undefined, 'no replication error from accounts or the role row');
  });

  it('a planned switchover loses no acknowledged write, and the old primary then replicates the new one', async () => {
    const acked: number[] = [];
    let refused = 0;
    let stop = false;
    let next = 1000;
    const writer = (async () => {
      while (!stop) {
        const id = next++;
        try {
          await appQuery(east, 'east-0', `INSERT INTO visits (id) VALUES (${id})`);
          acked.push(id);
        } catch (err) {
          if (errnoOf(err) === 1290) refused++;
          else throw err;
        }
        await sleep(20);
      }
    })();
    await sleep(1000);
    // 1. Stop writes on the primary: from here it refuses them.
    await withSession(east, 'east-0', (s) => setRegionRole(s, { role: 'standby', epoch: 1, reason: 'switchover' }));
    // 2. Wait until the standby holds every transaction the primary logged in its write domain.
    const domain = await withSession(east, 'east-0', writeDomain);
    const target = await withSession(east, 'east-0', binlogPosition);
    await eventually('the standby caught up', async () => {
      const have = await withSession(west, 'west-0', replicaPosition);
      return transactionsBehind(target, have, [domain]) === 0;
    });
    // 3. Neither takes writes: the old primary will follow from the new one's binlog position. Promote.
    const handover = formatGtidList(await withSession(west, 'west-0', binlogPosition));
    await withSession(west, 'west-0', (s) => promote(s, 2, 'switchover'));
    stop = true;
    await writer;
    assert.ok(acked.length > 10, `the writer should have written before the switchover (${acked.length})`);
    assert.ok(refused > 0, 'the old primary should have refused writes after it stepped down');
    for (const m of ['west-0', 'west-1']) {
      const have = await ids(west, m);
      const lost = acked.filter((id) => !have.has(id));
      assert.deepEqual(lost, [], `${m}: acknowledged writes lost`);
    }
    // The other member of the new primary opens writes when its agent reads the role (Galera copied the row).
    await eventually('west-1 takes writes', async () => {
      await appQuery(west, 'west-1', 'INSERT INTO visits (id) VALUES (5001)');
      return true;
    });
    // 4. The old primary follows the new one from where it stands.
    await withSession(east, 'east-0', (s) => startReplica(s, sourceOf(west, 'west-0'), handover));
    await appQuery(west, 'west-0', 'INSERT INTO visits (id) VALUES (5002)');
    await eventually("the old primary has the new primary's writes", async () => {
      const have = await ids(east, 'east-0');
      return have.has(5001) && have.has(5002);
    });
    const status = await withSession(east, 'east-0', replicaStatus);
    assert.equal(status.lastError, undefined);
    await assert.rejects(appQuery(east, 'east-0', 'INSERT INTO visits (id) VALUES (6000)'), (e) => errnoOf(e) === 1290);
  });

  it('a restarted member of the promoted region comes back writable; one of the old primary, read-only', async () => {
    // A clean stop: of two members, one killed would leave the other without a majority.
    await west.stop('west-1');
    west.start('west-1');
    await west.waitReady(['west-1']);
    await eventually('west-1 takes writes after its restart', async () => {
      await appQuery(west, 'west-1', 'INSERT INTO visits (id) VALUES (7001)');
      return true;
    });
    await east.stop('east-0');
    east.start('east-0');
    await east.waitReady(['east-0']);
    await sleep(3000); // several agent polls: it must not open writes
    await assert.rejects(appQuery(east, 'east-0', 'INSERT INTO visits (id) VALUES (7002)'), (e) => errnoOf(e) === 1290);
    await eventually('the restarted old primary still replicates', async () => (await ids(east, 'east-0')).has(7001));
  });

  it('unplanned: the primary region is lost, the standby takes over, the old primary returns fenced', async () => {
    // Now west is the primary (epoch 2) and east follows it. Each records where the other is.
    await withSession(west, 'west-0', (s) =>
      setRegionPeer(s, { region: 'east', host: '127.0.0.1', port: east.member('east-0').sqlPort }),
    );
    await withSession(east, 'east-0', (s) =>
      setRegionPeer(s, { region: 'west', host: '127.0.0.1', port: west.member('west-0').sqlPort }),
    );
    await sleep(2500); // west's agents ask east (a standby) and stay writable
    const acked: { id: number; at: number }[] = [];
    let stop = false;
    let next = 20_000;
    const writer = (async () => {
      while (!stop) {
        const id = next++;
        try {
          await appQuery(west, 'west-0', `INSERT INTO visits (id) VALUES (${id})`);
          acked.push({ id, at: Date.now() });
        } catch {
          // the region is being lost: what was not acknowledged is not owed
        }
        await sleep(20);
      }
    })();
    await sleep(1500);
    // The whole primary region is lost at once: every member killed without grace.
    const lostAt = Date.now();
    await Promise.all(['west-0', 'west-1'].map((m) => west.kill(m)));
    stop = true;
    await writer;
    assert.ok(acked.length > 10, `the writer should have written before the loss (${acked.length})`);
    // The standby applies everything it received, then is promoted at a newer epoch.
    const rs = await withSession(east, 'east-0', replicaStatus);
    await eventually('east applied all it received', async () => {
      const have = await withSession(east, 'east-0', replicaPosition);
      return transactionsBehind(rs.retrieved, have, [2]) === 0;
    });
    await withSession(east, 'east-0', (s) => promote(s, 3, 'unplanned failover from west'));
    await eventually('east takes writes', async () => {
      await appQuery(east, 'east-0', 'INSERT INTO visits (id) VALUES (30001)');
      return true;
    });
    // RPO: on loopback the replica is a few ms behind. Strict here: nothing acknowledged more than 5 s before
    // the loss (the target) may be missing.
    const have = await ids(east, 'east-0');
    const missing = acked.filter((a) => !have.has(a.id));
    assert.deepEqual(
      missing.filter((a) => a.at < lostAt - 5000),
      [],
      'writes acknowledged more than 5 s before the loss are lost',
    );
    // The old primary comes back with nothing run on it: its agents ask east, see epoch 3 and fence west.
    west.start('west-0');
    west.start('west-1');
    await west.waitReady();
    const probeUntil = Date.now() + 4000;
    while (Date.now() < probeUntil) {
      for (const m of ['west-0', 'west-1'])
        await assert.rejects(
          appQuery(west, m, `INSERT INTO visits (id) VALUES (${next++})`),
          (e) => errnoOf(e) === 1290,
          `${m} took a write after it came back: split brain`,
        );
      await sleep(200);
    }
    for (const m of ['west-0', 'west-1'])
      await eventually(`${m} records its region as fenced`, async () => {
        const rows = await withSession(west, m, (s) => s.query('SELECT role, epoch FROM kstack_region.state'));
        return rows[0]?.role === 'fenced' && Number(rows[0]?.epoch) === 2;
      });
    // The new primary is not stopped by the old one's return.
    await appQuery(east, 'east-0', 'INSERT INTO visits (id) VALUES (30002)');
  });
});
