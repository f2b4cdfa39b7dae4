// The chart's own agent config, run for real: helm renders agent.json, and the agent started with it
// (members and paths moved to loopback, everything else as rendered: mode, SST method, [mysqld] tuning)
// brings up real mariadbd members. Proves the ConfigMap the pods get is one the agent can run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as k8s from '@kubernetes/client-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helmTemplate } from '../../../../src/chart/helm.js';
import { configMapData, one, parseManifests } from '../../../../src/chart/manifests.js';
import { readWsrep } from '../../../../src/galera/agent.js';
import { LoopbackCluster, MARIADBD, Writer } from '../../../helpers/galera-loopback.js';
import { run } from '../../../../src/util/exec.js';
import { repoRoot } from '../../../../src/util/paths.js';
import { GALERA_LIBRARY, requireFiles } from '../../../helpers/require-tools.js';

async function renderedAgentConfig(db: Record<string, unknown>): Promise<Record<string, unknown>> {
  const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: 'shop', values: { db } }));
  const cm = one(
    objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'db'),
    'ConfigMap',
    'db',
  );
  return JSON.parse(configMapData(cm)['agent.json'] ?? '{}') as Record<string, unknown>;
}

/**
 * The chart's default SST method, mariabackup (a hot backup streamed through socat; the donor stays
 * writable): a member whose data dir was wiped while a writer runs comes back with every acknowledged write.
 */
async function wipedMemberRejoinsByMariabackup(c: LoopbackCluster): Promise<void> {
  const w = new Writer(c, ['db-0', 'db-1']);
  await w.prepare();
  w.start();
  await sleep(1000);
  await c.stop('db-2');
  c.wipe('db-2');
  const errFile = join(c.runDir('db-2'), 'mysqld.err');
  const mark = existsSync(errFile) ? readFileSync(errFile, 'utf8').length : 0;
  c.start('db-2');
  await c.waitReady();
  await w.stop();
  const missing = await w.missingOn('db-2');
  assert.ok(w.acked.length > 0);
  assert.deepEqual(missing.slice(0, 20), [], `db-2 lost ${missing.length} of ${w.acked.length} acknowledged writes`);
  // Everything db-2 logged since its wipe (a kubelet-like restart may have given it more than one start).
  assert.match(
    readFileSync(errFile, 'utf8').slice(mark),
    /mariabackup SST completed on joiner/,
    `db-2 log:\n${c.tail('db-2', 40)}`,
  );
}

describe("the chart's rendered agent.json runs real members", { timeout: 600_000 }, () => {
  requireFiles([MARIADBD, GALERA_LIBRARY, '/usr/bin/mariadb-backup', '/usr/bin/socat']);
  for (const [name, db, size] of [
    ['standalone', { mode: 'standalone', replicaCount: 1, config: { mysqld: { max_connections: 123 } } }, 1],
    ['galera (defaults)', { config: { mysqld: { max_connections: 77, innodb_buffer_pool_size: '64M' } } }, 3],
  ] as const) {
    it(
      `${name}: every member becomes ready with the chart's settings ` +
        `applied${size === 3 ? '; a wiped member rejoins by mariabackup SST' : ''}`,
      async () => {
        const base = await renderedAgentConfig(db);
        const c = await LoopbackCluster.create({
          baseDir: mkdtempSync(join(tmpdir(), 'kstack-chartdb-')),
          size,
          baseConfig: base,
        });
        try {
          c.startAll();
          await c.waitReady();
          const conn = await c.connect('db-0', 'root');
          try {
            const rows: { v: number }[] = await conn.query('SELECT @@max_connections AS v');
            assert.equal(
              Number(rows[0]?.v),
              db.config.mysqld.max_connections,
              'the [mysqld] tuning from values reached mariadbd',
            );
            const wsrep = await conn.query<{ v: number }[]>('SELECT @@wsrep_on AS v');
            assert.equal(Number(wsrep[0]?.v), size === 1 ? 0 : 1);
            if (size === 3) assert.equal((await readWsrep(conn)).status.clusterSize, 3);
          } finally {
            await conn.end();
          }
          if (size === 3) await wipedMemberRejoinsByMariabackup(c);
        } finally {
          await c.destroy();
        }
      },
    );
  }

  it(
    "the init container's copy step yields a runnable " + 'agent (node + dist + node_modules, outside the repo)',
    async () => {
      const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: 'shop' }));
      const sts = one(
        objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'db'),
        'StatefulSet',
        'db',
      ) as k8s.V1StatefulSet;
      const init = sts.spec?.template.spec?.initContainers?.find((c) => c.name === 'agent-install');
      const script = init?.command?.[2];
      assert.ok(script, 'the init container runs node -e <script> <appDir> <dest>');
      const dest = mkdtempSync(join(tmpdir(), 'kstack-agent-copy-'));
      try {
        // The same script, with this checkout as the kstack image's app dir and a temp dir as the emptyDir.
        await run(process.execPath, ['-e', script, repoRoot, dest]);
        const copied = await run(join(dest, 'node'), [join(dest, 'kstack', 'dist', 'src', 'galera', 'main.js')], {
          allowFailure: true,
          cwd: tmpdir(),
        });
        assert.equal(copied.code, 2, `the copied agent should start and print its usage:\n${copied.stderr}`);
        assert.match(copied.stderr, /usage: main\.js run --config/);
      } finally {
        rmSync(dest, { recursive: true, force: true });
      }
    },
  );
});
