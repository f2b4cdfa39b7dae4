// npm run bench:db — what synchronous replication costs, what TLS adds to it, and how long writes stop when a
// member dies.
//  1. sysbench (Debian) oltp_write_only against a standalone member (the baseline, measured in the same
//     run, same my.cnf tuning) and against a 3-member Galera cluster started by the real agent: ratio of
//     transactions/s and of p95 latency. All members share this machine's cores, so the absolute numbers
//     are a floor, the ratio is what to read.
//  2. Write outage seen by a client when one member is SIGKILLed: a client on the killed member (it
//     reconnects to another member, as it would behind the client Service) and a client on a survivor.
//     Outage = longest gap between two acknowledged writes. Target ≤ 5 s.
// The Galera measurements run twice, on a cluster with TLS off and on one with TLS on (clients, Galera, IST
// and SST; the chart's default), in the same run: the ratios TLS on ÷ off are what TLS costs.
// Writes docs/benchmarks/db.{json,md} (bench/result.ts); exits 1 when the outage target is not met.
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopbackCluster, Writer } from '../test/helpers/galera-loopback.js';
import { run } from '../src/util/exec.js';
import { formatDuration } from '../src/util/progress.js';
import { startBench, type Figure, type TargetSpec } from './result.js';

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
  // sysbench 1.0.20 has no CA option: --mysql-ssl=on reads cacert.pem (and a client certificate and key)
  // from its working directory; without TLS require_secure_transport refuses it (1045).
  let cwd: string | undefined;
  if (c.tlsFiles) {
    cwd = join(c.opts.baseDir, 'sysbench-tls');
    mkdirSync(cwd, { recursive: true });
    copyFileSync(c.tlsFiles.ca, join(cwd, 'cacert.pem'));
    copyFileSync(c.tlsFiles.cert, join(cwd, 'client-cert.pem'));
    copyFileSync(c.tlsFiles.key, join(cwd, 'client-key.pem'));
  }
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
    ...(c.tlsFiles ? ['--mysql-ssl=on'] : []),
  ];
  await run('sysbench', [...common, 'prepare'], { timeoutMs: 300_000, cwd });
  const res = await run('sysbench', [...common, `--time=${SECONDS}`, '--report-interval=0', 'run'], {
    timeoutMs: (SECONDS + 120) * 1000,
    cwd,
  });
  await run('sysbench', [...common, 'cleanup'], { timeoutMs: 120_000, cwd });
  const tps = Number(/transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(res.stdout)?.[1] ?? NaN);
  const p95ms = Number(/95th percentile:\s+([\d.]+)/.exec(res.stdout)?.[1] ?? NaN);
  const errors = Number(/ignored errors:\s+(\d+)/.exec(res.stdout)?.[1] ?? NaN);
  if (!Number.isFinite(tps)) throw new Error(`sysbench ${label}: no result in its output:\n${res.stdout.slice(-800)}`);
  return { tps, p95ms, errors };
}

async function withCluster<T>(
  size: number,
  mode: 'galera' | 'standalone',
  tls: boolean,
  work: (c: LoopbackCluster) => Promise<T>,
): Promise<T> {
  const c = await LoopbackCluster.create({
    baseDir: mkdtempSync(join(tmpdir(), 'kstack-bench-db-')),
    size,
    mode,
    // The chart's SST method, for both Galera runs: only TLS differs between them.
    sstMethod: 'mariabackup',
    tls,
  });
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
      `  kill ${i + 1}/${KILLS}: client on the killed member ${formatDuration(onVictim.maxGapMs)}, ` +
        `client on a survivor ${formatDuration(onSurvivor.maxGapMs)}\n`,
    );
    c.start('db-0');
    await c.waitReady();
  }
  return results;
}

interface GaleraRun {
  one: SysbenchResult;
  all: SysbenchResult;
  kills: { failover: number; survivor: number }[];
}

/** sysbench with clients on one member and on all three, then the kills, on a new cluster with TLS on or off. */
function galera(tls: boolean): Promise<GaleraRun> {
  const name = tls ? 'TLS on' : 'TLS off';
  process.stderr.write(`3-member Galera, ${name}\n`);
  return withCluster(3, 'galera', tls, async (c) => {
    const one = await sysbench(c, ['db-0'], `galera ${name}, one member`);
    process.stderr.write(`  clients on one member: ${one.tps.toFixed(1)} tps, p95 ${one.p95ms} ms\n`);
    const all = await sysbench(c, ['db-0', 'db-1', 'db-2'], `galera ${name}, all members`);
    process.stderr.write(
      `  clients on all members: ${all.tps.toFixed(1)} tps, ` +
        `p95 ${all.p95ms} ms, ${all.errors} certification conflicts retried\n`,
    );
    return { one, all, kills: await outage(c) };
  });
}

const worst = (r: GaleraRun, k: 'failover' | 'survivor'): number => Math.max(...r.kills.map((x) => x[k]));

