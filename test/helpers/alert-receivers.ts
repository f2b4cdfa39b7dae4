// Alert destinations for the e2e, as users would run them: an HTTP server on the host's address on the
// cluster bridge (ours; no outside host is reachable) that records what Alertmanager posts, once for its
// webhook format and once for Slack's incoming-webhook format. Each server stops with stop().
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  body: unknown;
}

export interface AlertReceiver {
  url: string;
  received: Received[];
  stop(): Promise<void>;
}

/** Listens on host:0 (the kernel picks a free port for this server itself) and records every POSTed JSON body. */
export async function startAlertReceiver(host: string, path: string): Promise<AlertReceiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      try {
        received.push({ at: Date.now(), body: JSON.parse(data) as unknown });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } catch {
        res.writeHead(400).end('not JSON');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}${path}`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

interface WebhookBody {
  status?: string;
  alerts?: { status?: string; labels?: Record<string, string> }[];
}
interface SlackBody {
  channel?: string;
  attachments?: { title?: string; text?: string; color?: string }[];
}

/** Alertmanager webhook notifications (version 4) for an alert name with a status ('firing' | 'resolved'). */
export function webhookNotices(r: AlertReceiver, alertname: string, status: string): Received[] {
  return r.received.filter((x) =>
    ((x.body as WebhookBody).alerts ?? []).some((a) => a.labels?.alertname === alertname && a.status === status),
  );
}

/** Slack-format notifications whose title says the status and names the alert (our title template). */
export function slackNotices(r: AlertReceiver, alertname: string, status: string): Received[] {
  return r.received.filter((x) =>
    ((x.body as SlackBody).attachments ?? []).some((a) =>
      (a.title ?? '').startsWith(`${status.toUpperCase()}: ${alertname}`),
    ),
  );
}
