// The kill-everything drill for RPO, on loopback: a writer commits a row every 100 ms to a member with
// binary logging, the real archiver process (dist/src/dr/binlog-main.js, as the chart's sidecar runs it,
// 30 s rounds) ships binlogs to a real MinIO; then mariadbd, its agent and the archiver are SIGKILLed
// and the member's data is treated as lost. Recovery is the backup plus the archive: every recovered row
// is an acknowledged write, there are no holes, and RPO = last acknowledged write − last recovered write
// is printed (the target is ≤ 60 s; timings are reported, not asserted).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopbackCluster, MARIADBD } from '../../../src/galera/loopback.js';
import { silentProgress } from '../../../src/util/progress.js';
import { repoRoot } from '../../../src/util/paths.js';
import { pickFreePorts } from '../../../src/util/net.js';
import { runBackup } from '../../../src/dr/backup.js';
import type { EncryptionKey } from '../../../src/dr/encrypt.js';
import { runRestore } from '../../../src/dr/restore.js';
import type { ObjectStore } from '../../../src/dr/s3.js';
import { pitrHook } from '../../../src/dr/pitr-main.js';
import { startPitrRig, type PitrRig } from '../../helpers/pitr-rig.js';

describe('dr: RPO of a kill-everything drill with the binlog archiver', { skip: existsSync(MARIADBD) ? false : 'mariadb-server not installed; run ./kstack setup', timeout: 400_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-rpo-'));
  chmodSync(dir, 0o755);
  let src: LoopbackCluster | undefined;
  let dst: LoopbackCluster | undefined;
  let archiver: ChildProcess | undefined;
  let store: ObjectStore;
  let key: EncryptionKey;
  let env: NodeJS.ProcessEnv;

  let rig: PitrRig | undefined;

  before(async () => {
    rig = await startPitrRig(dir, 'rpo');
    ({ src, dst, store, key, env } = rig);
  });
  after(async () => {
    if (archiver?.pid !== undefined && archiver.exitCode === null) archiver.kill('SIGKILL');
    await rig?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('recovers a hole-free prefix of the acknowledged writes; RPO printed', async () => {
    assert.ok(src && dst);
    const c = await src.connect('src-0', 'root');
    await c.query('CREATE TABLE w (id INT PRIMARY KEY, at BIGINT)');
    await c.end();
    const m = src.member('src-0');
    const backup = await runBackup({ db: { socket: undefined, host: '127.0.0.1', port: m.sqlPort, user: 'root', password: src.rootPassword }, store, key, progress: silentProgress, member: 'src-0' });

    const [metricsPort] = await pickFreePorts(1);
    assert.ok(metricsPort);
    archiver = spawn(process.execPath, [join(repoRoot, 'dist', 'src', 'dr', 'binlog-main.js')], {
      env: {
        ...env, KSTACK_BINLOG_STREAM: 'src-0', KSTACK_BINLOG_DIR: src.dataDir('src-0'), KSTACK_BINLOG_HOST: '127.0.0.1', KSTACK_BINLOG_PORT: String(m.sqlPort),
        KSTACK_DR_DB_PASSWORD_FILE: join(dir, 'src', 'secrets', 'root'), KSTACK_BINLOG_INTERVAL_SECONDS: '30', KSTACK_BINLOG_METRICS_PORT: String(metricsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let archiverLog = '';
    archiver.stdout?.on('data', (d: Buffer) => { archiverLog += d.toString(); });
    archiver.stderr?.on('data', (d: Buffer) => { archiverLog += d.toString(); });

    // The writer: one committed row every 100 ms, acknowledged times kept.
    const acked = new Map<number, number>();
    const w = await src.connect('src-0', 'root');
    // The drill kills the server under this connection: its unexpected close is emitted as an 'error'
    // event, which would otherwise fail the test as an uncaught error.
    w.on('error', () => undefined);
    let stop = false;
    const writer = (async () => {
      for (let id = 1; !stop; id++) {
        try {
          await w.query('INSERT INTO w VALUES (?, ?)', [id, Date.now()]);
          acked.set(id, Date.now());
        } catch {
          return;
        }
        await sleep(100);
      }
    })();
    await sleep(45_000);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /kstack_binlog_archived_files_total\{stream="src-0"\} [1-9]/, `the archiver shipped files:\n${metrics}\n${archiverLog}`);
    assert.match(metrics, /kstack_binlog_archive_lag_seconds\{stream="src-0"\} \d/);
    // Kill everything at once: the archiver, mariadbd and its agent.
    archiver.kill('SIGKILL');
    await src.kill('src-0');
    stop = true;
    await writer;
    await w.end().catch(() => undefined);
    const lastAcked = Math.max(...acked.keys());

    const target = { socket: undefined, host: '127.0.0.1', port: dst.member('dst-0').sqlPort, user: 'root', password: dst.rootPassword };
    await runRestore({ store, key, target, progress: silentProgress, backupId: backup.id, afterDump: pitrHook({}, env) });
    const r = await dst.connect('dst-0', 'root');
    const ids = (await r.query<{ id: number }[]>('SELECT id FROM w ORDER BY id')).map((x) => x.id);
    await r.end();
    assert.ok(ids.length > 0, 'rows were recovered from the archive');
    assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => i + 1), 'a hole-free prefix of the writes');
    assert.ok(ids.length <= lastAcked, 'nothing that was not acknowledged');
    const lastRecovered = ids.length;
    const rpoMs = (acked.get(lastAcked) ?? 0) - (acked.get(lastRecovered) ?? 0);
    process.stdout.write(`# RPO drill: ${lastAcked} writes acknowledged, ${lastRecovered} recovered from backup + archive; RPO ${(rpoMs / 1000).toFixed(1)} s (target ≤ 60 s, archiver rounds every 30 s)\n`);
  });
});
