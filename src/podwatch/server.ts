// podwatch's HTTP server: /metrics, /healthz, /readyz, and the live web view (/, /api/pods, /events SSE).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sink } from './sinks.js';
import type { PodEvent, PodSnapshot } from './snapshot.js';
import { isReady } from './snapshot.js';
import { WEB_VIEW_HTML } from './webview.js';

/** The web view as a sink: keeps the last events (for new and reconnecting browsers) and pushes new ones over SSE. */
export class WebViewHub implements Sink {
  readonly name = 'web';
  private readonly recent: { id: number; data: string }[] = [];
  private readonly clients = new Set<ServerResponse>();
  private seq = 0;
  constructor(private readonly keep = 500) {}

  emit(event: PodEvent): void {
    const item = { id: ++this.seq, data: JSON.stringify(event) };
    this.recent.push(item);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const res of this.clients) res.write(`id: ${item.id}\nevent: pod\ndata: ${item.data}\n\n`);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  attach(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    // A reconnecting browser says which event it saw last; it gets only what came after.
    const last = Number(req.headers['last-event-id'] ?? 0);
    res.write('retry: 2000\n\n');
    for (const item of this.recent) if (item.id > last) res.write(`id: ${item.id}\nevent: pod\ndata: ${item.data}\n\n`);
    this.clients.add(res);
    const ping = setInterval(() => {
      res.write(': ping\n\n');
    }, 15_000);
    req.on('close', () => {
      clearInterval(ping);
      this.clients.delete(res);
    });
  }

  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

export interface ServerDeps {
  metrics: () => string;
  healthy: () => boolean;
  ready: () => boolean;
  pods: () => Iterable<PodSnapshot>;
  hub: WebViewHub;
}

export function podSummary(s: PodSnapshot): {
  namespace: string;
  name: string;
  phase: string;
  ready: boolean;
  node?: string;
  labels: Record<string, string>;
} {
  return {
    namespace: s.namespace,
    name: s.name,
    phase: s.phase,
    ready: isReady(s),
    ...(s.node ? { node: s.node } : {}),
    labels: s.labels,
  };
}

export async function startServer(
  host: string,
  port: number,
  deps: ServerDeps,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      text(405, 'method not allowed\n');
      return;
    }
    switch (path) {
      case '/metrics':
        text(200, deps.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
        return;
      case '/healthz':
        if (deps.healthy()) text(200, 'ok\n');
        else text(503, 'unhealthy\n');
        return;
      case '/readyz':
        if (deps.ready()) text(200, 'ok\n');
        else text(503, 'initial sync not done\n');
        return;
      case '/':
        text(200, WEB_VIEW_HTML, 'text/html; charset=utf-8');
        return;
      case '/api/pods':
        text(200, JSON.stringify([...deps.pods()].map(podSummary)), 'application/json');
        return;
      case '/events':
        deps.hub.attach(req, res);
        return;
      default:
        text(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${shownHost}:${addr.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        deps.hub.close();
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
