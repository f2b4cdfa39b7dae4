// NetworkPolicy is enforced on the local cluster, proven with real connections: kube-router's firewall
// on every node, probes from inside pods (src/netpol/probe.ts), compared with our evaluator's expected
// matrix. Pods on different nodes and on the same node; ingress and egress; TCP, UDP and DNS; deleting
// the policy reopens traffic; and a control run with the engine stopped, which must be caught.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCanary, kubectlRunner } from '../../src/cluster/addons/netpol-canary-run.js';
import { nodeLogFile } from '../../src/cluster/nodes/node-agents.js';
import { defaultNodeSettings, networkPlanFor } from '../../src/cluster/nodes/cluster-nodes.js';
import { nodeLayout } from '../../src/cluster/nodes/node-layout.js';
import { readState } from '../../src/cluster/state.js';
import { cellText, expectedMatrix, type Comparison, type Target } from '../../src/netpol/matrix.js';
import { buildModel, podEndpoint } from '../../src/netpol/evaluator.js';
import {
  compareAndRender,
  listModelInput,
  resolveTargets,
  runProbes,
  type KubectlRunner,
  type ProbeSource,
} from '../../src/netpol/probe.js';
import { probePod } from '../../src/netpol/probe-pods.js';
import { UserError } from '../../src/util/errors.js';
import { executableOf, stopDaemon } from '../../src/util/process.js';
import { createProgress } from '../../src/util/progress.js';
import { LocalTestCluster } from '../helpers/local-cluster.js';

const progress = createProgress();
// Not useLocalCluster: the control run stops the engine and brings the cluster up again itself.
const cluster = new LocalTestCluster('netpol-e2e', progress);
let k: KubectlRunner;

const APP = 'np-app';
const OTHER = 'np-other';

const kubectl = (args: string[], input?: string): Promise<string> => cluster.kubectl(args, input);
const apply = (objects: object[]): Promise<string> =>
  kubectl(['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));

/** nginx on 3306 (named "mysql") and 8080, a UDP echo server on 5353: every probed port really listens. */
const serverPod = (namespace: string, name: string, app: string, node: string): object =>
  probePod({
    namespace,
    name,
    labels: { app },
    node,
    tcpPorts: [{ port: 3306, name: 'mysql' }, { port: 8080 }],
    udpPort: 5353,
  });

const sources: ProbeSource[] = [
  { namespace: APP, pod: 'web' }, // web-1: another node than db
  { namespace: APP, pod: 'web-same' }, // db-1: the same node as db
  { namespace: APP, pod: 'other' }, // db-1, not a web pod
  { namespace: OTHER, pod: 'web' }, // web-1, a web pod in another namespace
];
const db = podEndpoint(APP, 'db');
let dnsPod = podEndpoint('kube-system', 'coredns');
const targets = (): Target[] => [
  { to: db, port: 3306 },
  { to: db, port: 8080 },
  { to: db, port: 5353, protocol: 'UDP' },
  { to: dnsPod, port: 53 },
];

interface Round {
  ok: boolean;
  table: string;
  differences: string;
  comparison: Comparison;
}

/** One round: the expected matrix from the live objects, the observed one from real connections. */
async function round(): Promise<Round> {
  const input = await listModelInput(k, [APP, OTHER, 'kube-system']);
  const expected = expectedMatrix(
    buildModel(input),
    sources.map((s) => podEndpoint(s.namespace, s.pod)),
    targets(),
  );
  const observed = await runProbes(k, sources, resolveTargets(targets(), input.pods), { timeoutSeconds: 2 });
  const { comparison, table, differences } = compareAndRender(expected, observed);
  return { ok: comparison.ok, table, differences, comparison };
}

/** Rounds until one matches (the engine converges), then `stable` more in a row must match too. */
async function converge(what: string, stable = 3, timeoutMs = 60_000): Promise<{ ms: number; last: Round }> {
  const t0 = Date.now();
  let last = await round();
  while (!last.ok) {
    if (Date.now() - t0 > timeoutMs)
      assert.fail(`${what}: no match after ${timeoutMs / 1000} s\n${last.table}\n${last.differences}`);
    await sleep(250);
    last = await round();
  }
  const ms = Date.now() - t0;
  for (let i = 0; i < stable; i++) {
    const r = await round();
    assert.ok(r.ok, `${what}: round ${i + 1} of ${stable} after convergence mismatched\n${r.table}\n${r.differences}`);
    last = r;
  }
  return { ms, last };
}

const ingressPolicies = (): object[] => [
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'default-deny', namespace: APP },
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-web-to-db', namespace: APP },
    spec: {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      // The named port "mysql" is 3306 on the db pod.
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { app: 'web' } } }],
          ports: [{ port: 'mysql' }, { port: 5353, protocol: 'UDP' }],
        },
      ],
    },
  },
];

