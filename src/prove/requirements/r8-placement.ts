// R8: the placement the release intends, on the nodes there are: web pods only on web-role nodes and db
// members only on db-role nodes (the role labels of placement.webNodeLabel / dbNodeLabel), members spread
// over the db nodes as evenly as their anti-affinity declares, and none left unscheduled. What the
// scheduler already guarantees (selectors, taints) is checked too, but alone it would pass any placement.
import type {
  V1Node,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1Pod,
  V1Taint,
  V1Toleration,
} from '@kubernetes/client-node';
import type { List } from '../../kube/kube.js';
import { podName } from './stack.js';
import { fail, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  taints: V1Taint[];
}

export function nodeInfo(n: V1Node): NodeInfo {
  return { name: n.metadata?.name ?? '?', labels: { ...(n.metadata?.labels ?? {}) }, taints: n.spec?.taints ?? [] };
}

function requirementHolds(r: V1NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && /^-?\d+$/.test(value) && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && /^-?\d+$/.test(value) && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** A node selector term: all its expressions (labels) and fields (metadata.name) hold. */
export function termMatches(term: V1NodeSelectorTerm, node: NodeInfo): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false; // an empty term matches nothing
  return (
    exprs.every((r) => requirementHolds(r, node.labels[r.key])) &&
    fields.every((r) => requirementHolds(r, r.key === 'metadata.name' ? node.name : undefined))
  );
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
    if (node.labels[k] !== v)
      problems.push(`nodeSelector ${k}=${v} but node ${node.name} has ${k}=${node.labels[k] ?? '(unset)'}`);
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !required.nodeSelectorTerms.some((t) => termMatches(t, node)))
    problems.push(`node ${node.name} matches none of the required node affinity terms`);
  for (const taint of node.taints) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!(pod.spec?.tolerations ?? []).some((t) => tolerates(t, taint)))
      problems.push(`node ${node.name} has taint ${taintText(taint)}, which the pod does not tolerate`);
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
    if (!nodeName) {
      problems.push(`pod ${podName(pod)} is not scheduled (${schedulerMessage(pod)})`);
      continue;
    }
    const node = byName.get(nodeName);
    if (!node) {
      problems.push(`pod ${podName(pod)} runs on ${nodeName}, which is not a node of the cluster`);
      continue;
    }
    for (const p of placementProblems(pod, node)) problems.push(`pod ${podName(pod)}: ${p}`);
  }
  return problems;
}

/** Pure: how many of a component's pods each node runs. */
function perNode(pods: readonly V1Pod[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (n) by.set(n, [...(by.get(n) ?? []), podName(p)]);
  }
  return by;
}

/** Whether a pod declares anti-affinity to its own kind on the hostname (required or preferred). */
export function spreadsByHost(pod: V1Pod): boolean {
  const a = pod.spec?.affinity?.podAntiAffinity;
  return [
    ...(a?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => w.podAffinityTerm),
  ].some((t) => t.topologyKey === 'kubernetes.io/hostname');
}

export interface PlacementIntent {
  webNodeLabel: string;
  dbNodeLabel: string;
  dbEnabled: boolean;
}

/**
 * Pure: the release's intent against where its web and db pods run. Role nodes are those with the label
 * (any value); a cluster without them cannot show the intent, which is a failure, not a pass.
 */
