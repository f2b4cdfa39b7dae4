// The kill-everything drill for RPO, shared by the integration test (test/integration/dr/pitr-rpo.test.ts,
// which asserts on it) and `npm run bench:dr` (which reports it): on the PITR rig, a writer commits a row
// every 100 ms to a member with binary logging while the real archiver process (dist/src/dr/binlog-main.js,
// as the chart's sidecar runs it) ships binlogs to MinIO; then mariadbd, its agent and the archiver are
// SIGKILLed at once and the member's data is treated as lost. Recovery is the backup plus the archive.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runBackup } from '../../src/dr/backup.js';
import { pitrHook } from '../../src/dr/pitr-main.js';
import { runRestore } from '../../src/dr/restore.js';
import { pickFreePorts } from '../../src/util/net.js';
import { repoRoot } from '../../src/util/paths.js';
import { silentProgress } from '../../src/util/progress.js';
import type { PitrRig } from './pitr-rig.js';

export interface RpoDrillResult {
  /** Ids of the writes, 1..n, each with the time (ms) its commit was acknowledged. */
  acked: Map<number, number>;
  lastAcked: number;
  /** Ids found after recovery, ascending. */
  recoveredIds: number[];
  /** Last acknowledged write − last recovered write (ms); NaN when nothing was recovered. */
  rpoMs: number;
  /** The archiver's /metrics just before the kill, and its output. */
  metrics: string;
  archiverLog: string;
}

/**
 * Runs the drill on `rig` (its `src-0` is written and killed, its `dst-0` receives the recovery).
 * `secretsDir` holds the src root password file; the archiver ships every `intervalSeconds`; writes go on
 * for `writeSeconds` before the kill.
 */
export async function runRpoDrill(
  rig: PitrRig,
  secretsDir: string,
  opts: { writeSeconds: number; intervalSeconds: number },
): Promise<RpoDrillResult> {
  const { src, dst, store, key, env } = rig;
  const c = await src.connect('src-0', 'root');
  await c.query('CREATE TABLE w (id INT PRIMARY KEY, at BIGINT)');
  await c.end();
  const m = src.member('src-0');
  const backup = await runBackup({
    db: { socket: undefined, host: '127.0.0.1', port: m.sqlPort, user: 'root', password: src.rootPassword },
    store,
    key,
    progress: silentProgress,
    member: 'src-0',
  });

  const [metricsPort] = await pickFreePorts(1);
  if (metricsPort === undefined) throw new Error('no free port for the archiver metrics');
  let archiver: ChildProcess | undefined;
  let archiverLog = '';
  try {
    archiver = spawn(process.execPath, [join(repoRoot, 'dist', 'src', 'dr', 'binlog-main.js')], {
      env: {
        ...env,
        KSTACK_BINLOG_STREAM: 'src-0',
        KSTACK_BINLOG_DIR: src.dataDir('src-0'),
        KSTACK_BINLOG_HOST: '127.0.0.1',
        KSTACK_BINLOG_PORT: String(m.sqlPort),
        KSTACK_DR_DB_PASSWORD_FILE: join(secretsDir, 'root'),
        KSTACK_BINLOG_INTERVAL_SECONDS: String(opts.intervalSeconds),
        KSTACK_BINLOG_METRICS_PORT: String(metricsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    archiver.stdout?.on('data', (d: Buffer) => {
      archiverLog += d.toString();
    });
    archiver.stderr?.on('data', (d: Buffer) => {
      archiverLog += d.toString();
    });

    // The writer: one committed row every 100 ms, acknowledged times kept.
    const acked = new Map<number, number>();
    const w = await src.connect('src-0', 'root');
    // The drill kills the server under this connection: its unexpected close is emitted as an 'error'
    // event, which would otherwise be an uncaught error.
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
    await sleep(opts.writeSeconds * 1000);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    // Kill everything at once: the archiver, mariadbd and its agent.
    archiver.kill('SIGKILL');
    await src.kill('src-0');
    stop = true;
    await writer;
    await w.end().catch(() => undefined);
    const lastAcked = Math.max(...acked.keys());

    const target = {
      socket: undefined,
      host: '127.0.0.1',
      port: dst.member('dst-0').sqlPort,
      user: 'root',
      password: dst.rootPassword,
    };
    await runRestore({
      store,
      key,
      target,
      progress: silentProgress,
      backupId: backup.id,
      afterDump: pitrHook({}, env),
    });
    const r = await dst.connect('dst-0', 'root');
    const recoveredIds = (await r.query<{ id: number }[]>('SELECT id FROM w ORDER BY id')).map((x) => x.id);
    await r.end();
    const lastRecovered = recoveredIds.at(-1);
    const rpoMs = lastRecovered === undefined ? NaN : (acked.get(lastAcked) ?? 0) - (acked.get(lastRecovered) ?? 0);
    return { acked, lastAcked, recoveredIds, rpoMs, metrics, archiverLog };
  } finally {
    if (archiver?.pid !== undefined && archiver.exitCode === null && archiver.signalCode === null)
      archiver.kill('SIGKILL');
  }
}
