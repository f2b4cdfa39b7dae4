// npm run bench:web — requests per second and latency of the page served by our rendered nginx config,
// against a baseline measured in the same run: Debian's stock nginx.conf and default site, serving the
// same rendered page from the same folder with the same nginx binary. Rounds alternate between the two so
// a busy machine slows both alike; the ratio (ours / stock) is what to read, not the absolute numbers.
// Writes docs/benchmarks/web.{json,md} (bench/result.ts); exits 1 when ours is more than 5 % slower.
//   BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_CONNECTIONS (50), BENCH_THREADS (2)
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helmTemplate } from '../src/chart/helm.js';
import { configMapData, one, parseManifests } from '../src/chart/manifests.js';
import {
  checkNginxConfig,
  initContainerEnv,
  renderPage,
  startLocalNginx,
  webLayout,
  writeWebFiles,
  type LocalNginx,
} from '../test/helpers/web-local.js';
import { run } from '../src/util/exec.js';
import { pickFreePorts } from '../src/util/net.js';
import { createProgress } from '../src/util/progress.js';
import { ensureDebianPackages } from '../src/setup/debian.js';
import { ensureKubectlAndHelm } from '../src/setup/kubectl-layer.js';
import { loadVersions } from '../src/setup/versions.js';
import { startBench } from './result.js';

const NGINX = '/usr/sbin/nginx';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
/** Noise on a shared machine is a few percent; more than that is a regression to look at. */
const RATIO_TARGET = 0.95;

interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

/** Parses wrk --latency output (pure). */
export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
  if (!rps?.[1] || !p50?.[1] || !p50[2] || !p99?.[1] || !p99[2]) throw new Error(`unexpected wrk output:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1];
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = Number(non2xx ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps: Number(rps[1]), p50ms: toMs(p50[1], p50[2]), p99ms: toMs(p99[1], p99[2]), errors };
}

/** Debian's stock nginx.conf and default site, pointed at `pageDir` and bound to loopback (pure). */
export function stockConfig(
  debianConf: string,
  debianSite: string,
  opts: { port: number; pageDir: string; dir: string },
): { conf: string; site: string } {
  const replace = (text: string, from: RegExp, to: string): string => {
    if (!from.test(text)) throw new Error(`Debian's stock nginx config changed: ${String(from)} not found`);
    return text.replace(from, to);
  };
  let conf = replace(debianConf, /^pid .*;$/m, `pid ${opts.dir}/nginx.pid;`);
  conf = replace(conf, /^error_log .*;$/m, `error_log ${opts.dir}/error.log;`);
  conf = replace(conf, /^(\s*)access_log .*;$/m, `$1access_log ${opts.dir}/access.log;`);
  conf = replace(conf, /^(\s*)include \/etc\/nginx\/sites-enabled\/\*;$/m, `$1include ${opts.dir}/site.conf;`);
  let site = replace(
    debianSite,
    /^(\s*)listen 80 default_server;$/m,
    `$1listen 127.0.0.1:${opts.port} default_server;`,
  );
  site = site.replace(/^\s*listen \[::\]:80 default_server;$/m, '');
  site = replace(site, /^(\s*)root \/var\/www\/html;$/m, `$1root ${opts.pageDir};`);
  return { conf, site };
}

async function wrk(url: string): Promise<WrkResult> {
  const res = await run(
    'wrk',
    ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '--latency', url],
    { timeoutMs: (SECONDS + 30) * 1000 },
  );
  return parseWrk(res.stdout);
}

