import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import {
  CANARY_NAMESPACE,
  CANARY_PORT,
  canaryDenyPolicy,
  canaryFailureMessage,
  canaryObjects,
  nodesNotShowing,
  planCanary,
} from '../../../../src/cluster/addons/netpol-canary.js';
import { KUBE_ROUTER_USER, kubeRouterArgs, kubeRouterRBAC } from '../../../../src/cluster/addons/netpol-engine.js';
import { buildModel, evaluate, podEndpoint } from '../../../../src/netpol/evaluator.js';

interface Obj {
  kind: string;
  spec?: { template?: { metadata: { labels: Record<string, string> }; spec: { tolerations: unknown[] } } };
}

describe('canary objects', () => {
  const objects = canaryObjects() as Obj[];
  const template = (kind: string): NonNullable<NonNullable<Obj['spec']>['template']> => {
    const t = objects.find((o) => o.kind === kind)?.spec?.template;
    if (!t) throw new Error(`no ${kind}`);
    return t;
  };

  it('puts a server on every node, tainted ones included, and one client', () => {
    assert.deepEqual(
      objects.map((o) => o.kind),
      ['Namespace', 'DaemonSet', 'Deployment'],
    );
    assert.deepEqual(template('DaemonSet').spec.tolerations, [{ operator: 'Exists' }]);
  });

  it('has a deny policy that, by our evaluator, closes client→server and nothing else', () => {
    const server = template('DaemonSet').metadata.labels;
    const client = template('Deployment').metadata.labels;
    const pods = [
      { namespace: CANARY_NAMESPACE, name: 'server', labels: server, ips: ['10.244.1.5'] },
      { namespace: CANARY_NAMESPACE, name: 'client', labels: client, ips: ['10.244.0.5'] },
    ];
    const conn = (to: string) => ({
      from: podEndpoint(CANARY_NAMESPACE, to === 'server' ? 'client' : 'server'),
      to: podEndpoint(CANARY_NAMESPACE, to),
      port: CANARY_PORT,
    });
    const without = buildModel({ namespaces: [{ name: CANARY_NAMESPACE }], pods, policies: [] });
    const deny: V1NetworkPolicy = canaryDenyPolicy();
    const withDeny = buildModel({ namespaces: [{ name: CANARY_NAMESPACE }], pods, policies: [deny] });
    assert.equal(evaluate(without, conn('server')).allowed, true);
    assert.equal(evaluate(withDeny, conn('server')).allowed, false);
    assert.equal(evaluate(withDeny, conn('client')).allowed, true);
  });
});

describe('canary plan and judgement', () => {
  const nodes = ['web-1', 'db-1', 'db-2'];
  it('waits for nodes without a running server and for a running client', () => {
    const plan = planCanary(
      nodes,
      [{ name: 'c', node: 'web-1', running: false }],
      [
        { name: 's1', node: 'web-1', ip: '10.244.0.2', running: true },
        { name: 's2', node: 'db-1', ip: '10.244.1.2', running: false },
        { name: 's3', node: 'db-2', running: true },
      ],
    );
    assert.equal(plan.client, undefined);
    assert.deepEqual(plan.waitingFor, ['db-1', 'db-2']);
    assert.deepEqual([...plan.servers.keys()], ['web-1']);
  });

  it('lists servers in node order, whatever order the API returned them in', () => {
    const plan = planCanary(
      nodes,
      [],
      [
        { name: 's3', node: 'db-2', ip: '10.244.2.2', running: true },
        { name: 's1', node: 'web-1', ip: '10.244.0.2', running: true },
        { name: 's2', node: 'db-1', ip: '10.244.1.2', running: true },
      ],
    );
    assert.deepEqual([...plan.servers.keys()], nodes);
  });

  it('counts a probe error as not shown (never as enforcement)', () => {
    const results = new Map([
      ['web-1', { result: 'closed' as const, detail: 'refused-or-no-reply' }],
      ['db-1', { result: 'error' as const, detail: 'kubectl exec failed' }],
      ['db-2', { result: 'open' as const, detail: 'connected' }],
    ]);
    assert.deepEqual(nodesNotShowing('closed', results), ['db-1', 'db-2']);
    assert.deepEqual(nodesNotShowing('open', results), ['web-1', 'db-1']);
  });

  it('names the node, whether kube-router runs, its log and the commands to look at the rules', () => {
    const msg = canaryFailureMessage({
      phase: 'deny',
      nodes: ['db-2'],
      clientNode: 'web-1',
      seconds: 20,
      details: () => ({
        log: '/logs/db-2/kube-router.log',
        netns: 'kstack-x-db-2',
        engineRunning: false,
        logTail: 'F1125 failed to create network policy controller',
      }),
      observed: new Map([['db-2', { result: 'open', detail: 'connected' }]]),
    });
    assert.match(msg, /NetworkPolicy is NOT enforced on node\(s\) db-2/);
    assert.match(msg, /kube-router is NOT running/);
    assert.match(msg, /\/logs\/db-2\/kube-router\.log/);
    assert.match(msg, /nsenter --net=\/run\/netns\/kstack-x-db-2 ipset list -n/);
    assert.match(msg, /not reported Ready/);
    assert.match(msg, /its log ends with:\n\s+F1125 failed to create network policy controller/);
  });
});

describe('kube-router', () => {
  it('runs only the firewall controller, as the node, with the cluster service range', () => {
    const args = kubeRouterArgs({ nodeName: 'db-1', kubeconfig: '/k', serviceCIDR: '10.96.0.0/16' });
    for (const a of [
      '--run-firewall=true',
      '--run-router=false',
      '--run-service-proxy=false',
      '--hostname-override=db-1',
      '--kubeconfig=/k',
      '--service-cluster-ip-range=10.96.0.0/16',
    ]) {
      assert.ok(args.includes(a), a);
    }
  });

  it('may read what it watches and write nothing but events', () => {
    const [role] = kubeRouterRBAC() as { rules: { resources: string[]; verbs: string[] }[] }[];
    const writes = role?.rules
      .filter((r) => r.verbs.some((v) => !['get', 'list', 'watch'].includes(v)))
      .flatMap((r) => r.resources);
    assert.deepEqual(writes, ['events']);
    const reads = role?.rules.flatMap((r) => r.resources) ?? [];
    for (const r of ['pods', 'namespaces', 'nodes', 'networkpolicies']) assert.ok(reads.includes(r), r);
    const binding = kubeRouterRBAC()[1] as { subjects: { name: string }[] };
    assert.equal(binding.subjects[0]?.name, KUBE_ROUTER_USER);
  });
});
