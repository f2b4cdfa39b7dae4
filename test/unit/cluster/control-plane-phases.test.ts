import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkUpOptions,
  nodeSettingsFor,
  planUp,
  portInUse,
  portsToCheck,
  rollbackPlan,
  type PlanInput,
  type RollbackInput,
} from '../../../src/cluster/control-plane-phases.js';
import {
  controlPlaneOrder,
  defaultNetwork,
  type ControlPlaneComponent,
} from '../../../src/cluster/control-plane-spec.js';
import { clusterLayout } from '../../../src/cluster/layout.js';
import { networkPlanFor } from '../../../src/cluster/nodes/cluster-nodes.js';
import type { ClusterState } from '../../../src/cluster/state.js';
import { UserError } from '../../../src/util/errors.js';

const layout = clusterLayout('demo', '/state');
const binaries = {
  etcd: '/b/etcd',
  'kube-apiserver': '/b/api',
  'kube-controller-manager': '/b/cm',
  'kube-scheduler': '/b/sched',
};
const savedPorts = { etcdClient: 2379, etcdPeer: 2380, apiserver: 6443, controllerManager: 10257, scheduler: 10259 };
const newPorts = { etcdClient: 41001, etcdPeer: 41002, apiserver: 41003, controllerManager: 41004, scheduler: 41005 };
const fresh = { createdAt: '2030-01-02T03:04:05.000Z', ports: newPorts };

function saved(over: Partial<ClusterState> = {}): ClusterState {
  return {
    version: 1,
    name: 'demo',
    createdAt: '2029-12-31T00:00:00.000Z',
    ports: { ...savedPorts },
    network: { ...defaultNetwork },
    components: {},
    ...over,
  };
}

/** A process check that must not be asked (a new cluster records no processes). */
const neverAsked: PlanInput['isRunning'] = (entry) => {
  throw new Error(`isRunning asked about pid ${entry.pid}`);
};

describe('up, phase 1: options against the saved cluster', () => {
  const rejects = (fn: () => void, message: RegExp): void => {
    assert.throws(fn, (err: unknown) => err instanceof UserError && message.test(err.message));
  };

  it('accepts anything for a cluster that does not exist yet', () => {
    checkUpOptions('demo', { apiPort: 7000, nodes: { count: 5 } }, undefined);
    checkUpOptions('demo', {}, undefined);
  });

  it('accepts the saved values again, and no values at all', () => {
    checkUpOptions('demo', { apiPort: 6443 }, saved());
    checkUpOptions('demo', { nodes: { count: 3 } }, saved({ nodeSettings: { count: 3 } }));
    checkUpOptions('demo', {}, saved({ nodeSettings: { count: 3 } }));
  });

  it('--api-port that differs from the saved port: names the flag, the port in use and both ways out', () => {
    rejects(() => {
      checkUpOptions('demo', { apiPort: 7000 }, saved());
    }, /^--api-port 7000: cluster 'demo' already uses port 6443; drop --api-port, or run 'kstack cluster down --name demo' first$/);
  });

  it('--nodes on a cluster created as a control plane only', () => {
    rejects(() => {
      checkUpOptions('demo', { nodes: { count: 3 } }, saved());
    }, /^cluster 'demo' was created as a control plane without nodes; run 'kstack cluster down --name demo' first, or add --control-plane$/);
  });

  it('--nodes with another count than the cluster has', () => {
    rejects(() => {
      checkUpOptions('demo', { nodes: { count: 5 } }, saved({ nodeSettings: { count: 3 } }));
    }, /^--nodes 5: cluster 'demo' already has 3 nodes; drop --nodes, or run 'kstack cluster down --name demo' first$/);
  });

  it('checks the port before the nodes', () => {
    rejects(() => {
      checkUpOptions('demo', { apiPort: 7000, nodes: { count: 5 } }, saved({ nodeSettings: { count: 3 } }));
    }, /^--api-port 7000/);
  });
});

