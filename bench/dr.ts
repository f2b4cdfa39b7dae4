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
// Writes docs/benchmarks/dr.{json,md} (bench/result.ts): every figure and each target's verdict.
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
import { createProgress } from '../src/util/progress.js';
import { formatValue, startBench, type Figure, type TargetSpec } from './result.js';

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
const RPO_DRILL = process.env.BENCH_DR_RPO !== '0';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}
const RATIO_TARGET = 0.8;

/** CPU seconds used so far: a process's own (utime+stime), or this process's reaped children's (cutime+cstime). */
function cpuSecondsOf(pid: number | 'children' | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid === 'children' ? 'self' : pid}/stat`, 'utf8');
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    const ticks = pid === 'children' ? (f[13] ?? 0) + (f[14] ?? 0) : (f[11] ?? 0) + (f[12] ?? 0);
    return ticks / 100; // USER_HZ: 100 on Linux
  } catch {
    return 0;
  }
}

type CpuSplit = Record<'mariadbd' | 'childPrograms' | 'node' | 'minio', number>;

/** Runs `fn` and reports its wall time and who spent how many CPU seconds on it. */
async function measured(
  pids: { mariadbd: number; minio: number | undefined },
  fn: () => Promise<unknown>,
): Promise<{ ms: number; cpu: CpuSplit }> {
  const read = (): CpuSplit => {
    const u = process.cpuUsage();
    return {
      mariadbd: cpuSecondsOf(pids.mariadbd),
      childPrograms: cpuSecondsOf('children'),
      node: (u.user + u.system) / 1e6,
      minio: cpuSecondsOf(pids.minio),
    };
  };
  const before = read();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const after = read();
  const cpu = Object.fromEntries(
    Object.entries(after).map(([k, v]) => [k, v - before[k as keyof CpuSplit]]),
  ) as CpuSplit;
  return { ms, cpu };
}

async function main(): Promise<void> {
  const size = sizeMib();
  const bench = startBench('dr', {
    sizeMib: size,
    rounds: ROUNDS,
    rpoDrill: RPO_DRILL,
    archiverIntervalSeconds: RPO_ARCHIVE_INTERVAL_SECONDS,
  });
  const progress = createProgress();
  const dir = mkdtempSync(join(tmpdir(), 'kstack-bench-dr-'));
  chmodSync(dir, 0o755);
  let minio: MinioServer | undefined;
  let source: ScratchDb | undefined;
  let restoreDb: ScratchDb | undefined;
  try {
    [minio, source] = await progress.step('start MinIO and a source mariadbd', () =>
      Promise.all([
        MinioServer.start(join(dir, 'minio')),
        ScratchDb.start({
          dir: join(dir, 'source'),
          extra: [
            'log-bin=binlog',
            'server-id=1',
            'binlog-format=ROW',
            'innodb-flush-log-at-trx-commit=2',
            'sync-binlog=0',
          ],
          bufferPool: '512M',
        }),
      ]),
    );
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
          await c.query(
            `CREATE TABLE bench.t${t} (id INT PRIMARY KEY, ` +
              `created DATETIME NOT NULL, title VARCHAR(200), body TEXT, score DOUBLE)`,
          );
          const per = Math.ceil(rowsWanted / 4);
          for (let from = 1; from <= per; from += batch) {
            const to = Math.min(per, from + batch - 1);
            await c.query(`INSERT INTO bench.t${t} SELECT seq, '2026-01-01' + INTERVAL seq SECOND, CONCAT('item ', seq,\
 ' ', MD5(seq)),
              CONCAT_WS(' ', REPEAT(CONCAT(SUBSTRING('lorem ipsum dolor sit amet consectetur adipiscing elit sed do\
 eiusmod tempor', 1 + seq % 40, 30), ' '), 20), MD5(seq * 7), SHA1(seq), MD5(seq * 13), SHA2(seq, 256), MD5(seq + 1)),
              RAND(seq) FROM seq_${from}_to_${to}`);
            step.detail(`table ${t + 1}/4: ${to}/${per} rows`);
          }
        }
      } finally {
        await c.end();
      }
    });

    const baselineFile = join(dir, 'baseline.sql.zst');
    const dumpArgs = [
      ...clientArgs(src),
      '--single-transaction',
      '--quick',
      '--routines',
      '--triggers',
      '--events',
      '--hex-blob',
      '--add-drop-database',
      '--master-data=2',
      '--gtid',
      '--databases',
      'bench',
    ];
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
      const base = await progress.step(`round ${round}/${ROUNDS} baseline: mariadb-dump | zstd -3 > file`, () =>
        measured(pids, () =>
          run(
            'bash',
            [
              '-o',
              'pipefail',
              '-c',
              `mariadb-dump ${dumpArgs.map((a) => `'${a}'`).join(' ')} | zstd -q -c -3 > '${baselineFile}'`,
            ],
            { timeoutMs: 3_600_000 },
          ),
        ),
      );
      baselineRuns.push(base.ms);
      cpu.baseline.push(base.cpu);
      baselineBytes = statSync(baselineFile).size;
      rmSync(baselineFile);
      const full = await measured(pids, async () => {
        manifest = await runBackup({ db: src, store, key, progress });
      });
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

    restoreDb = await progress.step('start a fresh mariadbd to restore into', () =>
      ScratchDb.start({ dir: join(dir, 'restore'), bufferPool: '512M', extra: ['innodb-flush-log-at-trx-commit=2'] }),
    );
    const restored = await runRestore({
      store,
      key,
      backupId: manifest.id,
      target: { socket: restoreDb.socket, host: '', port: 0, user: 'root', password: '' },
      progress,
    });
    store.destroy();
    // The RPO drill runs its own servers: free the cores and the memory first.
    await Promise.allSettled([minio.stop(false), source.stop(false), restoreDb.stop(false)]);
    minio = undefined;
    source = undefined;
    restoreDb = undefined;

    let rpo: { ms: number; acknowledged: number; recovered: number; holes: number } | undefined;
    if (RPO_DRILL) {
      rpo = await progress.step(
        'RPO: kill-everything drill (45 s of writes, archiver every 30 s, then SIGKILL all)',
        async () => {
          const rigDir = join(dir, 'rpo');
          let rig: PitrRig | undefined;
          try {
            rig = await startPitrRig(rigDir, 'rpo');
            const d = await runRpoDrill(rig, join(rigDir, 'src', 'secrets'), {
              writeSeconds: 45,
              intervalSeconds: RPO_ARCHIVE_INTERVAL_SECONDS,
            });
            // A recovered set must be a prefix 1..n of the acknowledged writes: count the ids out of place.
            const holes = d.recoveredIds.filter((id, i) => id !== i + 1).length;
            return { ms: d.rpoMs, acknowledged: d.lastAcked, recovered: d.recoveredIds.length, holes };
          } finally {
            await rig?.destroy();
          }
        },
      );
    }

    // Everything below is measured values; rounding happens only where they are printed.
    const dumpMiB = manifest.object.dumpBytes / 1048576;
    const mibps = (ms: number): number => dumpMiB / (ms / 1000);
    const cpuMedian = (runs: readonly CpuSplit[]): CpuSplit & { total: number } => {
      const med = (k: keyof CpuSplit): number => median(runs.map((r) => r[k]));
      const split = {
        mariadbd: med('mariadbd'),
        childPrograms: med('childPrograms'),
        node: med('node'),
        minio: med('minio'),
      };
      return { ...split, total: split.mariadbd + split.childPrograms + split.node + split.minio };
    };
    const cpuFigures = (key: string, name: string, runs: readonly CpuSplit[]): Figure[] => {
      const m = cpuMedian(runs);
      return [
        {
          key: `cpu.${key}.total`,
          label: `${name}: CPU seconds per run (median), all processes`,
          value: m.total,
          unit: 's',
          digits: 1,
        },
        { key: `cpu.${key}.mariadbd`, label: `${name}: … mariadbd`, value: m.mariadbd, unit: 's', digits: 1 },
        {
          key: `cpu.${key}.childPrograms`,
          label: `${name}: … mariadb-dump + zstd`,
          value: m.childPrograms,
          unit: 's',
          digits: 1,
        },
        { key: `cpu.${key}.node`, label: `${name}: … this Node process`, value: m.node, unit: 's', digits: 1 },
        { key: `cpu.${key}.minio`, label: `${name}: … MinIO`, value: m.minio, unit: 's', digits: 1 },
      ];
    };
    const figures: Figure[] = [
      { key: 'dataset.MiB', label: 'dataset generated', value: size, unit: 'MiB' },
      { key: 'dump.MiB', label: 'SQL dumped', value: dumpMiB, unit: 'MiB', digits: 1 },
      {
        key: 'stored.MiB',
        label: 'stored in MinIO (zstd + encrypted)',
        value: manifest.object.bytes / 1048576,
        unit: 'MiB',
        digits: 1,
      },
      {
        key: 'baseline.fileMiB',
        label: 'baseline file (mariadb-dump | zstd -3)',
        value: baselineBytes / 1048576,
        unit: 'MiB',
        digits: 1,
      },
      { key: 'tables', label: 'tables in the backup', value: Object.keys(manifest.tables).length },
      {
        key: 'baseline.seconds',
        label: `baseline: mariadb-dump | zstd -3 > file (median of ${ROUNDS})`,
        value: baselineMs / 1000,
        unit: 's',
        digits: 1,
      },
      { key: 'baseline.MiBps', label: 'baseline throughput', value: mibps(baselineMs), unit: 'MiB/s', digits: 1 },
      {
        key: 'backup.seconds',
        label: `kstack backup into MinIO (median of ${ROUNDS})`,
        value: backupMs / 1000,
        unit: 's',
        digits: 1,
      },
      { key: 'backup.MiBps', label: 'backup throughput', value: mibps(backupMs), unit: 'MiB/s', digits: 1 },
      {
        key: 'throughputRatio',
        label: 'backup throughput ÷ baseline',
        value: baselineMs / backupMs,
        unit: '×',
        digits: 2,
      },
      {
        key: 'countsOnly.seconds',
        label: `backup with row counts only, no checksum pass (median of ${ROUNDS})`,
        value: countsOnlyMs / 1000,
        unit: 's',
        digits: 1,
      },
      {
        key: 'countsOnly.MiBps',
        label: 'counts-only backup throughput',
        value: mibps(countsOnlyMs),
        unit: 'MiB/s',
        digits: 1,
      },
      {
        key: 'countsOnly.ratio',
        label: 'counts-only backup throughput ÷ baseline',
        value: baselineMs / countsOnlyMs,
        unit: '×',
        digits: 2,
      },
      ...cpuFigures('baseline', 'baseline', cpu.baseline),
      ...cpuFigures('backup', 'backup', cpu.backup),
      ...cpuFigures('countsOnly', 'counts-only backup', cpu.countsOnly),
      {
        key: 'rto.seconds',
        label: `restore (RTO) of ${size} MiB: check, stream-load, compare counts and checksums`,
        value: restored.durationMs / 1000,
        unit: 's',
        digits: 1,
      },
      ...(rpo
        ? [
            {
              key: 'rpo.seconds',
              label: `kill-everything RPO (archiver every ${RPO_ARCHIVE_INTERVAL_SECONDS} s)`,
              value: rpo.ms / 1000,
              unit: 's',
              digits: 1,
            },
            {
              key: 'rpo.acknowledged',
              label: 'RPO drill: writes acknowledged before the kill',
              value: rpo.acknowledged,
            },
            { key: 'rpo.recovered', label: 'RPO drill: writes recovered', value: rpo.recovered },
          ]
        : []),
    ];
    const targets: TargetSpec[] = [
      {
        key: 'throughputRatio',
        label: 'backup throughput ÷ baseline',
        value: baselineMs / backupMs,
        op: '>=',
        limit: RATIO_TARGET,
        unit: '×',
        digits: 2,
      },
      {
        key: 'rto.seconds',
        label: `restore (RTO) of ${size} MiB`,
        value: restored.durationMs / 1000,
        op: '<=',
        limit: RTO_TARGET_MS / 1000,
        unit: 's',
        digits: 1,
      },
      ...(rpo
        ? [
            {
              key: 'rpo.seconds',
              label: 'kill-everything RPO',
              value: rpo.ms / 1000,
              op: '<=' as const,
              limit: RPO_TARGET_MS / 1000,
              unit: 's',
              digits: 1,
            },
            {
              key: 'rpo.holes',
              label: 'RPO drill: recovered writes out of the acknowledged prefix',
              value: rpo.holes,
              op: '<=' as const,
              limit: 0,
            },
          ]
        : []),
    ];
    const secs = (runs: number[]): string => runs.map((ms) => (ms / 1000).toFixed(1)).join(', ');
    process.stdout.write(
      `baseline runs ${secs(baselineRuns)} s; backup runs ${secs(backupRuns)} s; ` +
        `counts-only runs ${secs(countsOnlyRuns)} s\n`,
    );
    for (const f of figures) process.stdout.write(`  ${f.label}: ${formatValue(f.value, f.digits, f.unit)}\n`);
    bench.finish({
      title: 'streamed, encrypted backup vs mariadb-dump | zstd; restore time; kill-everything RPO',
      figures,
      targets,
      notes: [
        `Baseline and backup alternate for ${ROUNDS} rounds on the same server and ` +
          `the medians are compared; the machine is shared, so the ratio is what to read.`,
        ...(rpo ? [] : ['The RPO drill was skipped (BENCH_DR_RPO=0).']),
      ],
      details: {
        baselineRunsSeconds: baselineRuns.map((ms) => ms / 1000),
        backupRunsSeconds: backupRuns.map((ms) => ms / 1000),
        countsOnlyRunsSeconds: countsOnlyRuns.map((ms) => ms / 1000),
        cpuSecondsPerRun: cpu,
      },
    });
  } finally {
    await Promise.allSettled([minio?.stop(false), source?.stop(false), restoreDb?.stop(false)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
