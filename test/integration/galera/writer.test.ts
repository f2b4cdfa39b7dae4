// The drills' acknowledging writer (src/prove/writer.ts) against a real mariadbd: the script a drill runs in
// a web pod, here as a node process on this host with the same environment the chart gives webinfo. The
// server is stopped for a while under the writes and started again: every acknowledged write must be in
// the table, the failed attempts are counted, and the outage covers the stop.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopbackCluster, MARIADBD } from '../../helpers/galera-loopback.js';
import { judgeWrites, parseWriterLog, writerScript } from '../../../src/prove/writer.js';
import { repoRoot } from '../../../src/util/paths.js';
import { requireFiles } from '../../helpers/require-tools.js';

describe('the acknowledging writer (real mariadbd)', { timeout: 300_000 }, () => {
  requireFiles([MARIADBD]);
  const dir = mkdtempSync(join(tmpdir(), 'kstack-writer-'));
  chmodSync(dir, 0o755);
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

  it('reports every attempt once; nothing acknowledged is lost when the server stops and comes back', async () => {
    cluster = await LoopbackCluster.create({ baseDir: join(dir, 'db'), size: 1, mode: 'standalone' });
    cluster.startAll();
    await cluster.waitReady();
    writeFileSync(join(dir, 'pw'), cluster.appPassword);
    const child = spawn(
      process.execPath,
      ['-e', writerScript({ table: 'writes_it', intervalMs: 100, timeoutMs: 2000 })],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          KSTACK_APP_DIR: join(repoRoot, 'package.json'),
          WEBINFO_DB_HOST: '127.0.0.1',
          WEBINFO_DB_PORT: String(cluster.member('db-0').sqlPort),
          WEBINFO_DB_USER: 'app',
          WEBINFO_DB_PASSWORD_FILE: join(dir, 'pw'),
          WEBINFO_DB_DATABASE: 'app',
        },
      },
    );
    pid = child.pid;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const exited = new Promise<number | null>((r) => {
      child.on('close', (code) => {
        r(code);
      });
    });
    for (let i = 0; !/^ready$/m.test(stdout); i++) {
      assert.ok(i < 300, `the writer did not start: ${stdout}${stderr}`);
      await sleep(100);
    }
    await sleep(1500);
    const stoppedAt = Date.now();
    await cluster.stop('db-0');
    await sleep(1500);
    cluster.start('db-0');
    await cluster.waitReady(['db-0']);
    const backAt = Date.now();
    await sleep(1500);
    child.stdin.end();
    assert.equal(await exited, 0, stderr);

    const log = parseWriterLog(stdout, stderr);
    assert.ok(log.ready && log.done, stdout.slice(-500));
    const c = await cluster.connect('db-0', 'app');
    const rows = (await c.query<{ seq: number }[]>('SELECT seq FROM writes_it')).map((r) => r.seq);
    await c.end();
    const j = judgeWrites(log.attempts, new Set(rows));
    assert.deepEqual(j.lost, [], 'every acknowledged write is in the table');
    assert.ok(j.acknowledged >= 20, `writes were acknowledged before and after the stop (${j.acknowledged})`);
    assert.ok(j.failed >= 5, `writes failed while the server was down (${j.failed})`);
    assert.equal(new Set(log.attempts.map((a) => a.seq)).size, log.attempts.length, 'each attempt reported once');
    assert.ok(
      j.longestOutageMs >= 1500 && j.longestOutageMs <= backAt - stoppedAt + 5000,
      `the outage (${j.longestOutageMs} ms) covers the stop (${backAt - stoppedAt} ms)`,
    );
  });
});
