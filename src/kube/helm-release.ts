// A Helm release installed, upgraded and removed through a Kube (its cluster and namespace): `kstack up`
// and the chart's integration tests. The chart is the caller's (src/kube knows no chart); values reach helm
// as a file, exactly as users pass them. Rendering and linting without a cluster: src/chart/helm.ts.
import { UserError } from '../util/errors.js';
import { withValuesFile } from '../util/values-file.js';
import type { CmdOptions, Kube } from './kube.js';

export interface UpgradeInstallOptions {
  release: string;
  /** The chart's folder (src/chart's `webstackChartDir` for the webstack chart). */
  chartDir: string;
  /** Values files (paths), applied in order before `values`. */
  valuesFiles?: string[];
  /** Values as an object, applied last. */
  values?: Record<string, unknown>;
  /** Wait for the release's resources to be ready (needs nodes that run the pods), at most `timeout`. */
  wait?: boolean;
  /** helm's `--timeout` with `wait`; 10m when not given. */
  timeout?: string;
  /** Extra helm arguments, last, e.g. ['--take-ownership']. */
  extraArgs?: string[];
}

/**
 * No time limit of our own on the helm process: helm bounds itself (`--timeout`, 5m by default for hooks
 * and `--wait`), and a kill of ours could race its own timeout error.
 */
const HELM_BOUNDS_ITSELF: CmdOptions = { timeoutMs: 0 };

/**
 * Pure: the `helm upgrade --install` arguments (the Kube adds the namespace and the cluster). `valuesFile` is
 * the `-f FILE` of `values`, after the values files so that it wins.
 */
export function upgradeInstallArgs(o: UpgradeInstallOptions, valuesFile: readonly string[] = []): string[] {
  return [
    'upgrade',
    '--install',
    o.release,
    o.chartDir,
    ...(o.wait ? ['--wait', '--timeout', o.timeout ?? '10m'] : []),
    ...(o.valuesFiles ?? []).flatMap((f) => ['-f', f]),
    ...valuesFile,
    ...(o.extraArgs ?? []),
  ];
}

/**
 * `helm upgrade --install`: installs the release, or upgrades it with the new values. Resolves with helm's
 * output; throws with helm's message when it fails.
 */
export async function helmUpgradeInstall(kube: Kube, o: UpgradeInstallOptions): Promise<string> {
  return withValuesFile(
    o.values,
    async (valuesFile) => (await kube.helm(upgradeInstallArgs(o, valuesFile), HELM_BOUNDS_ITSELF)).stdout,
  );
}

/**
 * `helm uninstall --wait`: removes the release and waits until its resources are gone. With `missingOk`, a
 * release that is not there is no error ('missing'); any other failure throws with helm's message.
 */
export async function helmUninstall(
  kube: Kube,
  release: string,
  o: { missingOk?: boolean } = {},
): Promise<'removed' | 'missing'> {
  const res = await kube.helm(['uninstall', release, '--wait'], { ...HELM_BOUNDS_ITSELF, allowFailure: true });
  if (res.code === 0) return 'removed';
  if (o.missingOk && /not found/i.test(res.stderr)) return 'missing';
  throw new UserError(`helm uninstall ${release} failed: ${(res.stderr || res.stdout).trim()}`);
}
