// runPodwatch: wires informers, sinks, the HTTP server and leader election together, and shuts down
// gracefully (sinks flushed, lease released) when the signal aborts.
import type { KubeConfig } from '@kubernetes/client-node';
import { UserError } from '../util/errors.js';
import type { PodwatchConfig } from './config.js';
import { endpointFromKubeConfig, loadEndpoint } from './endpoint.js';
import { PodInformer } from './informer.js';
import { KubeApi } from './kubeapi.js';
import { LeaderElector } from './leader.js';
import { PodwatchMetrics } from './metrics.js';
import { startServer, WebViewHub } from './server.js';
import { jsonLinesSink, terminalSink, WebhookSink, type Sink } from './sinks.js';
import type { PodEvent } from './snapshot.js';

export interface RunOptions {
  signal: AbortSignal;
  /** A ready KubeConfig (tests, embedding); otherwise built from config.kubeconfig / inCluster. */
  kubeConfig?: KubeConfig;
  /** Where terminal / JSON lines go (default stdout) and where logs go (default stderr). */
  out?: NodeJS.WritableStream;
  log?: (message: string) => void;
  /** Extra sinks (embedding); they receive exactly what the configured sinks receive. */
  sinks?: Sink[];
  /** Called once the HTTP server listens and the informers started. */
  onStarted?: (info: PodwatchHandle) => void;
}

export interface PodwatchHandle {
  metrics: PodwatchMetrics;
  /** The web view / metrics base URL when `listen` is set. */
  url?: string;
  informers: PodInformer[];
  api: KubeApi;
  isLeader(): boolean;
}

/** Events seen while not the leader, kept for the lease time so a new leader can emit what happened during hand-over. */
class HandoverBuffer {
  private readonly items: { at: number; event: PodEvent }[] = [];
  constructor(
    private readonly keepMs: number,
    private readonly max = 100_000,
  ) {}
  push(event: PodEvent): void {
    const at = Date.parse(event.time);
    this.items.push({ at, event });
    while (this.items.length > this.max || (this.items[0] && this.items[0].at < Date.now() - this.keepMs))
      this.items.shift();
  }
  takeSince(t: number): PodEvent[] {
    const out = this.items.filter((i) => i.at >= t).map((i) => ({ ...i.event, handover: true as const }));
    this.items.length = 0;
    return out;
  }
}

