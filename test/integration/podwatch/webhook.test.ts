// The webhook sink against a real HTTP receiver on 127.0.0.1 that is down, then slow, then up: podwatch
// retries and delivers everything in order; with a small queue it counts drops instead of growing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { KubeApi } from '../../../src/podwatch/kubeapi.js';
import { pickFreePorts } from '../../../src/util/net.js';
import type { PodEvent } from '../../../src/podwatch/snapshot.js';
import { eventually, testCluster, TestNamespaces, type TestCluster } from '../../helpers/cluster.js';
import { apiFor, createPod, podManifest, startPodwatch, testConfig } from './harness.js';

/** A webhook receiver whose behaviour the test switches: down (not listening), slow, or up. */
class Receiver {
  readonly bodies: unknown[] = [];
  slowMs = 0;
  private server: Server | undefined;
  constructor(readonly port: number) {}
  async up(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const reply = (): void => {
          this.bodies.push(JSON.parse(body));
          res.writeHead(200).end('ok');
        };
        if (this.slowMs)
          setTimeout(() => {
            if (!res.destroyed && !req.destroyed && res.writable && !res.headersSent && !req.socket.destroyed) reply();
          }, this.slowMs);
        else reply();
      });
    });
    await new Promise<void>((r) => {
      this.server?.listen(this.port, '127.0.0.1', r);
    });
  }
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => {
      s.close(() => {
        r();
      });
    });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('podwatch webhook sink with a real receiver', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let api: KubeApi;
  const receivers: Receiver[] = [];

  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    api = apiFor(cluster.kc);
  });
  after(async () => {
    for (const r of receivers) await r.down();
    api.close();
    await namespaces.cleanup();
  });

  it(
    'receiver down, then slow, then up: ' + 'retries and delivers every event in order (JSON and Slack formats)',
    async () => {
      const ns = await namespaces.create('podwatch-hook');
      const [jsonPort, slackPort] = await pickFreePorts(2);
      assert.ok(jsonPort && slackPort);
      const json = new Receiver(jsonPort);
      const slack = new Receiver(slackPort);
      receivers.push(json, slack);
      const base = testConfig({ namespaces: [ns] });
      const hook = { queueSize: 100, maxAttempts: 1000, timeoutMs: 1000 };
      const pw = await startPodwatch(cluster.kc, {
        ...base,
        webhooks: [
          { url: `http://127.0.0.1:${json.port}/events`, format: 'json', ...hook },
          { url: `http://127.0.0.1:${slack.port}/slack`, format: 'slack', ...hook },
        ],
      });
      try {
        for (let i = 0; i < 4; i++) await createPod(api, ns, podManifest(`down-${i}`));
        await eventually('failed deliveries while down', () =>
          Promise.resolve(pw.handle.metrics.sinkErrors.get({ sink: 'webhook-0' }) >= 2 ? true : undefined),
        );
        // Slow: the receiver answers after 3 s, podwatch gives up after 1 s and retries.
        json.slowMs = 3000;
        slack.slowMs = 3000;
        await json.up();
        await slack.up();
        for (let i = 0; i < 3; i++) await createPod(api, ns, podManifest(`slow-${i}`));
        await sleep(4000);
        json.slowMs = 0;
        slack.slowMs = 0;
        await createPod(api, ns, podManifest('up-0'));
        const expected = ['down-0', 'down-1', 'down-2', 'down-3', 'slow-0', 'slow-1', 'slow-2', 'up-0'];
        await eventually(
          'all events delivered',
          () =>
            Promise.resolve(
              json.bodies.length >= expected.length && slack.bodies.length >= expected.length ? true : undefined,
            ),
          90_000,
        ).catch((err: unknown) => {
          const m = pw.handle.metrics;
          throw new Error(
            `${(err as Error).message}; json got ${json.bodies.length}, ` +
              `slack ${slack.bodies.length}; seen ${pw.sink.events.length} events; ` +
              `errors ${m.sinkErrors.get({ sink: 'webhook-0' })}/${m.sinkErrors.get({ sink: 'webhook-1' })}; ` +
              `logs:\n${pw.logs.slice(-20).join('\n')}`,
          );
        });
        // A slow answer that arrived after podwatch gave up may be
        // delivered twice (at-least-once); order and completeness hold.
        const names = [...new Set(json.bodies.map((b) => (b as PodEvent).pod.name))];
        assert.deepEqual(names, expected);
        assert.ok((json.bodies as PodEvent[]).every((b) => b.type === 'created' && b.pod.namespace === ns));
        const texts = slack.bodies.map((b) => (b as { text: string }).text);
        for (const n of expected)
          assert.ok(
            texts.some((t) => t.includes(`${ns}/${n}`)),
            `slack message for ${n}`,
          );
        assert.ok(pw.handle.metrics.sinkErrors.get({ sink: 'webhook-0' }) >= 3);
        assert.equal(pw.handle.metrics.sinkDrops.get({ sink: 'webhook-0', reason: 'queue-full' }), 0);
      } finally {
        await pw.stop();
      }
    },
  );

  it('a receiver that stays down fills the bounded queue, and the rest is counted as dropped', async () => {
    const ns = await namespaces.create('podwatch-drop');
    const [port] = await pickFreePorts(1);
    assert.ok(port);
    const rx = new Receiver(port);
    receivers.push(rx);
    const pw = await startPodwatch(cluster.kc, {
      ...testConfig({ namespaces: [ns] }),
      webhooks: [
        { url: `http://127.0.0.1:${rx.port}/`, format: 'json', queueSize: 3, maxAttempts: 1000, timeoutMs: 1000 },
      ],
    });
    try {
      for (let i = 0; i < 8; i++) await createPod(api, ns, podManifest(`p-${i}`));
      await eventually('8 events seen', () => Promise.resolve(pw.sink.events.length >= 8 ? true : undefined));
      assert.equal(pw.handle.metrics.sinkDrops.get({ sink: 'webhook-0', reason: 'queue-full' }), 5);
      const metrics = await (await fetch(`${pw.handle.url ?? ''}metrics`)).text();
      assert.match(metrics, /^podwatch_sink_dropped_total\{reason="queue-full",sink="webhook-0"\} 5$/m);
      assert.match(metrics, /^podwatch_sink_queue_depth\{sink="webhook-0"\} 3$/m);
      await rx.up();
      await eventually(
        'queued events delivered',
        () => Promise.resolve(rx.bodies.length >= 3 ? true : undefined),
        60_000,
      );
      assert.deepEqual(
        rx.bodies.map((b) => (b as PodEvent).pod.name),
        ['p-0', 'p-1', 'p-2'],
      );
    } finally {
      await pw.stop();
    }
  });
});
