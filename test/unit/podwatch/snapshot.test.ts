import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { diffPods, relistEvents, snapshotOf, podKey, type PodSnapshot } from '../../../src/podwatch/snapshot.js';

const basePod = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  metadata: {
    name: 'web-1',
    namespace: 'shop',
    uid: 'u1',
    resourceVersion: '10',
    labels: { app: 'web' },
    annotations: { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': 'y'.repeat(5000) },
    managedFields: [{ manager: 'kubectl', time: '2026-01-01T00:00:00Z' }],
  },
  spec: { nodeName: 'n1', containers: [{ name: 'app' }], initContainers: [{ name: 'init' }] },
  status: {
    phase: 'Running',
    podIP: '10.0.0.1',
    conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }],
    containerStatuses: [
      { name: 'app', ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } },
    ],
    initContainerStatuses: [
      { name: 'init', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
    ],
  },
  ...over,
});

type Obj = Record<string, unknown>;
interface TestPod {
  metadata: Obj;
  spec: Obj;
  status: Obj & { conditions: Obj[]; containerStatuses: Obj[]; initContainerStatuses: Obj[] };
}

function withChanges(mutate: (p: TestPod) => void): PodSnapshot {
  const p = structuredClone(basePod()) as unknown as TestPod;
  mutate(p);
  return snapshotOf(p);
}

describe('snapshotOf', () => {
  it('keeps only what diffs need: no managedFields, long annotations as digests', () => {
    const s = snapshotOf(basePod());
    assert.equal(podKey(s), 'shop/web-1');
    assert.equal(s.phase, 'Running');
    assert.equal(s.node, 'n1');
    assert.deepEqual(s.podIPs, ['10.0.0.1']);
    assert.deepEqual(s.conditions, { Ready: 'True' });
    assert.equal(s.containers[0]?.state, 'running');
    assert.equal(s.initContainers[0]?.state, 'terminated:Completed:0');
    assert.match(s.annotations['kubectl.kubernetes.io/last-applied-configuration'] ?? '', /^sha256:[0-9a-f]{16}$/);
    assert.ok(!JSON.stringify(s).includes('managedFields') && JSON.stringify(s).length < 800, 'small snapshot');
  });

  it('tolerates missing status and spec (a pod just created)', () => {
    const s = snapshotOf({ metadata: { name: 'a', namespace: 'b', uid: 'u' } });
    assert.equal(s.phase, 'Unknown');
    assert.deepEqual(s.containers, []);
  });
});

describe('diffPods', () => {
  const a = snapshotOf(basePod());

  it('ignores noise: resourceVersion, managedFields, heartbeat timestamps', () => {
    const b = withChanges((p) => {
      p.metadata.resourceVersion = '99';
      p.metadata.managedFields = [{ manager: 'other' }];
      p.status.conditions[0]!.lastProbeTime = '2026-02-02T00:00:00Z';
      p.status.conditions[0]!.lastTransitionTime = '2026-02-02T00:00:00Z';
      p.status.containerStatuses[0]!.state = { running: { startedAt: '2026-02-02T00:00:00Z' } };
    });
    assert.deepEqual(diffPods(a, b), []);
  });

  it(
    'reports phase, conditions, container states with reasons and exit codes, ' +
      'restarts, node, IPs, labels, annotations, terminating',
    () => {
      const b = withChanges((p) => {
        p.status.phase = 'Failed';
        p.status.conditions = [
          { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
          { type: 'PodScheduled', status: 'True' },
        ];
        p.status.containerStatuses[0] = {
          name: 'app',
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
        };
        p.spec.nodeName = 'n2';
        p.status.podIP = '10.0.0.2';
        p.metadata.labels = { app: 'web', tier: 'fe' };
        p.metadata.annotations = { note: 'z', 'kubectl.kubernetes.io/last-applied-configuration': 'y'.repeat(5000) };
        p.metadata.deletionTimestamp = '2026-02-02T00:00:00Z';
      });
      assert.deepEqual(diffPods(a, b), [
        { field: 'phase', from: 'Running', to: 'Failed' },
        { field: 'condition.PodScheduled', to: 'True' },
        { field: 'condition.Ready', from: 'True', to: 'False:ContainersNotReady' },
        { field: 'container.app.state', from: 'running', to: 'waiting:CrashLoopBackOff' },
        { field: 'container.app.lastTerminated', to: 'OOMKilled:137' },
        { field: 'container.app.restartCount', from: '0', to: '4' },
        { field: 'container.app.ready', from: 'true', to: 'false' },
        { field: 'node', from: 'n1', to: 'n2' },
        { field: 'podIPs', from: '10.0.0.1', to: '10.0.0.2' },
        { field: 'label.tier', to: 'fe' },
        { field: 'annotation.note', from: 'x', to: 'z' },
        { field: 'terminating', to: 'true' },
      ]);
    },
  );

  it('reports ImagePullBackOff on an init container', () => {
    const b = withChanges((p) => {
      p.status.initContainerStatuses[0]!.state = { waiting: { reason: 'ImagePullBackOff' } };
    });
    assert.deepEqual(diffPods(a, b), [
      { field: 'initContainer.init.state', from: 'terminated:Completed:0', to: 'waiting:ImagePullBackOff' },
    ]);
  });
});

describe('relistEvents', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const snap = (name: string, uid: string, labels: Record<string, string> = {}): PodSnapshot =>
    snapshotOf({
      metadata: { name, namespace: 'ns', uid, labels },
      spec: { containers: [] },
      status: { phase: 'Pending' },
    });
  const map = (...s: PodSnapshot[]): Map<string, PodSnapshot> => new Map(s.map((x) => [podKey(x), x]));

  it('finds creations, deletions during the gap, updates, and replacements (same name, new uid), all marked', () => {
    const cache = map(snap('keep', '1'), snap('gone', '2'), snap('changed', '3', { v: '1' }), snap('replaced', '4'));
    const fresh = map(snap('keep', '1'), snap('changed', '3', { v: '2' }), snap('replaced', '5'), snap('new', '6'));
    const ev = relistEvents(cache, fresh, now, false);
    assert.deepEqual(
      ev.map((e) => [e.type, e.pod.name, e.pod.uid, e.observedOnRelist]),
      [
        ['deleted', 'gone', '2', true],
        ['deleted', 'replaced', '4', true],
        ['updated', 'changed', '3', true],
        ['created', 'replaced', '5', true],
        ['created', 'new', '6', true],
      ],
    );
    assert.deepEqual(ev[2]?.changes, [{ field: 'label.v', from: '1', to: '2' }]);
  });

  it('the initial list is pods that already exist, not creations, and not marked as observed on relist', () => {
    const initial = relistEvents(new Map(), map(snap('a', '1'), snap('b', '2')), now, true);
    assert.deepEqual(
      initial.map((e) => [e.type, e.pod.name]),
      [
        ['existing', 'a'],
        ['existing', 'b'],
      ],
    );
    assert.equal(initial[0]?.observedOnRelist, undefined);
  });

  it('a later relist reports new pods as created, and an unchanged relist emits nothing', () => {
    assert.equal(
      relistEvents(map(snap('a', '1')), map(snap('a', '1'), snap('b', '2')), now, false)[0]?.type,
      'created',
    );
    assert.deepEqual(relistEvents(map(snap('a', '1')), map(snap('a', '1')), now, false), []);
  });
});
