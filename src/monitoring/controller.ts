// The I/O edge of kstack's local monitoring: every few seconds it reads the cluster's PodMonitors,
// PrometheusRules, pods, alert-receiver Services and the receivers Secret, writes the files Prometheus
// and Alertmanager run on (only those that changed) and asks them to reload when they must. A plain
// resync loop instead of watches: a small cluster lists in milliseconds, and a loop cannot miss an event.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { ApiError, type KubeApi } from '../podwatch/kubeapi.js';
import {
  alertmanagerConfig,
  parseReceivers,
  RECEIVERS_KEY,
  RECEIVERS_SECRET,
  serviceReceivers,
  type Receivers,
} from './alertmanager-config.js';
import {
  needsPrometheusReload,
  prometheusFiles,
  type PrometheusRule,
  type PrometheusSettings,
} from './prometheus-config.js';
import { scrapePlan, type PodMonitor } from './scrape-targets.js';

export interface ControllerOptions {
  api: KubeApi;
  /** Folder shared with the Prometheus and Alertmanager containers. */
  dir: string;
  settings: PrometheusSettings;
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** Namespace of the receivers Secret. */
  namespace: string;
  log: (line: string) => void;
}

export interface ReloadStatus {
  ok: boolean;
  at?: string;
  error?: string;
}

export interface ControllerStatus {
  lastSync?: string;
  lastError?: string;
  jobs: { name: string; targets: number }[];
  rules: string[];
  receivers: { webhooks: string[]; slack: number };
  problems: string[];
  prometheus: ReloadStatus;
  alertmanager: ReloadStatus;
}

interface List<T> {
  items: T[];
}

/** Writes a file through a temporary name, so a reader never sees half of it. Returns whether it changed. */
function writeIfChanged(path: string, content: string): boolean {
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
  return true;
}

/** Removes files under the given subfolders that are not wanted any more; returns their relative paths. */
function removeUnwanted(dir: string, subdirs: readonly string[], wanted: ReadonlyMap<string, string>): string[] {
  const removed: string[] = [];
  for (const sub of subdirs) {
    let names: string[];
    try {
      names = readdirSync(join(dir, sub));
    } catch {
      continue;
    }
    for (const name of names) {
      const rel = `${sub}/${name}`;
      if (!wanted.has(rel)) {
        rmSync(join(dir, rel), { force: true });
        removed.push(rel);
      }
    }
  }
  return removed;
}

async function reload(baseUrl: string): Promise<ReloadStatus> {
  const at = new Date().toISOString();
  try {
    const res = await fetch(`${baseUrl}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    if (res.ok) return { ok: true, at };
    return { ok: false, at, error: `HTTP ${res.status}: ${(await res.text()).trim().slice(0, 500)}` };
  } catch (err) {
    return { ok: false, at, error: (err as Error).message };
  }
}

export class MonitoringController {
  readonly status: ControllerStatus = {
    jobs: [],
    rules: [],
    receivers: { webhooks: [], slack: 0 },
    problems: [],
    prometheus: { ok: false },
    alertmanager: { ok: false },
  };
  private prometheusReloadPending = true;
  private alertmanagerReloadPending = true;

  constructor(private readonly opts: ControllerOptions) {}

  private async receivers(): Promise<{ receivers: Receivers; problems: string[] }> {
    const path = `/api/v1/namespaces/${this.opts.namespace}/secrets/${RECEIVERS_SECRET}`;
    try {
      const secret = await this.opts.api.request<{ data?: Record<string, string> }>(path);
      const encoded = secret.data?.[RECEIVERS_KEY];
      if (!encoded) return { receivers: { webhooks: [], slack: [] }, problems: [] };
      return { receivers: parseReceivers(Buffer.from(encoded, 'base64').toString('utf8')), problems: [] };
    } catch (err) {
      if (err instanceof ApiError && err.status === 404)
        return { receivers: { webhooks: [], slack: [] }, problems: [] };
      return {
        receivers: { webhooks: [], slack: [] },
        problems: [`Secret ${RECEIVERS_SECRET}: ${(err as Error).message}`],
      };
    }
  }

  /** One pass: read, generate, write what changed, reload what must. */
  async syncOnce(): Promise<void> {
    const { api, dir } = this.opts;
    const [podMonitors, rules, pods, services, own] = await Promise.all([
      api.request<List<PodMonitor>>('/apis/monitoring.coreos.com/v1/podmonitors'),
      api.request<List<PrometheusRule>>('/apis/monitoring.coreos.com/v1/prometheusrules'),
      api.request<List<V1Pod>>('/api/v1/pods'),
      api.request<List<V1Service>>('/api/v1/services'),
      this.receivers(),
    ]);
    const plan = scrapePlan(podMonitors.items, pods.items);
    const files = prometheusFiles(plan.jobs, rules.items, this.opts.settings);
    const changed = [...files].filter(([rel, content]) => writeIfChanged(join(dir, rel), content)).map(([rel]) => rel);
    changed.push(...removeUnwanted(dir, ['targets', 'rules'], files));
    if (needsPrometheusReload(changed)) this.prometheusReloadPending = true;

    const receivers: Receivers = {
      webhooks: [...serviceReceivers(services.items, pods.items), ...own.receivers.webhooks],
      slack: own.receivers.slack,
    };
    const amConfig = `${JSON.stringify(alertmanagerConfig(receivers), null, 2)}\n`;
    if (writeIfChanged(join(dir, 'alertmanager.yml'), amConfig)) this.alertmanagerReloadPending = true;

    // Pending until one succeeds: at start the file is written before the server listens, which then reads it.
    if (this.prometheusReloadPending) {
      this.status.prometheus = await reload(this.opts.prometheusUrl);
      this.prometheusReloadPending = !this.status.prometheus.ok;
      if (changed.length)
        this.opts.log(`prometheus: ${changed.length} file(s) changed, reload ${this.reloadWord('prometheus')}`);
    }
    if (this.alertmanagerReloadPending) {
      this.status.alertmanager = await reload(this.opts.alertmanagerUrl);
      this.alertmanagerReloadPending = !this.status.alertmanager.ok;
      this.opts.log(`alertmanager: receivers changed, reload ${this.reloadWord('alertmanager')}`);
    }
    Object.assign(this.status, {
      lastSync: new Date().toISOString(),
      jobs: plan.jobs.map((j) => ({ name: j.name, targets: j.targets.length })),
      rules: rules.items.map((r) => `${r.metadata.namespace}/${r.metadata.name}`),
      receivers: { webhooks: receivers.webhooks, slack: receivers.slack.length },
      problems: [...plan.problems, ...own.problems],
    });
    delete this.status.lastError;
  }

  private reloadWord(which: 'prometheus' | 'alertmanager'): string {
    const s = this.status[which];
    return s.ok ? 'done' : `pending (${s.error ?? 'not answered'})`;
  }

  /** Syncs every intervalMs until the signal aborts; a failed pass is logged and retried. */
  async run(intervalMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.syncOnce();
      } catch (err) {
        this.status.lastError = (err as Error).message;
        this.opts.log(`sync failed: ${(err as Error).message}`);
      }
      await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
    }
  }
}
