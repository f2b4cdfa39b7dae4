// The files kstack's local Prometheus runs on, generated from the cluster's PodMonitors and
// PrometheusRules (pure). Targets go in file_sd files, which Prometheus re-reads by itself, so a pod
// coming or going needs no reload; the main file and the rules change only when the objects do.
// Every file is JSON, which YAML parsers (Prometheus's included) read as YAML.
import type { ScrapeJob } from './scrape-targets.js';

/** Where the files live inside the monitoring pod (a shared emptyDir). */
export const CONFIG_DIR = '/etc/kstack-monitoring';
export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;

export interface PrometheusRule {
  metadata: { name: string; namespace: string };
  spec: { groups?: unknown[] };
}

export interface PrometheusSettings {
  /** Default scrape interval for jobs whose endpoint names none. */
  scrapeInterval: string;
  evaluationInterval: string;
  /** Labels on every series and alert, e.g. { cluster: 'kstack' }. */
  externalLabels: Record<string, string>;
}

/** A file name that is safe and stable for a job or rule object. */
export function fileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

export function targetsFileName(job: ScrapeJob): string {
  return `targets/${fileStem(job.name)}.json`;
}

export function ruleFileName(rule: PrometheusRule): string {
  return `rules/${fileStem(`${rule.metadata.namespace}-${rule.metadata.name}`)}.json`;
}

/** prometheus.yml: the jobs (targets from their file_sd file), the rules folder and the local Alertmanager. */
export function prometheusConfig(jobs: readonly ScrapeJob[], settings: PrometheusSettings): object {
  return {
    global: {
      scrape_interval: settings.scrapeInterval,
      evaluation_interval: settings.evaluationInterval,
      external_labels: settings.externalLabels,
    },
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`localhost:${ALERTMANAGER_PORT}`] }] }] },
    rule_files: [`${CONFIG_DIR}/rules/*.json`],
    scrape_configs: [
      // Prometheus and Alertmanager themselves: a broken monitoring pod shows as a down target, not as silence.
      selfJob('prometheus', PROMETHEUS_PORT),
      selfJob('alertmanager', ALERTMANAGER_PORT),
      ...jobs.map((job) => ({
        job_name: job.name,
        metrics_path: job.metricsPath,
        scheme: job.scheme,
        honor_labels: job.honorLabels,
        ...(job.interval ? { scrape_interval: job.interval } : {}),
        ...(job.scrapeTimeout ? { scrape_timeout: job.scrapeTimeout } : {}),
        file_sd_configs: [{ files: [`${CONFIG_DIR}/${targetsFileName(job)}`], refresh_interval: '30s' }],
      })),
    ],
  };
}

function selfJob(name: string, port: number): object {
  return { job_name: name, static_configs: [{ targets: [`localhost:${port}`], labels: { namespace: 'monitoring' } }] };
}

/** A rule file: the PrometheusRule's groups as they are (Prometheus needs group names unique per file only). */
export function ruleFile(rule: PrometheusRule): object {
  return { groups: rule.spec.groups ?? [] };
}

/**
 * Every file under CONFIG_DIR, by path relative to it (pure). The controller writes the ones that changed
 * and removes the ones no longer listed; a change outside targets/ needs a reload.
 */
export function prometheusFiles(
  jobs: readonly ScrapeJob[],
  rules: readonly PrometheusRule[],
  settings: PrometheusSettings,
): Map<string, string> {
  const files = new Map<string, string>();
  const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
  files.set('prometheus.yml', json(prometheusConfig(jobs, settings)));
  for (const job of jobs) files.set(targetsFileName(job), json(job.targets));
  for (const rule of rules) files.set(ruleFileName(rule), json(ruleFile(rule)));
  return files;
}

/** Whether a change to these files needs Prometheus to reload (targets are re-read without one). */
export function needsPrometheusReload(changedPaths: readonly string[]): boolean {
  return changedPaths.some((p) => p === 'prometheus.yml' || p.startsWith('rules/'));
}