export async function runPodwatch(config: PodwatchConfig, opts: RunOptions): Promise<void> {
  const { signal } = opts;
  const log =
    opts.log ??
    ((m: string) => {
      process.stderr.write(`podwatch: ${m}\n`);
    });
  const out = opts.out ?? process.stdout;
  const api = new KubeApi(opts.kubeConfig ? endpointFromKubeConfig(opts.kubeConfig) : await loadEndpoint(config));
  const metrics = new PodwatchMetrics();

  const hub = new WebViewHub();
  const sinks: Sink[] = [...(opts.sinks ?? [])];
  if (config.output === 'terminal') {
    const tty = (out as { isTTY?: boolean }).isTTY === true;
    sinks.push(
      terminalSink(out, config.color === 'always' || (config.color === 'auto' && tty && !process.env.NO_COLOR)),
    );
  } else if (config.output === 'json') sinks.push(jsonLinesSink(out));
  config.webhooks.forEach((w, i) => {
    sinks.push(
      new WebhookSink({
        name: `webhook-${i}`,
        url: w.url,
        format: w.format,
        queueSize: w.queueSize,
        maxAttempts: w.maxAttempts,
        timeoutMs: w.timeoutMs,
        backoff: { baseMs: 500, maxMs: 15_000 },
        metrics,
        log,
      }),
    );
  });
  if (config.listen) sinks.push(hub);

  let leader: LeaderElector | undefined;
  const buffer = config.leaderElection
    ? new HandoverBuffer(config.leaderElection.leaseDurationMs * 2 + 5000)
    : undefined;
  const deliver = (e: PodEvent): void => {
    metrics.events.inc({ type: e.type, namespace: e.pod.namespace });
    for (const s of sinks) {
      try {
        s.emit(e);
      } catch (err) {
        metrics.sinkErrors.inc({ sink: s.name });
        log(`sink ${s.name}: ${(err as Error).message}`);
      }
    }
    // Synchronous sinks are done now; the webhook sink observes its own latency when it delivers.
    if (sinks.some((s) => !(s instanceof WebhookSink)))
      metrics.latency.observe((Date.now() - Date.parse(e.time)) / 1000);
  };

  const namespaces: (string | undefined)[] = config.namespaces.length ? config.namespaces : [undefined];
  let syncedCount = 0;
  const informers = namespaces.map(
    (namespace) =>
      new PodInformer({
        api,
        ...(namespace ? { namespace } : {}),
        ...(config.labelSelector ? { labelSelector: config.labelSelector } : {}),
        ...(config.fieldSelector ? { fieldSelector: config.fieldSelector } : {}),
        pageSize: config.pageSize,
        watchTimeoutSeconds: config.watchTimeoutSeconds,
        stallTimeoutMs: config.stallTimeoutMs,
        backoff: config.backoff,
        streamingList: config.streamingList,
        hooks: {
          onEvents(events, { initial }) {
            if (initial && !config.emitInitial) return;
            for (const e of events) {
              if (leader && !leader.isLeader) buffer?.push(e);
              else deliver(e);
            }
          },
          onSynced() {
            syncedCount++;
          },
          onRelist(reason) {
            metrics.relists.inc({ reason });
          },
          onWatchRestart(reason) {
            metrics.watchRestarts.inc({ reason });
          },
          log,
        },
      }),
  );

  const refreshGauges = (): void => {
    metrics.podsTracked.set(
      {},
      informers.reduce((n, i) => n + i.cache.size, 0),
    );
    metrics.apiRequests.set({}, api.requests);
    metrics.isLeader.set({}, !leader || leader.isLeader ? 1 : 0);
  };
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  if (config.listen) {
    try {
      server = await startServer(config.listen.host, config.listen.port, {
        metrics: () => {
          refreshGauges();
          return metrics.render();
        },
        healthy: () => !signal.aborted,
        ready: () => syncedCount >= informers.length,
        pods: function* () {
          for (const i of informers) yield* i.cache.values();
        },
        hub,
      });
    } catch (err) {
      throw new UserError(
        `cannot listen on ${config.listen.host}:${config.listen.port} (${(err as Error).message}): choose another --listen address`,
      );
    }
    log(`serving /metrics, /healthz, /readyz and the web view on ${server.url}`);
  }

  const loops: Promise<void>[] = informers.map((i) => i.run(signal));
  if (config.leaderElection) {
    const le = config.leaderElection;
    leader = new LeaderElector(api, le, {
      onStartedLeading(previousRenew) {
        // Everything seen since the previous leader was last known alive (minus a second for clock skew) may not have been emitted.
        const since = previousRenew ? previousRenew.getTime() - 1000 : Number.POSITIVE_INFINITY;
        const replay = buffer?.takeSince(since) ?? [];
        if (replay.length) log(`leader election: emitting ${replay.length} events seen during the hand-over`);
        for (const e of replay) deliver(e);
      },
      onStoppedLeading() {
        log('leader election: no longer the leader; events are buffered');
      },
      log,
    });
    loops.push(leader.run(signal));
  }
  opts.onStarted?.({
    metrics,
    ...(server ? { url: server.url } : {}),
    informers,
    api,
    isLeader: () => !leader || leader.isLeader,
  });

  await new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
  await Promise.all(loops);
  // Graceful shutdown: deliver what is queued, hand the lease over, then stop serving.
  await Promise.all(sinks.map((s) => s.flush(config.shutdownTimeoutMs)));
  await leader?.release();
  await server?.close();
  api.close();
}
