// The local cluster's monitoring from `kstack up`: applies the objects (src/monitoring/manifests.ts), the
// users' alert destinations when given, waits for the pod, and tells where Prometheus, Alertmanager and
// the health page are reached (their LoadBalancer addresses).
import { setTimeout as sleep } from 'node:timers/promises';
import type * as k8s from '@kubernetes/client-node';
import type { Receivers } from '../monitoring/alertmanager-config.js';
import {
  DEFAULT_MONITORING,
  MONITORING_NAME,
  MONITORING_NAMESPACE,
  monitoringObjects,
  receiversSecret,
  type MonitoringSettings,
} from '../monitoring/manifests.js';
import { run } from '../util/exec.js';
import { UserError } from '../util/errors.js';
import { loadBalancerUrl } from './endpoints.js';

export interface MonitoringUrls {
  /** The health page (and /api/health, /api/status). */
  healthUrl?: string;
  prometheusUrl?: string;
  alertmanagerUrl?: string;
}

const applyArgs = ['apply', '--server-side', '--force-conflicts', '--field-manager=kstack', '-f', '-'];
const list = (objects: object[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });

/** Applies the monitoring objects; with `receivers`, replaces the alert destinations too. */
export async function applyMonitoring(
  kubectl: string,
  kubeArgs: readonly string[],
  receivers?: Receivers,
  settings: MonitoringSettings = DEFAULT_MONITORING,
): Promise<void> {
  await run(kubectl, [...kubeArgs, ...applyArgs], { input: list(monitoringObjects(settings)) });
  if (receivers) await applyReceivers(kubectl, kubeArgs, receivers);
}

/** Replaces the alert destinations only: the controller picks them up within a sync, nothing restarts. */
export async function applyReceivers(
  kubectl: string,
  kubeArgs: readonly string[],
  receivers: Receivers,
): Promise<void> {
  await run(kubectl, [...kubeArgs, ...applyArgs], { input: list([receiversSecret(receivers)]) });
}

/** The three URLs of a monitoring Service that has its load-balancer address (pure). */
export function monitoringUrls(service: k8s.V1Service): MonitoringUrls {
  const urlOf = (name: string): string | undefined => {
    const port = service.spec?.ports?.find((p) => p.name === name);
    return port ? loadBalancerUrl(service, port.port) : undefined;
  };
  const health = urlOf('health');
  const prometheus = urlOf('prometheus');
  const alertmanager = urlOf('alertmanager');
  return {
    ...(health ? { healthUrl: health } : {}),
    ...(prometheus ? { prometheusUrl: prometheus } : {}),
    ...(alertmanager ? { alertmanagerUrl: alertmanager } : {}),
  };
}

/** The monitoring URLs now (empty when monitoring is not installed or has no address yet). */
export async function readMonitoringUrls(kubectl: string, kubeArgs: readonly string[]): Promise<MonitoringUrls> {
  const res = await run(
    kubectl,
    [...kubeArgs, '-n', MONITORING_NAMESPACE, 'get', 'service', MONITORING_NAME, '-o', 'json'],
    { allowFailure: true },
  );
  return res.code === 0 ? monitoringUrls(JSON.parse(res.stdout) as k8s.V1Service) : {};
}

/** Waits until the monitoring pod is ready and its Service has an address; returns the URLs. */
export async function waitForMonitoring(
  kubectl: string,
  kubeArgs: readonly string[],
  timeoutMs: number,
  detail: (text: string) => void,
): Promise<MonitoringUrls> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await run(
      kubectl,
      [
        ...kubeArgs,
        '-n',
        MONITORING_NAMESPACE,
        'get',
        'deployment',
        MONITORING_NAME,
        '-o',
        'jsonpath={.status.readyReplicas}',
      ],
      { allowFailure: true },
    );
    const urls = ready.stdout.trim() === '1' ? await readMonitoringUrls(kubectl, kubeArgs) : {};
    if (urls.healthUrl && urls.prometheusUrl && urls.alertmanagerUrl) return urls;
    detail(ready.stdout.trim() === '1' ? 'waiting for the load-balancer address' : 'waiting for the monitoring pod');
    if (Date.now() > deadline)
      throw new UserError(
        `monitoring not ready after ${Math.round(timeoutMs / 1000)} s; see ` +
          `'kubectl -n ${MONITORING_NAMESPACE} describe pods' and 'kubectl ` +
          `-n ${MONITORING_NAMESPACE} logs deploy/${MONITORING_NAME} --all-containers'`,
      );
    await sleep(1000);
  }
}
