// Entry point of the load balancer controller that `kstack cluster up` starts on the host (the decisions
// are in load-balancer.ts):
//   node lb-main.js <kubeconfig> <bridge> <node subnet> <node=ip,node=ip,...>
// When Services change (a watch; a full re-list every SERVICES_RESYNC_MS too) it gives every LoadBalancer
// Service an address and writes it to the Service's status; every HEALTH_INTERVAL_MS it checks each node
// and points the address's host route at the healthy ones.
// Each change of a route is logged with its reason (the log is the evidence of a failover).
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Wakeup, watchForChanges } from '../../kube/change-watch.js';
import {
  addressPool,
  assignAddresses,
  desiredStatus,
  HEALTH_INTERVAL_MS,
  HEALTH_TIMEOUT_MS,
  healthCheckPath,
  healthCheckPort,
  nextHealth,
  nextHops,
  routeArgs,
  routedAddresses,
  servedServices,
  statusUpToDate,
  type NodeHealth,
} from './load-balancer.js';

const exec = promisify(execFile);
const [kubeconfig = '', bridge = '', nodeSubnet = '', nodeList = ''] = process.argv.slice(2);
if (!kubeconfig || !bridge || !nodeSubnet || !nodeList) {
  process.stderr.write('usage: lb-main <kubeconfig> <bridge> <node subnet> <node=ip,...>\n');
  process.exit(2);
}
const nodes = nodeList.split(',').map((pair) => {
  const [name = '', ip = ''] = pair.split('=');
  return { name, ip };
});
const pool = addressPool(nodeSubnet);
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const log = (line: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
};
const stop = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => {
    stop.abort();
  });

/** What the health loop serves: address → the Service's health check port and path. */
let targets = new Map<string, { service: string; port: number; path: string }>();
const health = new Map<string, NodeHealth>();
const programmed = new Map<string, string>();

/** A full re-list of the Services this often, beside the watch (which may have missed an event). */
const SERVICES_RESYNC_MS = 30_000;
// Checks reuse one connection per node and port: a new TCP connection for each of the checks (every
// Service × node, 5 times a second) cost this daemon and every node's kube-proxy more than the checks.
const healthAgent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One HTTP health check: true on a 2xx answer within HEALTH_TIMEOUT_MS. */
async function check(ip: string, port: number, path: string): Promise<boolean> {
  const first = await checkOnce(ip, port, path);
  // A kept-alive connection the server closed as it was reused fails without saying anything about the
  // node: ask again at once on a new one. A timeout is an answer (a frozen node) and is not asked again.
  return first === 'reused connection failed' ? (await checkOnce(ip, port, path)) === 'ok' : first === 'ok';
}

function checkOnce(ip: string, port: number, path: string): Promise<'ok' | 'failed' | 'reused connection failed'> {
  return new Promise((resolve) => {
    const req = request({ host: ip, port, path, timeout: HEALTH_TIMEOUT_MS, agent: healthAgent }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300 ? 'ok' : 'failed');
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('failed');
    });
    req.on('error', () => {
      resolve(req.reusedSocket ? 'reused connection failed' : 'failed');
    });
    req.end();
  });
}

async function ip(args: string[]): Promise<void> {
  await exec('ip', args);
}

async function reconcileServices(): Promise<void> {
  const services = (await core.listServiceForAllNamespaces()).items;
  const addresses = assignAddresses(services, pool);
  const next = new Map<string, { service: string; port: number; path: string }>();
  for (const svc of servedServices(services)) {
    const key = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
    const address = addresses.get(key);
    if (!statusUpToDate(svc, address)) {
      svc.status ??= {};
      svc.status.loadBalancer = desiredStatus(address);
      await core.replaceNamespacedServiceStatus({
        name: svc.metadata?.name ?? '',
        namespace: svc.metadata?.namespace ?? '',
        body: svc,
      });
      log(address ? `${key}: address ${address}` : `${key}: no address left in the pool`);
    }
    if (address) next.set(address, { service: key, port: healthCheckPort(svc), path: healthCheckPath(svc) });
  }
  targets = next;
  // Routes of addresses no Service holds any more go (a Service deleted, or no longer a LoadBalancer).
  // Not `show dev BRIDGE`: that leaves out multipath routes, which are the usual ones here.
  const routed = routedAddresses((await exec('ip', ['-4', 'route', 'show'])).stdout, pool);
  for (const address of routed.keys()) {
    if (next.has(address)) continue;
    await ip(['route', 'del', `${address}/32`]).catch(() => undefined);
    programmed.delete(address);
    log(`${address}: route removed (no Service holds it)`);
  }
}

async function reconcileRoutes(): Promise<void> {
  await Promise.all(
    [...targets].map(async ([address, target]) => {
      const results = await Promise.all(nodes.map((n) => check(n.ip, target.port, target.path)));
      const healthy = new Set<string>();
      nodes.forEach((n, i) => {
        const key = `${address}@${n.name}`;
        const h = nextHealth(health.get(key), results[i] ?? false);
        health.set(key, h);
        if (h.healthy) healthy.add(n.name);
      });
      const hops = nextHops(nodes, healthy);
      const signature = hops.join(',');
      if (programmed.get(address) === signature) return;
      await ip(routeArgs(address, hops, bridge));
      const names = nodes.filter((n) => hops.includes(n.ip)).map((n) => n.name);
      log(
        `${address} (${target.service}): routed to ${names.join(', ')}` +
          (healthy.size === 0 ? ' (no node passes its health check: all kept)' : ''),
      );
      programmed.set(address, signature);
    }),
  );
}

log(`load balancer: pool ${pool[0] ?? ''}-${pool[pool.length - 1] ?? ''} on ${bridge}, nodes ${nodeList}`);
const servicesChanged = new Wakeup();
watchForChanges(kc, ['/api/v1/services'], servicesChanged, log, stop.signal);
let lastServices = 0;
while (!stop.signal.aborted) {
  try {
    if (servicesChanged.take() || Date.now() - lastServices >= SERVICES_RESYNC_MS) {
      lastServices = Date.now();
      await reconcileServices().catch((err: unknown) => {
        // Tried again in a second (the last pass's routes stay meanwhile).
        lastServices = Date.now() - SERVICES_RESYNC_MS + 1000;
        throw err;
      });
    }
    await reconcileRoutes();
  } catch (err) {
    log(`reconcile failed (will retry): ${err instanceof Error ? err.message : String(err)}`);
  }
  await sleep(HEALTH_INTERVAL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
}
log('stopped (routes stay: the traffic keeps flowing through the nodes)');
