// podwatch against the real API server: each kind of change produces exactly the event and the changes it should.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testCluster, TestNamespaces, type TestCluster } from '../../helpers/cluster.js';
import type { KubeApi } from '../../../src/podwatch/kubeapi.js';
import {
  apiFor,
  createPod,
  deletePod,
  patchPod,
  podManifest,
  startPodwatch,
  testConfig,
  waitEvents,
  type RunningPodwatch,
} from './harness.js';

describe('podwatch events against the real API server', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let ns: string;
  let api: KubeApi;
  let pw: RunningPodwatch;
  const node = `podwatch-node-${Math.random().toString(36).slice(2, 8)}`;

  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    ns = await namespaces.create('podwatch-ev');
    api = apiFor(cluster.kc);
    await api.request('/api/v1/nodes', {
      method: 'POST',
      contentType: 'application/json',
      body: { apiVersion: 'v1', kind: 'Node', metadata: { name: node } },
    });
    pw = await startPodwatch(cluster.kc, testConfig({ namespaces: [ns] }));
  });
  after(async () => {
    await pw.stop();
    await api.request(`/api/v1/nodes/${node}`, { method: 'DELETE' }).catch(() => undefined);
    api.close();
    await namespaces.cleanup();
  });

  it(
    'create → created; label, condition and container state ' +
      'patches → updated with exactly those changes; delete → deleted',
    async () => {
      const name = 'web-1';
      await createPod(api, ns, podManifest(name, { app: 'web' }));
      const [created] = await waitEvents(pw.sink, 'created event', (ev) => ev.some((e) => e.pod.name === name));
      assert.equal(created?.type, 'created');
      assert.equal(created?.pod.namespace, ns);
      assert.equal(created?.phase, 'Pending');
      assert.deepEqual(created?.labels, { app: 'web' });
      assert.ok(created?.resourceVersion);

      await patchPod(api, ns, name, { metadata: { labels: { tier: 'frontend' } } });
      let ev = await waitEvents(pw.sink, 'label update', (e) => e.length >= 2);
      assert.equal(ev[1]?.type, 'updated');
      assert.deepEqual(ev[1]?.changes, [{ field: 'label.tier', to: 'frontend' }]);

      await patchPod(
        api,
        ns,
        name,
        { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }] } },
        '/status',
      );
      ev = await waitEvents(pw.sink, 'condition update', (e) => e.length >= 3);
      assert.deepEqual(ev[2]?.changes, [{ field: 'condition.Ready', to: 'False:ContainersNotReady' }]);

      await patchPod(
        api,
        ns,
        name,
        {
          status: {
            containerStatuses: [
              {
                name: 'app',
                image: 'kstack/pause:test',
                imageID: '',
                ready: false,
                restartCount: 3,
                state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container' } },
                lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
              },
            ],
          },
        },
        '/status',
      );
      ev = await waitEvents(pw.sink, 'container state update', (e) => e.length >= 4);
      assert.deepEqual(ev[3]?.changes, [
        { field: 'container.app.state', from: 'unknown', to: 'waiting:CrashLoopBackOff' },
        { field: 'container.app.lastTerminated', to: 'OOMKilled:137' },
        { field: 'container.app.restartCount', from: '0', to: '3' },
      ]);

      // An update that touches only noise (an annotation-free metadata
      // patch changes resourceVersion and managedFields) emits nothing.
      await patchPod(api, ns, name, { metadata: { labels: { tier: 'frontend' } } });
      await deletePod(api, ns, name);
      ev = await waitEvents(pw.sink, 'deleted event', (e) => e.some((x) => x.type === 'deleted'));
      // The API server deletes gracefully (the pod has container statuses), so "terminating" comes first.
      // The noise-only patch above produced nothing between the container update and it.
      assert.deepEqual(
        ev.map((e) => e.type),
        ['created', 'updated', 'updated', 'updated', 'updated', 'deleted'],
      );
      assert.deepEqual(ev[4]?.changes, [{ field: 'terminating', to: 'true' }]);
      assert.equal(ev[5]?.pod.name, name);
    },
  );

  it(
    'uses a streaming list on this API server, ' + 'and the paginated list (small pages) gives the same cache',
    async () => {
      assert.ok(!pw.logs.some((l) => l.includes('streaming lists not supported')), pw.logs.join('\n'));
      const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
      for (const n of names) await createPod(api, ns, podManifest(n, { app: 'paged' }));
      const paged = await startPodwatch(
        cluster.kc,
        testConfig({ namespaces: [ns], labelSelector: 'app=paged', streamingList: false, pageSize: 2 }),
      );
      try {
        const cached = [...(paged.handle.informers[0]?.cache.values() ?? [])].map((p) => p.name).sort();
        assert.deepEqual(cached, names);
        assert.ok(paged.handle.api.requests >= 3, 'five pods in pages of two need three list requests');
        await patchPod(api, ns, 'page-c', { metadata: { labels: { v: '2' } } });
        await waitEvents(paged.sink, 'update after a paginated list', (e) =>
          e.some((x) => x.pod.name === 'page-c' && x.type === 'updated'),
        );
        assert.equal(paged.sink.events.length, 1, 'the label selector keeps other pods out');
      } finally {
        await paged.stop();
      }
    },
  );

  it('watches a set of namespaces (one informer and resourceVersion each) and nothing outside it', async () => {
    const ns2 = await namespaces.create('podwatch-ev2');
    const outside = await namespaces.create('podwatch-out');
    const multi = await startPodwatch(cluster.kc, testConfig({ namespaces: [ns, ns2] }));
    try {
      assert.equal(multi.handle.informers.length, 2);
      assert.equal(multi.handle.metrics.relists.get({ reason: 'initial' }), 2);
      await createPod(api, outside, podManifest('elsewhere'));
      await createPod(api, ns2, podManifest('second-ns'));
      await createPod(api, ns, podManifest('first-ns'));
      const ev = await waitEvents(
        multi.sink,
        'events from both namespaces',
        (e) => e.filter((x) => x.type === 'created').length >= 2,
      );
      assert.deepEqual(
        ev
          .filter((x) => x.type === 'created')
          .map((x) => `${x.pod.namespace}/${x.pod.name}`)
          .sort(),
        [`${ns2}/second-ns`, `${ns}/first-ns`].sort(),
      );
      assert.ok(!multi.sink.events.some((x) => x.pod.namespace === outside));
    } finally {
      await multi.stop();
    }
  });

  it('golden: create → Running → delete of a pod on a node gives at most 4 messages', async () => {
    const name = 'golden-1';
    await createPod(api, ns, podManifest(name, { app: 'golden' }, { nodeName: node }));
    await waitEvents(pw.sink, 'created', (e) => e.some((x) => x.pod.name === name));
    // What a kubelet reports when the pod started: one status write with phase, conditions, container state and IPs.
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await patchPod(
      api,
      ns,
      name,
      {
        status: {
          phase: 'Running',
          podIP: '10.244.0.7',
          podIPs: [{ ip: '10.244.0.7' }],
          startTime: now,
          conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
            type,
            status: 'True',
            lastTransitionTime: now,
          })),
          containerStatuses: [
            {
              name: 'app',
              image: 'kstack/pause:test',
              imageID: '',
              ready: true,
              started: true,
              restartCount: 0,
              state: { running: { startedAt: now } },
            },
          ],
        },
      },
      '/status',
    );
    const running = await waitEvents(pw.sink, 'Running', (e) =>
      e.some((x) => x.pod.name === name && x.phase === 'Running'),
    );
    assert.ok(running.find((x) => x.pod.name === name && x.phase === 'Running')?.ready);
    // Graceful delete (the pod is bound, so the API server waits for the kubelet), then the kubelet's final delete.
    await deletePod(api, ns, name);
    await waitEvents(pw.sink, 'terminating', (e) =>
      e.some((x) => x.pod.name === name && x.changes?.some((c) => c.field === 'terminating')),
    );
    await deletePod(api, ns, name, 0);
    await waitEvents(pw.sink, 'deleted', (e) => e.some((x) => x.pod.name === name && x.type === 'deleted'));
    await new Promise((r) => setTimeout(r, 1500));
    const mine = pw.sink.of(name);
    assert.ok(
      mine.length <= 4,
      `expected at most 4 messages, got ${mine.length}: ${JSON.stringify(mine.map((e) => [e.type, e.changes]))}`,
    );
    assert.deepEqual(
      mine.map((e) => e.type),
      ['created', 'updated', 'updated', 'deleted'],
    );
  });
});
