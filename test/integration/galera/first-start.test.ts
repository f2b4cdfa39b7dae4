// A first start that died half-way must not leave a server nobody can log in to. Either the data dir was
// initialised (mariadb-install-db ran) but the agent never got to create the accounts, and the next start
// finishes the job; or mariadb-install-db itself failed half-way, and the next start initialises again
// instead of taking its leftovers for a data dir.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopbackCluster, MARIADBD } from '../../helpers/galera-loopback.js';
import { STAGING_DIR, installDbArgs } from '../../../src/galera/datadir.js';
import { run } from '../../../src/util/exec.js';
import * as mariadb from 'mariadb';
import { requireFiles } from '../../helpers/require-tools.js';

const asRoot = process.getuid?.() === 0;

describe('galera agent: an interrupted first start', { timeout: 300_000 }, () => {
  requireFiles([MARIADBD]);
  const dir = mkdtempSync(join(tmpdir(), 'kstack-first-start-'));
  chmodSync(dir, 0o755);
  const clusters: LoopbackCluster[] = [];
  after(async () => {
    for (const cluster of clusters) await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the accounts on the next start when the data dir exists without them', async () => {
    const c = await LoopbackCluster.create({ baseDir: join(dir, 'db'), size: 1, mode: 'standalone' });
    clusters.push(c);
    const data = c.dataDir('db-0');
    mkdirSync(data, { recursive: true });
    // What the first start managed before it died: the system tables, root without a password.
    const tmp = c.tmpDir('db-0');
    mkdirSync(tmp, { recursive: true });
    if (asRoot) await run('chown', ['mysql:mysql', tmp]);
    await run('mariadb-install-db', installDbArgs(data, tmp, asRoot ? 'mysql' : undefined));
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
      mariadb.createConnection({
        host: '127.0.0.1',
        port: c.member('db-0').sqlPort,
        user: 'root',
        password: '',
        connectTimeout: 3000,
      }),
      (err: { errno?: number }) => err.errno === 1045,
    );
  });
});

describe('galera agent: a failed data dir initialisation', { timeout: 300_000 }, () => {
  requireFiles([MARIADBD]);
  const dir = mkdtempSync(join(tmpdir(), 'kstack-failed-init-'));
  chmodSync(dir, 0o755);
  let c: LoopbackCluster | undefined;
  after(async () => {
    await c?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('initialises again after mariadb-install-db failed half-way, and serves with its own tmpdir', async () => {
    // mariadb-install-db that, the first time, writes part of a data dir (a system database folder
    // without its tables) and fails, as it did when another server's start deleted its temporary tables.
    const once = join(dir, 'failed-once');
    const installDb = join(dir, 'install-db-failing-once');
    writeFileSync(
      installDb,
      [
        '#!/bin/sh',
        `if [ ! -e '${once}' ]; then`,
        `  touch '${once}'`,
        '  for a in "$@"; do case "$a" in --datadir=*) d="${a#--datadir=}";; esac; done',
        '  mkdir -p "$d/mysql" && echo half > "$d/ibdata1"',
        '  echo "ERROR: 1051  Unknown table \'mysql.tmp_user_sys\' (simulated)" >&2; exit 1',
        'fi',
        'exec /usr/bin/mariadb-install-db "$@"',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    c = await LoopbackCluster.create({
      baseDir: join(dir, 'db'),
      size: 1,
      mode: 'standalone',
      baseConfig: { installDb },
    });
    c.startAll();
    await c.waitReady();
    assert.ok(existsSync(once), 'the failing install ran');
    const log = readFileSync(c.agentLog('db-0'), 'utf8');
    assert.equal(
      log.split('\n').filter((l) => l.includes('"initialising data dir"')).length,
      2,
      `two initialisations in the agent log:\n${log}`,
    );
    assert.ok(!readdirSync(c.dataDir('db-0')).includes(STAGING_DIR), 'no staging folder left in the data dir');
    const conn = await c.connect('db-0', 'app');
    try {
      assert.deepEqual(await conn.query('SELECT CURRENT_USER() AS u'), [{ u: 'app@%' }]);
      // Temporary tables live in the member's own tmpdir, where no other server's start deletes them.
      assert.deepEqual(await conn.query('SELECT @@tmpdir AS t'), [{ t: c.tmpDir('db-0') }]);
    } finally {
      await conn.end();
    }
  });
});
