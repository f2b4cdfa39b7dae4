// Faults against a control plane of this file's own: the API server stopped during a burst of changes, a
// forced 410 (etcd compacted, watch cache restarted), half-open watches (traffic silently dropped by a relay;
// API server paused with SIGSTOP).
// In each case podwatch must report every change the test made, marking what it only saw on a relist.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { controlPlaneDown, controlPlaneStopComponent, controlPlaneUp } from '../../../src/cluster/control-plane.js';
import { clusterLayout } from '../../../src/cluster/layout.js';
import { readState } from '../../../src/cluster/state.js';
import { ensureAllTools } from '../../../src/setup/setup.js';
import { run } from '../../../src/util/exec.js';
import { silentProgress } from '../../../src/util/progress.js';
import type { KubeApi } from '../../../src/podwatch/kubeapi.js';
import type { PodEvent } from '../../../src/podwatch/snapshot.js';
import { eventually } from '../../helpers/cluster.js';
import {
  apiFor,
  createPod,
  deletePod,
  patchPod,
  podManifest,
  startPodwatch,
  testConfig,
  waitEvents,
} from './harness.js';
import { TcpRelay } from './tcp-proxy.js';

const NAME = 'pwfault';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('podwatch under faults (own control plane)', { timeout: 600_000 }, () => {
  const baseDir = mkdtempSync(join(tmpdir(), 'kstack-podwatch-faults-'));
  const layout = clusterLayout(NAME, baseDir);
  let kubeconfigPath: string;
  let kc: k8s.KubeConfig;
  let api: KubeApi;

  const up = async (): Promise<void> => {
    await controlPlaneUp({ name: NAME, baseDir, progress: silentProgress });
  };
  const apiserverPid = (): number => {
    const pid = readState(layout.stateFile)?.components['kube-apiserver']?.pid;
    assert.ok(pid, 'kube-apiserver pid in state.json');
    return pid;
  };
  const newNamespace = async (prefix: string): Promise<string> => {
    const ns = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
    await api.request('/api/v1/namespaces', {
      method: 'POST',
      contentType: 'application/json',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    });
    // Pods are admitted only once the namespace has its default service account. The controller-manager
    // creates it, but after the API-server restarts above it may take long to notice; create it ourselves.
    await api
      .request(`/api/v1/namespaces/${ns}/serviceaccounts`, {
        method: 'POST',
        contentType: 'application/json',
        body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
      })
      .catch((err: unknown) => {
        if ((err as { status?: number }).status !== 409) throw err;
      });
    return ns;
  };
  /** Retries a write until the API server accepts it (it may be down); returns once it succeeded. */
  const persist = async (write: () => Promise<void>): Promise<void> => {
    for (;;) {
      try {
        await write();
        return;
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 409) return; // an earlier attempt did reach the server
        await sleep(300);
      }
    }
  };

  before(async () => {
    const cp = await controlPlaneUp({ name: NAME, baseDir, progress: silentProgress });
    kubeconfigPath = cp.kubeconfig;
    kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    api = apiFor(kc);
  });
  after(async () => {
    try {
      process.kill(apiserverPid(), 'SIGCONT');
    } catch {
      /* not running */
    }
    api.close();
    await controlPlaneDown({ name: NAME, baseDir, progress: silentProgress });
    rmSync(baseDir, { recursive: true, force: true });
  });

  it(
    'API server stopped and restarted during a burst: every change is reported ' +
      'after recovery, and podwatch stays under 0.25 requests/s while it is down',
    async () => {
      const ns = await newNamespace('pw-restart');
      const pw = await startPodwatch(
        kc,
        testConfig({ namespaces: [ns], watchTimeoutSeconds: 15, stallTimeoutMs: 20_000 }),
      );
      try {
        const writes: { pod: string; gen: number }[] = [];
        const pods = Array.from({ length: 12 }, (_, i) => `burst-${i}`);
        let outage: Promise<number> | undefined;
        for (const [i, pod] of pods.entries()) {
          await persist(() => createPod(api, ns, podManifest(pod, { gen: '0' })));
          writes.push({ pod, gen: 0 });
          for (const gen of [1, 2]) {
            await persist(() => patchPod(api, ns, pod, { metadata: { labels: { gen: String(gen) } } }));
            writes.push({ pod, gen });
          }
          if (i === 4) {
            // Mid-burst: stop the API server, keep it down for 20 s counting podwatch's requests, then start it again.
            outage = (async () => {
              await controlPlaneStopComponent({
                name: NAME,
                baseDir,
                component: 'kube-apiserver',
                progress: silentProgress,
              });
              const before = pw.handle.api.requests;
              const t0 = performance.now();
              await sleep(20_000);
              const rate = (pw.handle.api.requests - before) / ((performance.now() - t0) / 1000);
              await up();
              return rate;
            })();
            await sleep(500);
          }
        }
        const rate = await outage;
        assert.ok(
          rate !== undefined && rate <= 0.25,
          `podwatch sent ${rate?.toFixed(2)} requests/s while the API server was down (budget 0.25)`,
        );
        // Every write is reported: live with exactly that value, or (only
        // if marked observedOnRelist) by a relist that saw a later value.
        const covered = (ev: PodEvent[], w: { pod: string; gen: number }): boolean =>
          ev.some(
            (e) =>
              e.pod.name === w.pod &&
              ((w.gen === 0 && e.type === 'created') ||
                e.changes?.some((c) => c.field === 'label.gen' && c.to === String(w.gen)) === true ||
                (e.observedOnRelist === true && Number(e.labels.gen) >= w.gen)),
          );
        const events = await waitEvents(
          pw.sink,
          'every change reported',
          (ev) => writes.every((w) => covered(ev, w)),
          120_000,
        );
        for (const pod of pods) {
          const created = events.filter((e) => e.pod.name === pod && e.type === 'created');
          assert.equal(created.length, 1, `${pod}: exactly one created event, got ${created.length}`);
          const last = events.filter((e) => e.pod.name === pod).at(-1);
          assert.equal(last?.labels.gen, '2', `${pod}: the last event shows the final state`);
        }
        // Updates the relist did not have to fill in were seen live, in order, each once.
        for (const pod of pods) {
          const live = events
            .filter((e) => e.pod.name === pod && !e.observedOnRelist && e.type === 'updated')
            .map((e) => e.labels.gen);
          assert.deepEqual(live, [...live].sort(), `${pod}: live updates in order`);
          assert.equal(new Set(live).size, live.length, `${pod}: no duplicated live update`);
        }
      } finally {
        await pw.stop();
      }
    },
  );

  it(
    'forced 410 (etcd compacted, API server restarted while podwatch is cut off): ' +
      'exactly one relist, the gap reported and marked, nothing else',
    async () => {
      const ns = await newNamespace('pw-gone');
      const relay = new TcpRelay(readState(layout.stateFile)?.ports.apiserver ?? 0);
      const relayPort = await relay.start();
      const viaRelay = new k8s.KubeConfig();
      viaRelay.loadFromString(
        readFileSync(kubeconfigPath, 'utf8').replace(
          /server: https:\/\/127\.0\.0\.1:\d+/,
          `server: https://127.0.0.1:${relayPort}`,
        ),
      );
      for (const p of ['keep', 'change', 'remove']) await createPod(api, ns, podManifest(p, { v: '1' }));
      const pw = await startPodwatch(
        viaRelay,
        testConfig({ namespaces: [ns], watchTimeoutSeconds: 15, stallTimeoutMs: 20_000 }),
      );
      try {
        assert.equal(pw.handle.metrics.relists.get({ reason: 'gone' }), 0);
        const seen = pw.sink.events.length;
        relay.disconnect();
        await patchPod(api, ns, 'change', { metadata: { labels: { v: '2' } } });
        await deletePod(api, ns, 'remove', 0);
        await createPod(api, ns, podManifest('added', { v: '1' }));
        // Compact etcd to its current revision and restart the API server:
        // its watch cache starts after podwatch's resourceVersion.
        await controlPlaneStopComponent({ name: NAME, baseDir, component: 'kube-apiserver', progress: silentProgress });
        const { go } = await ensureAllTools(silentProgress);
        const state = readState(layout.stateFile);
        assert.ok(state);
        const etcdctl = (args: string[]): Promise<{ stdout: string }> =>
          run(go.etcdctl, [
            `--endpoints=https://127.0.0.1:${state.ports.etcdClient}`,
            '--cacert',
            join(layout.pki, 'etcd-ca.crt'),
            '--cert',
            join(layout.pki, 'apiserver-etcd-client.crt'),
            '--key',
            join(layout.pki, 'apiserver-etcd-client.key'),
            ...args,
          ]);
        const status = JSON.parse((await etcdctl(['endpoint', 'status', '-w', 'json'])).stdout) as {
          Status: { header: { revision: number } };
        }[];
        const revision = status[0]?.Status.header.revision;
        assert.ok(revision, 'etcd revision');
        await etcdctl(['compact', String(revision)]);
        await up();
        relay.restore();
        const events = await waitEvents(pw.sink, 'relist after 410', (ev) => ev.length >= seen + 3, 120_000);
        await sleep(2000);
        assert.equal(
          pw.handle.metrics.relists.get({ reason: 'gone' }),
          1,
          `exactly one relist for one 410; logs:\n${pw.logs.join('\n')}`,
        );
        const gap = pw.sink.events
          .slice(seen)
          .map((e) => [e.type, e.pod.name, e.observedOnRelist ?? false, e.changes ?? null]);
        assert.deepEqual(gap.sort(), [
          ['created', 'added', true, null],
          ['deleted', 'remove', true, null],
          ['updated', 'change', true, [{ field: 'label.v', from: '1', to: '2' }]],
        ]);
        assert.equal(events.length, pw.sink.events.length);
      } finally {
        await pw.stop();
        await relay.stop();
      }
    },
  );

  it(
    'half-open network (relay silently drops all traffic) is detected within 60 s, ' +
      'and changes made meanwhile are reported after it heals',
    async () => {
      const ns = await newNamespace('pw-drop');
      const relay = new TcpRelay(readState(layout.stateFile)?.ports.apiserver ?? 0);
      const relayPort = await relay.start();
      const viaRelay = new k8s.KubeConfig();
      viaRelay.loadFromString(
        readFileSync(kubeconfigPath, 'utf8').replace(
          /server: https:\/\/127\.0\.0\.1:\d+/,
          `server: https://127.0.0.1:${relayPort}`,
        ),
      );
      const pw = await startPodwatch(
        viaRelay,
        testConfig({ namespaces: [ns], watchTimeoutSeconds: 15, stallTimeoutMs: 20_000 }),
      );
      try {
        const stalls = (): number => pw.handle.metrics.watchRestarts.get({ reason: 'stall' });
        relay.blackhole();
        const t0 = performance.now();
        await createPod(api, ns, podManifest('during-drop'));
        await eventually('stall detected', () => Promise.resolve(stalls() > 0 ? true : undefined), 60_000);
        const detectedAfter = (performance.now() - t0) / 1000;
        assert.ok(detectedAfter <= 60, `stall detected after ${detectedAfter.toFixed(1)} s`);
        assert.ok(!pw.sink.events.some((e) => e.pod.name === 'during-drop'), 'nothing arrives through the blackhole');
        relay.restore();
        await createPod(api, ns, podManifest('after-drop'));
        const ev = await waitEvents(
          pw.sink,
          'changes from during and after the drop',
          (e) => ['during-drop', 'after-drop'].every((n) => e.some((x) => x.pod.name === n && x.type === 'created')),
          90_000,
        );
        assert.equal(ev.filter((e) => e.pod.name === 'during-drop').length, 1, 'reported once');
      } finally {
        await pw.stop();
        await relay.stop();
      }
    },
  );

  it('half-open watch (API server paused with SIGSTOP) is detected within 60 s and resumed', async () => {
    const ns = await newNamespace('pw-stall');
    const pw = await startPodwatch(
      kc,
      testConfig({ namespaces: [ns], watchTimeoutSeconds: 15, stallTimeoutMs: 20_000 }),
    );
    const pid = apiserverPid();
    try {
      const stalls = (): number => pw.handle.metrics.watchRestarts.get({ reason: 'stall' });
      const before = stalls();
      process.kill(pid, 'SIGSTOP');
      const t0 = performance.now();
      try {
        await eventually('stall detected', () => Promise.resolve(stalls() > before ? true : undefined), 60_000);
        const detectedAfter = (performance.now() - t0) / 1000;
        assert.ok(detectedAfter <= 60, `stall detected after ${detectedAfter.toFixed(1)} s`);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await createPod(api, ns, podManifest('after-pause'));
      await waitEvents(
        pw.sink,
        'event after resume',
        (ev) => ev.some((e) => e.pod.name === 'after-pause' && e.type === 'created'),
        90_000,
      );
    } finally {
      await pw.stop();
    }
  });
});
