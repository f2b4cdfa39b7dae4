// The real helm binary on the webstack chart, offline (nothing reaches a cluster): render, lint, the NOTES,
// and the same with values that may be refused (schema tests). Values are passed as a YAML file, exactly as
// users do. Installing and removing a release in a cluster: src/kube/helm-release.ts.
import { join } from 'node:path';
import { ensureKubectlAndHelm } from '../setup/kubectl-layer.js';
import { run } from '../util/exec.js';
import { repoRoot } from '../util/paths.js';
import { silentProgress, type Progress } from '../util/progress.js';
import { withValuesFile } from '../util/values-file.js';

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
