// Entry point of the monitoring controller container (kstack's local cluster, namespace monitoring): keeps
// Prometheus's and Alertmanager's files in step with the cluster's monitoring objects, and serves the
// health page (/), its data (/api/health), its own status (/api/status) and /healthz on MONITOR_PORT.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { inClusterEndpoint } from '../podwatch/endpoint.js';
import { KubeApi } from '../podwatch/kubeapi.js';
import { MonitoringController } from './controller.js';
import { collectHealth } from './health.js';
import { HEALTH_PAGE_HTML } from './health-page.js';
import { ALERTMANAGER_PORT, CONFIG_DIR, PROMETHEUS_PORT } from './prometheus-config.js';

const env = process.env;
const port = Number(env.MONITOR_PORT ?? 8080);
const prometheusUrl = `http://localhost:${PROMETHEUS_PORT}`;
const alertmanagerUrl = `http://localhost:${ALERTMANAGER_PORT}`;
const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};

const controller = new MonitoringController({
  api: new KubeApi(inClusterEndpoint()),
  dir: env.MONITOR_CONFIG_DIR ?? CONFIG_DIR,
  settings: {
    scrapeInterval: env.SCRAPE_INTERVAL ?? '15s',
    evaluationInterval: env.EVALUATION_INTERVAL ?? '5s',
    externalLabels: { cluster: env.CLUSTER_NAME ?? 'kstack' },
  },
  prometheusUrl,
  alertmanagerUrl,
  namespace: env.POD_NAMESPACE ?? 'monitoring',
  log,
});

/**
 * One collection at a time, reused for HEALTH_CACHE_MS: every open page polls every 2 s and a collection is
 * 16 queries, so pages share them instead of multiplying them.
 */
const HEALTH_CACHE_MS = 2000;
let cached: { at: number; model: Promise<object> } | undefined;
function health(): Promise<object> {
  if (!cached || Date.now() - cached.at > HEALTH_CACHE_MS)
    cached = { at: Date.now(), model: collectHealth({ prometheusUrl, alertmanagerUrl }) };
  return cached.model;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method !== 'GET') send(res, 405, 'text/plain', 'GET only\n');
  else if (path === '/') send(res, 200, 'text/html; charset=utf-8', HEALTH_PAGE_HTML);
  else if (path === '/api/health') send(res, 200, 'application/json', JSON.stringify(await health()));
  else if (path === '/api/status') send(res, 200, 'application/json', JSON.stringify(controller.status));
  // Alive once a sync has run; a sync that keeps failing shows in /api/status, not as a restart loop.
  else if (path === '/healthz')
    send(
      res,
      controller.status.lastSync ? 200 : 503,
      'text/plain',
      controller.status.lastSync ? 'ok\n' : 'no sync yet\n',
    );
  else send(res, 404, 'text/plain', 'not found\n');
}

const stop = new AbortController();
const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    send(res, 500, 'text/plain', `${(err as Error).message}\n`);
  });
});
server.listen(port, () => {
  log(`monitoring controller on :${port}, files in ${CONFIG_DIR}`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.once(sig, () => {
    stop.abort();
    server.close();
  });
await controller.run(Number(env.SYNC_INTERVAL_MS ?? 2000), stop.signal);
