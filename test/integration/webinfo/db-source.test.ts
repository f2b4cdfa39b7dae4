// The web tier's /api/info reading from a real database: the webinfo companion's own entry point, with
// the mariadb data source preloaded (node --import, exactly what webinfo.command can do in the chart),
// against a standalone member started by the agent. Two requests: the visit counter goes up by one, and
// the answer names the server.
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
        WEBINFO_DATA_SOURCE: 'mariadb',
        WEBINFO_DB_HOST: '127.0.0.1',
        WEBINFO_DB_PORT: String(cluster.member('db-0').sqlPort),
        WEBINFO_DB_USER: 'app',
        WEBINFO_DB_PASSWORD_FILE: join(dir, 'pw'),
        WEBINFO_DB_DATABASE: 'app',
      },
    });
    pid = child.pid;
    const get = async (): Promise<{
      data: { ok: boolean; source: string; message: string; values?: Record<string, unknown> };
    }> => {
      for (let i = 0; ; i++) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/info`, { signal: AbortSignal.timeout(5000) });
          return (await res.json()) as {
            data: { ok: boolean; source: string; message: string; values?: Record<string, unknown> };
          };
        } catch (err) {
          if (i > 100) throw err;
          await sleep(100);
        }
      }
    };
    const first = await get();
    const second = await get();
    assert.equal(first.data.source, 'mariadb');
    assert.ok(first.data.ok, first.data.message);
    assert.equal(Number(second.data.values?.visits), Number(first.data.values?.visits) + 1);
    assert.equal(second.data.values?.clusterStatus, 'standalone');
    assert.ok(typeof second.data.values?.answeredBy === 'string' && second.data.values.answeredBy !== '');
  });
});
