import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLayout } from '../../../../src/cluster/layout.js';
import {
  agentKubeconfig,
  nodeAgents,
  nodeComponentOrder,
  type AgentContext,
  type NodeAgent,
} from '../../../../src/cluster/nodes/node-agents.js';
import { nodeLayout } from '../../../../src/cluster/nodes/node-layout.js';
import { planClusterNetwork } from '../../../../src/cluster/nodes/plan.js';
import { parseState } from '../../../../src/cluster/state.js';
import { nodeComponents } from '../../../../src/setup/go-components.js';

const net = planClusterNetwork('demo', { count: 3 });
const layout = clusterLayout('demo', '/tmp/kstack-test');
const node = net.nodes[1];
if (!node) throw new Error('plan has no second node');
const nl = nodeLayout(layout, node.name);
const ctx = (name: string): AgentContext => ({
  net,
  node,
  nl,
  pki: layout.pki,
  cgroupRoot: '/kstack-demo-db-1',
  kubeconfig: agentKubeconfig(nl, name),
});

describe('node agents table', () => {
  it('starts containerd first, then kubelet, then the other agents; names are unique', () => {
    assert.deepEqual(nodeComponentOrder.slice(0, 3), ['containerd', 'kubelet', 'kube-proxy']);
    assert.equal(new Set(nodeComponentOrder).size, nodeComponentOrder.length);
  });

  it('starts kube-router only once nodes are Ready (it reads its Node address at start)', () => {
    const agents: readonly NodeAgent[] = nodeAgents;
    assert.equal(agents.find((a) => a.name === 'kube-router')?.afterNodeReady, true);
    assert.equal(agents.find((a) => a.name === 'kubelet')?.afterNodeReady, undefined);
  });

  it('builds every agent from a Go component that nodes build', () => {
    for (const agent of nodeAgents)
      assert.ok(
        (nodeComponents as readonly string[]).includes(agent.component),
        `${agent.name} needs ${agent.component} in nodeComponents`,
      );
  });

  it('gives every agent a client certificate signed by the cluster CA, and the kubelet its node identity', () => {
    const agents: readonly NodeAgent[] = nodeAgents;
    for (const agent of agents) {
      const { cert } = agent.identity(node);
      assert.equal(cert.signer, 'ca');
      assert.deepEqual(cert.usage, ['client']);
    }
    const kubelet = nodeAgents.find((a) => a.name === 'kubelet');
    assert.deepEqual(kubelet?.identity(node), {
      user: 'system:node:db-1',
      cert: {
        name: 'node-db-1-client',
        commonName: 'system:node:db-1',
        organization: 'system:nodes',
        signer: 'ca',
        usage: ['client'],
        days: 365,
      },
    });
  });

  it('passes each agent its own kubeconfig and the node name', () => {
    const kubelet = nodeAgents.find((a) => a.name === 'kubelet');
    const args = kubelet?.args(ctx('kubelet')) ?? [];
    assert.ok(args.includes(`--kubeconfig=${nl.kubeletKubeconfig}`));
    assert.ok(args.includes('--hostname-override=db-1'));
    assert.ok(args.includes(`--node-ip=${node.ip}`));
    // kube-proxy reads its kubeconfig from its config file: the same path kstack writes.
    const proxy = nodeAgents.find((a) => a.name === 'kube-proxy');
    const files = proxy?.files(ctx('kube-proxy')) ?? [];
    assert.ok(files[0]?.content.includes(agentKubeconfig(nl, 'kube-proxy')));
  });
});

describe('state with node agents', () => {
  const base = {
    version: 1,
    name: 'demo',
    createdAt: '2026-01-01T00:00:00Z',
    ports: { etcdClient: 1, etcdPeer: 2, apiserver: 3, controllerManager: 4, scheduler: 5 },
    network: { serviceCIDR: '10.96.0.0/16', apiServiceIP: '10.96.0.1' },
    components: {},
  };
  it('accepts every component of the table for a node', () => {
    const components = Object.fromEntries(nodeComponentOrder.map((c, i) => [c, { pid: 100 + i, binary: `/bin/${c}` }]));
    const state = parseState(JSON.stringify({ ...base, nodes: [{ name: 'web-1', components }] }));
    assert.deepEqual(Object.keys(state.nodes?.[0]?.components ?? {}), [...nodeComponentOrder]);
  });
  it('still refuses a node component it does not know', () => {
    assert.throws(
      () =>
        parseState(
          JSON.stringify({
            ...base,
            nodes: [{ name: 'web-1', components: { 'kube-flannel': { pid: 1, binary: '/x' } } }],
          }),
        ),
      /nodes\[0\]\.components\.kube-flannel is not a node component/,
    );
  });
});
