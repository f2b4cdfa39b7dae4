// npm run bench:podwatch — podwatch against the baseline `kubectl get pods -A --watch --output-watch-events -o json`
// on the same stream of changes from a dedicated control plane: an initial list of BENCH_PODS pods (default
// 10,000), then label-patch churn (a burst as fast as the API server takes it, then a paced phase at
// each of BENCH_RATES events/s, default 100 and 500). Both consumers run
// as child processes and are read by this process, which stamps each
// line on arrival: events/s (ratio podwatch/kubectl), p50/p99 latency from the API write (request sent) to the
// sink (the line read from podwatch's JSON-lines stdout), and RSS with every pod tracked.
// Writes docs/benchmarks/podwatch.{json,md} (bench/result.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { controlPlaneDown, controlPlaneUp } from '../src/cluster/control-plane.js';
import { endpointFromKubeConfig } from '../src/podwatch/endpoint.js';
import { KubeApi } from '../src/podwatch/kubeapi.js';
import { ensureKubectlAndHelm } from '../src/setup/kubectl-layer.js';
import { pickFreePorts } from '../src/util/net.js';
import { repoRoot } from '../src/util/paths.js';
import { createProgress, formatDuration, silentProgress } from '../src/util/progress.js';
import { startBench, type Figure, type TargetSpec } from './result.js';

const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const BURST = Number(process.env.BENCH_BURST ?? 5000);
const RATES = (process.env.BENCH_RATES ?? '100,500')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const PACED_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const NS = 'bench';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Arrival times of the events a consumer reported, keyed by pod name and by churn sequence number. */
interface Consumer {
  name: string;
  child: ChildProcess;
  initial: Map<string, number>;
  seqSeen: Map<number, number>;
  exited: Promise<void>;
}

/** Splits concatenated (pretty-printed) JSON objects as kubectl writes them, without waiting for the end. */
function jsonObjects(onObject: (text: string) => void): (chunk: string) => void {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let current = '';
  return (chunk) => {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') {
        if (depth++ === 0) {
          start = i;
          current = '';
        }
      } else if (c === '}' && --depth === 0) {
        onObject(current + chunk.slice(start, i + 1));
        current = '';
        start = i + 1;
      }
    }
    if (depth > 0) {
      current += chunk.slice(start);
    }
  };
}

function consumer(
  name: string,
  cmd: string,
  args: string[],
  onEvent: (c: Consumer, o: unknown, at: number) => void,
  split: 'lines' | 'objects',
): Consumer {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const c: Consumer = {
    name,
    child,
    initial: new Map(),
    seqSeen: new Map(),
    exited: new Promise((r) => {
      child.on('exit', () => {
        r();
      });
    }),
  };
  const handle = (text: string): void => {
    onEvent(c, JSON.parse(text), performance.now());
  };
  let rest = '';
  const feed =
    split === 'objects'
      ? jsonObjects(handle)
      : (chunk: string): void => {
          rest += chunk;
          const lines = rest.split('\n');
          rest = lines.pop() ?? '';
          for (const l of lines) if (l) handle(l);
        };
  child.stdout.setEncoding('utf8').on('data', feed);
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (!/Warning|watch/i.test(d)) process.stderr.write(`[${name}] ${d}`);
  });
  return c;
}

