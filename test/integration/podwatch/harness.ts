// Shared pieces of the podwatch integration tests: run podwatch in this process against a real API server
// with an in-memory collecting sink, and small API helpers (patches the way a kubelet would send them).
import type * as k8s from '@kubernetes/client-node';
import { parsePodwatchConfig, type PodwatchConfig } from '../../../src/podwatch/config.js';
import { endpointFromKubeConfig } from '../../../src/podwatch/endpoint.js';
import { KubeApi } from '../../../src/podwatch/kubeapi.js';
import { runPodwatch, type PodwatchHandle } from '../../../src/podwatch/run.js';
import { isAlertEvent, type AlertEvent } from '../../../src/podwatch/alerts.js';
import type { PodwatchEvent, Sink } from '../../../src/podwatch/sinks.js';
import type { PodEvent } from '../../../src/podwatch/snapshot.js';
import { eventually } from '../../helpers/cluster.js';

/** A real sink that keeps every event it receives, for assertions: pod events and alert events apart. */
export class CollectingSink implements Sink {
  readonly name = 'collect';
  readonly events: PodEvent[] = [];
  readonly alerts: AlertEvent[] = [];
  emit(e: PodwatchEvent): void {
    if (isAlertEvent(e)) this.alerts.push(e);
    else this.events.push(e);
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  of(name: string): PodEvent[] {
    return this.events.filter((e) => e.pod.name === name);
  }
}

export function testConfig(overrides: Partial<PodwatchConfig> = {}): PodwatchConfig {
  return { ...parsePodwatchConfig({ output: 'none', listen: '127.0.0.1:0' }, {}, undefined), ...overrides };
}

export interface RunningPodwatch {
  sink: CollectingSink;
  handle: PodwatchHandle;
  logs: string[];
  stop(): Promise<void>;
}

export async function startPodwatch(kc: k8s.KubeConfig, config: PodwatchConfig): Promise<RunningPodwatch> {
  const sink = new CollectingSink();
  const controller = new AbortController();
  const logs: string[] = [];
  let handle: PodwatchHandle | undefined;
  const done = runPodwatch(config, {
    signal: controller.signal,
    kubeConfig: kc,
    sinks: [sink],
    log: (m) => logs.push(`${new Date().toISOString()} ${m}`),
    onStarted: (h) => {
      handle = h;
    },
  });
  done.catch(() => undefined);
  const h = await eventually('podwatch started', () => Promise.resolve(handle), 30_000);
  await eventually(
    'podwatch synced',
    () => Promise.resolve(h.informers.every((i) => i.synced) ? true : undefined),
    60_000,
  );
  return {
    sink,
    handle: h,
    logs,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

export function apiFor(kc: k8s.KubeConfig): KubeApi {
  return new KubeApi(endpointFromKubeConfig(kc));
}

export const podPath = (ns: string, name: string, sub = ''): string => `/api/v1/namespaces/${ns}/pods/${name}${sub}`;

export function podManifest(
  name: string,
  labels: Record<string, string> = {},
  extraSpec: Record<string, unknown> = {},
): Record<string, unknown> {
  // No scheduler picks these up (schedulerName), so only the test changes them.
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      schedulerName: 'podwatch-test-none',
      containers: [{ name: 'app', image: 'kstack/pause:test' }],
      ...extraSpec,
    },
  };
}

export async function createPod(api: KubeApi, ns: string, manifest: Record<string, unknown>): Promise<void> {
  // In a namespace created a moment ago the controller-manager may not have made the default service
  // account yet, and admission refuses pods until it has: wait for it rather than fail.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await api.request(`/api/v1/namespaces/${ns}/pods`, {
        method: 'POST',
        body: manifest,
        contentType: 'application/json',
      });
      return;
    } catch (err) {
      const e = err as { status?: number; message?: string };
      if (!(e.status === 403 && e.message?.includes('serviceaccount')) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function patchPod(api: KubeApi, ns: string, name: string, body: unknown, sub = ''): Promise<void> {
  await api.request(podPath(ns, name, sub), {
    method: 'PATCH',
    body,
    contentType: 'application/strategic-merge-patch+json',
  });
}

export async function deletePod(api: KubeApi, ns: string, name: string, gracePeriodSeconds?: number): Promise<void> {
  const q = gracePeriodSeconds === undefined ? '' : `?gracePeriodSeconds=${gracePeriodSeconds}`;
  await api.request(`${podPath(ns, name)}${q}`, { method: 'DELETE' });
}

export function waitEvents(
  sink: CollectingSink,
  what: string,
  check: (events: PodEvent[]) => boolean,
  timeoutMs = 30_000,
): Promise<PodEvent[]> {
  return eventually(what, () => Promise.resolve(check(sink.events) ? sink.events : undefined), timeoutMs);
}