async function main(): Promise<void> {
  // Only what this benchmark uses: the web group's Debian packages (nginx, wrk) and helm.
  const bench = startBench('web', { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, threads: THREADS });
  const progress = createProgress();
  await ensureDebianPackages(loadVersions().debianPackages.web ?? ['nginx', 'wrk'], progress);
  await ensureKubectlAndHelm(progress);
  const root = mkdtempSync(join(tmpdir(), 'kstack-bench-web-'));
  chmodSync(root, 0o755);
  const servers: LocalNginx[] = [];
  try {
    const [oursPort, stockPort] = await pickFreePorts(2);
    if (!oursPort || !stockPort) throw new Error('no free ports');
    // Ours: the chart's defaults, exactly as rendered (nginx listens on loopback only here).
    const objs = parseManifests(await helmTemplate({ release: 'bench', values: { web: { containerPort: oursPort } } }));
    const layout = webLayout(join(root, 'ours'));
    writeWebFiles(layout, configMapData(one(objs, 'ConfigMap', 'web')));
    await renderPage(
      layout,
      { podName: 'bench-webstack-web-6f7d8c9b5-x7k2m', podIP: '10.244.0.10', nodeName: 'bench', namespace: 'bench' },
      initContainerEnv(one(objs, 'Deployment', 'web')),
    );
    await checkNginxConfig(NGINX, layout);
    servers.push(await startLocalNginx(NGINX, layout, join(root, 'ours.log'), `http://127.0.0.1:${oursPort}/healthz`));

    // Stock: Debian's shipped config, same page folder.
    const stockDir = join(root, 'stock');
    const stockLayout = { ...webLayout(stockDir), confDir: stockDir };
    const { conf, site } = stockConfig(
      readFileSync('/etc/nginx/nginx.conf', 'utf8'),
      readFileSync('/etc/nginx/sites-available/default', 'utf8'),
      { port: stockPort, pageDir: layout.pageDir, dir: stockDir },
    );
    writeWebFiles(stockLayout, {});
    writeFileSync(join(stockDir, 'nginx.conf'), `daemon off;\n${conf}`);
    writeFileSync(join(stockDir, 'site.conf'), site);
    await checkNginxConfig(NGINX, stockLayout);
    servers.push(await startLocalNginx(NGINX, stockLayout, join(root, 'stock.log'), `http://127.0.0.1:${stockPort}/`));

    const oursURL = `http://127.0.0.1:${oursPort}/`;
    const stockURL = `http://127.0.0.1:${stockPort}/`;
    const [a, b] = await Promise.all([fetch(oursURL).then((r) => r.text()), fetch(stockURL).then((r) => r.text())]);
    if (a !== b) throw new Error('the two servers do not serve the same page');
    console.log(
      `page: ${a.length} bytes; wrk -t${THREADS} -c${CONNECTIONS} ` +
        `-d${SECONDS}s, ${ROUNDS} alternating rounds after a warm-up`,
    );
    await wrk(oursURL);
    await wrk(stockURL);

    const ours: WrkResult[] = [];
    const stock: WrkResult[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const first = i % 2 === 0;
      if (first) stock.push(await wrk(stockURL));
      ours.push(await wrk(oursURL));
      if (!first) stock.push(await wrk(stockURL));
      console.log(
        `round ${i + 1}: ours ${ours.at(-1)?.rps.toFixed(0)} req/s, stock ${stock.at(-1)?.rps.toFixed(0)} req/s`,
      );
    }
    const summary = (rs: WrkResult[]): { rps: number; p50: number; p99: number; errors: number } => ({
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50ms)),
      p99: median(rs.map((r) => r.p99ms)),
      errors: rs.reduce((s, r) => s + r.errors, 0),
    });
    const o = summary(ours);
    const s = summary(stock);
    const ratio = o.rps / s.rps;
    const nginxVersion = /nginx\/(\S+)/.exec((await run(NGINX, ['-v'])).stderr)?.[1] ?? 'unknown';
    console.log('');
    console.log('                 req/s (median)   p50 ms   p99 ms   errors');
    console.log(
      `stock (Debian)   ${s.rps.toFixed(0).padStart(14)}   ` +
        `${s.p50.toFixed(2).padStart(6)}   ${s.p99.toFixed(2).padStart(6)}   ${s.errors}`,
    );
    console.log(
      `ours (chart)     ${o.rps.toFixed(0).padStart(14)}   ` +
        `${o.p50.toFixed(2).padStart(6)}   ${o.p99.toFixed(2).padStart(6)}   ${o.errors}`,
    );
    console.log('');
    console.log(`throughput ratio ours/stock: ${ratio.toFixed(2)}  (>= 1.00 means our config is not slower)`);
    console.log(`p99 latency ratio ours/stock: ${(o.p99 / s.p99).toFixed(2)}  (<= 1.00 is better)`);
    const runs = (rs: WrkResult[]): string => rs.map((r) => r.rps.toFixed(0)).join(', ');
    const met = bench.finish({
      title: "the chart's nginx config vs Debian's stock config, same page, same binary",
      figures: [
        { key: 'nginx.version', label: 'nginx (Debian package)', value: nginxVersion },
        { key: 'page.bytes', label: 'page size', value: Buffer.byteLength(a), unit: 'bytes' },
        {
          key: 'stock.rps',
          label: `stock (Debian): req/s, median of ${ROUNDS}`,
          value: s.rps,
          unit: 'req/s',
          digits: 0,
        },
        { key: 'stock.p50ms', label: 'stock (Debian): p50 latency (median)', value: s.p50, unit: 'ms', digits: 2 },
        { key: 'stock.p99ms', label: 'stock (Debian): p99 latency (median)', value: s.p99, unit: 'ms', digits: 2 },
        { key: 'stock.errors', label: 'stock (Debian): errors, all rounds', value: s.errors },
        { key: 'ours.rps', label: `ours (chart): req/s, median of ${ROUNDS}`, value: o.rps, unit: 'req/s', digits: 0 },
        { key: 'ours.p50ms', label: 'ours (chart): p50 latency (median)', value: o.p50, unit: 'ms', digits: 2 },
        { key: 'ours.p99ms', label: 'ours (chart): p99 latency (median)', value: o.p99, unit: 'ms', digits: 2 },
        { key: 'ours.errors', label: 'ours (chart): errors, all rounds', value: o.errors },
        { key: 'throughputRatio', label: 'throughput ours ÷ stock', value: ratio, unit: '×', digits: 2 },
        {
          key: 'p99Ratio',
          label: 'p99 latency ours ÷ stock (≤ 1 is better)',
          value: o.p99 / s.p99,
          unit: '×',
          digits: 2,
        },
      ],
      targets: [
        {
          key: 'throughputRatio',
          label: 'throughput ours ÷ stock',
          value: ratio,
          op: '>=',
          limit: RATIO_TARGET,
          unit: '×',
          digits: 2,
        },
      ],
      notes: [
        `wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s on loopback, one warm-up each, ` +
          `then ${ROUNDS} alternating rounds; req/s per round: ours ${runs(ours)}, stock ${runs(stock)}.`,
      ],
      details: { ours, stock },
    });
    if (!met) process.exitCode = 1;
  } finally {
    for (const server of servers) await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
