// R8: every pod of the release runs on a node its placement allows (nodeSelector, required node
// affinity, tolerations of the node's taints), none is left unscheduled, and tainted (dedicated) nodes
// carry only pods that tolerate their taint.
import type { V1Node, V1NodeSelectorRequirement, V1NodeSelectorTerm, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
import type { List } from '../../kube/kube.js';
import { podName } from './stack.js';
import { skipped, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export interface NodeInfo { name: string; labels: Record<string, string>; taints: V1Taint[] }

export function nodeInfo(n: V1Node): NodeInfo {
  return { name: n.metadata?.name ?? '?', labels: { ...(n.metadata?.labels ?? {}) }, taints: n.spec?.taints ?? [] };
}

function requirementHolds(r: V1NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) > Number(values[0]);
    case 'Lt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) < Number(values[0]);
    default: return false;
  }
}

/** A node selector term: all its expressions (labels) and fields (metadata.name) hold. */
export function termMatches(term: V1NodeSelectorTerm, node: NodeInfo): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false; // an empty term matches nothing
  return exprs.every((r) => requirementHolds(r, node.labels[r.key]))
    && fields.every((r) => requirementHolds(r, r.key === 'metadata.name' ? node.name : undefined));
}

/** Whether a toleration tolerates a taint (the scheduler's rules). */
export function tolerates(t: V1Toleration, taint: V1Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key === undefined || t.key === '') return t.operator === 'Exists';
  if (t.key !== taint.key) return false;
  return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

const taintText = (t: V1Taint): string => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;

/** Why `pod` may not run on `node` (empty: allowed). PreferNoSchedule taints and preferences never forbid. */
export function placementProblems(pod: V1Pod, node: NodeInfo): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    if (node.labels[k] !== v) problems.push(`nodeSelector ${k}=${v} but node ${node.name} has ${k}=${node.labels[k] ?? '(unset)'}`);
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !required.nodeSelectorTerms.some((t) => termMatches(t, node))) problems.push(`node ${node.name} matches none of the required node affinity terms`);
  for (const taint of node.taints) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!(pod.spec?.tolerations ?? []).some((t) => tolerates(t, taint))) problems.push(`node ${node.name} has taint ${taintText(taint)}, which the pod does not tolerate`);
  }
  return problems;
}

const schedulerMessage = (pod: V1Pod): string => {
  const c = (pod.status?.conditions ?? []).find((x) => x.type === 'PodScheduled' && x.status !== 'True');
  return c ? `${c.reason ?? ''}: ${c.message ?? ''}` : `phase ${pod.status?.phase ?? '?'}`;
};

/** Every problem with the placement of `pods` on `nodes`. */
export function judgePlacement(pods: readonly V1Pod[], nodes: readonly NodeInfo[]): string[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const problems: string[] = [];
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) { problems.push(`pod ${podName(pod)} is not scheduled (${schedulerMessage(pod)})`); continue; }
    const node = byName.get(nodeName);
    if (!node) { problems.push(`pod ${podName(pod)} runs on ${nodeName}, which is not a node of the cluster`); continue; }
    for (const p of placementProblems(pod, node)) problems.push(`pod ${podName(pod)}: ${p}`);
  }
  return problems;
}

export const r8Placement: Requirement = {
  id: 'R8',
  title: 'Replicas on the right nodes',
  checks: "Each pod of the release is scheduled, on a node its nodeSelector and required node affinity allow, and tolerates every NoSchedule/NoExecute taint of that node; so pods without the db toleration are kept off the tainted db nodes. Evaluated from the pods' specs and the nodes' labels and taints (kubectl get nodes, pods).",
  mutates: false,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    const nodes = (await ctx.kube.json<List<V1Node>>(['get', 'nodes'], { ev, clusterScope: true })).items.map(nodeInfo);
    const tainted = nodes.filter((n) => n.taints.some((t) => t.effect !== 'PreferNoSchedule'));
    for (const n of nodes) ev.add(`  node ${n.name}: taints ${n.taints.map(taintText).join(',') || '-'}; roles ${Object.keys(n.labels).filter((k) => k.startsWith('node-role.')).join(',') || '-'}`);
    const pods = (await ctx.kube.json<List<V1Pod>>(['get', 'pods', '-l', `app.kubernetes.io/instance=${ctx.release}`], { ev })).items
      .filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    if (pods.length === 0) return skipped(`release '${ctx.release}' has no pods`);
    const byNode: Record<string, string[]> = {};
    for (const p of pods) (byNode[p.spec?.nodeName ?? '(unscheduled)'] ??= []).push(podName(p));
    for (const [n, ps] of Object.entries(byNode).sort()) ev.add(`  on ${n}: ${ps.join(', ')}`);
    ev.measure('pods', pods.length);
    ev.measure('taintedNodes', tainted.length);
    const problems = judgePlacement(pods, nodes);
    const offTainted = pods.filter((p) => !tainted.some((n) => n.name === p.spec?.nodeName)).length;
    const taintNote = tainted.length
      ? `; ${offTainted} pods kept off the tainted node${tainted.length === 1 ? '' : 's'} ${tainted.map((n) => n.name).join(', ')}, ${pods.length - offTainted} tolerate the taint`
      : '; no node is tainted, so no dedicated nodes to keep pods off';
    return verdictOf(problems, `all ${pods.length} pods on nodes their placement allows${taintNote}`);
  },
};
