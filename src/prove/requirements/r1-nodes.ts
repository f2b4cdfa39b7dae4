// R1: the cluster's nodes are Ready, with their versions.
import type { V1Node } from '@kubernetes/client-node';
import type { List } from '../../kube/kube.js';
import { verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export interface NodeFacts { name: string; ready: boolean; readyMessage: string; kubelet: string; roles: string[]; taints: string[] }

export function nodeFacts(n: V1Node): NodeFacts {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  const labels = n.metadata?.labels ?? {};
  const roles = Object.keys(labels).filter((k) => k.startsWith('node-role.')).map((k) => k.split('/')[1] ?? k);
  return {
    name: n.metadata?.name ?? '?',
    ready: ready?.status === 'True',
    readyMessage: ready ? `${ready.status}${ready.reason ? ` (${ready.reason})` : ''}` : 'no Ready condition',
    kubelet: n.status?.nodeInfo?.kubeletVersion ?? '?',
    roles,
    taints: (n.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`),
  };
}

/** Every node Ready; at least one node. */
export function judgeNodes(nodes: readonly NodeFacts[]): Verdict {
  const problems = nodes.length === 0 ? ['the cluster has no nodes'] : nodes.filter((n) => !n.ready).map((n) => `node ${n.name} is not Ready: ${n.readyMessage}`);
  const versions = [...new Set(nodes.map((n) => n.kubelet))].join(', ');
  return verdictOf(problems, `${nodes.length} node${nodes.length === 1 ? '' : 's'} Ready (kubelet ${versions})`);
}

export const r1Nodes: Requirement = {
  id: 'R1',
  title: 'Nodes Ready',
  checks: 'Every node reports Ready; the API server and kubelet versions are recorded (kubectl get nodes, kubectl version).',
  mutates: false,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    const version = await ctx.kube.json<{ serverVersion?: { gitVersion?: string } }>(['version'], { ev, clusterScope: true });
    ev.add(`  server ${version.serverVersion?.gitVersion ?? '?'}`);
    ev.measure('apiServerVersion', version.serverVersion?.gitVersion ?? '?');
    const nodes = (await ctx.kube.json<List<V1Node>>(['get', 'nodes'], { ev, clusterScope: true })).items.map(nodeFacts);
    for (const n of nodes) ev.add(`  ${n.name}  Ready=${n.readyMessage}  kubelet ${n.kubelet}  roles ${n.roles.join(',') || '-'}  taints ${n.taints.join(',') || '-'}`);
    ev.measure('nodes', nodes.length);
    ev.measure('nodesReady', nodes.filter((n) => n.ready).length);
    return judgeNodes(nodes);
  },
};
