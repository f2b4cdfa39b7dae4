// npm run bench:dr [-- --size-mib N] — what streamed, encrypted backups cost, and how long a restore takes.
//  1. A generated dataset (default 1 GiB of row data; --size-mib or BENCH_DR_SIZE_MIB) in a private mariadbd.
//  2. Baseline, same run, same dump options and zstd level: `mariadb-dump … | zstd -3 > file` on local disk.
//  3. kstack backup: the same dump → zstd → AES-256-GCM frames → multipart upload into MinIO on loopback,
//     plus the per-table counts and checksums. Throughput ratio vs the baseline (target ≥ 0.8×); and the
//     same backup with row counts only, to show what the checksum pass costs.
//  4. RTO: restore the backup into a fresh mariadbd (check the stored object, stream-load, compare counts
//     and checksums). Target ≤ 10 min for 1 GiB.
//  5. RPO: the kill-everything drill (test/helpers/rpo-drill.ts): writes every 100 ms, the real binlog
//     archiver on the chart's default 30 s rounds, then mariadbd, its agent and the archiver SIGKILLed;
//     backup + archive recovered into a fresh member. Target ≤ 60 s. (BENCH_DR_RPO=0 skips it.)
// Baseline and backup alternate for BENCH_DR_ROUNDS rounds (default 3) and medians are compared: the
// machine is shared with other work, so the ratio is what to read. Each run also reports where its CPU
// went (mariadbd, the child programs, this Node process, MinIO): on 2 cores the backup and the baseline
// compete with everything else, so CPU seconds explain a ratio better than the wall clock alone.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MinioServer } from '../test/helpers/minio.js';
import { startPitrRig, type PitrRig } from '../test/helpers/pitr-rig.js';
import { runRpoDrill } from '../test/helpers/rpo-drill.js';
import { runBackup } from '../src/dr/backup.js';
import { clientArgs, type DbTarget } from '../src/dr/db.js';
import { parseKey } from '../src/dr/encrypt.js';
import type { Manifest } from '../src/dr/manifest.js';
import { runRestore } from '../src/dr/restore.js';
import { ScratchDb } from '../src/dr/scratch-db.js';
import { run } from '../src/util/exec.js';
import { createProgress, formatDuration } from '../src/util/progress.js';

function sizeMib(): number {
  const i = process.argv.indexOf('--size-mib');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.BENCH_DR_SIZE_MIB;
  const n = Number(raw ?? 1024);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--size-mib must be a whole number ≥ 1; got ${raw ?? ''}`);
  return n;
}

const RTO_TARGET_MS = 10 * 60_000;
const RPO_TARGET_MS = 60_000;
/** The chart's default (backup.binlog.flushIntervalSeconds). */
const RPO_ARCHIVE_INTERVAL_SECONDS = 30;
const ROUNDS = Number(process.env.BENCH_DR_ROUNDS ?? 3);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] ?? NaN : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}
const RATIO_TARGET = 0.8;

/** CPU seconds used so far: a process's own (utime+stime), or this process's reaped children's (cutime+cstime). */
function cpuSecondsOf(pid: number | 'children' | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid === 'children' ? 'self' : pid}/stat`, 'utf8');
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const ticks = pid === 'children' ? (f[13] ?? 0) + (f[14] ?? 0) : (f[11] ?? 0) + (f[12] ?? 0);
    return ticks / 100; // USER_HZ: 100 on Linux
  } catch {
    return 0;
  }
}

type CpuSplit = Record<'mariadbd' | 'childPrograms' | 'node' | 'minio', number>;

/** Runs `fn` and reports its wall time and who spent how many CPU seconds on it. */
async function measured(pids: { mariadbd: number; minio: number | undefined }, fn: () => Promise<unknown>): Promise<{ ms: number; cpu: CpuSplit }> {
  const read = (): CpuSplit => {
    const u = process.cpuUsage();
    return { mariadbd: cpuSecondsOf(pids.mariadbd), childPrograms: cpuSecondsOf('children'), node: (u.user + u.system) / 1e6, minio: cpuSecondsOf(pids.minio) };
  };
  const before = read();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const after = read();
  const cpu = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Number((v - before[k as keyof CpuSplit]).toFixed(1))])) as CpuSplit;
  return { ms, cpu };
}

