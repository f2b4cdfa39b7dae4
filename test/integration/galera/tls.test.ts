// Database TLS on real agents and mariadbd (loopback): clients must use TLS and verify the server, and
// Galera replication, IST and SST travel encrypted. A capture of the members' Galera and IST ports finds a
// marker row in plain text on a cluster without TLS (so the capture can see it) and not with TLS on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mariadb from 'mariadb';
import { LoopbackCluster, MARIADBD, Writer } from '../../helpers/galera-loopback.js';
import { GALERA_LIBRARY, requireFiles } from '../../helpers/require-tools.js';

const TCPDUMP = '/usr/bin/tcpdump';

function errLog(c: LoopbackCluster, name: string): string {
  const f = join(c.runDir(name), 'mysqld.err');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

/** A full mariabackup SST the joiner received through socat with OpenSSL, checking the donor against the CA. */
function assertSstOverTls(log: string, joiner: string): void {
  assert.match(log, /Using openssl based encryption with socat/, `${joiner}'s SST should go through OpenSSL`);
  assert.match(log, /Verifying peer certificate chain for ssl-mode=VERIFY_CA/);
  assert.match(log, /Decrypting with cert=/);
  assert.match(log, /Preparing the backup at/, `${joiner} should have received a full snapshot`);
  assert.match(log, /mariabackup SST completed on joiner/);
}

/** A client without TLS, straight to a member's SQL port. */
const plainClient = (c: LoopbackCluster, name: string, user: 'app' | 'root' = 'app'): Promise<mariadb.Connection> =>
  c.connect(name, user, { plain: true, connectTimeoutMs: 5000 });

async function query<T>(c: LoopbackCluster, name: string, sql: string, user: 'app' | 'root' = 'app'): Promise<T> {
  const conn = await c.connect(name, user);
  try {
    const rows: T = await conn.query(sql);
    return rows;
  } finally {
    await conn.end();
  }
}

/** tcpdump on loopback: our members' Galera, IST and SST ports (never SQL: that is the clients' own traffic). */
async function startCapture(c: LoopbackCluster, file: string): Promise<() => Promise<Buffer>> {
  const ports = c.members.flatMap((m) => [m.galeraPort, m.istPort, m.sstPort]);
  const filter = `tcp and (${ports.map((p) => `port ${p}`).join(' or ')})`;
  // -Z root: it would drop to the tcpdump user, which cannot write under baseDir; -U: every packet at once.
  const child = spawn(TCPDUMP, ['-i', 'lo', '-n', '-U', '-s', '0', '-Z', 'root', '-w', file, filter], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((res) => {
    child.once('exit', () => {
      res();
    });
  });
  for (let i = 0; i < 100 && !stderr.includes('listening on'); i++) {
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  if (!stderr.includes('listening on')) {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    throw new Error(`tcpdump did not start capturing: ${stderr}`);
  }
  return async () => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    await exited;
    return readFileSync(file);
  };
}

async function insertMarker(c: LoopbackCluster, name: string, marker: string): Promise<void> {
  const conn = await c.connect(name);
  try {
    await conn.query('CREATE TABLE IF NOT EXISTS markers (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64))');
    // A few rows: one write set per statement, so a marker split across two segments cannot hide all of them.
    for (let i = 0; i < 5; i++) await conn.query('INSERT INTO markers (v) VALUES (?)', [marker]);
  } finally {
    await conn.end();
  }
}

/**
 * Captures the Galera and IST ports while a marker is replicated, and while a second one reaches `joiner`
 * by IST (the joiner is stopped, misses it, and is started again). Returns the capture and both markers.
 */
async function markersThroughReplicationAndIst(
  c: LoopbackCluster,
  writer: string,
  joiner: string,
): Promise<{ pcap: Buffer; replicated: string; ist: string }> {
  const replicated = `kstack-marker-${randomBytes(8).toString('hex')}`;
  const ist = `kstack-marker-${randomBytes(8).toString('hex')}`;
  const stop = await startCapture(c, join(c.opts.baseDir, 'galera.pcap'));
  let pcap: Buffer;
  try {
    await insertMarker(c, writer, replicated);
    await c.stop(joiner);
    await insertMarker(c, writer, ist);
    c.start(joiner);
    await c.waitReady();
  } finally {
    pcap = await stop();
  }
  const rows = await query<{ n: number | bigint }[]>(
    c,
    joiner,
    `SELECT COUNT(*) AS n FROM markers WHERE v IN ('${replicated}', '${ist}')`,
  );
  assert.equal(Number(rows[0]?.n), 10, `${joiner} should have both markers' rows`);
  return { pcap, replicated, ist };
}

describe('galera TLS on loopback (real agents, mariadbd, galera-4)', { timeout: 600_000 }, () => {
  requireFiles(
    [MARIADBD, GALERA_LIBRARY, TCPDUMP, '/usr/bin/openssl', '/usr/bin/socat'],
    "run './kstack setup' (it installs the Debian packages the tests use: db and capture)",
  );

  describe('TLS off: the control that shows the checks can fail', () => {
    let c: LoopbackCluster;
    before(async () => {
      // Two members are enough to replicate and IST; allowEvenMembers keeps the control cheap.
      c = await LoopbackCluster.create({
        baseDir: mkdtempSync(join(tmpdir(), 'kstack-galera-plain-')),
        size: 2,
        sstMethod: 'rsync',
        baseConfig: { allowEvenMembers: true },
      });
      c.startAll();
      await c.waitReady();
    });
    after(async () => {
      await c.destroy();
    });

    it('accepts a client without TLS', async () => {
      for (const user of ['app', 'root'] as const) {
        const conn = await plainClient(c, 'db-1', user);
        try {
          const rows: { Value: string }[] = await conn.query("SHOW STATUS LIKE 'Ssl_version'");
          assert.equal(rows[0]?.Value, '', 'the connection is plain text');
        } finally {
          await conn.end();
        }
      }
    });

    it('a capture of the Galera and IST ports shows replicated and IST-sent rows in plain text', async () => {
      const { pcap, replicated, ist } = await markersThroughReplicationAndIst(c, 'db-0', 'db-1');
      assert.ok(pcap.includes(replicated), 'the replicated marker should be visible on the Galera port');
      assert.ok(pcap.includes(ist), 'the marker sent by IST should be visible on the IST port');
    });
  });

  describe('TLS on (3 members, mariabackup SST)', () => {
    let c: LoopbackCluster;
    before(async () => {
      c = await LoopbackCluster.create({
        baseDir: mkdtempSync(join(tmpdir(), 'kstack-galera-tls-')),
        size: 3,
        sstMethod: 'mariabackup',
        tls: true,
      });
      c.startAll();
      await c.waitReady();
    });
    after(async () => {
      if (process.env.KSTACK_KEEP_GALERA) return; // for debugging: leaves the members running
      await c.destroy();
    });

    it('the joiners got their first SST over socat with OpenSSL, verifying the CA', () => {
      for (const m of ['db-1', 'db-2']) assertSstOverTls(errLog(c, m), m);
      assert.match(errLog(c, 'db-0'), /Encrypting with cert=/, 'db-0 donated with OpenSSL');
    });

    it('the app account writes over TLS that verifies the server; it and the server require SSL', async () => {
      const conn = await c.connect('db-2');
      try {
        await conn.query('CREATE TABLE IF NOT EXISTS hello (id INT PRIMARY KEY)');
        await conn.query('INSERT INTO hello VALUES (1)');
        const rows: { Value: string }[] = await conn.query("SHOW STATUS LIKE 'Ssl_version'");
        assert.match(rows[0]?.Value ?? '', /^TLSv1\.[23]$/);
      } finally {
        await conn.end();
      }
      const user = await query<Record<string, string>[]>(c, 'db-0', "SHOW CREATE USER 'app'@'%'", 'root');
      assert.match(Object.values(user[0] ?? {})[0] ?? '', /REQUIRE SSL/);
      const vars = await query<{ Value: string }[]>(
        c,
        'db-1',
        "SHOW GLOBAL VARIABLES LIKE 'require_secure_transport'",
        'root',
      );
      assert.equal(vars[0]?.Value, 'ON');
    });

    it('refuses a client without TLS, and a TLS client that does not trust the CA', async () => {
      // root@127.0.0.1 has no REQUIRE clause of its own: require_secure_transport alone refuses it. MariaDB
      // 10.11 checks it with the account's SSL requirement and answers 1045 Access denied (MySQL: 3159);
      // the same password over TLS logs in, and without TLS on the control cluster.
      for (const user of ['root', 'app'] as const) {
        await assert.rejects(plainClient(c, 'db-0', user), (err: Error & { errno?: number }) => {
          assert.ok(
            err.errno === 1045 || err.errno === 3159 || /insecure transport/i.test(err.message),
            `expected ${user} without TLS to be refused, got ${err.message}`,
          );
          return true;
        });
        await (await c.connect('db-0', user)).end();
      }
      await assert.rejects(
        mariadb.createConnection({
          host: '127.0.0.1',
          port: c.member('db-0').sqlPort,
          user: 'app',
          password: c.appPassword,
          connectTimeout: 5000,
          ssl: { rejectUnauthorized: true },
        }),
        /certificate|self[- ]signed|verify/i,
      );
    });

    it('a stopped member rejoins by IST under writes, and the capture never shows the rows in plain text', async () => {
      const w = new Writer(c, ['db-0', 'db-2']);
      await w.prepare();
      w.start();
      const mark = errLog(c, 'db-1').length;
      let captured: Awaited<ReturnType<typeof markersThroughReplicationAndIst>>;
      try {
        captured = await markersThroughReplicationAndIst(c, 'db-0', 'db-1');
      } finally {
        await w.stop();
      }
      const log = errLog(c, 'db-1').slice(mark);
      assert.match(log, /IST receiver using ssl/, 'db-1 should receive IST over TLS');
      assert.match(log, /Receiving IST: \d+ writesets/, 'db-1 should have caught up by IST');
      assert.match(log, /IST received: /);
      assert.doesNotMatch(log, /Preparing the backup at/, 'db-1 needed a full SST instead of IST');
      assert.ok(captured.pcap.length > 10_000, `the capture is nearly empty (${captured.pcap.length} bytes)`);
      assert.ok(!captured.pcap.includes(captured.replicated), 'a replicated row crossed the Galera port in plain text');
      assert.ok(!captured.pcap.includes(captured.ist), 'a row sent by IST crossed the IST port in plain text');
      assert.ok(w.acked.length > 10, `too few writes to prove anything (${w.acked.length})`);
      for (const m of ['db-0', 'db-1', 'db-2'])
        assert.deepEqual((await w.missingOn(m)).slice(0, 20), [], `${m} lost acknowledged writes`);
    });

    it('a member whose data dir was wiped rejoins by SST over OpenSSL with all the data', async () => {
      await c.stop('db-2');
      c.wipe('db-2');
      const mark = errLog(c, 'db-2').length;
      c.start('db-2');
      await c.waitReady();
      assertSstOverTls(errLog(c, 'db-2').slice(mark), 'db-2');
      const rows = await query<{ n: number | bigint }[]>(c, 'db-2', 'SELECT COUNT(*) AS n FROM hello');
      assert.equal(Number(rows[0]?.n), 1);
    });
  });
});
