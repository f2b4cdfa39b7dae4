// A thin wrapper around the real helm binary for the webstack chart: render, lint, and the same with
// values that may be refused (schema tests). Values are passed as a YAML file, exactly as users do.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKubectlAndHelm } from '../setup/kubectl-layer.js';
import { run } from '../util/exec.js';
import { repoRoot } from '../util/paths.js';
import { silentProgress, type Progress } from '../util/progress.js';

export const webstackChartDir: string = join(repoRoot, 'charts', 'webstack');

export interface RenderOptions {
  chartDir?: string;
  release?: string;
  namespace?: string;
  /** Values files (paths), applied in order before `values`. */
  valuesFiles?: string[];
  /** Values as an object, applied last. */
  values?: Record<string, unknown>;
  /** Extra helm arguments, e.g. ['--show-only', 'templates/web/configmap.yaml']. */
  extraArgs?: string[];
  helm?: string;
  progress?: Progress;
}

export interface HelmOutcome {
  ok: boolean;
  stdout: string;
  /** helm's own error text (schema failures name the field here). */
  stderr: string;
}

async function helmBinary(opts: RenderOptions): Promise<string> {
  return opts.helm ?? (await ensureKubectlAndHelm(opts.progress ?? silentProgress)).helm;
}

async function withValuesFile<T>(
  values: Record<string, unknown> | undefined,
  fn: (args: string[]) => Promise<T>,
): Promise<T> {
  if (!values) return fn([]);
  const dir = mkdtempSync(join(tmpdir(), 'kstack-values-'));
  try {
    const file = join(dir, 'values.yaml');
    // JSON is YAML too, and unambiguous: helm reads YAML 1.1, where a bare yes or on would become a boolean.
    writeFileSync(file, JSON.stringify(values));
    return await fn(['-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function valueArgs(opts: RenderOptions): string[] {
  return (opts.valuesFiles ?? []).flatMap((f) => ['-f', f]);
}

/** `helm template`; resolves with ok=false and helm's message instead of throwing when helm refuses. */
export async function tryHelmTemplate(opts: RenderOptions = {}): Promise<HelmOutcome> {
  const helm = await helmBinary(opts);
  return withValuesFile(opts.values, async (valuesFile) => {
    const res = await run(
      helm,
      [
        'template',
        opts.release ?? 'web',
        opts.chartDir ?? webstackChartDir,
        '--namespace',
        opts.namespace ?? 'default',
        ...valueArgs(opts),
        ...valuesFile,
        ...(opts.extraArgs ?? []),
      ],
      { allowFailure: true },
    );
    return { ok: res.code === 0, stdout: res.stdout, stderr: res.stderr.trim() };
  });
}

/** `helm template`, throwing with helm's message when it fails. */
export async function helmTemplate(opts: RenderOptions = {}): Promise<string> {
  const out = await tryHelmTemplate(opts);
  if (!out.ok) throw new Error(`helm template failed: ${out.stderr}`);
  return out.stdout;
}

/** `helm lint --strict`. */
export async function helmLint(opts: RenderOptions = {}): Promise<HelmOutcome> {
  const helm = await helmBinary(opts);
  return withValuesFile(opts.values, async (valuesFile) => {
    const res = await run(
      helm,
      [
        'lint',
        '--strict',
        opts.chartDir ?? webstackChartDir,
        '--namespace',
        opts.namespace ?? 'default',
        ...valueArgs(opts),
        ...valuesFile,
        ...(opts.extraArgs ?? []),
      ],
      { allowFailure: true },
    );
    return { ok: res.code === 0, stdout: res.stdout, stderr: res.stderr.trim() };
  });
}

/** The rendered NOTES.txt, from a client-side install dry run (nothing reaches a cluster). */
export async function helmNotes(opts: RenderOptions = {}): Promise<string> {
  const helm = await helmBinary(opts);
  return withValuesFile(opts.values, async (valuesFile) => {
    const res = await run(helm, [
      'install',
      opts.release ?? 'web',
      opts.chartDir ?? webstackChartDir,
      '--dry-run=client',
      '--namespace',
      opts.namespace ?? 'default',
      ...valueArgs(opts),
      ...valuesFile,
      ...(opts.extraArgs ?? []),
    ]);
    const at = res.stdout.indexOf('\nNOTES:\n');
    if (at < 0) throw new Error('helm install --dry-run printed no NOTES');
    return res.stdout.slice(at + '\nNOTES:\n'.length);
  });
}

export interface InstallOptions extends RenderOptions {
  kubeconfig: string;
  /** Wait for the release's resources to be ready (needs nodes that run the pods). */
  wait?: boolean;
  timeout?: string;
}

/** `helm upgrade --install` into a cluster: installs the release, or upgrades it with the new values. */
export async function helmUpgradeInstall(opts: InstallOptions): Promise<string> {
  const helm = await helmBinary(opts);
  return withValuesFile(opts.values, async (valuesFile) => {
    const res = await run(helm, [
      'upgrade',
      '--install',
      opts.release ?? 'web',
      opts.chartDir ?? webstackChartDir,
      '--kubeconfig',
      opts.kubeconfig,
      '--namespace',
      opts.namespace ?? 'default',
      ...(opts.wait ? ['--wait', '--timeout', opts.timeout ?? '10m'] : []),
      ...valueArgs(opts),
      ...valuesFile,
      ...(opts.extraArgs ?? []),
    ]);
    return res.stdout;
  });
}

/** `helm uninstall`. */
export async function helmUninstall(opts: {
  release: string;
  namespace: string;
  kubeconfig: string;
  helm?: string;
}): Promise<void> {
  const helm = opts.helm ?? (await ensureKubectlAndHelm(silentProgress)).helm;
  await run(helm, [
    'uninstall',
    opts.release,
    '--kubeconfig',
    opts.kubeconfig,
    '--namespace',
    opts.namespace,
    '--wait',
  ]);
}
