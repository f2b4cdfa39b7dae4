// Turning the db's TLS on or off on a running release. Galera members with and without TLS cannot talk to
// each other (one side's socket.ssl fails the other's handshake), so the StatefulSet's rolling restart would
// stall at its first member. `kstack up` notices the switch and restarts the members together instead, which
// the agent recovers as a full-cluster restart (src/galera/decide.ts): no acknowledged write is lost.
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1ConfigMap, V1StatefulSet } from '@kubernetes/client-node';
import { componentSelector, type List } from '../kube/kube.js';
import { run } from '../util/exec.js';
import type { Progress } from '../util/progress.js';

/** Pure: whether the agent config (agent.json of the db ConfigMap) turns TLS on; undefined when unreadable. */
export function agentTlsOf(agentJson: string | undefined): boolean | undefined {
  if (agentJson === undefined) return undefined;
  try {
    const cfg = JSON.parse(agentJson) as { tls?: unknown };
    return typeof cfg.tls === 'object' && cfg.tls !== null;
  } catch {
    return undefined;
  }
}

/** Whether the release's db runs with TLS now (its ConfigMap); undefined: no db yet. */
export async function liveDbTls(
  kubectl: string,
  kubeArgs: readonly string[],
  namespace: string,
  release: string,
): Promise<boolean | undefined> {
  const res = await run(
    kubectl,
    [...kubeArgs, '-n', namespace, 'get', 'configmap', '-l', componentSelector(release, 'db'), '-o', 'json'],
    { allowFailure: true },
  );
  if (res.code !== 0) return undefined;
  const list = JSON.parse(res.stdout || '{"items":[]}') as List<V1ConfigMap>;
  return agentTlsOf(list.items[0]?.data?.['agent.json']);
}

/** After `helm upgrade`: when TLS was switched on or off, every member restarts at once (see above). */
export async function restartDbOnTlsSwitch(
  kubectl: string,
  kubeArgs: readonly string[],
  namespace: string,
  release: string,
  before: boolean | undefined,
  progress: Progress,
): Promise<void> {
  const after = await liveDbTls(kubectl, kubeArgs, namespace, release);
  if (before === undefined || after === undefined || before === after) return;
  await progress.step(
    `db TLS turned ${after ? 'on' : 'off'}: the members restart together (members with and without TLS cannot talk)`,
    async () => {
      // Pods deleted before the controller has seen the new template would come back with the old one.
      for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
        const res = await run(
          kubectl,
          [...kubeArgs, '-n', namespace, 'get', 'statefulset', '-l', componentSelector(release, 'db'), '-o', 'json'],
          { allowFailure: true },
        );
        const sts = (JSON.parse(res.stdout || '{"items":[]}') as List<V1StatefulSet>).items[0];
        if (sts && (sts.status?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0)) break;
        await sleep(500);
      }
      await run(kubectl, [
        ...kubeArgs,
        '-n',
        namespace,
        'delete',
        'pod',
        '-l',
        componentSelector(release, 'db'),
        '--wait=false',
      ]);
    },
  );
}
