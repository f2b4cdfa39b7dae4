// R5: only web pods reach the database. The policies in force (NetworkPolicies of the namespace, read
// from the cluster) give the expected matrix through kstack's evaluator; real connections from inside
// every pod of the release (src/netpol/probe.ts) give the
// observed one; they must be equal, and the expected one must say
// web→db:3306 open and every other source→db closed. Fails when no enforcing policy engine is found.
import type { V1ClusterRole, V1Namespace, V1NetworkPolicy, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import {
  compareMatrices,
  expectedMatrix,
  formatTable,
  targetName,
  type Comparison,
  type ExpectedMatrix,
  type Target,
} from '../../netpol/matrix.js';
import { resolveTargets, runProbes, type KubectlRunner } from '../../netpol/probe.js';
import { buildModel, endpointName, evaluate, ipEndpoint, podEndpoint } from '../../netpol/evaluator.js';
import { isPolicyGoverned, namespaceInfo, podInfo } from '../../netpol/objects.js';
import { componentSelector, type Kube, type List } from '../../kube/kube.js';
import {
  DB_PORTS,
  hostSourceNode,
  judgeOutside,
  outsideExpected,
  outsideNamespace,
  outsidePods,
  outsideSources,
  startOutsidePods,
  type DbTarget,
} from './outside.js';
import { podName } from './stack.js';
import { pullSecretsOf } from './in-cluster.js';
import { fail, skipped, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

/** Policy engines known to enforce NetworkPolicy, by the names of their agents' pods or ClusterRoles. */
export const ENFORCING_ENGINES = [
  'calico-node',
  'cilium',
  'kube-router',
  'antrea-agent',
  'weave-net',
  'canal',
  'kube-ovn-cni',
];

/** The engine an agent pod or ClusterRole name belongs to, if any. */
export function engineOf(name: string): string | undefined {
  return ENFORCING_ENGINES.find(
    (e) => name === e || name.startsWith(`${e}-`) || name.endsWith(`:${e}`) || name.includes(`:${e}`),
  );
}

const componentOf = (p: V1Pod): string => p.metadata?.labels?.['app.kubernetes.io/component'] ?? '?';

/**
 * The requirement on the expected matrix itself: web→db open, everything else → db closed (a cluster
 * that enforces policies that allow more would still match, so this is checked separately).
 */
export function judgeDbIsolation(
  matrix: ExpectedMatrix,
  components: ReadonlyMap<string, string>,
  dbColumns: readonly string[],
): string[] {
  const problems: string[] = [];
  matrix.rows.forEach((row, r) => {
    dbColumns.forEach((col) => {
      const c = matrix.columns.indexOf(col);
      const cell = matrix.cells[r]?.[c];
      // A member reaching its peers is the cluster's own traffic, not a client's.
      if (!cell || cell.loopback || components.get(row) === 'db') return;
      const fromWeb = components.get(row) === 'web';
      if (fromWeb && !cell.open)
        problems.push(`the policies block ${row} → ${col} (web must reach the db): ${cell.reason}`);
      if (!fromWeb && cell.open)
        problems.push(`the policies allow ${row} → ${col} (only web may reach the db): ${cell.reason}`);
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
  checks:
    "The NetworkPolicies in the release's namespace give, through kstack's NetworkPolicy evaluator, the " +
    'expected reachability from every pod of the release to every db pod on 3306 and every web pod on 8080; ' +
    'they must say web→db open and every other source→db closed. Each source pod then connects to every ' +
    "target (kstack's probe: bash /dev/tcp from inside the pod, 3 s timeout) and the observed matrix must " +
    'equal the expected one. Then from outside: a plain pod in another namespace, one there with the ' +
    "web pods' labels copied, an unlabelled pod in the release's namespace and the host network of a node " +
    'without a db member each probe every member on 3306, 4567, 4568 and 4444 and the db Service; the ' +
    'policies must admit none of them, observed must equal expected, and each source must first reach cluster ' +
    'DNS (TCP 53) or the row fails. The probe pods are removed. Fails when the cluster runs no known ' +
    "enforcing policy engine; skipped only when the release's values turn the db or its NetworkPolicies off.",
  mutates: false,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    if (!ctx.intent.db.enabled)
      return skipped(`the release's values turn the db off (db.enabled is false): there is no db to protect`);
    if (!ctx.intent.networkPolicy.enabled)
      return skipped(`the release's values turn its NetworkPolicies off (networkPolicy.enabled is false)`);
    const engine = await detectEngine(ctx.kube, ev);
    if (!engine)
      return fail(
        `no NetworkPolicy-enforcing engine found (looked for ${ENFORCING_ENGINES.join(', ')}): ` +
          `the policies are configured but nothing enforces them`,
      );
    ev.add(`  policy engine: ${engine}`);
    const policies = (await ctx.kube.json<List<V1NetworkPolicy>>(['get', 'networkpolicies'], { ev })).items;
    ev.add(`  policies: ${policies.map((p) => p.metadata?.name ?? '?').join(', ') || '(none)'}`);
    ev.measure('policies', policies.length);
    const namespaces = (await ctx.kube.json<List<V1Namespace>>(['get', 'namespaces'], { clusterScope: true })).items;
    const allPods = (await ctx.kube.json<List<V1Pod>>(['get', 'pods'], { ev })).items.filter(isPolicyGoverned);
    const release = allPods.filter(
      (p) =>
        p.metadata?.labels?.['app.kubernetes.io/instance'] === ctx.release &&
        p.status?.phase === 'Running' &&
        !p.metadata.deletionTimestamp,
    );
    const db = release.filter((p) => componentOf(p) === 'db');
    const web = release.filter((p) => componentOf(p) === 'web');
    if (db.length === 0) return fail(`db.enabled is true but release '${ctx.release}' has no running db pods`);
    if (web.length === 0) return fail(`release '${ctx.release}' has no running web pods: web→db cannot be shown open`);
    const model = buildModel({ namespaces: namespaces.map(namespaceInfo), pods: allPods.map(podInfo), policies });
    const ep = (p: V1Pod) => podEndpoint(ctx.namespace, podName(p));
    const targets: Target[] = [
      ...db.map((p) => ({ to: ep(p), port: 3306 })),
      ...web.map((p) => ({ to: ep(p), port: 8080 })),
    ];
    const expected = expectedMatrix(model, release.map(ep), targets);
    const components = new Map(release.map((p) => [endpointName(ep(p)), componentOf(p)]));
    const problems = judgeDbIsolation(
      expected,
      components,
      db.map((p) => targetName({ to: ep(p), port: 3306 })),
    );

    const podInfos = allPods.map(podInfo);
    const kubectl: KubectlRunner = (args) =>
      ctx.kube.kubectl(args, { clusterScope: true, allowFailure: true, timeoutMs: 60_000 });
    ctx.note(`probing ${release.length} sources × ${targets.length} targets`);
    const observed = await runProbes(
      kubectl,
      release.map((p) => ({ namespace: ctx.namespace, pod: podName(p) })),
      resolveTargets(targets, podInfos),
      { timeoutSeconds: 3, concurrency: 2 },
    );
    ev.add(
      `$ kubectl -n ${ctx.namespace} exec <each pod of the release> -- bash -c ` +
        `'<connect to every target at once, 3 s timeout>'   (src/netpol/probe.ts)`,
    );
    const comparison: Comparison = compareMatrices(expected, observed);
    for (const line of formatTable(comparison).split('\n')) ev.add(`  ${line}`);
    ev.measure('cells', comparison.summary.cells);
    ev.measure('mismatches', comparison.summary.mismatch);
    ev.measure('probeErrors', comparison.summary.error);
    for (const d of comparison.diffs)
      problems.push(
        `${d.row} → ${d.column}: expected ${d.expected}, ` +
          `observed ${d.observed ?? 'nothing'}${d.detail ? ` (${d.detail})` : ''}`,
      );

    // From outside the release: where an attacker would stand.
    const outside = await probeFromOutside(ctx, ev, { web, db, policies, kubectl });
    problems.push(...outside.problems);
    ev.measure('outsideCells', outside.cells);
    if (problems.length === 0 && comparison.diffs.length === 0) {
      return verdictOf(
        [],
        `observed = expected on all ${comparison.summary.cells} cells; web→db:3306 open, every other ` +
          `source→db closed; from outside (another namespace, web labels copied there, an unlabelled pod, a ` +
          `node's host network) no db port or the db Service is reachable, ${outside.cells} cells (${engine})`,
      );
    }
    return problems.length ? verdictOf(problems, '') : fail('the observed matrix differs from the expected one');
  },
};

interface OutsideInput {
  web: V1Pod[];
  db: V1Pod[];
  policies: V1NetworkPolicy[];
  kubectl: KubectlRunner;
}

/** The outside sources' probes of every member's ports and the db Service, against the evaluator. */
async function probeFromOutside(
  ctx: ProveContext,
  ev: Evidence,
  input: OutsideInput,
): Promise<{ problems: string[]; cells: number }> {
  const web0 = input.web[0];
  const nginx = web0?.spec?.containers.find((c) => c.name === 'nginx') ?? web0?.spec?.containers[0];
  if (!web0 || !nginx?.image) return { problems: ['no web pod image to run the outside probes with'], cells: 0 };
  const nodes = (await ctx.kube.json<List<V1Node>>(['get', 'nodes'], { clusterScope: true })).items;
  const hostNode = hostSourceNode(
    nodes.map((n) => n.metadata?.name ?? ''),
    input.db,
  );
  const node = nodes.find((n) => n.metadata?.name === hostNode);
  const hostIp = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!hostNode || !hostIp) return { problems: ['no node with an InternalIP for the host-network probe'], cells: 0 };
  const { 'pod-template-hash': _hash, ...webLabels } = web0.metadata?.labels ?? {};
  const pods = outsidePods(
    ctx.namespace,
    {
      image: nginx.image,
      pullPolicy: nginx.imagePullPolicy ?? 'IfNotPresent',
      pullSecrets: pullSecretsOf(web0.spec),
    },
    webLabels,
    hostNode,
  );
  ctx.note('starting the outside probe pods');
  const cleanup = await startOutsidePods(ctx.kube, ctx.namespace, pods, ev);
  try {
    const sources = outsideSources(ctx.namespace, hostNode, hostIp);
    const dns = (
      await ctx.kube
        .json<V1Service>(['-n', 'kube-system', 'get', 'service', 'kube-dns'], { clusterScope: true })
        .catch(() => undefined)
    )?.spec?.clusterIP;
    if (!dns)
      return {
        problems: ['the cluster has no kube-dns Service in kube-system: nothing shows that the outside probes ran'],
        cells: 0,
      };
    const services = (
      await ctx.kube.json<List<V1Service>>(['get', 'services', '-l', componentSelector(ctx.release, 'db')], { ev })
    ).items;
    const client = services.find(
      (s) => s.spec?.clusterIP && s.spec.clusterIP !== 'None' && (s.spec.ports ?? []).some((p) => p.port === 3306),
    );
    const svcTarget: Target | undefined = client?.spec?.clusterIP
      ? { to: ipEndpoint(client.spec.clusterIP), port: 3306 }
      : undefined;
    if (!svcTarget)
      return { problems: [`release '${ctx.release}' has no db Service with a ClusterIP on 3306`], cells: 0 };
    // Model: the release's namespace (now with the unlabelled pod) and the outside namespace.
    const namespaces = (await ctx.kube.json<List<V1Namespace>>(['get', 'namespaces'], { clusterScope: true })).items;
    const podsNow = [
      ...(await ctx.kube.json<List<V1Pod>>(['get', 'pods'])).items,
      ...(
        await ctx.kube.json<List<V1Pod>>(['-n', outsideNamespace(ctx.namespace), 'get', 'pods'], { clusterScope: true })
      ).items,
    ].filter(isPolicyGoverned);
    const model = buildModel({
      namespaces: namespaces.map(namespaceInfo),
      pods: podsNow.map(podInfo),
      policies: input.policies,
    });
    const members: DbTarget[] = input.db.flatMap((p) =>
      DB_PORTS.map((port) => ({ to: podEndpoint(ctx.namespace, podName(p)), port, node: p.spec?.nodeName ?? '' })),
    );
    const expected = outsideExpected(sources, members, { name: targetName(svcTarget), port: 3306 }, (from, t) => {
      const v = evaluate(model, { from, to: t.to, port: t.port, protocol: 'TCP' });
      // NetworkPolicy always lets a pod's own node in: such a cell is left out of the judgement.
      const sameNode = from.kind === 'ip' && (t as DbTarget).node === hostNode;
      return { open: v.allowed, reason: v.reason, loopback: sameNode };
    });
    const dnsTarget: Target = { to: ipEndpoint(dns), port: 53 };
    const targets = resolveTargets([...members, svcTarget, dnsTarget], podsNow.map(podInfo));
    ctx.note(`probing from outside: ${sources.length} sources × ${targets.length} targets`);
    const observed = await runProbes(
      input.kubectl,
      sources.map((s) => ({ namespace: s.namespace, pod: s.pod })),
      targets,
      { timeoutSeconds: 3, concurrency: 2 },
    );
    ev.add(
      `$ kubectl exec <each outside source> -- bash -c '<connect to every db ` +
        `member port, the db Service and DNS, 3 s timeout>'   (src/netpol/probe.ts)`,
    );
    const problems = judgeOutside(expected, sources);
    // Each source must have run: cluster DNS answers on TCP 53 from anywhere the release's policies do not govern.
    const dnsColumn = targetName(dnsTarget);
    for (const s of sources) {
      const cell = observed.cells[s.row]?.[dnsColumn];
      ev.add(`  ${s.what}: DNS ${dns}:53 ${cell?.result ?? 'not probed'}`);
      if (cell?.result !== 'open')
        problems.push(
          `${s.what} could not reach cluster DNS (${cell?.result ?? 'no result'}` +
            `${cell?.detail ? `, ${cell.detail}` : ''}): its probes prove nothing`,
        );
      delete observed.cells[s.row]?.[dnsColumn];
    }
    const comparison = compareMatrices(expected, observed);
    for (const line of formatTable(comparison).split('\n')) ev.add(`  ${line}`);
    for (const d of comparison.diffs)
      problems.push(
        `from outside, ${d.row} → ${d.column}: expected ${d.expected}, ` +
          `observed ${d.observed ?? 'nothing'}${d.detail ? ` (${d.detail})` : ''}`,
      );
    return { problems, cells: comparison.summary.cells };
  } finally {
    ctx.note('removing the outside probe pods');
    await cleanup();
  }
}
