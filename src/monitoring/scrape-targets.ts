// PodMonitors (monitoring.coreos.com/v1) turned into Prometheus scrape jobs and their targets, the way
// prometheus-operator does it, so the chart's one set of monitoring objects drives both an operator's
// Prometheus and kstack's local one (pure). Supported: selector, namespaceSelector, jobLabel and, per
// endpoint, port, path, interval, scrapeTimeout, scheme and honorLabels. Anything else (relabelings,
// TLS, auth) is reported as unsupported rather than silently ignored.
import type { V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { compileSelector, selectorMatches } from '../netpol/evaluator.js';

export interface PodMetricsEndpoint {
  port?: string;
  path?: string;
  interval?: string;
  scrapeTimeout?: string;
  scheme?: string;
  honorLabels?: boolean;
  [other: string]: unknown;
}

export interface PodMonitor {
  metadata: { name: string; namespace: string };
  spec: {
    selector?: V1LabelSelector;
    namespaceSelector?: { any?: boolean; matchNames?: string[] };
    jobLabel?: string;
    podMetricsEndpoints?: PodMetricsEndpoint[];
  };
}

/** One target group of a file_sd file: addresses sharing their labels. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export interface ScrapeJob {
  /** prometheus-operator's job name: podMonitor/<namespace>/<name>/<endpoint index>. */
  name: string;
  metricsPath: string;
  scheme: 'http' | 'https';
  interval?: string;
  scrapeTimeout?: string;
  honorLabels: boolean;
  targets: TargetGroup[];
}

export interface ScrapePlan {
  jobs: ScrapeJob[];
  /** Per PodMonitor: what could not be used, in words (shown by the controller's status). */
  problems: string[];
}

const SUPPORTED_ENDPOINT_FIELDS = new Set(['port', 'path', 'interval', 'scrapeTimeout', 'scheme', 'honorLabels']);

/** The namespaces a PodMonitor looks in: its own unless namespaceSelector says otherwise (undefined: all). */
export function monitoredNamespaces(pm: PodMonitor): string[] | undefined {
  const sel = pm.spec.namespaceSelector;
  if (sel?.any) return undefined;
  if (sel?.matchNames?.length) return sel.matchNames;
  return [pm.metadata.namespace];
}

/** A pod that can be scraped: it has an address and has not finished (the operator drops Succeeded/Failed). */
export function scrapeable(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return Boolean(pod.status?.podIP) && phase !== 'Succeeded' && phase !== 'Failed';
}

/** The container and port number of a named container port of a pod. */
export function namedPort(pod: V1Pod, name: string): { container: string; port: number } | undefined {
  for (const c of pod.spec?.containers ?? []) {
    const p = c.ports?.find((cp) => cp.name === name);
    if (p) return { container: c.name, port: p.containerPort };
  }
  return undefined;
}

const sortedBy = <T>(items: readonly T[], key: (t: T) => string): T[] =>
  [...items].sort((a, b) => key(a).localeCompare(key(b)));

/** The scrape jobs of every PodMonitor, with the targets the given pods provide (pure, deterministic order). */
export function scrapePlan(podMonitors: readonly PodMonitor[], pods: readonly V1Pod[]): ScrapePlan {
  const jobs: ScrapeJob[] = [];
  const problems: string[] = [];
  for (const pm of sortedBy(podMonitors, (p) => `${p.metadata.namespace}/${p.metadata.name}`)) {
    const id = `PodMonitor ${pm.metadata.namespace}/${pm.metadata.name}`;
    let selector;
    try {
      selector = compileSelector(pm.spec.selector, 'spec.selector');
    } catch (err) {
      problems.push(`${id}: ${(err as Error).message}`);
      continue;
    }
    const namespaces = monitoredNamespaces(pm);
    const selected = sortedBy(
      pods.filter(
        (pod) =>
          scrapeable(pod) &&
          (namespaces === undefined || namespaces.includes(pod.metadata?.namespace ?? '')) &&
          selectorMatches(selector, pod.metadata?.labels ?? {}),
      ),
      (pod) => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`,
    );
    (pm.spec.podMetricsEndpoints ?? []).forEach((ep, index) => {
      const unsupported = Object.keys(ep).filter((k) => !SUPPORTED_ENDPOINT_FIELDS.has(k));
      if (unsupported.length)
        problems.push(`${id} podMetricsEndpoints[${index}]: ${unsupported.join(', ')} not supported (ignored)`);
      if (!ep.port) {
        problems.push(`${id} podMetricsEndpoints[${index}].port: only named ports are supported`);
        return;
      }
      const scheme = ep.scheme === 'https' ? 'https' : 'http';
      jobs.push({
        name: `podMonitor/${pm.metadata.namespace}/${pm.metadata.name}/${index}`,
        metricsPath: ep.path ?? '/metrics',
        scheme,
        ...(ep.interval ? { interval: ep.interval } : {}),
        ...(ep.scrapeTimeout ? { scrapeTimeout: ep.scrapeTimeout } : {}),
        honorLabels: ep.honorLabels ?? false,
        targets: selected.flatMap((pod) => targetGroup(pm, ep.port ?? '', pod)),
      });
    });
  }
  return { jobs, problems };
}

/** The target of one pod for one endpoint, labelled as the operator labels it; none when it lacks the port. */
function targetGroup(pm: PodMonitor, portName: string, pod: V1Pod): TargetGroup[] {
  const port = namedPort(pod, portName);
  if (!port) return [];
  const podName = pod.metadata?.name ?? '';
  const jobFromLabel = pm.spec.jobLabel ? pod.metadata?.labels?.[pm.spec.jobLabel] : undefined;
  return [
    {
      targets: [`${pod.status?.podIP ?? ''}:${port.port}`],
      labels: {
        namespace: pod.metadata?.namespace ?? '',
        pod: podName,
        container: port.container,
        endpoint: portName,
        job: jobFromLabel ?? `${pm.metadata.namespace}/${pm.metadata.name}`,
      },
    },
  ];
}
