// podwatch's HTTP server: /metrics, /healthz, /readyz, the live web view (/, /api/pods, /events SSE) and
// Alertmanager's webhook receiver (POST /api/alerts; GET lists the firing alerts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlertPayloadError, isAlertEvent, parseWebhookPayload, type Alert, type AlertNotification } from './alerts.js';
import { summariseSnapshot, type PodwatchEvent, type Sink, type Snapshot } from './sinks.js';
import type { PodSnapshot } from './snapshot.js';
import { isReady } from './snapshot.js';
import { WEB_VIEW_HTML } from './webview.js';

/** The SSE event names: `pod` (one per pod event), `alert` (one per alert event), `snapshot` (one per snapshot). */
export type StreamKind = 'pod' | 'alert' | 'snapshot';

/**
 * Which kinds a client of /events gets: `?kinds=pod,alert,snapshot`, default `pod` only, because readers
 * written before alerts existed (kstack prove's R9) take every message on the stream for a pod event.
 */
export function streamKinds(url: string | undefined): ReadonlySet<StreamKind> {
  const asked = new URLSearchParams((url ?? '').split('?')[1] ?? '').get('kinds');
  if (asked === null) return new Set(['pod']);
  const known: readonly StreamKind[] = ['pod', 'alert', 'snapshot'];
  return new Set(known.filter((k) => asked.split(',').includes(k)));
}

/** A snapshot on the stream: what it summarises, not its items (the page reloads /api/pods or /api/alerts). */
export function snapshotMessage(s: Snapshot): {
  kind: Snapshot['kind'];
  time: string;
  namespace?: string;
  count: number;
  summary: string;
} {
  return {
    kind: s.kind,
    time: s.time,
    ...(s.kind === 'pods' && s.namespace !== undefined ? { namespace: s.namespace } : {}),
    count: s.events.length,
    summary: summariseSnapshot(s),
  };
}

/** The web view as a sink: keeps the last events (for new and reconnecting browsers) and pushes new ones over SSE. */
export class WebViewHub implements Sink {
  readonly name = 'web';
  private readonly recent: { id: number; kind: StreamKind; data: string }[] = [];
  private readonly clients = new Map<ServerResponse, ReadonlySet<StreamKind>>();
  private seq = 0;
  constructor(private readonly keep = 500) {}

  emit(event: PodwatchEvent): void {
    this.push(isAlertEvent(event) ? 'alert' : 'pod', event);
  }

  emitSnapshot(snapshot: Snapshot): void {
    if (snapshot.events.length > 0) this.push('snapshot', snapshotMessage(snapshot));
  }

  private push(kind: StreamKind, payload: unknown): void {
    const item = { id: ++this.seq, kind, data: JSON.stringify(payload) };
    this.recent.push(item);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const [res, kinds] of this.clients) if (kinds.has(kind)) res.write(sse(item));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  attach(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    const kinds = streamKinds(req.url);
    // A reconnecting browser says which event it saw last; it gets only what came after.
    const last = Number(req.headers['last-event-id'] ?? 0);
    res.write('retry: 2000\n\n');
    for (const item of this.recent) if (item.id > last && kinds.has(item.kind)) res.write(sse(item));
    this.clients.set(res, kinds);
    const ping = setInterval(() => {
      res.write(': ping\n\n');
    }, 15_000);
    req.on('close', () => {
      clearInterval(ping);
      this.clients.delete(res);
    });
  }

  close(): void {
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
  }
}

const sse = (item: { id: number; kind: StreamKind; data: string }): string =>
  `id: ${item.id}\nevent: ${item.kind}\ndata: ${item.data}\n\n`;

export interface ServerDeps {
  metrics: () => string;
  healthy: () => boolean;
  ready: () => boolean;
  pods: () => Iterable<PodSnapshot>;
  hub: WebViewHub;
  /** The firing alerts, in display order. */
  alerts: () => Alert[];
  /** A valid Alertmanager notification; returns how many alerts fire after it. */
  onAlertNotification: (notification: AlertNotification) => number;
  /** A webhook payload that failed validation, with the message the sender gets. */
  onAlertRejected: (message: string) => void;
}

/** Alertmanager sends every alert of a group in each message; this bounds a runaway sender, not a real group. */
export const MAX_ALERT_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The request body as text, or undefined when it is larger than `limit` bytes. The rest of a large body is
 * read and dropped rather than the loop left early: leaving it destroys the socket, and the sender would
 * get no answer saying why.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks).toString('utf8');
}

/** What POST /api/alerts answers: the status and a body naming the field at fault, or the firing count. */
export async function receiveAlertWebhook(
  req: IncomingMessage,
  deps: Pick<ServerDeps, 'onAlertNotification' | 'onAlertRejected'>,
): Promise<{ status: number; body: string }> {
  const reject = (status: number, message: string): { status: number; body: string } => {
    deps.onAlertRejected(message);
    return { status, body: `${message}\n` };
  };
  const text = await readBody(req, MAX_ALERT_BODY_BYTES);
  if (text === undefined) return reject(413, `body: larger than ${MAX_ALERT_BODY_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return reject(400, `body: not valid JSON (${(err as Error).message})`);
  }
  try {
    const firing = deps.onAlertNotification(parseWebhookPayload(json));
    return { status: 200, body: `${JSON.stringify({ firing })}\n` };
  } catch (err) {
    if (err instanceof AlertPayloadError) return reject(400, err.message);
    throw err;
  }
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
    if (path === '/api/alerts' && req.method === 'POST') {
      receiveAlertWebhook(req, deps).then(
        (r) => {
          text(r.status, r.body, r.status === 200 ? 'application/json' : 'text/plain; charset=utf-8');
        },
        (err: unknown) => {
          text(500, `${(err as Error).message}\n`);
        },
      );
      return;
    }
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
      case '/api/alerts':
        text(200, JSON.stringify(deps.alerts()), 'application/json');
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
