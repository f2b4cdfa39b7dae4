// The chart's own agent config, run for real: helm renders agent.json, and the agent started with it
// (members and paths moved to loopback, everything else as rendered: mode, SST method, [mysqld] tuning)
// brings up real mariadbd members. Proves the ConfigMap the pods get is one the agent can run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helmTemplate } from '../../../src/chart/helm.js';
import { configMapData, one, parseManifests } from '../../../src/chart/manifests.js';
import { readWsrep } from '../../../src/galera/agent.js';
import { LoopbackCluster, MARIADBD } from '../../../src/galera/loopback.js';
import { run } from '../../../src/util/exec.js';
import { repoRoot } from '../../../src/util/paths.js';

const haveMariadb = existsSync(MARIADBD) && existsSync('/usr/lib/galera/libgalera_smm.so');

async function renderedAgentConfig(db: Record<string, unknown>): Promise<Record<string, unknown>> {
  const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: 'shop', values: { db } }));
  const cm = one(objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'db'), 'ConfigMap', 'db');
  return JSON.parse(configMapData(cm)['agent.json'] ?? '{}') as Record<string, unknown>;
}

describe('the chart\'s rendered agent.json runs real members', { skip: haveMariadb ? false : 'mariadb-server/galera-4 not installed; run ./kstack setup', timeout: 600_000 }, () => {
  for (const [name, db, size] of [
    ['standalone', { mode: 'standalone', replicaCount: 1, config: { mysqld: { max_connections: 123 } } }, 1],
    ['galera (defaults)', { config: { mysqld: { max_connections: 77, innodb_buffer_pool_size: '64M' } } }, 3],
  ] as const) {
    it(`${name}: every member becomes ready with the chart's settings applied`, async () => {
      const base = await renderedAgentConfig(db);
      const c = await LoopbackCluster.create({ baseDir: mkdtempSync(join(tmpdir(), 'kstack-chartdb-')), size, baseConfig: base });
      try {
        c.startAll();
        await c.waitReady();
        const conn = await c.connect('db-0', 'root');
        try {
          const rows: { v: number }[] = await conn.query('SELECT @@max_connections AS v');
          assert.equal(Number(rows[0]?.v), db.config.mysqld.max_connections, 'the [mysqld] tuning from values reached mariadbd');
          const wsrep = await conn.query<{ v: number }[]>('SELECT @@wsrep_on AS v');
          assert.equal(Number(wsrep[0]?.v), size === 1 ? 0 : 1);
          if (size === 3) assert.equal((await readWsrep(conn)).status.clusterSize, 3);
        } finally {
          await conn.end();
        }
      } finally {
        await c.destroy();
      }
    });
  }

  it('the init container\'s copy step yields a runnable agent (node + dist + node_modules, outside the repo)', async () => {
    const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: 'shop' }));
    const sts = one(objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'db'), 'StatefulSet', 'db') as k8s.V1StatefulSet;
    const init = sts.spec?.template.spec?.initContainers?.find((c) => c.name === 'agent-install');
    const script = init?.command?.[2];
    assert.ok(script, 'the init container runs node -e <script> <appDir> <dest>');
    const dest = mkdtempSync(join(tmpdir(), 'kstack-agent-copy-'));
    try {
      // The same script, with this checkout as the kstack image's app dir and a temp dir as the emptyDir.
      await run(process.execPath, ['-e', script, repoRoot, dest]);
      const copied = await run(join(dest, 'node'), [join(dest, 'kstack', 'dist', 'src', 'galera', 'main.js')], { allowFailure: true, cwd: tmpdir() });
      assert.equal(copied.code, 2, `the copied agent should start and print its usage:\n${copied.stderr}`);
      assert.match(copied.stderr, /usage: main\.js run --config/);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });
});
