// Where users reach the release's web page and podwatch view. A Service of type LoadBalancer that has an
// address is reached there directly: the URL goes through the cluster's own dataplane and keeps working
// after kstack exits. Any other Service gets a kubectl port-forward on 127.0.0.1, which lives as long as
// the process that holds it.
import { setTimeout as sleep } from 'node:timers/promises';
import type * as k8s from '@kubernetes/client-node';
import { run } from '../util/exec.js';
import { UserError } from '../util/errors.js';
import { portForward } from './port-forward.js';

export interface Endpoint {
  url: string;
  /** 'load-balancer': the URL outlives kstack; 'port-forward': it ends with stop() or this process. */
  kind: 'load-balancer' | 'port-forward';
  stop(): void;
}

export type StackComponent = 'web' | 'podwatch';

/** The release's Service of a component, and the port users want (the one named http, else the first). */
export function componentService(
  services: readonly k8s.V1Service[],
  component: StackComponent,
): { service: k8s.V1Service; port: number } | undefined {
  const service = services.find((s) => s.metadata?.labels?.['app.kubernetes.io/component'] === component);
  const port = service?.spec?.ports?.find((p) => p.name === 'http') ?? service?.spec?.ports?.[0];
  return service && port ? { service, port: port.port } : undefined;
}

/** The URL of a Service's load-balancer address, when it is a LoadBalancer with one (pure). */
export function loadBalancerUrl(service: k8s.V1Service, port: number): string | undefined {
  if (service.spec?.type !== 'LoadBalancer') return undefined;
  const ingress = service.status?.loadBalancer?.ingress?.[0];
  const host = ingress?.ip ?? ingress?.hostname;
  if (!host) return undefined;
  return port === 80 ? `http://${host}/` : `http://${host}:${port}/`;
}

export async function releaseServices(
  kubectl: string,
  kubeArgs: readonly string[],
  namespace: string,
  release: string,
): Promise<k8s.V1Service[]> {
  const out = await run(kubectl, [
    ...kubeArgs,
    '-n',
    namespace,
    'get',
    'services',
    '-l',
    `app.kubernetes.io/instance=${release}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(out.stdout) as k8s.V1ServiceList).items;
}

/**
 * The endpoint of a component: its load-balancer URL once the Service has an address (waiting up to
 * `waitMs` for the load balancer to give one), else a port-forward.
 */
export async function componentEndpoint(
  kubectl: string,
  kubeArgs: readonly string[],
  namespace: string,
  release: string,
  component: StackComponent,
  waitMs = 60_000,
): Promise<Endpoint | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const found = componentService(await releaseServices(kubectl, kubeArgs, namespace, release), component);
    if (!found) return undefined;
    const url = loadBalancerUrl(found.service, found.port);
    if (url) return { url, kind: 'load-balancer', stop: () => undefined };
    if (found.service.spec?.type !== 'LoadBalancer') {
      const pf = await portForward(kubectl, kubeArgs, namespace, found.service.metadata?.name ?? '', found.port);
      return {
        url: pf.url,
        kind: 'port-forward',
        stop: () => {
          pf.stop();
        },
      };
    }
    if (Date.now() > deadline)
      throw new UserError(
        `the ${component} Service is of type LoadBalancer but got no address ` +
          `in ${Math.round(waitMs / 1000)} s; is a load balancer installed in the ` +
          `cluster? (kstack's local cluster runs one: see its log load-balancer.log)`,
      );
    await sleep(500);
  }
}
