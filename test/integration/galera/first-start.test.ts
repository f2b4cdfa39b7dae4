// A first start that died half-way: the data dir was initialised (mariadb-install-db ran) but the agent
// never got to create the accounts. The next start must finish the job instead of leaving a server
// nobody can log in to.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopbackCluster, MARIADBD } from '../../../src/galera/loopback.js';
import { run } from '../../../src/util/exec.js';
import * as mariadb from 'mariadb';

const asRoot = process.getuid?.() === 0;

describe('galera agent: an interrupted first start', { skip: existsSync(MARIADBD) ? false : 'mariadb-server not installed; run ./kstack setup', timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-first-start-'));
  chmodSync(dir, 0o755);
  let c: LoopbackCluster | undefined;
  after(async () => {
    await c?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the accounts on the next start when the data dir exists without them', async () => {
    c = await LoopbackCluster.create({ baseDir: join(dir, 'db'), size: 1, mode: 'standalone' });
    const data = c.dataDir('db-0');
    mkdirSync(data, { recursive: true });
    // What the first start managed before it died: the system tables, root without a password.
    await run('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, ...(asRoot ? ['--user=mysql'] : []), '--auth-root-authentication-method=normal', '--skip-test-db']);
    if (asRoot) await run('chown', ['-R', 'mysql:mysql', data]);
    c.startAll();
    await c.waitReady();
    const conn = await c.connect('db-0', 'app');
    try {
      assert.deepEqual(await conn.query('SELECT CURRENT_USER() AS u'), [{ u: 'app@%' }]);
    } finally {
      await conn.end();
    }
    // root now has its password, and no longer logs in without one.
    const root = await c.connect('db-0', 'root');
    await root.end();
    await assert.rejects(
      mariadb.createConnection({ host: '127.0.0.1', port: c.member('db-0').sqlPort, user: 'root', password: '', connectTimeout: 3000 }),
      (err: { errno?: number }) => err.errno === 1045,
    );
  });
});
