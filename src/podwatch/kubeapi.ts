// The thin I/O edge to the API server: auth and TLS come from @kubernetes/client-node's KubeConfig, the
// requests themselves are plain node https so the informer controls streaming, timeouts and reconnects.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ApiEndpoint } from './endpoint.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status}${statusMessage(body)}`);
  }
}

function statusMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === 'string' ? ` (${m})` : '';
  } catch {
    return '';
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  contentType?: string;
  /** Time allowed for the response headers (and, for `request`, the whole body). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class KubeApi {
  private agent: https.Agent | undefined;
  private readonly server: URL;
  /** Every request started, for the "requests per second while the API server is down" budget. */
  requests = 0;

  constructor(private readonly endpoint: ApiEndpoint) {
    this.server = new URL(endpoint.server);
  }

  private async options(path: string, opts: RequestOptions): Promise<https.RequestOptions> {
    // Asked per request: service-account tokens and exec credentials are refreshed.
    const auth = await this.endpoint.headers();
    // One keep-alive agent for the process (client-node's KubeConfig would make a fresh one per call).
    this.agent ??= new https.Agent({ keepAlive: true, maxSockets: 16, ...this.endpoint.tls });
    const basePath = this.server.pathname.replace(/\/$/, '');
    const headers: Record<string, string> = { accept: 'application/json', ...auth };
    if (opts.contentType) headers['content-type'] = opts.contentType;
    return {
      protocol: this.server.protocol,
      hostname: this.server.hostname,
      port: this.server.port || 443,
      path: basePath + path,
      method: opts.method ?? 'GET',
      headers,
      agent: this.agent,
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
  }

  /** Starts a request and resolves with the response once its headers arrived (or rejects after timeoutMs). */
  async open(path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const reqOpts = await this.options(path, opts);
    this.requests++;
    return new Promise((resolve, reject) => {
      const req = https.request(reqOpts, resolve);
      const timer = setTimeout(() => {
        req.destroy(new Error(`no response from the API server within ${opts.timeoutMs ?? 0} ms`));
      }, opts.timeoutMs ?? 15_000);
      req.on('response', () => {
        clearTimeout(timer);
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body));
    });
  }

  /** A complete request: resolves with the parsed JSON body, throws ApiError for non-2xx. */
  async request<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    const deadline = opts.timeoutMs ?? 30_000;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new Error(`API request ${path} timed out after ${deadline} ms`));
    }, deadline);
    const signal = opts.signal ? AbortSignal.any([opts.signal, controller.signal]) : controller.signal;
    try {
      const res = await this.open(path, { ...opts, signal, timeoutMs: deadline });
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw new ApiError(status, text, `${opts.method ?? 'GET'} ${path}`);
      return (text ? JSON.parse(text) : undefined) as T;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

/** Splits a byte stream into lines (the watch protocol is one JSON object per line). */
export async function* lines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      if (line.trim()) yield line;
    }
  }
  if (rest.trim()) yield rest;
}