export function judgeIntent(
  web: readonly V1Pod[],
  db: readonly V1Pod[],
  nodes: readonly NodeInfo[],
  intent: PlacementIntent,
): string[] {
  const problems: string[] = [];
  const live = (ps: readonly V1Pod[]): V1Pod[] => ps.filter((p) => !p.metadata?.deletionTimestamp && p.spec?.nodeName);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const roleNodes = (label: string): NodeInfo[] => nodes.filter((n) => label in n.labels);
  const check = (pods: readonly V1Pod[], label: string, what: string): void => {
    if (roleNodes(label).length === 0) {
      problems.push(`no node has the ${what} role label ${label}, so ${what} pods cannot be shown on their own nodes`);
      return;
    }
    for (const p of live(pods)) {
      const node = byName.get(p.spec?.nodeName ?? '');
      if (node && !(label in node.labels))
        problems.push(
          `${what} pod ${podName(p)} runs on ${node.name}, which is not a ${what} node (no ${label} label)`,
        );
    }
  };
  if (web.length === 0) problems.push('the release has no web pods to place');
  check(web, intent.webNodeLabel, 'web');
  if (intent.dbEnabled) {
    if (db.length === 0) problems.push('db.enabled is true but the release has no db pods to place');
    check(db, intent.dbNodeLabel, 'db');
    // Spread as declared: with anti-affinity on the hostname, no db node holds more members than an even spread.
    // The even share counts every member the StatefulSet has, placed or not (a Pending one still needs a node).
    const members = live(db);
    const wanted = db.filter((p) => !p.metadata?.deletionTimestamp).length;
    const eligible = roleNodes(intent.dbNodeLabel);
    if (members.length > 0 && members.every(spreadsByHost) && eligible.length > 0) {
      const most = Math.ceil(wanted / eligible.length);
      for (const [node, names] of perNode(members)) {
        if (names.length > most)
          problems.push(
            `${names.length} db members on ${node} (${names.join(', ')}): their anti-affinity ` +
              `spreads ${wanted} members over ${eligible.length} db nodes, at most ${most} per node`,
          );
      }
    }
  }
  return problems;
}

export const r8Placement: Requirement = {
  id: 'R8',
  title: 'Replicas on the right nodes',
  checks:
    "The release's intent, read from its values: web pods run only on nodes with the web role label " +
    '(placement.webNodeLabel), db members only on nodes with the db role label (placement.dbNodeLabel), ' +
    'and members whose anti-affinity spreads them by hostname hold no more per db node than an ' +
    'even spread; a cluster without role nodes fails. Each pod is also scheduled, on a node its ' +
    'nodeSelector and required node affinity allow, tolerating every NoSchedule/NoExecute taint of that ' +
    "node. Evaluated from the pods' specs and the nodes' labels and taints (kubectl get nodes, pods).",
  mutates: false,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    const nodes = (await ctx.kube.json<List<V1Node>>(['get', 'nodes'], { ev, clusterScope: true })).items.map(nodeInfo);
    const tainted = nodes.filter((n) => n.taints.some((t) => t.effect !== 'PreferNoSchedule'));
    for (const n of nodes)
      ev.add(
        `  node ${n.name}: taints ${n.taints.map(taintText).join(',') || '-'}; roles ${
          Object.keys(n.labels)
            .filter((k) => k.startsWith('node-role.'))
            .join(',') || '-'
        }`,
      );
    const pods = (
      await ctx.kube.json<List<V1Pod>>(['get', 'pods', '-l', `app.kubernetes.io/instance=${ctx.release}`], { ev })
    ).items.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    if (pods.length === 0) return fail(`release '${ctx.release}' has no pods`);
    const byNode: Record<string, string[]> = {};
    for (const p of pods) (byNode[p.spec?.nodeName ?? '(unscheduled)'] ??= []).push(podName(p));
    for (const [n, ps] of Object.entries(byNode).sort()) ev.add(`  on ${n}: ${ps.join(', ')}`);
    ev.measure('pods', pods.length);
    ev.measure('taintedNodes', tainted.length);
    const of = (component: string): V1Pod[] =>
      pods.filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === component);
    const { webNodeLabel, dbNodeLabel } = ctx.intent.placement;
    // What the scheduler could not do comes first: an unscheduled pod explains a skewed spread.
    const problems = [
      ...judgePlacement(pods, nodes),
      ...judgeIntent(of('web'), of('db'), nodes, { webNodeLabel, dbNodeLabel, dbEnabled: ctx.intent.db.enabled }),
    ];
    const offTainted = pods.filter((p) => !tainted.some((n) => n.name === p.spec?.nodeName)).length;
    const taintNote = tainted.length
      ? `; ${offTainted} pods kept off the tainted node${tainted.length === 1 ? '' : 's'} ` +
        `${tainted.map((n) => n.name).join(', ')}, ${pods.length - offTainted} tolerate the taint`
      : '; no node is tainted, so no dedicated nodes to keep pods off';
    return verdictOf(
      [...new Set(problems)],
      `web pods only on ${webNodeLabel} nodes, db members only on ${dbNodeLabel} nodes ` +
        `and spread; all ${pods.length} pods on nodes their placement allows${taintNote}`,
    );
  },
};