async function main(): Promise<void> {
  const bench = startBench('db', { seconds: SECONDS, threads: THREADS, kills: KILLS, tables: 4, tableSize: 10000 });
  process.stderr.write(`sysbench oltp_write_only: ${THREADS} threads, ${SECONDS}s, 4 tables × 10000 rows\n`);
  const solo = await withCluster(1, 'standalone', false, (c) => sysbench(c, ['db-0'], 'standalone'));
  process.stderr.write(`  standalone: ${solo.tps.toFixed(1)} tps, p95 ${solo.p95ms} ms\n`);
  const off = await galera(false);
  const on = await galera(true);
  // Judged on the measured gaps in ms, not on rounded ones.
  const sb = (key: string, name: string, r: SysbenchResult): Figure[] => [
    { key: `${key}.tps`, label: `${name}: transactions/s`, value: r.tps, digits: 1 },
    { key: `${key}.p95ms`, label: `${name}: p95 latency`, value: r.p95ms, unit: 'ms', digits: 2 },
    { key: `${key}.errors`, label: `${name}: ignored errors (certification conflicts retried)`, value: r.errors },
  ];
  const ratio = (key: string, label: string, value: number): Figure => ({ key, label, value, unit: '×', digits: 2 });
  const kills = (key: string, name: string, r: GaleraRun): Figure[] =>
    r.kills.flatMap((k, i) => [
      {
        key: `outage.${key}.kill${i + 1}.failoverSeconds`,
        label: `${name}, kill ${i + 1}: write outage, client on the killed member (reconnects)`,
        value: k.failover / 1000,
        unit: 's',
        digits: 2,
      },
      {
        key: `outage.${key}.kill${i + 1}.survivorSeconds`,
        label: `${name}, kill ${i + 1}: write outage, client on a survivor`,
        value: k.survivor / 1000,
        unit: 's',
        digits: 2,
      },
    ]);
  const outageTargets = (key: string, name: string, r: GaleraRun): TargetSpec[] =>
    (['failover', 'survivor'] as const).map((k) => ({
      key: `outage.${key}.worst${k === 'failover' ? 'Failover' : 'Survivor'}Seconds`,
      label: `${name}: worst write outage, client on ${k === 'failover' ? 'the killed member' : 'a survivor'}`,
      value: worst(r, k) / 1000,
      op: '<=' as const,
      limit: OUTAGE_TARGET_MS / 1000,
      unit: 's',
      digits: 2,
    }));
  const met = bench.finish({
    title:
      'Galera vs a standalone member and TLS on vs off (sysbench ' +
      'oltp_write_only); write outage when a member is SIGKILLed',
    figures: [
      ...sb('standalone', 'standalone member (baseline, TLS off)', solo),
      ...sb('tlsOff.galeraOneMember', '3-member Galera, TLS off, clients on one member', off.one),
      ...sb('tlsOff.galeraAllMembers', '3-member Galera, TLS off, clients on all members', off.all),
      ...sb('tlsOn.galeraOneMember', '3-member Galera, TLS on, clients on one member', on.one),
      ...sb('tlsOn.galeraAllMembers', '3-member Galera, TLS on, clients on all members', on.all),
      ratio('ratioTpsOneMember', 'transactions/s Galera TLS off (one member) ÷ standalone', off.one.tps / solo.tps),
      ratio('ratioTpsAllMembers', 'transactions/s Galera TLS off (all members) ÷ standalone', off.all.tps / solo.tps),
      ratio('ratioP95OneMember', 'p95 latency Galera TLS off (one member) ÷ standalone', off.one.p95ms / solo.p95ms),
      ratio('tlsOnOff.tpsOneMember', 'transactions/s TLS on ÷ off (clients on one member)', on.one.tps / off.one.tps),
      ratio('tlsOnOff.tpsAllMembers', 'transactions/s TLS on ÷ off (clients on all members)', on.all.tps / off.all.tps),
      ratio('tlsOnOff.p95OneMember', 'p95 latency TLS on ÷ off (clients on one member)', on.one.p95ms / off.one.p95ms),
      ratio(
        'tlsOnOff.p95AllMembers',
        'p95 latency TLS on ÷ off (clients on all members)',
        on.all.p95ms / off.all.p95ms,
      ),
      ratio(
        'tlsOnOff.worstFailover',
        'worst write outage, client on the killed member: TLS on ÷ off',
        worst(on, 'failover') / worst(off, 'failover'),
      ),
      ratio(
        'tlsOnOff.worstSurvivor',
        'worst write outage, client on a survivor: TLS on ÷ off',
        worst(on, 'survivor') / worst(off, 'survivor'),
      ),
      ...kills('tlsOff', 'TLS off', off),
      ...kills('tlsOn', 'TLS on', on),
    ],
    targets: [...outageTargets('tlsOff', 'TLS off', off), ...outageTargets('tlsOn', 'TLS on', on)],
    notes: [
      "All members share this machine's cores, so Galera pays three servers' CPU " +
        'for every commit: the absolute numbers are a floor, the ratio is what to read.',
      'TLS on: clients (sysbench 1.0.20 with --mysql-ssl=on, which takes cacert.pem from its working ' +
        'directory; the outage writers verify the server against the CA), Galera replication and IST ' +
        '(socket.ssl), SST (socat with OpenSSL). Both Galera clusters use mariabackup SST, the chart default.',
      ...(process.env.BENCH_NOTE ? [process.env.BENCH_NOTE] : []),
    ],
    details: {
      standalone: solo,
      tlsOff: { galeraOneMember: off.one, galeraAllMembers: off.all, outageMs: off.kills },
      tlsOn: { galeraOneMember: on.one, galeraAllMembers: on.all, outageMs: on.kills },
    },
  });
  process.stderr.write(
    `galera/standalone throughput ${(off.one.tps / solo.tps).toFixed(3)}× (one member, ` +
      `TLS off); TLS on/off ${(on.one.tps / off.one.tps).toFixed(3)}× (one ` +
      `member), ${(on.all.tps / off.all.tps).toFixed(3)}× (all members); worst write outage TLS ` +
      `off ${formatDuration(Math.max(worst(off, 'failover'), worst(off, 'survivor')))}, ` +
      `TLS on ${formatDuration(Math.max(worst(on, 'failover'), worst(on, 'survivor')))}\n`,
  );
  if (!met) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
