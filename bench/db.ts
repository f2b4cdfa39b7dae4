// npm run bench:db — what synchronous replication costs, and how long writes stop when a member dies.
//  1. sysbench (Debian) oltp_write_only against a standalone member (the baseline, measured in the same
//     run, same my.cnf tuning) and against a 3-member Galera cluster started by the real agent: ratio of
//     transactions/s and of p95 latency. All members share this machine's cores, so the absolute numbers
//     are a floor, the ratio is what to read.
//  2. Write outage seen by a client when one member is SIGKILLed: a client on the killed member (it
//     reconnects to another member, as it would behind the client Service) and a client on a survivor.
//     Outage = longest gap between two acknowledged writes. Target ≤ 5 s.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopbackCluster, Writer } from '../src/galera/loopback.js';
import { run } from '../src/util/exec.js';
import { formatDuration } from '../src/util/progress.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const THREADS = Number(process.env.BENCH_THREADS ?? 4);
const KILLS = Number(process.env.BENCH_KILLS ?? 3);
const OUTAGE_TARGET_MS = 5_000;

interface SysbenchResult { tps: number; p95ms: number; errors: number }

async function sysbench(c: LoopbackCluster, members: string[], label: string): Promise<SysbenchResult> {
  const admin = await c.connect(members[0] ?? 'db-0', 'root');
  await admin.query('CREATE DATABASE IF NOT EXISTS sbtest');
  await admin.end();
  const common = [
    'oltp_write_only', '--db-driver=mysql', '--mysql-host=127.0.0.1',
    `--mysql-port=${members.map((m) => c.member(m).sqlPort).join(',')}`,
    '--mysql-user=root', `--mysql-password=${c.rootPassword}`, '--mysql-db=sbtest',
    '--tables=4', '--table-size=10000', `--threads=${THREADS}`,
  ];
  await run('sysbench', [...common, 'prepare'], { timeoutMs: 300_000 });
  const res = await run('sysbench', [...common, `--time=${SECONDS}`, '--report-interval=0', 'run'], { timeoutMs: (SECONDS + 120) * 1000 });
  await run('sysbench', [...common, 'cleanup'], { timeoutMs: 120_000 });
  const tps = Number(/transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(res.stdout)?.[1] ?? NaN);
  const p95ms = Number(/95th percentile:\s+([\d.]+)/.exec(res.stdout)?.[1] ?? NaN);
  const errors = Number(/ignored errors:\s+(\d+)/.exec(res.stdout)?.[1] ?? NaN);
  if (!Number.isFinite(tps)) throw new Error(`sysbench ${label}: no result in its output:\n${res.stdout.slice(-800)}`);
  return { tps, p95ms, errors };
}

async function withCluster<T>(size: number, mode: 'galera' | 'standalone', work: (c: LoopbackCluster) => Promise<T>): Promise<T> {
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
    process.stderr.write(`  kill ${i + 1}/${KILLS}: client on the killed member ${formatDuration(onVictim.maxGapMs)}, client on a survivor ${formatDuration(onSurvivor.maxGapMs)}\n`);
    c.start('db-0');
    await c.waitReady();
  }
  return results;
}

async function main(): Promise<void> {
  process.stderr.write(`sysbench oltp_write_only: ${THREADS} threads, ${SECONDS}s, 4 tables × 10000 rows\n`);
  const solo = await withCluster(1, 'standalone', (c) => sysbench(c, ['db-0'], 'standalone'));
  process.stderr.write(`  standalone: ${solo.tps.toFixed(1)} tps, p95 ${solo.p95ms} ms\n`);
  const { one, all, kills } = await withCluster(3, 'galera', async (c) => {
    const one = await sysbench(c, ['db-0'], 'galera, one member');
    process.stderr.write(`  galera (clients on one member): ${one.tps.toFixed(1)} tps, p95 ${one.p95ms} ms\n`);
    const all = await sysbench(c, ['db-0', 'db-1', 'db-2'], 'galera, all members');
    process.stderr.write(`  galera (clients on all members): ${all.tps.toFixed(1)} tps, p95 ${all.p95ms} ms, ${all.errors} certification conflicts retried\n`);
    return { one, all, kills: await outage(c) };
  });
  const worst = (k: 'failover' | 'survivor'): number => Math.max(...kills.map((r) => r[k]));
  const report = {
    sysbench: {
      standalone: solo, galeraOneMember: one, galeraAllMembers: all,
      ratioTpsOneMember: +(one.tps / solo.tps).toFixed(3), ratioTpsAllMembers: +(all.tps / solo.tps).toFixed(3),
      ratioP95OneMember: +(one.p95ms / solo.p95ms).toFixed(3),
    },
    outageMs: { runs: kills.map((r) => ({ failover: Math.round(r.failover), survivor: Math.round(r.survivor) })), worstFailover: Math.round(worst('failover')), worstSurvivor: Math.round(worst('survivor')), targetMs: OUTAGE_TARGET_MS },
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  const ok = report.outageMs.worstFailover <= OUTAGE_TARGET_MS && report.outageMs.worstSurvivor <= OUTAGE_TARGET_MS;
  process.stderr.write(`galera/standalone throughput ${report.sysbench.ratioTpsOneMember}× (one member), ${report.sysbench.ratioTpsAllMembers}× (all members); worst write outage ${formatDuration(Math.max(worst('failover'), worst('survivor')))} ${ok ? '≤' : '>'} ${OUTAGE_TARGET_MS / 1000}s target\n`);
  if (!ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