async function main(): Promise<void> {
  const size = sizeMib();
  const progress = createProgress();
  const dir = mkdtempSync(join(tmpdir(), 'kstack-bench-dr-'));
  chmodSync(dir, 0o755);
  let minio: MinioServer | undefined;
  let source: ScratchDb | undefined;
  let restoreDb: ScratchDb | undefined;
  try {
    [minio, source] = await progress.step('start MinIO and a source mariadbd', () => Promise.all([
      MinioServer.start(join(dir, 'minio')),
      ScratchDb.start({ dir: join(dir, 'source'), extra: ['log-bin=binlog', 'server-id=1', 'binlog-format=ROW', 'innodb-flush-log-at-trx-commit=2', 'sync-binlog=0'], bufferPool: '512M' }),
    ]));
    const src: DbTarget = { socket: source.socket, host: '', port: 0, user: 'root', password: '' };
    // ~1 KiB per row: a few words of text that compress like real page data, not random bytes.
    const rowsWanted = size * 1024;
    await progress.step(`generate ${size} MiB (${rowsWanted} rows of ~1 KiB in 4 tables)`, async (step) => {
      const c = await (source as ScratchDb).connect();
      try {
        await c.query('CREATE DATABASE bench');
        await c.query('USE bench');
        // The dataset is set up, not written by the application: no binlog for it (it would double the disk use).
        await c.query('SET SESSION sql_log_bin = 0');
        const batch = 20_000;
        for (let t = 0; t < 4; t++) {
          await c.query(`CREATE TABLE bench.t${t} (id INT PRIMARY KEY, created DATETIME NOT NULL, title VARCHAR(200), body TEXT, score DOUBLE)`);
          const per = Math.ceil(rowsWanted / 4);
          for (let from = 1; from <= per; from += batch) {
            const to = Math.min(per, from + batch - 1);
            await c.query(`INSERT INTO bench.t${t} SELECT seq, '2026-01-01' + INTERVAL seq SECOND, CONCAT('item ', seq, ' ', MD5(seq)),
              CONCAT_WS(' ', REPEAT(CONCAT(SUBSTRING('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor', 1 + seq % 40, 30), ' '), 20), MD5(seq * 7), SHA1(seq), MD5(seq * 13), SHA2(seq, 256), MD5(seq + 1)),
              RAND(seq) FROM seq_${from}_to_${to}`);
            step.detail(`table ${t + 1}/4: ${to}/${per} rows`);
          }
        }
      } finally {
        await c.end();
      }
    });

    const baselineFile = join(dir, 'baseline.sql.zst');
    const dumpArgs = [...clientArgs(src), '--single-transaction', '--quick', '--routines', '--triggers', '--events', '--hex-blob', '--add-drop-database', '--master-data=2', '--gtid', '--databases', 'bench'];
    const store = await minio.store('bench');
    const key = parseKey(randomBytes(32), 'bench key');
    // The machine is shared: alternate baseline and backup, and compare medians.
    const baselineRuns: number[] = [];
    const backupRuns: number[] = [];
    const countsOnlyRuns: number[] = [];
    let baselineBytes = 0;
    let manifest: Manifest | undefined;
    const pids = { mariadbd: source.pid, minio: minio.processId };
    const cpu: Record<'baseline' | 'backup' | 'countsOnly', CpuSplit[]> = { baseline: [], backup: [], countsOnly: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      const base = await progress.step(`round ${round}/${ROUNDS} baseline: mariadb-dump | zstd -3 > file`, () => measured(pids, () =>
        run('bash', ['-o', 'pipefail', '-c', `mariadb-dump ${dumpArgs.map((a) => `'${a}'`).join(' ')} | zstd -q -c -3 > '${baselineFile}'`], { timeoutMs: 3_600_000 })));
      baselineRuns.push(base.ms);
      cpu.baseline.push(base.cpu);
      baselineBytes = statSync(baselineFile).size;
      rmSync(baselineFile);
      const full = await measured(pids, async () => { manifest = await runBackup({ db: src, store, key, progress }); });
      backupRuns.push(full.ms);
      cpu.backup.push(full.cpu);
      // The same pipeline with row counts only: what the checksum pass costs on a shared machine.
      const counts = await measured(pids, () => runBackup({ db: src, store, key, progress, checksums: false }));
      countsOnlyRuns.push(counts.ms);
      cpu.countsOnly.push(counts.cpu);
    }
    if (!manifest) throw new Error('no backup was taken');
    const baselineMs = median(baselineRuns);
    const backupMs = median(backupRuns);
    const countsOnlyMs = median(countsOnlyRuns);

    restoreDb = await progress.step('start a fresh mariadbd to restore into', () => ScratchDb.start({ dir: join(dir, 'restore'), bufferPool: '512M', extra: ['innodb-flush-log-at-trx-commit=2'] }));
    const restored = await runRestore({ store, key, backupId: manifest.id, target: { socket: restoreDb.socket, host: '', port: 0, user: 'root', password: '' }, progress });
    store.destroy();
    // The RPO drill runs its own servers: free the cores and the memory first.
    await Promise.allSettled([minio.stop(false), source.stop(false), restoreDb.stop(false)]);
    minio = undefined;
    source = undefined;
    restoreDb = undefined;

    let rpo: { seconds: number; acknowledged: number; recovered: number; holeFree: boolean } | undefined;
    if (process.env.BENCH_DR_RPO !== '0') {
      rpo = await progress.step('RPO: kill-everything drill (45 s of writes, archiver every 30 s, then SIGKILL all)', async () => {
        const rigDir = join(dir, 'rpo');
        let rig: PitrRig | undefined;
        try {
          rig = await startPitrRig(rigDir, 'rpo');
          const d = await runRpoDrill(rig, join(rigDir, 'src', 'secrets'), { writeSeconds: 45, intervalSeconds: RPO_ARCHIVE_INTERVAL_SECONDS });
          const holeFree = d.recoveredIds.every((id, i) => id === i + 1);
          return { seconds: Number((d.rpoMs / 1000).toFixed(1)), acknowledged: d.lastAcked, recovered: d.recoveredIds.length, holeFree };
        } finally {
          await rig?.destroy();
        }
      });
    }

    const dumpMiB = manifest.object.dumpBytes / 1048576;
    const report = {
      datasetMiB: size,
      dumpMiB: Number(dumpMiB.toFixed(1)),
      storedMiB: Number((manifest.object.bytes / 1048576).toFixed(1)),
      rounds: ROUNDS,
      baselineRunsSeconds: baselineRuns.map((ms) => Number((ms / 1000).toFixed(1))),
      backupRunsSeconds: backupRuns.map((ms) => Number((ms / 1000).toFixed(1))),
      countsOnlyRunsSeconds: countsOnlyRuns.map((ms) => Number((ms / 1000).toFixed(1))),
      baseline: { seconds: Number((baselineMs / 1000).toFixed(1)), MiBps: Number((dumpMiB / (baselineMs / 1000)).toFixed(1)), fileMiB: Number((baselineBytes / 1048576).toFixed(1)) },
      backup: { seconds: Number((backupMs / 1000).toFixed(1)), MiBps: Number((dumpMiB / (backupMs / 1000)).toFixed(1)) },
      throughputRatio: Number((baselineMs / backupMs).toFixed(2)),
      countsOnly: { seconds: Number((countsOnlyMs / 1000).toFixed(1)), MiBps: Number((dumpMiB / (countsOnlyMs / 1000)).toFixed(1)), ratio: Number((baselineMs / countsOnlyMs).toFixed(2)) },
      throughputTarget: `≥ ${RATIO_TARGET}`,
      rto: { seconds: Number((restored.durationMs / 1000).toFixed(1)), human: formatDuration(restored.durationMs), targetSeconds: RTO_TARGET_MS / 1000 },
      tables: Object.keys(manifest.tables).length,
      rpo: rpo ? { ...rpo, targetSeconds: RPO_TARGET_MS / 1000, archiverIntervalSeconds: RPO_ARCHIVE_INTERVAL_SECONDS } : 'skipped (BENCH_DR_RPO=0)',
      cpuSecondsPerRun: cpu,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`backup throughput ${report.backup.MiBps} MiB/s vs baseline ${report.baseline.MiBps} MiB/s: ${report.throughputRatio}× (target ≥ ${RATIO_TARGET}×) ${report.throughputRatio >= RATIO_TARGET ? 'OK' : 'BELOW TARGET'}\n`);
    process.stdout.write(`backup with row counts only (no checksum pass) ${report.countsOnly.MiBps} MiB/s: ${report.countsOnly.ratio}× the baseline\n`);
    const cpuLine = (name: string, runs: readonly CpuSplit[]): string => {
      const med = (k: keyof CpuSplit): number => Number(median(runs.map((r) => r[k])).toFixed(2));
      const total = med('mariadbd') + med('childPrograms') + med('node') + med('minio');
      return `${name}: ${total.toFixed(1)} CPU s (mariadbd ${med('mariadbd')}, dump+zstd ${med('childPrograms')}, node ${med('node')}, minio ${med('minio')})`;
    };
    process.stdout.write(`CPU per run (medians) — ${cpuLine('baseline', cpu.baseline)}; ${cpuLine('backup', cpu.backup)}; ${cpuLine('counts only', cpu.countsOnly)}\n`);
    process.stdout.write(`restore (RTO) of ${size} MiB: ${report.rto.human} (target ≤ 10 min) ${restored.durationMs <= RTO_TARGET_MS ? 'OK' : 'ABOVE TARGET'}\n`);
    if (rpo) {
      const ok = rpo.holeFree && rpo.recovered > 0 && rpo.seconds * 1000 <= RPO_TARGET_MS;
      process.stdout.write(`kill-everything RPO: ${rpo.seconds} s (${rpo.recovered} of ${rpo.acknowledged} acknowledged writes recovered${rpo.holeFree ? ', no holes' : ', WITH HOLES'}; target ≤ 60 s) ${ok ? 'OK' : 'ABOVE TARGET'}\n`);
    }
  } finally {
    await Promise.allSettled([minio?.stop(false), source?.stop(false), restoreDb?.stop(false)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
