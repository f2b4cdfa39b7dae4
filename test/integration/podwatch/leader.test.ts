// Two podwatch replicas as real child processes (the container entrypoint) with leader election on a Lease:
// only the leader emits; when it is killed (SIGKILL, no hand-over), the other takes over within the lease
// time and emits what happened in between. SIGTERM shuts down gracefully and releases the lease.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pickFreePorts } from '../../../src/util/net.js';
import { repoRoot } from '../../../src/util/paths.js';
import type { KubeApi } from '../../../src/podwatch/kubeapi.js';
import type { PodEvent } from '../../../src/podwatch/snapshot.js';
import { eventually, testCluster, TestNamespaces, type TestCluster } from '../../helpers/cluster.js';
import { apiFor, createPod, patchPod, podManifest } from './harness.js';

const MAIN = join(repoRoot, 'dist', 'src', 'podwatch', 'main.js');
const LEASE_MS = 6000;
const RETRY_MS = 1000;

interface Replica {
  id: string;
  child: ChildProcess;
  events: PodEvent[];
  stderr: string[];
  port: number;
  exited: Promise<number | null>;
}

describe('podwatch leader election (two replicas)', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let api: KubeApi;
  const replicas: Replica[] = [];

  const start = async (id: string, ns: string): Promise<Replica> => {
    const [port] = await pickFreePorts(1);
    assert.ok(port);
    const child = spawn(
      process.execPath,
      [
        MAIN,
        '--kubeconfig',
        cluster.kubeconfigPath,
        '-n',
        ns,
        '-o',
        'json',
        '--listen',
        `127.0.0.1:${port}`,
        '--leader-elect',
        '--lease-namespace',
        ns,
        '--identity',
        id,
        '--lease-duration',
        `${LEASE_MS}ms`,
        '--renew-deadline',
        '4s',
        '--retry-period',
        `${RETRY_MS}ms`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const r: Replica = {
      id,
      child,
      events: [],
      stderr: [],
      port,
      exited: new Promise((res) => {
        child.on('exit', (code) => {
          res(code);
        });
      }),
    };
    let buf = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) r.events.push(JSON.parse(l) as PodEvent);
    });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      r.stderr.push(c);
    });
    replicas.push(r);
    await eventually(
      `${id} ready`,
      async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined,
      30_000,
    );
    return r;
  };
  const holder = async (ns: string): Promise<string | undefined> => {
    const lease = await api
      .request<{ spec: { holderIdentity?: string | null } }>(
        `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/podwatch`,
      )
      .catch(() => undefined);
    return lease?.spec.holderIdentity ?? undefined;
  };

  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    api = apiFor(cluster.kc);
  });
  after(async () => {
    for (const r of replicas)
      if (r.child.exitCode === null && r.child.signalCode === null) {
        r.child.kill('SIGKILL');
        await r.exited;
      }
    api.close();
    await namespaces.cleanup();
  });

  it(
    'only the leader emits; after the leader is killed the ' +
      'other takes over within the lease time and emits the gap',
    async () => {
      const ns = await namespaces.create('podwatch-ha');
      const a = await start('pw-a', ns);
      await eventually('pw-a leads', async () => ((await holder(ns)) === 'pw-a' ? true : undefined), 30_000);
      const b = await start('pw-b', ns);

      await createPod(api, ns, podManifest('before'));
      await eventually('leader emitted', () =>
        Promise.resolve(a.events.some((e) => e.pod.name === 'before') ? true : undefined),
      );
      // Long enough for the leader to renew (every second) well after that event: the new leader replays from
      // the last renewal minus 1 s, so it must not repeat it.
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(b.events.length, 0, 'the standby emits nothing');

      a.child.kill('SIGKILL');
      const killedAt = performance.now();
      await a.exited;
      await createPod(api, ns, podManifest('during'));
      await patchPod(api, ns, 'before', { metadata: { labels: { moved: 'yes' } } });

      await eventually('pw-b leads', async () => ((await holder(ns)) === 'pw-b' ? true : undefined), 30_000);
      const takeoverMs = performance.now() - killedAt;
      assert.ok(
        takeoverMs <= LEASE_MS + 2 * RETRY_MS + 2000,
        `took over after ${Math.round(takeoverMs)} ms (lease ${LEASE_MS} ms)`,
      );
      await eventually(
        'gap emitted by the new leader',
        () =>
          Promise.resolve(
            b.events.some((e) => e.pod.name === 'during' && e.type === 'created') &&
              b.events.some((e) => e.pod.name === 'before' && e.changes?.some((c) => c.field === 'label.moved'))
              ? true
              : undefined,
          ),
        20_000,
      );
      assert.ok(
        b.events.every((e) => e.handover === true),
        'events of the hand-over window are marked',
      );
      assert.ok(
        !b.events.some((e) => e.pod.name === 'before' && e.type === 'created'),
        'what the old leader already emitted before its last renewal is not repeated',
      );

      // And live events after the hand-over are emitted normally.
      await createPod(api, ns, podManifest('after'));
      await eventually('live after hand-over', () =>
        Promise.resolve(b.events.some((e) => e.pod.name === 'after' && !e.handover) ? true : undefined),
      );

      // SIGTERM: graceful shutdown, exit code 0, lease released.
      b.child.kill('SIGTERM');
      assert.equal(await b.exited, 0, b.stderr.join(''));
      assert.equal(await holder(ns), undefined, 'lease released on shutdown');
    },
  );
});