describe('up, phase 2: the plan', () => {
  it('keeps the node settings of a saved cluster, else takes the requested ones', () => {
    assert.deepEqual(nodeSettingsFor(undefined, { nodes: { count: 2 } }), { count: 2 });
    assert.equal(nodeSettingsFor(undefined, {}), undefined);
    assert.deepEqual(nodeSettingsFor(saved({ nodeSettings: { count: 3 } }), {}), { count: 3 });
    // A control plane without nodes stays one (phase 1 refuses --nodes for it).
    assert.equal(nodeSettingsFor(saved(), { nodes: { count: 3 } }), undefined);
  });

  it('a new control plane only: the chosen ports, the default network, every component to start', () => {
    const plan = planUp({
      layout,
      existing: undefined,
      nodeSettings: undefined,
      binaries,
      fresh,
      isRunning: neverAsked,
    });
    assert.equal(plan.fresh, true);
    assert.deepEqual(plan.state, {
      version: 1,
      name: 'demo',
      createdAt: fresh.createdAt,
      ports: newPorts,
      network: defaultNetwork,
      components: {},
    });
    assert.equal(plan.server, 'https://127.0.0.1:41003');
    assert.deepEqual(
      plan.specs.map((s) => s.name),
      [...controlPlaneOrder],
    );
    assert.deepEqual(
      plan.toStart.map((s) => s.name),
      [...controlPlaneOrder],
    );
    assert.ok(plan.specs.find((s) => s.name === 'kube-apiserver')?.args.includes('--endpoint-reconciler-type=none'));
    assert.deepEqual(portsToCheck(plan.toStart, plan.state.ports), [
      { component: 'etcd', port: 41001 },
      { component: 'etcd', port: 41002 },
      { component: 'kube-apiserver', port: 41003 },
      { component: 'kube-controller-manager', port: 41004 },
      { component: 'kube-scheduler', port: 41005 },
    ]);
  });

  it('a new cluster with nodes: records the node settings and advertises the API server on the node bridge', () => {
    const nodeSettings = { count: 3 };
    const plan = planUp({ layout, existing: undefined, nodeSettings, binaries, fresh, isRunning: neverAsked });
    const gateway = networkPlanFor('demo', nodeSettings).gateway;
    assert.deepEqual(plan.state.nodeSettings, nodeSettings);
    assert.deepEqual(plan.state.network, { ...defaultNetwork, advertiseAddress: gateway });
    assert.ok(plan.specs.find((s) => s.name === 'kube-apiserver')?.args.includes(`--advertise-address=${gateway}`));
  });

  it(
    'a saved cluster: reuses the state object itself, ' + 'its ports and network, and starts only what is not running',
    () => {
      const existing = saved({
        network: { ...defaultNetwork, advertiseAddress: '10.200.0.1' },
        nodeSettings: { count: 3 },
        components: {
          etcd: { pid: 11, binary: '/b/etcd' },
          'kube-apiserver': { pid: 12, binary: '/b/api' },
          'kube-controller-manager': { pid: 13, binary: '/b/cm' }, // recorded, but no longer running
        },
      });
      const asked: number[] = [];
      const plan = planUp({
        layout,
        existing,
        nodeSettings: existing.nodeSettings,
        binaries,
        isRunning: (entry) => {
          asked.push(entry.pid);
          return entry.pid !== 13;
        },
      });
      assert.equal(plan.fresh, false);
      assert.equal(plan.state, existing);
      assert.equal(plan.server, 'https://127.0.0.1:6443');
      assert.deepEqual(
        plan.toStart.map((s) => s.name),
        ['kube-controller-manager', 'kube-scheduler'],
      );
      assert.deepEqual(asked, [11, 12, 13], 'only recorded processes are checked');
      assert.ok(
        plan.specs.find((s) => s.name === 'etcd')?.args.includes('--listen-client-urls=https://127.0.0.1:2379'),
      );
      assert.ok(plan.specs.find((s) => s.name === 'kube-apiserver')?.args.includes('--advertise-address=10.200.0.1'));
      assert.deepEqual(portsToCheck(plan.toStart, plan.state.ports), [
        { component: 'kube-controller-manager', port: 10257 },
        { component: 'kube-scheduler', port: 10259 },
      ]);
    },
  );

  it('a saved cluster whose components all run: nothing to start, no port to check', () => {
    const existing = saved({
      components: Object.fromEntries(controlPlaneOrder.map((c, i) => [c, { pid: 100 + i, binary: binaries[c] }])),
    });
    const plan = planUp({ layout, existing, nodeSettings: undefined, binaries, isRunning: () => true });
    assert.deepEqual(plan.toStart, []);
    assert.deepEqual(portsToCheck(plan.toStart, plan.state.ports), []);
  });

  it('a new cluster without chosen ports is a programming error', () => {
    assert.throws(
      () => planUp({ layout, existing: undefined, nodeSettings: undefined, binaries, isRunning: neverAsked }),
      /needs its creation time and ports/,
    );
  });

  it('a taken port names the component, the address and the way out', () => {
    const err = portInUse('demo', 'kube-scheduler', 10259);
    assert.ok(err instanceof UserError);
    assert.equal(
      err.message,
      'kube-scheduler cannot start: 127.0.0.1:10259 is in use by another program; ' +
        "stop it, or run 'kstack cluster down --name demo' and 'up' again to choose new ports",
    );
  });
});

