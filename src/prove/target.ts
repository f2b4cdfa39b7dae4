// Which cluster a command that drives an installed release (prove, backup, restore) talks to, and the
// kubectl/helm it does that with. Its own module so that backup and restore do not import the proof rows.
import { controlPlaneStatus, DEFAULT_CLUSTER } from '../cluster/status.js';
import { ensureKubectlAndHelm } from '../setup/kubectl-layer.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { Kube } from '../kube/kube.js';

export interface ProveTarget {
  kube: Kube;
  /** How the report names the cluster: "local cluster 'kstack'" or "context 'prod'". */
  cluster: string;
}

/**
 * The cluster to prove: the kubeconfig context given, or else the local cluster (by name) that
 * `kstack up` brought up. Refuses when the local cluster is not running.
 */
export async function resolveTarget(opts: {
  context?: string;
  clusterName?: string;
  baseDir?: string;
  namespace: string;
  progress: Progress;
}): Promise<ProveTarget> {
  const { kubectl, helm } = await ensureKubectlAndHelm(opts.progress);
  if (opts.context !== undefined) {
    const kube = new Kube({
      kubectl,
      helm,
      kubeArgs: ['--context', opts.context],
      helmArgs: ['--kube-context', opts.context],
      namespace: opts.namespace,
    });
    const check = await kube.kubectl(['version', '-o', 'json'], {
      clusterScope: true,
      allowFailure: true,
      timeoutMs: 30_000,
    });
    if (check.code !== 0)
      throw new UserError(
        `--context ${opts.context}: the cluster does not answer ` +
          `(${check.stderr.trim().split('\n')[0] ?? ''}); check 'kubectl config get-contexts'`,
      );
    return { kube, cluster: `context '${opts.context}'` };
  }
  const name = opts.clusterName ?? DEFAULT_CLUSTER;
  const status = await controlPlaneStatus({ name, ...(opts.baseDir ? { baseDir: opts.baseDir } : {}) });
  const api = status.components.find((c) => c.name === 'kube-apiserver');
  if (!status.exists || !status.kubeconfig || !api?.healthy) {
    throw new UserError(
      `the local cluster '${name}' is not running; start it and the stack ` +
        `with 'kstack up', or prove another cluster with --context NAME`,
    );
  }
  const kube = new Kube({
    kubectl,
    helm,
    kubeArgs: ['--kubeconfig', status.kubeconfig],
    helmArgs: ['--kubeconfig', status.kubeconfig],
    namespace: opts.namespace,
  });
  return { kube, cluster: `local cluster '${name}'` };
}