const rssMiB = (pid: number | undefined): number => {
  if (!pid) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

async function main(): Promise<void> {
  // V8 flags for the podwatch process: by default the deployment setting from docs/podwatch.md (a small young
  // generation keeps RSS under 100 MiB); BENCH_PODWATCH_NODE_FLAGS='' measures node's defaults instead.
  const nodeFlags = (process.env.BENCH_PODWATCH_NODE_FLAGS ?? '--max-semi-space-size=2').split(' ').filter(Boolean);
  const bench = startBench('podwatch', {
    pods: PODS,
    burst: BURST,
    rates: RATES.join(','),
    pacedSeconds: PACED_SECONDS,
    podwatchNodeFlags: nodeFlags.join(' '),
  });
  const progress = createProgress();
  const { kubectl } = await ensureKubectlAndHelm(progress);
  const baseDir = mkdtempSync(join(tmpdir(), 'kstack-bench-podwatch-'));
  const consumers: Consumer[] = [];
  try {
    const cp = await progress.step('control plane for the benchmark', () =>
      controlPlaneUp({ name: 'pwbench', baseDir, progress: silentProgress }),
    );
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    const api = new KubeApi(endpointFromKubeConfig(kc));
    await api.request('/api/v1/namespaces', {
      method: 'POST',
      contentType: 'application/json',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    });
    for (let i = 0; i < 120; i++) {
      if (
        await api.request(`/api/v1/namespaces/${NS}/serviceaccounts/default`).then(
          () => true,
          () => false,
        )
      )
        break;
      await sleep(500);
    }
    const created = await progress.step(`create ${PODS} pods`, async () => {
      const t0 = performance.now();
      await pool(PODS, 32, async (i) => {
        await api.request(`/api/v1/namespaces/${NS}/pods`, {
          method: 'POST',
          contentType: 'application/json',
          body: {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `p-${i}`, labels: { app: 'bench', seq: '0' } },
            spec: { schedulerName: 'bench-none', containers: [{ name: 'app', image: 'kstack/pause:bench' }] },
          },
        });
      });
      return PODS / ((performance.now() - t0) / 1000);
    });

    // Both consumers start together and see the same list and the same churn.
    const [port] = await pickFreePorts(1);
    const started = performance.now();
    type Meta = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };
    const onKubectl = (c: Consumer, o: unknown, at: number): void => {
      // kubectl prints the initial list as ADDED events whose object is a List page (500 items each).
      const ev = o as { type?: string; object?: Meta & { items?: Meta[] } };
      for (const item of ev.object?.items ?? [ev.object]) {
        const md = item?.metadata;
        if (md?.namespace !== NS || !md.name) continue;
        const seq = Number(md.labels?.seq ?? 0);
        if (ev.type === 'ADDED' && !c.initial.has(md.name)) c.initial.set(md.name, at);
        else if (ev.type === 'MODIFIED' && seq > 0 && !c.seqSeen.has(seq)) c.seqSeen.set(seq, at);
      }
    };
    const onPodwatch = (c: Consumer, o: unknown, at: number): void => {
      const ev = o as { type: string; pod: { name: string; namespace: string }; labels: Record<string, string> };
      if (ev.pod.namespace !== NS) return;
      const seq = Number(ev.labels.seq ?? 0);
      // --emit-initial reports the first list as `existing` (a snapshot); a pod made after the start is `created`.
      if ((ev.type === 'existing' || ev.type === 'created') && !c.initial.has(ev.pod.name))
        c.initial.set(ev.pod.name, at);
      else if (ev.type === 'updated' && seq > 0 && !c.seqSeen.has(seq)) c.seqSeen.set(seq, at);
    };
    const kube = consumer(
      'kubectl',
      kubectl,
      ['--kubeconfig', cp.kubeconfig, 'get', 'pods', '-A', '--watch', '--output-watch-events', '-o', 'json'],
      onKubectl,
      'objects',
    );
    const pw = consumer(
      'podwatch',
      process.execPath,
      [
        ...nodeFlags,
        join(repoRoot, 'dist', 'src', 'podwatch', 'main.js'),
        '--kubeconfig',
        cp.kubeconfig,
        '-A',
        '-o',
        'json',
        '--emit-initial',
        '--listen',
        `127.0.0.1:${port ?? 0}`,
      ],
      onPodwatch,
      'lines',
    );
    consumers.push(kube, pw);
    const initialDone = async (c: Consumer): Promise<number> => {
      const deadline = performance.now() + 300_000;
      while (c.initial.size < PODS) {
        if (c.child.exitCode !== null) throw new Error(`${c.name} exited early`);
        if (performance.now() > deadline)
          throw new Error(`${c.name} reported ${c.initial.size}/${PODS} pods of the initial list after 5 minutes`);
        await sleep(50);
      }
      return Math.max(...c.initial.values()) - started;
    };
    const [kInit, pInit] = await progress.step('initial list (both consumers)', () =>
      Promise.all([initialDone(kube), initialDone(pw)]),
    );
    await sleep(3000);
    const rssSynced = { podwatch: rssMiB(pw.child.pid), kubectl: rssMiB(kube.child.pid) };

    // Burst: as fast as the API server takes patches; each consumer's rate is events / (first write → its last event).
    let seq = 0;
    const sentAt = new Map<number, number>();
    const patch = async (n: number): Promise<void> => {
      const s = ++seq;
      sentAt.set(s, performance.now());
      await api.request(`/api/v1/namespaces/${NS}/pods/p-${n % PODS}`, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: { metadata: { labels: { seq: String(s) } } },
      });
    };
    const burstStart = performance.now();
    await progress.step(`burst of ${BURST} label patches`, () => pool(BURST, 16, patch));
    const burstSeqs = [...sentAt.keys()];
    const waitAll = async (c: Consumer, seqs: number[]): Promise<void> => {
      const deadline = performance.now() + 120_000;
      while (seqs.some((s) => !c.seqSeen.has(s)) && performance.now() < deadline) await sleep(50);
    };
    await Promise.all([waitAll(kube, burstSeqs), waitAll(pw, burstSeqs)]);
    const rate = (c: Consumer): number => {
      const times = burstSeqs.map((s) => c.seqSeen.get(s)).filter((t): t is number => t !== undefined);
      return times.length / ((Math.max(...times) - burstStart) / 1000);
    };

    // Paced phases: `rate` patches per second; latency from sending the write to the event's arrival.
    const paced = async (
      rate: number,
    ): Promise<{ rate: number; achieved: number; total: number; kLat: number[]; pLat: number[]; extra: number[] }> => {
      const first = seq + 1;
      const total = rate * PACED_SECONDS;
      const t0 = performance.now();
      await progress.step(`paced churn: ${rate} events/s for ${PACED_SECONDS}s`, async () => {
        const inflight: Promise<void>[] = [];
        for (let i = 0; i < total; i++) {
          const wait = t0 + (i * 1000) / rate - performance.now();
          if (wait > 1) await sleep(wait);
          inflight.push(patch(i * 7));
          if (inflight.length > 64) await Promise.all(inflight.splice(0));
        }
        await Promise.all(inflight);
      });
      const achieved = total / ((performance.now() - t0) / 1000);
      const seqs = Array.from({ length: total }, (_, i) => first + i);
      await Promise.all([waitAll(kube, seqs), waitAll(pw, seqs)]);
      const latencies = (c: Consumer): number[] =>
        seqs.flatMap((s) => {
          const at = c.seqSeen.get(s);
          const sent = sentAt.get(s);
          return at !== undefined && sent !== undefined ? [at - sent] : [];
        });
      // Per event: podwatch's arrival minus kubectl's, i.e. what
      // podwatch adds on top of the baseline on the same stream.
      const extra = seqs.flatMap((s) => {
        const pt = pw.seqSeen.get(s);
        const kt = kube.seqSeen.get(s);
        return pt !== undefined && kt !== undefined ? [pt - kt] : [];
      });
      return { rate, achieved, total, kLat: latencies(kube), pLat: latencies(pw), extra };
    };
    const phases = [];
    for (const r of RATES) phases.push(await paced(r));
    const rssAfter = { podwatch: rssMiB(pw.child.pid), kubectl: rssMiB(kube.child.pid) };
    const metrics = await (await fetch(`http://127.0.0.1:${port ?? 0}/metrics`)).text();
    const tracked = /^podwatch_pods_tracked (\d+)$/m.exec(metrics)?.[1];

    const kRate = rate(kube);
    const pRate = rate(pw);
    const line = (s: string): void => {
      process.stdout.write(`${s}\n`);
    };
    line('');
    line(
      `podwatch benchmark — ${nodeFlags.length ? `podwatch with ${nodeFlags.join(' ')}, ` : ''}${PODS} pods, ` +
        `burst ${BURST} patches, paced ${RATES.join(' and ')}/s ` +
        `× ${PACED_SECONDS}s (pod creation ran at ${created.toFixed(0)} pods/s)`,
    );
    line(
      `  initial list delivered   kubectl ${formatDuration(kInit)}   ` +
        `podwatch ${formatDuration(pInit)}   ratio kubectl/podwatch ${(kInit / pInit).toFixed(2)}×`,
    );
    line(
      `  burst events/s           kubectl ${kRate.toFixed(0)}   podwatch ${pRate.toFixed(0)}   ` +
        `ratio podwatch/kubectl ${(pRate / kRate).toFixed(2)}× (target ≥ 1.0×)`,
    );
    for (const ph of phases) {
      line(
        `  paced ${ph.rate}/s (writer reached ${ph.achieved.toFixed(0)}/s): ` +
          `received kubectl ${ph.kLat.length}/${ph.total}, podwatch ${ph.pLat.length}/${ph.total}`,
      );
      line(
        `    latency write→sink p50   kubectl ${pct(ph.kLat, 50).toFixed(1)} ` +
          `ms   podwatch ${pct(ph.pLat, 50).toFixed(1)} ms`,
      );
      line(
        `    latency write→sink p99   kubectl ${pct(ph.kLat, 99).toFixed(1)} ms   ` +
          `podwatch ${pct(ph.pLat, 99).toFixed(1)} ms (target ≤ 100 ms at 500/s)`,
      );
      line(
        `    podwatch − kubectl       p50 ${pct(ph.extra, 50).toFixed(1)} ` +
          `ms   p99 ${pct(ph.extra, 99).toFixed(1)} ms (per event, same stream)`,
      );
    }
    line(
      `  RSS after sync           kubectl ${rssSynced.kubectl.toFixed(0)} MiB   ` +
        `podwatch ${rssSynced.podwatch.toFixed(0)} MiB with ${tracked ?? '?'} pods tracked (target ≤ 100 MiB)`,
    );
    line(
      `  RSS after churn          kubectl ${rssAfter.kubectl.toFixed(0)} ` +
        `MiB   podwatch ${rssAfter.podwatch.toFixed(0)} MiB`,
    );
    api.close();
    const figures: Figure[] = [
      { key: 'create.podsPerSecond', label: 'pod creation rate (setup)', value: created, unit: 'pods/s', digits: 0 },
      {
        key: 'initial.kubectlSeconds',
        label: 'initial list delivered: kubectl',
        value: kInit / 1000,
        unit: 's',
        digits: 1,
      },
      {
        key: 'initial.podwatchSeconds',
        label: 'initial list delivered: podwatch',
        value: pInit / 1000,
        unit: 's',
        digits: 1,
      },
      {
        key: 'initial.ratio',
        label: 'initial list: kubectl time ÷ podwatch time',
        value: kInit / pInit,
        unit: '×',
        digits: 2,
      },
      {
        key: 'burst.kubectlEventsPerSecond',
        label: `burst of ${BURST} patches: kubectl events/s`,
        value: kRate,
        unit: 'events/s',
        digits: 0,
      },
      {
        key: 'burst.podwatchEventsPerSecond',
        label: `burst of ${BURST} patches: podwatch events/s`,
        value: pRate,
        unit: 'events/s',
        digits: 0,
      },
      { key: 'burst.ratio', label: 'burst: podwatch ÷ kubectl events/s', value: pRate / kRate, unit: '×', digits: 2 },
      ...phases.flatMap((ph): Figure[] => {
        const k = `paced${ph.rate}`;
        return [
          {
            key: `${k}.achievedPerSecond`,
            label: `paced ${ph.rate}/s: rate the writer reached`,
            value: ph.achieved,
            unit: '/s',
            digits: 0,
          },
          {
            key: `${k}.kubectlLost`,
            label: `paced ${ph.rate}/s: events kubectl did not report`,
            value: ph.total - ph.kLat.length,
          },
          {
            key: `${k}.podwatchLost`,
            label: `paced ${ph.rate}/s: events podwatch did not report`,
            value: ph.total - ph.pLat.length,
          },
          {
            key: `${k}.kubectlP50ms`,
            label: `paced ${ph.rate}/s: write→sink p50, kubectl`,
            value: pct(ph.kLat, 50),
            unit: 'ms',
            digits: 1,
          },
          {
            key: `${k}.podwatchP50ms`,
            label: `paced ${ph.rate}/s: write→sink p50, podwatch`,
            value: pct(ph.pLat, 50),
            unit: 'ms',
            digits: 1,
          },
          {
            key: `${k}.kubectlP99ms`,
            label: `paced ${ph.rate}/s: write→sink p99, kubectl`,
            value: pct(ph.kLat, 99),
            unit: 'ms',
            digits: 1,
          },
          {
            key: `${k}.podwatchP99ms`,
            label: `paced ${ph.rate}/s: write→sink p99, podwatch`,
            value: pct(ph.pLat, 99),
            unit: 'ms',
            digits: 1,
          },
          {
            key: `${k}.extraP50ms`,
            label: `paced ${ph.rate}/s: podwatch − kubectl per event, p50`,
            value: pct(ph.extra, 50),
            unit: 'ms',
            digits: 1,
          },
          {
            key: `${k}.extraP99ms`,
            label: `paced ${ph.rate}/s: podwatch − kubectl per event, p99`,
            value: pct(ph.extra, 99),
            unit: 'ms',
            digits: 1,
          },
        ];
      }),
      {
        key: 'rss.syncedKubectlMiB',
        label: 'RSS after the initial list: kubectl',
        value: rssSynced.kubectl,
        unit: 'MiB',
        digits: 0,
      },
      {
        key: 'rss.syncedPodwatchMiB',
        label: 'RSS after the initial list: podwatch',
        value: rssSynced.podwatch,
        unit: 'MiB',
        digits: 0,
      },
      {
        key: 'rss.afterChurnKubectlMiB',
        label: 'RSS after the churn: kubectl',
        value: rssAfter.kubectl,
        unit: 'MiB',
        digits: 0,
      },
      {
        key: 'rss.afterChurnPodwatchMiB',
        label: 'RSS after the churn: podwatch',
        value: rssAfter.podwatch,
        unit: 'MiB',
        digits: 0,
      },
      { key: 'podsTracked', label: 'pods tracked by podwatch (its /metrics)', value: Number(tracked ?? NaN) },
    ];
    const at500 = phases.find((ph) => ph.rate === 500);
    const targets: TargetSpec[] = [
      {
        key: 'burst.ratio',
        label: 'burst: podwatch ÷ kubectl events/s',
        value: pRate / kRate,
        op: '>=',
        limit: 1,
        unit: '×',
        digits: 2,
      },
      ...(at500
        ? [
            {
              key: 'paced500.podwatchP99ms',
              label: `podwatch write→sink p99 at 500/s (the writer reached ${at500.achieved.toFixed(0)}/s)`,
              value: pct(at500.pLat, 99),
              op: '<=' as const,
              limit: 100,
              unit: 'ms',
              digits: 1,
            },
          ]
        : []),
      {
        key: 'rss.podwatchMaxMiB',
        label: 'podwatch RSS with every pod tracked (the larger of after sync and after churn)',
        value: Math.max(rssSynced.podwatch, rssAfter.podwatch),
        op: '<=',
        limit: 100,
        unit: 'MiB',
        digits: 0,
      },
    ];
    bench.finish({
      title: 'podwatch vs kubectl get pods -A --watch on the same stream of changes',
      figures,
      targets,
      notes: [
        'Both consumers read the same stream from a dedicated control plane on ' +
          'this machine; latency is from sending the PATCH to reading the line on ' +
          "the consumer's stdout, so it includes the API server's and etcd's share.",
      ],
      details: {
        phases: phases.map((ph) => ({
          rate: ph.rate,
          achieved: ph.achieved,
          total: ph.total,
          kubectlReceived: ph.kLat.length,
          podwatchReceived: ph.pLat.length,
        })),
      },
    });
  } finally {
    for (const c of consumers) {
      c.child.kill('SIGTERM');
      await Promise.race([c.exited, sleep(10_000)]);
      c.child.kill('SIGKILL');
    }
    await controlPlaneDown({ name: 'pwbench', baseDir, progress: silentProgress });
    rmSync(baseDir, { recursive: true, force: true });
  }
}

await main();
