// The web tier's /api/info reading from a real database: the webinfo companion's own entry point, with
// the mariadb data source preloaded (node --import, exactly what webinfo.command can do in the chart),
// against a standalone member started by the agent. Two requests: the visit counter goes up by one, and
// the answer names the server. Each answer carries a distinct visitId that exists as its own row, with the
// region and pod; with the server read-only, /api/info still answers, says so, and gives no visitId.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopbackCluster, MARIADBD } from '../../helpers/galera-loopback.js';
import { pickFreePorts } from '../../../src/util/net.js';
import { repoRoot } from '../../../src/util/paths.js';
import { requireFiles } from '../../helpers/require-tools.js';

const dist = join(repoRoot, 'dist', 'src', 'webinfo');

describe('webinfo /api/info with the mariadb data source (real mariadbd)', { timeout: 300_000 }, () => {
  requireFiles([MARIADBD]);
  const dir = mkdtempSync(join(tmpdir(), 'kstack-webinfo-db-'));
  chmodSync(dir, 0o755); // mariadbd runs as mysql and must reach its data dir below this one
  let cluster: LoopbackCluster | undefined;
  let pid: number | undefined;
  after(async () => {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  interface InfoDoc {
    pod: { name: string };
    region: string | null;
    data: { ok: boolean; source: string; message: string; values?: Record<string, unknown> };
  }
  let get: () => Promise<{ status: number; info: InfoDoc }>;

  it('counts each visit in the database and reports who answered', async () => {
    cluster = await LoopbackCluster.create({ baseDir: join(dir, 'db'), size: 1, mode: 'standalone' });
    cluster.startAll();
    await cluster.waitReady();
    writeFileSync(join(dir, 'pw'), cluster.appPassword);
    const [port] = await pickFreePorts(1);
    assert.ok(port);
    const child = spawn(process.execPath, ['--import', join(dist, 'db-source.js'), join(dist, 'main.js')], {
      stdio: 'ignore',
      env: {
        ...process.env,
        WEBINFO_HOST: '127.0.0.1',
        WEBINFO_PORT: String(port),
        WEBINFO_PAGE_DIR: dir,
        POD_NAME: 'web-abcde',
        WEBINFO_REGION: 'east',
        WEBINFO_DATA_SOURCE: 'mariadb',
        WEBINFO_DB_HOST: '127.0.0.1',
        WEBINFO_DB_PORT: String(cluster.member('db-0').sqlPort),
        WEBINFO_DB_USER: 'app',
        WEBINFO_DB_PASSWORD_FILE: join(dir, 'pw'),
        WEBINFO_DB_DATABASE: 'app',
      },
    });
    pid = child.pid;
    get = async () => {
      for (let i = 0; ; i++) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/info`, { signal: AbortSignal.timeout(5000) });
          return { status: res.status, info: (await res.json()) as InfoDoc };
        } catch (err) {
          if (i > 100) throw err;
          await sleep(100);
        }
      }
    };
    const first = (await get()).info;
    const second = (await get()).info;
    assert.equal(first.data.source, 'mariadb');
    assert.ok(first.data.ok, first.data.message);
    assert.equal(Number(second.data.values?.visits), Number(first.data.values?.visits) + 1);
    assert.equal(second.data.values?.clusterStatus, 'standalone');
    assert.ok(typeof second.data.values?.answeredBy === 'string' && second.data.values.answeredBy !== '');
  });

  it('records each acknowledged visit as its own row: a distinct visitId per answer, with region and pod', async () => {
    assert.ok(cluster, 'the first test started the server');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { status, info } = await get();
      assert.equal(status, 200);
      assert.ok(info.data.ok, info.data.message);
      assert.equal(info.region, 'east');
      const id = info.data.values?.visitId;
      assert.ok(typeof id === 'string' && /^[0-9a-f]{32}$/.test(id), `visitId ${String(id)}`);
      ids.push(id);
    }
    assert.equal(new Set(ids).size, ids.length, 'every visit has its own id');
    const conn = await cluster.connect('db-0', 'root');
    try {
      const rows = await conn.query<{ id: string; region: string | null; pod: string; at: Date }[]>(
        `SELECT id, region, pod, at FROM app.webinfo_visit_log WHERE id IN (${ids.map(() => '?').join(',')})`,
        ids,
      );
      assert.deepEqual(rows.map((r) => r.id).sort(), [...ids].sort(), 'each acknowledged visit is a row');
      assert.ok(
        rows.every((r) => r.region === 'east' && r.pod === 'web-abcde'),
        JSON.stringify(rows),
      );
      assert.ok(rows.every((r) => r.at instanceof Date && Math.abs(Date.now() - r.at.getTime()) < 600_000));
    } finally {
      await conn.end();
    }
  });

  it('with the server read-only (read_only=ON), answers with the pod, a read-only error and no visitId', async () => {
    assert.ok(cluster, 'the first test started the server');
    const root = await cluster.connect('db-0', 'root');
    const count = async (): Promise<number> =>
      Number((await root.query<{ n: bigint }[]>('SELECT COUNT(*) AS n FROM app.webinfo_visit_log'))[0]?.n);
    try {
      const before = await count();
      await root.query('SET GLOBAL read_only = ON');
      const { status, info } = await get();
      assert.equal(status, 200, 'the page still gets an answer');
      assert.equal(info.pod.name, 'web-abcde');
      assert.equal(info.region, 'east');
      assert.equal(info.data.source, 'mariadb');
      assert.equal(info.data.ok, false);
      assert.match(info.data.message, /^the database is read-only: .* refused to record this visit \(error 1290: /);
      assert.match(info.data.message, /--read-only/, "the server's own words");
      assert.equal(info.data.values?.visitId, undefined, 'no visitId: the visit was not recorded');
      assert.equal(info.data.values?.readOnly, true);
      assert.equal(await count(), before, 'no row was written');
      await root.query('SET GLOBAL read_only = OFF');
      const again = (await get()).info;
      assert.ok(again.data.ok, `writable again: ${again.data.message}`);
      assert.equal(typeof again.data.values?.visitId, 'string');
      assert.equal(await count(), before + 1);
    } finally {
      await root.query('SET GLOBAL read_only = OFF').catch(() => undefined);
      await root.end();
    }
  });
});
