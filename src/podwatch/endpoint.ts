// Where the API server is and how to authenticate to it. Loading @kubernetes/client-node costs about 65 MiB
// of RSS (its KubeConfig module pulls in the whole generated API), which alone breaks podwatch's 100 MiB
// budget; so the common cases — the in-cluster service account, and kubeconfigs with certificates or
// tokens — are read here directly, and client-node's KubeConfig is loaded only for what needs its plugins
// (exec credentials, auth providers). See docs/decisions/0007-podwatch-light-auth.md.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../util/errors.js';

export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface ApiEndpoint {
  server: string;
  tls: TlsOptions;
  /** Auth headers, asked for each request (tokens are rotated on disk by the kubelet). */
  headers(): Promise<Record<string, string>>;
}

/** Wraps a client-node KubeConfig (any auth it supports), applied per request. */
export function endpointFromKubeConfig(kc: KubeConfig): ApiEndpoint {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UserError('the kubeconfig names no current cluster: pass --kubeconfig PATH or --in-cluster');
  let tls: TlsOptions | undefined;
  const endpoint: ApiEndpoint = {
    server: cluster.server,
    tls: {},
    async headers() {
      const o: {
        headers?: Record<string, unknown>;
        auth?: string;
        ca?: unknown;
        cert?: unknown;
        key?: unknown;
        rejectUnauthorized?: boolean;
        servername?: string;
      } = { headers: {} };
      await kc.applyToHTTPSOptions(o as Parameters<KubeConfig['applyToHTTPSOptions']>[0]);
      if (!tls) {
        const buf = (v: unknown): Buffer | undefined =>
          v === undefined || v === null ? undefined : Buffer.from(v as string | Buffer);
        tls = {
          ca: buf(o.ca),
          cert: buf(o.cert),
          key: buf(o.key),
          ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
          ...(o.servername ? { servername: o.servername } : {}),
        };
        Object.assign(endpoint.tls, tls);
      }
      const h: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.headers ?? {})) if (typeof v === 'string') h[k.toLowerCase()] = v;
      if (o.auth) h.authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
      return h;
    },
  };
  return endpoint;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's service account, as KubeConfig.loadFromCluster reads it; the token file is re-read as it rotates. */
export function inClusterEndpoint(env: NodeJS.ProcessEnv = process.env, dir = SA_DIR): ApiEndpoint {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host)
    throw new UserError(
      '--in-cluster: KUBERNETES_SERVICE_HOST is not set, so this is not a pod; pass --kubeconfig PATH instead',
    );
  let ca: Buffer;
  try {
    ca = readFileSync(join(dir, 'ca.crt'));
  } catch {
    throw new UserError(`--in-cluster: no service account CA at ${dir}/ca.crt; is automountServiceAccountToken off?`);
  }
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    tls: { ca },
    headers: () => Promise.resolve({ authorization: `Bearer ${readFileSync(join(dir, 'token'), 'utf8').trim()}` }),
  };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const named = (list: unknown, name: string): Obj | undefined => {
  const item = (Array.isArray(list) ? list : []).map(obj).find((x) => x.name === name);
  return item ? obj(item[Object.keys(item).find((k) => k !== 'name') ?? '']) : undefined;
};

/**
 * Reads a kubeconfig's current context. Returns undefined when the user needs something only client-node
 * implements (exec, auth-provider, username/password, proxies), so the caller can fall back to it.
 */
export function endpointFromKubeconfigText(text: string, path: string): ApiEndpoint | undefined {
  const doc = obj(parseYaml(text));
  const ctxName = typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined;
  if (!ctxName) throw new UserError(`${path}: the kubeconfig has no current-context`);
  const ctx = named(doc.contexts, ctxName);
  if (!ctx) throw new UserError(`${path}: context '${ctxName}' is not defined`);
  const cluster = named(doc.clusters, String(ctx.cluster));
  const user = named(doc.users, String(ctx.user)) ?? {};
  if (!cluster || typeof cluster.server !== 'string')
    throw new UserError(`${path}: cluster '${String(ctx.cluster)}' has no server`);
  if (user.exec || user['auth-provider'] || user.username || cluster['proxy-url'] || user.as || user.impersonate)
    return undefined;
  const base = dirname(path);
  const file = (data: unknown, f: unknown): Buffer | undefined => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof f === 'string') return readFileSync(isAbsolute(f) ? f : join(base, f));
    return undefined;
  };
  const tls: TlsOptions = {};
  const ca = file(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = file(user['client-certificate-data'], user['client-certificate']);
  const key = file(user['client-key-data'], user['client-key']);
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (cluster['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  if (typeof cluster['tls-server-name'] === 'string') tls.servername = cluster['tls-server-name'];
  const token = typeof user.token === 'string' ? user.token : undefined;
  const tokenFile = typeof user.tokenFile === 'string' ? user.tokenFile : undefined;
  return {
    server: cluster.server,
    tls,
    headers: () => {
      const t = token ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined);
      const h: Record<string, string> = {};
      if (t) h.authorization = `Bearer ${t}`;
      return Promise.resolve(h);
    },
  };
}

/** The endpoint for podwatch's config: in-cluster, a kubeconfig file, or $KUBECONFIG / ~/.kube/config. */
export async function loadEndpoint(
  config: { inCluster: boolean; kubeconfig?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<ApiEndpoint> {
  if (config.inCluster) return inClusterEndpoint(env);
  const path = config.kubeconfig ?? env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.kube', 'config');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(
      `cannot read the kubeconfig ${path} (${(err as Error).message}): pass --kubeconfig PATH or --in-cluster`,
    );
  }
  const light = endpointFromKubeconfigText(text, path);
  if (light) return light;
  // Plugins and providers: let client-node do it (costs memory, see above).
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(path);
  return endpointFromKubeConfig(kc);
}