describe('up: what a failure undoes', () => {
  // The phases after the plan, and which control-plane components this `up` has started when one of them
  // fails (a component counts as started once its process runs, even if it never turns healthy). A failure
  // before these (validation, plan, building binaries, a taken port) comes before anything is written or
  // started, so there is nothing to undo.
  const all: ControlPlaneComponent[] = [...controlPlaneOrder];
  const failures: { phase: string; started: ControlPlaneComponent[] }[] = [
    { phase: 'write state, certificates and kubeconfigs', started: [] },
    { phase: 'start etcd', started: ['etcd'] },
    { phase: 'start kube-apiserver', started: ['etcd', 'kube-apiserver'] },
    { phase: 'start kube-controller-manager', started: ['etcd', 'kube-apiserver', 'kube-controller-manager'] },
    { phase: 'start kube-scheduler', started: all },
    { phase: 'wait for the default service account', started: all },
    { phase: 'nodes and add-ons', started: all },
  ];
  const input = (over: Partial<RollbackInput>): RollbackInput => ({
    fresh: true,
    withNodes: false,
    started: [],
    userKubeconfig: undefined,
    keepFailed: false,
    ...over,
  });

  for (const { phase, started } of failures) {
    it(`new cluster, failure at '${phase}': stops what started, newest first, and removes the cluster`, () => {
      assert.deepEqual(rollbackPlan(input({ started, userKubeconfig: '/home/u/.kube/demo' })), {
        stopNodesAndAddons: false,
        stop: [...started].reverse(),
        removeUserKubeconfig: '/home/u/.kube/demo',
        removeClusterFolder: true,
        saveState: false,
      });
    });

    it(`saved cluster with nodes, failure at '${phase}': stops nodes and what started, keeps the files`, () => {
      assert.deepEqual(
        rollbackPlan(input({ fresh: false, withNodes: true, started, userKubeconfig: '/home/u/.kube/demo' })),
        {
          stopNodesAndAddons: true,
          stop: [...started].reverse(),
          removeClusterFolder: false,
          saveState: true,
        },
      );
    });
  }

  it('leaves alone the components that ran before this up', () => {
    // etcd and the API server ran already; this up restarted the other two and failed.
    const plan = rollbackPlan(input({ fresh: false, started: ['kube-controller-manager', 'kube-scheduler'] }));
    assert.deepEqual(plan.stop, ['kube-scheduler', 'kube-controller-manager']);
  });

  it('a new cluster without --kubeconfig removes no other file', () => {
    assert.equal(rollbackPlan(input({ started: ['etcd'] })).removeUserKubeconfig, undefined);
  });

  it('KSTACK_KEEP_FAILED=1 undoes nothing, whatever failed', () => {
    for (const fresh of [true, false]) {
      assert.deepEqual(
        rollbackPlan(input({ fresh, withNodes: true, started: all, userKubeconfig: '/k', keepFailed: true })),
        {
          stopNodesAndAddons: false,
          stop: [],
          removeClusterFolder: false,
          saveState: false,
        },
      );
    }
  });
});
