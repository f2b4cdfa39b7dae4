// HTTP clients run inside the cluster (with the node binary of kstack's own image, in a podwatch pod):
// a sampler that fetches a URL N times, and a steady load that runs until its stdin closes. They reach
// Services the way other pods do, which a port-forward from the host (pinned to one pod) cannot.
import type { V1Pod } from '@kubernetes/client-node';
import type { RunResult } from '../../util/exec.js';
import type { Kube } from './kube.js';
import { isPodReady, podName, podsOf } from './stack.js';
import type { Evidence } from './types.js';

export interface ClientPod { pod: string; container: string }

/** A Ready podwatch pod of the release (its image has node); undefined when podwatch is disabled. */
export async function clientPod(kube: Kube, release: string, ev?: Evidence): Promise<ClientPod | undefined> {
  const pods: V1Pod[] = await podsOf(kube, release, 'podwatch', ev);
  const ready = pods.find(isPodReady);
  return ready ? { pod: podName(ready), container: 'podwatch' } : undefined;
}

/** Fetches argv[1] argv[2] times, one after the other; prints one JSON line per answer. */
const SAMPLER = `
const http = require('node:http');
const [url, n] = process.argv.slice(1);
(async () => {
  for (let i = 0; i < Number(n); i++) {
    const line = await new Promise((resolve) => {
      const req = http.get(url, { timeout: 3000, agent: false }, (res) => {
        let body = ''; res.setEncoding('utf8');
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ status: 0, error: e.message }));
    });
    process.stdout.write(JSON.stringify(line) + '\\n');
  }
})();
`;

export interface Sample { status: number; body?: string; error?: string }

export async function sampleInCluster(kube: Kube, client: ClientPod, url: string, count: number, ev?: Evidence): Promise<Sample[]> {
  const res = await kube.exec(client.pod, client.container, ['node', '-e', SAMPLER, url, String(count)], { ...(ev ? { ev } : {}), timeoutMs: count * 4000 + 30_000 });
  if (res.code !== 0 && res.stdout.trim() === '') throw new Error(`the in-cluster client in ${client.pod} failed: ${res.stderr.trim().split('\n').slice(-2).join(' ')}`);
  return res.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Sample);
}

/**
 * GET argv[1] at argv[2] requests/s (new connection each, 5 s timeout) until stdin closes or argv[3] s
 * have passed; then prints {sent, byStatus, errors, firstFailures}.
 */
const LOAD = `
const http = require('node:http');
const [url, rate, maxSeconds] = process.argv.slice(1);
const byStatus = {}; const failures = []; let sent = 0; let pending = 0; let errors = 0; let stopping = false;
const note = (what) => { if (failures.length < 20) failures.push(new Date().toISOString() + ' ' + what); };
const shoot = () => {
  sent++; pending++;
  const req = http.get(url, { timeout: 5000, agent: false }, (res) => {
    res.resume();
    res.on('end', () => { pending--; byStatus[res.statusCode] = (byStatus[res.statusCode] || 0) + 1; if (res.statusCode < 200 || res.statusCode > 299) note('HTTP ' + res.statusCode); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => { pending--; errors++; note(e.message); });
};
const timer = setInterval(shoot, 1000 / Number(rate));
const stop = () => {
  if (stopping) return; stopping = true; clearInterval(timer);
  const wait = setInterval(() => { if (pending === 0) { clearInterval(wait); process.stdout.write(JSON.stringify({ sent, byStatus, errors, failures }) + '\\n'); process.exit(0); } }, 100);
};
process.stdin.on('end', stop); process.stdin.on('close', stop); process.stdin.resume();
setTimeout(stop, Number(maxSeconds) * 1000);
`;

export interface LoadSummary { sent: number; byStatus: Record<string, number>; errors: number; failures: string[] }

/** Non-2xx answers plus requests that got no answer at all. */
export const failedRequests = (s: LoadSummary): number =>
  s.errors + Object.entries(s.byStatus).filter(([code]) => !/^2\d\d$/.test(code)).reduce((a, [, n]) => a + n, 0);

export function startLoad(kube: Kube, client: ClientPod, url: string, ratePerSecond: number, maxSeconds: number, ev?: Evidence): { stop(): Promise<LoadSummary> } {
  const stream = kube.execStream(client.pod, client.container, ['node', '-e', LOAD, url, String(ratePerSecond), String(maxSeconds)], ev);
  return {
    stop: async () => {
      const res: RunResult = await stream.finish();
      const line = res.stdout.trim().split('\n').pop() ?? '';
      try { return JSON.parse(line) as LoadSummary; } catch {
        throw new Error(`the load generator in ${client.pod} printed no summary (exit ${res.code}): ${res.stderr.trim().split('\n').slice(-2).join(' ')}`);
      }
    },
  };
}

/** http://<ClusterIP>:<port>/ of the release's Service for `component` (ClusterIP: no DNS needed). */
export async function serviceUrl(kube: Kube, release: string, component: string, ev?: Evidence): Promise<{ name: string; url: string; port: number } | undefined> {
  interface Svc { metadata: { name: string; labels?: Record<string, string> }; spec: { clusterIP?: string; ports: { name?: string; port: number }[] } }
  const list = await kube.json<{ items: Svc[] }>(['get', 'services', '-l', `app.kubernetes.io/instance=${release},app.kubernetes.io/component=${component}`], ev ? { ev } : {});
  const svc = list.items.find((s) => s.spec.clusterIP && s.spec.clusterIP !== 'None');
  const port = svc?.spec.ports.find((p) => p.name === 'http') ?? svc?.spec.ports[0];
  if (!svc || !port) return undefined;
  const host = svc.spec.clusterIP?.includes(':') ? `[${svc.spec.clusterIP}]` : svc.spec.clusterIP ?? '';
  return { name: svc.metadata.name, url: `http://${host}:${port.port}`, port: port.port };
}