const egressPolicies = (): object[] => [
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'default-deny', namespace: APP },
    spec: { podSelector: {}, policyTypes: ['Egress'] },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-web-to-db', namespace: APP },
    spec: {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ podSelector: { matchLabels: { app: 'db' } } }],
          ports: [
            { port: 3300, endPort: 3310 },
            { port: 5353, protocol: 'UDP' },
          ],
        },
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
          ],
        },
      ],
    },
  },
];

const deletePolicies = (): Promise<string> => kubectl(['-n', APP, 'delete', 'networkpolicy', '--all', '--wait=true']);

/** A cell as the table prints it: ✓/✗ when observed as expected, "expected≠observed" otherwise. */
function cell(r: Round, source: string, column: string): string {
  const c = r.comparison.cells[r.comparison.rows.indexOf(source)]?.[r.comparison.columns.indexOf(column)];
  if (!c) assert.fail(`no cell ${source} → ${column} in\n${r.table}`);
  return cellText(c);
}

describe('NetworkPolicy enforcement on the local cluster', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    await cluster.start();
    k = kubectlRunner(cluster.kubectlBin, cluster.up.kubeconfig);
    await apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APP } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OTHER } },
      serverPod(APP, 'db', 'db', 'db-1'),
      serverPod(APP, 'web', 'web', 'web-1'),
      serverPod(APP, 'web-same', 'web', 'db-1'),
      serverPod(APP, 'other', 'other', 'db-1'),
      serverPod(OTHER, 'web', 'web', 'web-1'),
    ]);
    for (const ns of [APP, OTHER])
      await kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'pods', '--all', '--timeout=120s']);
    const coredns = (
      await kubectl([
        '-n',
        'kube-system',
        'get',
        'pods',
        '-l',
        'k8s-app=kube-dns',
        '--field-selector=status.phase=Running',
        '-o',
        'jsonpath={.items[0].metadata.name}',
      ])
    ).trim();
    dnsPod = podEndpoint('kube-system', coredns);
  });
  after(() => cluster.remove([APP, OTHER]));

  it('reported Ready only after the canary proved enforcement on every node', async () => {
    // The canary leaves its pods (one server per node) and never its deny policy.
    const servers = await kubectl([
      '-n',
      'kstack-system',
      'get',
      'pods',
      '-l',
      'app.kubernetes.io/component=server',
      '-o',
      'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}',
    ]);
    assert.deepEqual(servers.split('\n').filter(Boolean).sort(), ['db-1', 'db-2', 'web-1']);
    assert.equal((await kubectl(['-n', 'kstack-system', 'get', 'networkpolicy', '-o', 'name'])).trim(), '');
  });

  it('without policies every probed port is open (the probe sees listening ports)', async () => {
    const { last } = await converge('no policies', 0);
    assert.equal(cell(last, `${APP}/other`, `${APP}/db:8080`), '✓');
  });

  it(
    'ingress: default-deny plus allow-web-to-db:3306 is enforced ' +
      'exactly as the evaluator says, three rounds in a row',
    async () => {
      await apply(ingressPolicies());
      const { ms, last } = await converge('ingress policies');
      console.log(`ingress policies enforced ${ms} ms after apply\n${last.table}`);
      const db3306 = `${APP}/db:3306`;
      assert.equal(cell(last, `${APP}/web`, db3306), '✓', 'web → db:3306 open (other node)');
      assert.equal(cell(last, `${APP}/web-same`, db3306), '✓', 'web → db:3306 open (same node)');
      assert.equal(cell(last, `${APP}/web`, `${APP}/db:8080`), '✗', 'web → db:other port closed');
      assert.equal(
        cell(last, `${APP}/other`, db3306),
        '✗',
        'other → db:3306 closed (same node: the bridge traffic is filtered)',
      );
      assert.equal(cell(last, `${OTHER}/web`, db3306), '✗', 'a web pod of another namespace is not allowed');
      assert.equal(cell(last, `${APP}/web`, `${APP}/db:5353/UDP`), '✓', 'UDP allowed for web');
      assert.equal(cell(last, `${APP}/other`, `${APP}/db:5353/UDP`), '✗', 'UDP closed for other');
      assert.equal(
        cell(last, `${APP}/other`, `kube-system/${dnsPod.kind === 'pod' ? dnsPod.name : ''}:53`),
        '✓',
        'DNS open: no egress policy',
      );
    },
  );

  it('deleting the policies reopens traffic within seconds', async () => {
    const t0 = Date.now();
    await deletePolicies();
    const { ms } = await converge('after deleting the policies', 0, 30_000);
    console.log(`traffic reopened ${Date.now() - t0} ms after the delete was issued (${ms} ms of probing)`);
  });

  it('egress: the same matrix from egress policies, DNS only where allowed', async () => {
    await apply(egressPolicies());
    const { ms, last } = await converge('egress policies');
    console.log(`egress policies enforced ${ms} ms after apply\n${last.table}`);
    const db3306 = `${APP}/db:3306`;
    const dns = `kube-system/${dnsPod.kind === 'pod' ? dnsPod.name : ''}:53`;
    assert.equal(cell(last, `${APP}/web`, db3306), '✓');
    assert.equal(cell(last, `${APP}/web`, `${APP}/db:8080`), '✗');
    assert.equal(cell(last, `${APP}/other`, db3306), '✗');
    assert.equal(cell(last, `${APP}/web`, dns), '✓', 'web may reach DNS');
    assert.equal(cell(last, `${APP}/other`, dns), '✗', 'other may not');
    assert.equal(cell(last, `${OTHER}/web`, db3306), '✓', 'no policy on the other namespace nor on db ingress');
    // Real name resolution (UDP through the kube-dns Service) where allowed, and not elsewhere.
    const resolve = (pod: string): Promise<string> =>
      kubectl([
        '-n',
        APP,
        'exec',
        pod,
        '--',
        'bash',
        '-c',
        'timeout 4 getent hosts kubernetes.default.svc.cluster.local && echo resolved || echo failed',
      ]);
    assert.match(await resolve('web'), /resolved/);
    assert.match(await resolve('other'), /failed/);
    await deletePolicies();
    await converge('after deleting the egress policies', 0, 30_000);
  });

  it('control run: with kube-router stopped, the canary refuses and the probe shows the mismatch', async () => {
    const state = readState(cluster.up.layout.stateFile);
    const net = networkPlanFor(cluster.name, defaultNodeSettings(3));
    for (const node of state?.nodes ?? []) {
      const e = node.components['kube-router'];
      if (e) await stopDaemon(e.pid, e.binary);
    }
    try {
      await assert.rejects(
        runCanary(
          {
            kubectl: cluster.kubectlBin,
            kubeconfig: cluster.up.kubeconfig,
            enforceSeconds: 6,
            nodes: net.nodes.map((n) => ({
              name: n.name,
              netns: n.netns,
              log: nodeLogFile(nodeLayout(cluster.up.layout, n.name), 'kube-router'),
              engineRunning: () => {
                const e = state?.nodes?.find((s) => s.name === n.name)?.components['kube-router'];
                return e !== undefined && executableOf(e.pid) === e.binary;
              },
            })),
          },
          { detail: () => undefined },
        ),
        (err: unknown) =>
          err instanceof UserError &&
          /NetworkPolicy is NOT enforced on node\(s\) web-1, db-1, db-2:[\s\S]*kube-router is NOT running/.test(
            err.message,
          ),
      );
      await apply(ingressPolicies());
      await sleep(3000);
      const r = await round();
      console.log(`control run (engine stopped):\n${r.table}\n${r.differences}`);
      assert.equal(r.ok, false, 'the probe must catch non-enforcement');
      assert.equal(cell(r, `${APP}/other`, `${APP}/db:3306`), '✗≠✓');
    } finally {
      await deletePolicies();
    }
    // `up` starts the engine again, and its canary passes.
    await cluster.start();
    await apply(ingressPolicies());
    await converge('ingress policies after the engine restarted');
    await deletePolicies();
  });
});
