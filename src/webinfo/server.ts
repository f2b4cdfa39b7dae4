// The companion's HTTP server (node:http, no dependencies). nginx proxies /api/ to it; it listens on
// loopback in the pod, so nothing else reaches it directly.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readWithin, type DataSource } from './data-source.js';
import { buildInfo, readPageFacts, type PodIdentity } from './info.js';

export interface WebinfoOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  pageDir: string;
  pod: PodIdentity;
  /** The region /api/info names; null or absent: none. */
  region?: string | null;
  dataSource: DataSource;
  /** Upper bound for one data source read. */
  readTimeoutMs?: number;
}

export interface RunningWebinfo {
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : text);
}

export function handler(opts: WebinfoOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://webinfo.invalid').pathname;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, { error: `method ${req.method ?? ''} is not allowed; use GET` }, false);
      return;
    }
    if (path === '/api/healthz') {
      send(res, 200, { ok: true }, head);
      return;
    }
    if (path === '/api/info') {
      void readWithin(opts.dataSource, opts.readTimeoutMs ?? 3000).then((data) => {
        send(res, 200, buildInfo(opts.pod, readPageFacts(opts.pageDir), data, new Date(), opts.region ?? null), head);
      });
      return;
    }
    send(res, 404, { error: `no such endpoint: ${path}; try /api/info` }, head);
  };
}

export async function startWebinfo(opts: WebinfoOptions): Promise<RunningWebinfo> {
  const server: Server = createServer(handler(opts));
  server.keepAliveTimeout = 75_000; // longer than nginx's upstream keepalive, so nginx closes first
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      resolvePromise();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: async () => {
      await new Promise<void>((resolvePromise) => {
        server.close(() => {
          resolvePromise();
        });
        server.closeIdleConnections();
      });
      await opts.dataSource.close?.();
    },
  };
}
