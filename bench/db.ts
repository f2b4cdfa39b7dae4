// npm run bench:db — what synchronous replication costs, and how long writes stop when a member dies.
//  1. sysbench (Debian) oltp_write_only against a standalone member (the baseline, measured in the same
//     run, same my.cnf tuning) and against a 3-member Galera cluster started by the real agent: ratio of
//     transactions/s and of p95 latency. All members share this machine's cores, so the absolute numbers
//     are a floor, the ratio is what to read.
//  2. Write outage seen by a client when one member is SIGKILLed: a client on the killed member (it
//     reconnects to another member, as it would behind the client Service) and a client on a survivor.
//     Outage = longest gap between two acknowledged writes. Target ≤ 5 s.
// Writes docs/benchmarks/db.{json,md} (bench/result.ts); exits 1 when the outage target is not met.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopbackCluster, Writer } from '../test/helpers/galera-loopback.js';
import { run } from '../src/util/exec.js';
import { formatDuration } from '../src/util/progress.js';
import { startBench, type Figure } from './result.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const THREADS = Number(process.env.BENCH_THREADS ?? 4);
const KILLS = Number(process.env.BENCH_KILLS ?? 3);
const OUTAGE_TARGET_MS = 5_000;

interface SysbenchResult {
  tps: number;
  p95ms: number;
  errors: number;
}

async function sysbench(c: LoopbackCluster, members: string[], label: string): Promise<SysbenchResult> {
  const admin = await c.connect(members[0] ?? 'db-0', 'root');
  await admin.query('CREATE DATABASE IF NOT EXISTS sbtest');
  await admin.end();
  const common = [
    'oltp_write_only',
    '--db-driver=mysql',
    '--mysql-host=127.0.0.1',
    `--mysql-port=${members.map((m) => c.member(m).sqlPort).join(',')}`,
    '--mysql-user=root',
    `--mysql-password=${c.rootPassword}`,
    '--mysql-db=sbtest',
    '--tables=4',
    '--table-size=10000',
    `--threads=${THREADS}`,
  ];
  await run('sysbench', [...common, 'prepare'], { timeoutMs: 300_000 });
  const res = await run('sysbench', [...common, `--time=${SECONDS}`, '--report-interval=0', 'run'], {
    timeoutMs: (SECONDS + 120) * 1000,
  });
  await run('sysbench', [...common, 'cleanup'], { timeoutMs: 120_000 });
  const tps = Number(/transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(res.stdout)?.[1] ?? NaN);
  const p95ms = Number(/95th percentile:\s+([\d.]+)/.exec(res.stdout)?.[1] ?? NaN);
  const errors = Number(/ignored errors:\s+(\d+)/.exec(res.stdout)?.[1] ?? NaN);
  if (!Number.isFinite(tps)) throw new Error(`sysbench ${label}: no result in its output:\n${res.stdout.slice(-800)}`);
  return { tps, p95ms, errors };
}

async function withCluster<T>(
  size: number,
  mode: 'galera' | 'standalone',
  work: (c: LoopbackCluster) => Promise<T>,
): Promise<T> {
  const c = await LoopbackCluster.create({ baseDir: mkdtempSync(join(tmpdir(), 'kstack-bench-db-')), size, mode });
  try {
    c.startAll();
    await c.waitReady();
    return await work(c);
  } finally {
    await c.destroy();
  }
}

async function outage(c: LoopbackCluster): Promise<{ failover: number; survivor: number }[]> {
  const results: { failover: number; survivor: number }[] = [];
  for (let i = 0; i < KILLS; i++) {
    const onVictim = new Writer(c, ['db-0', 'db-1'], 'outage');
    await onVictim.prepare();
    const onSurvivor = new Writer(c, ['db-2'], 'outage_survivor');
    await onSurvivor.prepare();
    onVictim.start();
    onSurvivor.start();
    await sleep(2000);
    await c.kill('db-0');
    await sleep(OUTAGE_TARGET_MS + 3000);
    await Promise.all([onVictim.stop(), onSurvivor.stop()]);
    results.push({ failover: onVictim.maxGapMs, survivor: onSurvivor.maxGapMs });
    process.stderr.write(
      `  kill ${i + 1}/${KILLS}: client on the killed member ${formatDuration(onVictim.maxGapMs)}, client on a survivor ${formatDuration(onSurvivor.maxGapMs)}\n`,
    );
    c.start('db-0');
    await c.waitReady();
  }
  return results;
}

