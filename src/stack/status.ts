// `kstack status`: where the running release is reached (page and podwatch URLs) and how its workloads
// are, at any time after `kstack up` has exited. Only load-balancer URLs are printed: they keep working
// without kstack; a release whose Services have no load-balancer address gets a hint instead.
import { controlPlaneStatus, DEFAULT_CLUSTER } from '../cluster/status.js';
import { ensureKubectlAndHelm } from '../setup/kubectl-layer.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { componentService, loadBalancerUrl, releaseServices } from './endpoints.js';
import { readMonitoringUrls } from './monitoring.js';
import { releaseWorkloads, type WorkloadStatus } from './workloads.js';

export interface StackStatus {
  cluster: string;
  namespace: string;
  release: string;
  /** The page through the load balancer; absent when the web Service has no load-balancer address. */
  pageUrl?: string;
  podwatchUrl?: string;
  /** The cluster's health page, Prometheus and Alertmanager (kstack's local monitoring), when installed. */
  healthUrl?: string;
  prometheusUrl?: string;
  alertmanagerUrl?: string;
  workloads: WorkloadStatus[];
  /** What to do when a URL is missing. */
  hints: string[];
}

export async function stackStatus(opts: {
  context?: string;
  clusterName?: string;
  baseDir?: string;
  namespace: string;
  release: string;
  progress: Progress;
}): Promise<StackStatus> {
  const { kubectl } = await ensureKubectlAndHelm(opts.progress);
  let kubeArgs: string[];
  let cluster: string;
  if (opts.context !== undefined) {
    kubeArgs = ['--context', opts.context];
    cluster = `context '${opts.context}'`;
  } else {
    const name = opts.clusterName ?? DEFAULT_CLUSTER;
    const status = await controlPlaneStatus({ name, ...(opts.baseDir ? { baseDir: opts.baseDir } : {}) });
    const api = status.components.find((c) => c.name === 'kube-apiserver');
    if (!status.exists || !status.kubeconfig || !api?.healthy)
      throw new UserError(`the local cluster '${name}' is not running; start it and the stack with 'kstack up'`);
    kubeArgs = ['--kubeconfig', status.kubeconfig];
    cluster = `local cluster '${name}'`;
  }
  const services = await releaseServices(kubectl, kubeArgs, opts.namespace, opts.release);
  const workloads = await releaseWorkloads(kubectl, kubeArgs, opts.namespace, opts.release);
  if (services.length === 0 && workloads.length === 0)
    throw new UserError(
      `no release '${opts.release}' in namespace '${opts.namespace}' of ${cluster}; install it with 'kstack up'`,
    );
  const urlOf = (component: 'web' | 'podwatch'): string | undefined => {
    const found = componentService(services, component);
    return found ? loadBalancerUrl(found.service, found.port) : undefined;
  };
  const monitoring = await readMonitoringUrls(kubectl, kubeArgs);
  const pageUrl = urlOf('web');
  const podwatchUrl = urlOf('podwatch');
  const hints = pageUrl
    ? []
    : [
        `the web Service has no load-balancer address: set web.service.type=LoadBalancer ` +
          `(kstack's local cluster gives it one), or reach it with ` +
          `'kubectl -n ${opts.namespace} port-forward service/<web Service> 8080:80'`,
      ];
  return {
    cluster,
    namespace: opts.namespace,
    release: opts.release,
    ...(pageUrl ? { pageUrl } : {}),
    ...(podwatchUrl ? { podwatchUrl } : {}),
    ...monitoring,
    workloads,
    hints,
  };
}

/** The text form of `kstack status`. */
export function formatStackStatus(s: StackStatus): string {
  const lines = [
    `Release '${s.release}' in namespace '${s.namespace}' of ${s.cluster}:`,
    `  page:     ${s.pageUrl ?? '(no load-balancer address)'}`,
    `  podwatch: ${s.podwatchUrl ?? '(no load-balancer address)'}`,
    ...(s.healthUrl ? [`  health:   ${s.healthUrl}`] : []),
    ...(s.prometheusUrl ? [`  prometheus:   ${s.prometheusUrl}`] : []),
    ...(s.alertmanagerUrl ? [`  alertmanager: ${s.alertmanagerUrl}`] : []),
    `  workloads: ${s.workloads.map((w) => `${w.component} ${w.ready}/${w.desired}`).join(', ') || 'none'}`,
    ...s.hints.map((h) => `  hint: ${h}`),
  ];
  return `${lines.join('\n')}\n`;
}
