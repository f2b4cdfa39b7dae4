// A real OCI registry for tests: Debian's docker-registry (distribution 2.8) on a given address (default
// 127.0.0.1 and a free port), serving HTTPS with a certificate from its own CA (made with kstack's PKI
// helpers, the listen address as SAN), basic auth from an htpasswd file (bcrypt, Debian's htpasswd), and
// filesystem storage in a temp folder. Its JSON log says which client fetched what: requests() reads it.
// Started and stopped by pid; stop() also removes the folder.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { isIPv4 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash, randomBytes } from 'node:crypto';
import { ensureCertificates } from '../../src/cluster/pki.js';
import { run } from '../../src/util/exec.js';
import { pickFreePorts } from '../../src/util/net.js';
import { isRunning, startDaemon, stopDaemon } from '../../src/util/process.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
export const HTPASSWD_BINARY = '/usr/bin/htpasswd';

/** One request the registry answered, from its log. */
export interface RegistryRequest {
  /** The client's address, without its port. */
  remoteAddress: string;
  method: string;
  /** The request path, e.g. /v2/team/nginx/manifests/sha256:… */
  path: string;
  kind: 'base' | 'manifest' | 'blob' | 'upload' | 'tags' | 'catalog' | 'other';
  repository?: string;
  /** The manifest reference as requested: a tag or a digest. */
  reference?: string;
  /** The digest the request names (a manifest fetched by digest, a blob), when it names one. */
  digest?: string;
  status: number;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** What a /v2/ API path asks for (pure). */
export function parseRegistryPath(path: string): Pick<RegistryRequest, 'kind' | 'repository' | 'reference' | 'digest'> {
  const p = path.split('?')[0] ?? '';
  if (p === '/v2/' || p === '/v2') return { kind: 'base' };
  if (p === '/v2/_catalog') return { kind: 'catalog' };
  const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.+)$/.exec(p);
  if (!m?.[1] || !m[2] || !m[3]) return { kind: 'other' };
  const [, repository, what, rest] = m;
  if (what === 'tags') return { kind: 'tags', repository };
  if (what === 'manifests')
    return { kind: 'manifest', repository, reference: rest, ...(DIGEST.test(rest) ? { digest: rest } : {}) };
  if (rest.startsWith('uploads/')) return { kind: 'upload', repository };
  return { kind: 'blob', repository, ...(DIGEST.test(rest) ? { digest: rest } : {}) };
}

/** The address part of host:port, [v6]:port or a bare address. */
function withoutPort(addr: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(addr);
  if (v6?.[1]) return v6[1];
  return /^[^:]+:\d+$/.test(addr) ? (addr.split(':')[0] ?? addr) : addr;
}

/** A log entry's response status: a refused login is logged without one, as its auth challenge (a 401). */
function statusOf(entry: Record<string, unknown>): number | undefined {
  const status = entry['http.response.status'];
  if (typeof status === 'number') return status;
  const msg = entry.msg;
  return typeof msg === 'string' && msg.startsWith('error authorizing context') ? 401 : undefined;
}

/**
 * The requests in distribution's JSON log (pure): one entry per line that carries the request's method,
 * URI and remote address and the response status ("response completed", and error lines such as a 401).
 */
export function parseRegistryLog(text: string): RegistryRequest[] {
  const requests: RegistryRequest[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const uri = entry['http.request.uri'];
    const method = entry['http.request.method'];
    const remote = entry['http.request.remoteaddr'];
    if (typeof uri !== 'string' || typeof method !== 'string' || typeof remote !== 'string') continue;
    const status = statusOf(entry);
    if (status === undefined) continue;
    const path = uri.split('?')[0] ?? uri;
    requests.push({ remoteAddress: withoutPort(remote), method, path, status, ...parseRegistryPath(path) });
  }
  return requests;
}

export interface RegistryOptions {
  /** Listen address (an IPv4 address or a host name the certificate names); default 127.0.0.1. */
  host?: string;
  /** Default: a free port (src/util/net.ts). */
  port?: number;
  username?: string;
  password?: string;
  /** Work folder (config, certificates, storage, log); default a new temp folder. Removed by stop(). */
  dir?: string;
}

/** A manifest as the registry serves it. */
export interface FetchedManifest {
  status: number;
  /** The Docker-Content-Digest header. */
  headerDigest: string | undefined;
  /** sha256 of the body the registry sent. */
  bodyDigest: string;
  mediaType: string | undefined;
  body: string;
}