async function main(): Promise<void> {
  const bench = startBench('db', { seconds: SECONDS, threads: THREADS, kills: KILLS, tables: 4, tableSize: 10000 });
  process.stderr.write(`sysbench oltp_write_only: ${THREADS} threads, ${SECONDS}s, 4 tables × 10000 rows\n`);
  const solo = await withCluster(1, 'standalone', (c) => sysbench(c, ['db-0'], 'standalone'));
  process.stderr.write(`  standalone: ${solo.tps.toFixed(1)} tps, p95 ${solo.p95ms} ms\n`);
  const { one, all, kills } = await withCluster(3, 'galera', async (c) => {
    const one = await sysbench(c, ['db-0'], 'galera, one member');
    process.stderr.write(`  galera (clients on one member): ${one.tps.toFixed(1)} tps, p95 ${one.p95ms} ms\n`);
    const all = await sysbench(c, ['db-0', 'db-1', 'db-2'], 'galera, all members');
    process.stderr.write(
      `  galera (clients on all members): ${all.tps.toFixed(1)} tps, p95 ${all.p95ms} ms, ${all.errors} certification conflicts retried\n`,
    );
    return { one, all, kills: await outage(c) };
  });
  // Judged on the measured gaps in ms, not on rounded ones.
  const worst = (k: 'failover' | 'survivor'): number => Math.max(...kills.map((r) => r[k]));
  const sb = (key: string, name: string, r: SysbenchResult): Figure[] => [
    { key: `${key}.tps`, label: `${name}: transactions/s`, value: r.tps, digits: 1 },
    { key: `${key}.p95ms`, label: `${name}: p95 latency`, value: r.p95ms, unit: 'ms', digits: 2 },
    { key: `${key}.errors`, label: `${name}: ignored errors (certification conflicts retried)`, value: r.errors },
  ];
  const met = bench.finish({
    title: 'Galera vs a standalone member (sysbench oltp_write_only); write outage when a member is SIGKILLed',
    figures: [
      ...sb('standalone', 'standalone member (baseline)', solo),
      ...sb('galeraOneMember', '3-member Galera, clients on one member', one),
      ...sb('galeraAllMembers', '3-member Galera, clients on all members', all),
      {
        key: 'ratioTpsOneMember',
        label: 'transactions/s Galera (one member) ÷ standalone',
        value: one.tps / solo.tps,
        unit: '×',
        digits: 2,
      },
      {
        key: 'ratioTpsAllMembers',
        label: 'transactions/s Galera (all members) ÷ standalone',
        value: all.tps / solo.tps,
        unit: '×',
        digits: 2,
      },
      {
        key: 'ratioP95OneMember',
        label: 'p95 latency Galera (one member) ÷ standalone',
        value: one.p95ms / solo.p95ms,
        unit: '×',
        digits: 2,
      },
      ...kills.flatMap((r, i) => [
        {
          key: `outage.kill${i + 1}.failoverSeconds`,
          label: `kill ${i + 1}: write outage, client on the killed member (reconnects)`,
          value: r.failover / 1000,
          unit: 's',
          digits: 2,
        },
        {
          key: `outage.kill${i + 1}.survivorSeconds`,
          label: `kill ${i + 1}: write outage, client on a survivor`,
          value: r.survivor / 1000,
          unit: 's',
          digits: 2,
        },
      ]),
    ],
    targets: [
      {
        key: 'outage.worstFailoverSeconds',
        label: 'worst write outage, client on the killed member',
        value: worst('failover') / 1000,
        op: '<=',
        limit: OUTAGE_TARGET_MS / 1000,
        unit: 's',
        digits: 2,
      },
      {
        key: 'outage.worstSurvivorSeconds',
        label: 'worst write outage, client on a survivor',
        value: worst('survivor') / 1000,
        op: '<=',
        limit: OUTAGE_TARGET_MS / 1000,
        unit: 's',
        digits: 2,
      },
    ],
    notes: [
      "All members share this machine's cores, so Galera pays three servers' CPU for every commit: the absolute numbers are a floor, the ratio is what to read.",
    ],
    details: { standalone: solo, galeraOneMember: one, galeraAllMembers: all, outageMs: kills },
  });
  process.stderr.write(
    `galera/standalone throughput ${(one.tps / solo.tps).toFixed(3)}× (one member), ${(all.tps / solo.tps).toFixed(3)}× (all members); worst write outage ${formatDuration(Math.max(worst('failover'), worst('survivor')))}\n`,
  );
  if (!met) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
