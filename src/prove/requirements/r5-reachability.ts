// R5: only web pods reach the database. The policies in force (NetworkPolicies of the namespace, read
// from the cluster) give the expected matrix through kstack's evaluator; real connections from inside
// every pod of the release (src/netpol/probe.ts) give the observed one; they must be equal, and the expected one must say
// web→db:3306 open and every other source→db closed. Fails when no enforcing policy engine is found.
import type { V1ClusterRole, V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { compareMatrices, expectedMatrix, formatTable, targetName, type Comparison, type ExpectedMatrix, type Target } from '../../netpol/matrix.js';
import { resolveTargets, runProbes, type KubectlRunner } from '../../netpol/probe.js';
import { buildModel, endpointName, podEndpoint } from '../../netpol/evaluator.js';
import { isPolicyGoverned, namespaceInfo, podInfo } from '../../netpol/objects.js';
import type { Kube, List } from '../../kube/kube.js';
import { podName } from './stack.js';
import { fail, skipped, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

/** Policy engines known to enforce NetworkPolicy, by the names of their agents' pods or ClusterRoles. */
export const ENFORCING_ENGINES = ['calico-node', 'cilium', 'kube-router', 'antrea-agent', 'weave-net', 'canal', 'kube-ovn-cni'];

/** The engine an agent pod or ClusterRole name belongs to, if any. */
export function engineOf(name: string): string | undefined {
  return ENFORCING_ENGINES.find((e) => name === e || name.startsWith(`${e}-`) || name.endsWith(`:${e}`) || name.includes(`:${e}`));
}

const componentOf = (p: V1Pod): string => p.metadata?.labels?.['app.kubernetes.io/component'] ?? '?';

/**
 * The requirement on the expected matrix itself: web→db open, everything else → db closed (a cluster
 * that enforces policies that allow more would still match, so this is checked separately).
 */
export function judgeDbIsolation(matrix: ExpectedMatrix, components: ReadonlyMap<string, string>, dbColumns: readonly string[]): string[] {
  const problems: string[] = [];
  matrix.rows.forEach((row, r) => {
    dbColumns.forEach((col) => {
      const c = matrix.columns.indexOf(col);
      const cell = matrix.cells[r]?.[c];
      // A member reaching its peers is the cluster's own traffic, not a client's.
      if (!cell || cell.loopback || components.get(row) === 'db') return;
      const fromWeb = components.get(row) === 'web';
      if (fromWeb && !cell.open) problems.push(`the policies block ${row} → ${col} (web must reach the db): ${cell.reason}`);
      if (!fromWeb && cell.open) problems.push(`the policies allow ${row} → ${col} (only web may reach the db): ${cell.reason}`);
    });
  });
  return problems;
}

async function detectEngine(kube: Kube, ev: Evidence): Promise<string | undefined> {
  const pods = (await kube.json<List<V1Pod>>(['get', 'pods', '-A'], { ev, clusterScope: true })).items;
  const fromPods = pods.map((p) => engineOf(p.metadata?.name ?? '')).find(Boolean);
  if (fromPods) return `${fromPods} (agent pods)`;
  const roles = (await kube.json<List<V1ClusterRole>>(['get', 'clusterroles'], { ev, clusterScope: true })).items;
  const fromRoles = roles.map((r) => engineOf(r.metadata?.name ?? '')).find(Boolean);
  return fromRoles ? `${fromRoles} (node agents; ClusterRole present)` : undefined;
}

export const r5Reachability: Requirement = {
  id: 'R5',
  title: 'Only web pods reach the DB',
  checks: "The NetworkPolicies in the release's namespace give, through kstack's NetworkPolicy evaluator, the expected reachability from every pod of the release to every db pod on 3306 and every web pod on 8080; they must say web→db open and every other source→db closed. Each source pod then connects to every target (kstack's probe: bash /dev/tcp from inside the pod, 3 s timeout) and the observed matrix must equal the expected one. Fails when the cluster runs no known enforcing policy engine; skipped only when the release's values turn the db or its NetworkPolicies off.",
  mutates: false,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    if (!ctx.intent.db.enabled) return skipped(`the release's values turn the db off (db.enabled is false): there is no db to protect`);
    if (!ctx.intent.networkPolicy.enabled) return skipped(`the release's values turn its NetworkPolicies off (networkPolicy.enabled is false)`);
    const engine = await detectEngine(ctx.kube, ev);
    if (!engine) return fail(`no NetworkPolicy-enforcing engine found (looked for ${ENFORCING_ENGINES.join(', ')}): the policies are configured but nothing enforces them`);
    ev.add(`  policy engine: ${engine}`);
    const policies = (await ctx.kube.json<List<V1NetworkPolicy>>(['get', 'networkpolicies'], { ev })).items;
    ev.add(`  policies: ${policies.map((p) => p.metadata?.name ?? '?').join(', ') || '(none)'}`);
    ev.measure('policies', policies.length);
    const namespaces = (await ctx.kube.json<List<V1Namespace>>(['get', 'namespaces'], { clusterScope: true })).items;
    const allPods = (await ctx.kube.json<List<V1Pod>>(['get', 'pods'], { ev })).items.filter(isPolicyGoverned);
    const release = allPods.filter((p) => p.metadata?.labels?.['app.kubernetes.io/instance'] === ctx.release && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    const db = release.filter((p) => componentOf(p) === 'db');
    const web = release.filter((p) => componentOf(p) === 'web');
    if (db.length === 0) return fail(`db.enabled is true but release '${ctx.release}' has no running db pods`);
    if (web.length === 0) return fail(`release '${ctx.release}' has no running web pods: web→db cannot be shown open`);
    const model = buildModel({ namespaces: namespaces.map(namespaceInfo), pods: allPods.map(podInfo), policies });
    const ep = (p: V1Pod) => podEndpoint(ctx.namespace, podName(p));
    const targets: Target[] = [...db.map((p) => ({ to: ep(p), port: 3306 })), ...web.map((p) => ({ to: ep(p), port: 8080 }))];
    const expected = expectedMatrix(model, release.map(ep), targets);
    const components = new Map(release.map((p) => [endpointName(ep(p)), componentOf(p)]));
    const problems = judgeDbIsolation(expected, components, db.map((p) => targetName({ to: ep(p), port: 3306 })));

    const podInfos = allPods.map(podInfo);
    const kubectl: KubectlRunner = (args) => ctx.kube.kubectl(args, { clusterScope: true, allowFailure: true, timeoutMs: 60_000 });
    ctx.note(`probing ${release.length} sources × ${targets.length} targets`);
    const observed = await runProbes(kubectl, release.map((p) => ({ namespace: ctx.namespace, pod: podName(p) })), resolveTargets(targets, podInfos), { timeoutSeconds: 3, concurrency: 2 });
    ev.add(`$ kubectl -n ${ctx.namespace} exec <each pod of the release> -- bash -c '<connect to every target at once, 3 s timeout>'   (src/netpol/probe.ts)`);
    const comparison: Comparison = compareMatrices(expected, observed);
    for (const line of formatTable(comparison).split('\n')) ev.add(`  ${line}`);
    ev.measure('cells', comparison.summary.cells);
    ev.measure('mismatches', comparison.summary.mismatch);
    ev.measure('probeErrors', comparison.summary.error);
    for (const d of comparison.diffs) problems.push(`${d.row} → ${d.column}: expected ${d.expected}, observed ${d.observed ?? 'nothing'}${d.detail ? ` (${d.detail})` : ''}`);
    if (comparison.diffs.length === 0 && problems.length === 0) {
      return verdictOf([], `observed = expected on all ${comparison.summary.cells} cells; web→db:3306 open, every other source→db closed (${engine})`);
    }
    return problems.length ? verdictOf(problems, '') : fail('the observed matrix differs from the expected one');
  },
};