function registryConfig(dir: string, address: string): string {
  // JSON is YAML; distribution reads it. Access log off: the JSON request lines carry the same and more.
  return JSON.stringify({
    version: 0.1,
    log: { level: 'info', formatter: 'json', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http: {
      addr: address,
      secret: randomBytes(16).toString('hex'),
      tls: { certificate: join(dir, 'pki', 'registry.crt'), key: join(dir, 'pki', 'registry.key') },
    },
    auth: { htpasswd: { realm: 'kstack-test-registry', path: join(dir, 'htpasswd') } },
  });
}

export class RegistryServer {
  private pid: number | undefined;

  private constructor(
    readonly dir: string,
    readonly host: string,
    readonly port: number,
    readonly username: string,
    readonly password: string,
  ) {}

  /** Starts the registry and waits until it answers /v2/ over TLS (with 401: auth is on). */
  static async start(opts: RegistryOptions = {}): Promise<RegistryServer> {
    const host = opts.host ?? '127.0.0.1';
    const port = opts.port ?? (await pickFreePorts(1, host))[0];
    if (port === undefined) throw new Error('no free port');
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kstack-registry-'));
    const r = new RegistryServer(
      dir,
      host,
      port,
      opts.username ?? 'kstack',
      opts.password ?? randomBytes(12).toString('hex'),
    );
    try {
      await r.prepare();
      await r.launch();
    } catch (err) {
      await r.stop();
      throw err;
    }
    return r;
  }

  /** HOST:PORT, as image references name the registry. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get url(): string {
    return `https://${this.address}`;
  }

  /** The CA certificate (PEM) that signed the registry's serving certificate. */
  get caPath(): string {
    return join(this.dir, 'pki', 'ca.crt');
  }

  get logPath(): string {
    return join(this.dir, 'registry.log');
  }

  /** Every request the registry has answered so far, in order. */
  requests(): RegistryRequest[] {
    try {
      return parseRegistryLog(readFileSync(this.logPath, 'utf8'));
    } catch {
      return [];
    }
  }

  private async prepare(): Promise<void> {
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    const san = isIPv4(this.host) ? { ipAddresses: [this.host] } : { dnsNames: [this.host] };
    await ensureCertificates(join(this.dir, 'pki'), [
      { name: 'ca', commonName: 'kstack-test-registry-ca', isCA: true, usage: [], days: 2 },
      { name: 'registry', commonName: this.host, signer: 'ca', usage: ['server'], ...san, days: 1 },
    ]);
    // bcrypt (-B), the password on stdin (-i), not on a command line.
    const entry = await run(HTPASSWD_BINARY, ['-niB', this.username], { input: this.password });
    writeFileSync(join(this.dir, 'htpasswd'), entry.stdout.trim() + '\n', { mode: 0o600 });
    writeFileSync(join(this.dir, 'config.yml'), registryConfig(this.dir, this.address));
  }

  private async launch(): Promise<void> {
    this.pid = startDaemon({
      binary: REGISTRY_BINARY,
      args: ['serve', join(this.dir, 'config.yml')],
      logFile: this.logPath,
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!isRunning(this.pid, REGISTRY_BINARY))
        throw new Error(`docker-registry exited while starting: ${readFileSync(this.logPath, 'utf8').slice(-2000)}`);
      const status = await this.get('/v2/', false).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 401) return;
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer within 30s; see ${this.logPath}`);
      await sleep(100);
    }
  }

  /** GET on the registry's API with its CA (and basic auth unless `auth` is false). */
  get(
    path: string,
    auth = true,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const ca = readFileSync(this.caPath);
    const authorization = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    return new Promise((resolvePromise, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          path,
          method: 'GET',
          ca,
          headers: { ...headers, ...(auth ? { authorization } : {}) },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${this.url}${path} timed out`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** A manifest by tag or digest, as a client that accepts OCI and Docker manifests gets it. */
  async manifest(repository: string, reference: string): Promise<FetchedManifest> {
    const res = await this.get(`/v2/${repository}/manifests/${reference}`, true, {
      accept: [
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
      ].join(', '),
    });
    const header = res.headers['docker-content-digest'];
    const type = res.headers['content-type'];
    return {
      status: res.status,
      headerDigest: typeof header === 'string' ? header : undefined,
      bodyDigest: `sha256:${createHash('sha256').update(res.body).digest('hex')}`,
      mediaType: typeof type === 'string' ? type : undefined,
      body: res.body.toString('utf8'),
    };
  }

  /** Stops the registry (by pid) and removes its folder. */
  async stop(): Promise<void> {
    if (this.pid !== undefined) await stopDaemon(this.pid, REGISTRY_BINARY, 5000);
    this.pid = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
