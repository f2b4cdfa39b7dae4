// R1: the cluster's nodes are Ready, with their versions, and there are the nodes the release's placement
// needs: several nodes, a Ready web-role node, a Ready db-role node per member where the db members must
// each have their own node (required anti-affinity), at least one otherwise.
import type { V1Node, V1StatefulSet } from '@kubernetes/client-node';
import { componentSelector, type List } from '../../kube/kube.js';
import type { ReleaseIntent } from './release.js';
import { verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export interface NodeFacts {
  name: string;
  ready: boolean;
  readyMessage: string;
  kubelet: string;
  roles: string[];
  taints: string[];
  labels: Record<string, string>;
  unschedulable: boolean;
}

export function nodeFacts(n: V1Node): NodeFacts {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  const labels = n.metadata?.labels ?? {};
  const roles = Object.keys(labels)
    .filter((k) => k.startsWith('node-role.'))
    .map((k) => k.split('/')[1] ?? k);
  return {
    name: n.metadata?.name ?? '?',
    ready: ready?.status === 'True',
    readyMessage: ready ? `${ready.status}${ready.reason ? ` (${ready.reason})` : ''}` : 'no Ready condition',
    kubelet: n.status?.nodeInfo?.kubeletVersion ?? '?',
    roles,
    taints: (n.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`),
    labels: { ...labels },
    unschedulable: n.spec?.unschedulable === true,
  };
}

/** What the placement needs of the nodes: role nodes, and one db node per member under a one-per-node rule. */
export interface NodeNeeds {
  webNodeLabel?: string;
  dbNodeLabel?: string;
  dbNodesAtLeast: number;
}

/** Pure: the needs from the intent and whether the db members must each have their own node. */
export function nodeNeeds(intent: ReleaseIntent, dbOnePerNode: boolean): NodeNeeds {
  const roles = intent.placement.preset !== 'none';
  const db = intent.db.enabled;
  return {
    ...(roles ? { webNodeLabel: intent.placement.webNodeLabel } : {}),
    ...(roles && db ? { dbNodeLabel: intent.placement.dbNodeLabel } : {}),
    dbNodesAtLeast: !db ? 0 : dbOnePerNode ? intent.db.replicas : 1,
  };
}

/** Every node Ready; more than one node (placement needs somewhere to choose); the role nodes the placement needs. */
export function judgeNodes(nodes: readonly NodeFacts[], needs: NodeNeeds): Verdict {
  const problems =
    nodes.length === 0
      ? ['the cluster has no nodes']
      : nodes.filter((n) => !n.ready).map((n) => `node ${n.name} is not Ready: ${n.readyMessage}`);
  if (nodes.length === 1)
    problems.push('the cluster has one node: placing replicas on specific nodes and surviving a node needs several');
  const usable = (label: string): NodeFacts[] => nodes.filter((n) => n.ready && !n.unschedulable && label in n.labels);
  if (needs.webNodeLabel !== undefined && usable(needs.webNodeLabel).length === 0) {
    problems.push(
      `no Ready, schedulable node has the web role label ${needs.webNodeLabel} that ` +
        `placement.preset targets (label one: kubectl label node NODE ${needs.webNodeLabel}=)`,
    );
  }
  if (needs.dbNodeLabel !== undefined) {
    const have = usable(needs.dbNodeLabel).length;
    if (have < needs.dbNodesAtLeast)
      problems.push(
        `${have} Ready, schedulable node${have === 1 ? '' : 's'} with the db role ` +
          `label ${needs.dbNodeLabel}; the db members need ${needs.dbNodesAtLeast}`,
      );
  } else if (nodes.length < needs.dbNodesAtLeast) {
    problems.push(`${nodes.length} nodes; the db members need one each (${needs.dbNodesAtLeast})`);
  }
  const versions = [...new Set(nodes.map((n) => n.kubelet))].join(', ');
  const roleNote =
    needs.webNodeLabel !== undefined
      ? `; ${usable(needs.webNodeLabel).length} ` +
        `web-role, ${needs.dbNodeLabel !== undefined ? usable(needs.dbNodeLabel).length : 0} db-role`
      : '';
  return verdictOf(
    problems,
    `${nodes.length} node${nodes.length === 1 ? '' : 's'} Ready (kubelet ${versions})${roleNote}`,
  );
}

/** Whether the StatefulSet's pods must each run on a node of their own (required anti-affinity on the hostname). */
export function requiresOnePerNode(sts: V1StatefulSet | undefined): boolean {
  const terms =
    sts?.spec?.template.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  return terms.some((t) => t.topologyKey === 'kubernetes.io/hostname');
}

export const r1Nodes: Requirement = {
  id: 'R1',
  title: 'Nodes Ready',
  checks:
    'Every node reports Ready; the API server and kubelet versions are recorded (kubectl ' +
    'get nodes, kubectl version). The cluster has more than one node and the nodes the ' +
    "release's placement needs: under placement.preset soft or hard a Ready, schedulable node " +
    'with the web role label and one with the db role label, and one db-role node per ' +
    'member when the db members must each have their own node (required pod anti-affinity).',
  mutates: false,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    const version = await ctx.kube.json<{ serverVersion?: { gitVersion?: string } }>(['version'], {
      ev,
      clusterScope: true,
    });
    ev.add(`  server ${version.serverVersion?.gitVersion ?? '?'}`);
    ev.measure('apiServerVersion', version.serverVersion?.gitVersion ?? '?');
    const nodes = (await ctx.kube.json<List<V1Node>>(['get', 'nodes'], { ev, clusterScope: true })).items.map(
      nodeFacts,
    );
    for (const n of nodes)
      ev.add(
        `  ${n.name}  Ready=${n.readyMessage}  kubelet ${n.kubelet}  ` +
          `roles ${n.roles.join(',') || '-'}  taints ${n.taints.join(',') || '-'}`,
      );
    ev.measure('nodes', nodes.length);
    ev.measure('nodesReady', nodes.filter((n) => n.ready).length);
    const sts = ctx.intent.db.enabled
      ? (
          await ctx.kube.json<List<V1StatefulSet>>(
            ['get', 'statefulsets', '-l', componentSelector(ctx.release, 'db')],
            { ev },
          )
        ).items[0]
      : undefined;
    const needs = nodeNeeds(ctx.intent, requiresOnePerNode(sts));
    ev.add(
      `  placement ` +
        `needs: ${needs.webNodeLabel ? `a node labelled ${needs.webNodeLabel}` : 'no role nodes (preset none)'}` +
        (needs.dbNodeLabel ? `, ${needs.dbNodesAtLeast} labelled ${needs.dbNodeLabel}` : ''),
    );
    return judgeNodes(nodes, needs);
  },
};
