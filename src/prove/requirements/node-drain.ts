// Node loss on a cluster kstack did not make: what the Kubernetes API offers is taking a node out of
// service, cordoned and drained (evictions respect the release's PodDisruptionBudgets), then put back.
// The pods that lived there must be replaced elsewhere or wait for the node; the service must not notice.
import type { Kube } from '../../kube/kube.js';
import type { NodeControl } from './types.js';

/** The label value of the pods prove makes (in-cluster.ts, outside.ts). */
const PROVE_MANAGED_BY = 'kstack-prove';

/** How long a drain may take: a db member's shutdown, then the rest of the node's pods. */
const DRAIN_TIMEOUT_SECONDS = 240;

/** Pure: the kubectl arguments that drain one node (DaemonSet pods stay; emptyDir data goes with the pod). */
export function drainArgs(node: string): string[] {
  return [
    'drain',
    node,
    '--ignore-daemonsets',
    '--delete-emptydir-data',
    // prove's own pods (its client, the probes) stay: they are the observer, not the service under test,
    // and as bare pods they would stop the drain. Any other bare pod stops it, as it should: never --force.
    `--pod-selector=app.kubernetes.io/managed-by!=${PROVE_MANAGED_BY}`,
    `--timeout=${DRAIN_TIMEOUT_SECONDS}s`,
  ];
}

export function drainNodeControl(kube: Kube): NodeControl {
  return {
    fault: 'drain',
    async stop(node, mode) {
      if (mode !== 'drain')
        throw new Error(`node ${node}: this cluster can only be drained (a ${mode} needs kstack's local cluster)`);
      await kube.kubectl(['cordon', node], { clusterScope: true });
      await kube.kubectl(drainArgs(node), { clusterScope: true, timeoutMs: (DRAIN_TIMEOUT_SECONDS + 30) * 1000 });
    },
    async start(node) {
      await kube.kubectl(['uncordon', node], { clusterScope: true });
    },
  };
}
