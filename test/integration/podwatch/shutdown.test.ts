// Graceful shutdown of the container entrypoint: SIGTERM while a (slow) webhook still has queued events →
// every queued event is delivered before the process exits 0.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pickFreePorts } from '../../../src/util/net.js';
import { repoRoot } from '../../../src/util/paths.js';
import type { KubeApi } from '../../../src/podwatch/kubeapi.js';
import type { PodEvent } from '../../../src/podwatch/snapshot.js';
import { eventually, testCluster, TestNamespaces, type TestCluster } from '../../helpers/cluster.js';
import { apiFor, createPod, podManifest } from './harness.js';

describe('podwatch graceful shutdown', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let api: KubeApi;
  let receiver: Server;
  const received: PodEvent[] = [];

  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    api = apiFor(cluster.kc);
    // A slow receiver: 400 ms per event, so events queue up.
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        setTimeout(() => {
          received.push(JSON.parse(body) as PodEvent);
          res.writeHead(200).end();
        }, 400);
      });
    });
    await new Promise<void>((r) => {
      receiver.listen(0, '127.0.0.1', r);
    });
  });
  after(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((r) => {
      receiver.close(() => {
        r();
      });
    });
    api.close();
    await namespaces.cleanup();
  });

  it('SIGTERM flushes the webhook queue, then exits 0', async () => {
    const ns = await namespaces.create('podwatch-term');
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
    const [port] = await pickFreePorts(1);
    assert.ok(port);
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'dist', 'src', 'podwatch', 'main.js'),
        '--kubeconfig',
        cluster.kubeconfigPath,
        '-n',
        ns,
        '-o',
        'none',
        '--webhook',
        hook,
        '--listen',
        `127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const exited = new Promise<number | null>((r) => {
      child.on('exit', (code) => {
        r(code);
      });
    });
    try {
      const metric = async (re: RegExp): Promise<number | undefined> => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const m = re.exec(text);
        return m ? Number(m[1]) : undefined;
      };
      await eventually('podwatch ready', async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined,
      );
      for (let i = 0; i < 6; i++) await createPod(api, ns, podManifest(`t-${i}`));
      await eventually('6 events emitted', async () =>
        (await metric(/^podwatch_events_total\{namespace="[^"]+",type="created"\} (\d+)$/m)) === 6 ? true : undefined,
      );
      const depth = await metric(/^podwatch_sink_queue_depth\{sink="webhook-0"\} (\d+)$/m);
      assert.ok(depth !== undefined && depth > 0, `events still queued at SIGTERM (depth ${depth})`);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.deepEqual(
        received.map((e) => e.pod.name),
        ['t-0', 't-1', 't-2', 't-3', 't-4', 't-5'],
      );
      assert.match(stderr, /SIGTERM: flushing sinks and shutting down/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
