// runPodwatch: wires informers, the alert sources (webhook, Alertmanager poll), sinks, the HTTP server and
// leader election together, and shuts down gracefully (sinks flushed, lease released) when the signal aborts.
import type { KubeConfig } from '@kubernetes/client-node';
import { UserError } from '../util/errors.js';
import { pollAlertmanager } from './alert-poller.js';
import { AlertTracker } from './alert-tracker.js';
import { isAlertEvent } from './alerts.js';
import type { PodwatchConfig } from './config.js';
import { endpointFromKubeConfig, loadEndpoint } from './endpoint.js';
import { PodInformer } from './informer.js';
import { KubeApi } from './kubeapi.js';
import { LeaderElector } from './leader.js';
import { PodwatchMetrics } from './metrics.js';
import { startServer, WebViewHub } from './server.js';
import {
  emitSnapshotTo,
  jsonLinesSink,
  terminalSink,
  WebhookSink,
  type PodwatchEvent,
  type Sink,
  type Snapshot,
} from './sinks.js';
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

/**
 * Events seen while not the leader, kept for the lease time so a new leader can emit what happened during hand-over.
 */
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
  const toEachSink = (send: (s: Sink) => void): void => {
    for (const s of sinks) {
      try {
        send(s);
      } catch (err) {
        metrics.sinkErrors.inc({ sink: s.name });
        log(`sink ${s.name}: ${(err as Error).message}`);
      }
    }
  };
  // Synchronous sinks are done once emit returns; the webhook sink observes its own latency when it delivers.
  const observeLatency = (e: PodwatchEvent): void => {
    if (sinks.some((s) => !(s instanceof WebhookSink)))
      metrics.latency.observe((Date.now() - Date.parse(e.time)) / 1000);
  };
  const deliver = (e: PodwatchEvent): void => {
    if (!isAlertEvent(e)) metrics.events.inc({ type: e.type, namespace: e.pod.namespace });
    toEachSink((s) => {
      s.emit(e);
    });
    observeLatency(e);
  };
  const deliverSnapshot = (snapshot: Snapshot): void => {
    if (snapshot.kind === 'pods')
      for (const e of snapshot.events) metrics.events.inc({ type: e.type, namespace: e.pod.namespace });
    toEachSink((s) => {
      emitSnapshotTo(s, snapshot);
    });
    for (const e of snapshot.events) observeLatency(e);
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
            if (leader && !leader.isLeader) {
              for (const e of events) buffer?.push(e);
              return;
            }
            // The first list is what already exists: one snapshot, so a sink can summarise it.
            if (initial && events[0])
              deliverSnapshot({ kind: 'pods', time: events[0].time, ...(namespace ? { namespace } : {}), events });
            else for (const e of events) deliver(e);
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

  // The webhook (POST /api/alerts) and the Alertmanager poll feed one firing set.
  const alerts = new AlertTracker({ metrics, deliver, deliverSnapshot, isLeader: () => !leader || leader.isLeader });

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
        alerts: () => alerts.firing(),
        onAlertNotification: (n) => alerts.onNotification(n),
        onAlertRejected: (message) => {
          metrics.alertNotifications.inc({ source: 'webhook', result: 'rejected' });
          log(`alerts: rejected a webhook payload (${message})`);
        },
      });
    } catch (err) {
      throw new UserError(
        `cannot listen on ${config.listen.host}:${config.listen.port} ` +
          `(${(err as Error).message}): choose another --listen address`,
      );
    }
    log(`serving /metrics, /healthz, /readyz, the web view and the alert webhook (POST /api/alerts) on ${server.url}`);
  }

  const loops: Promise<void>[] = informers.map((i) => i.run(signal));
  if (config.alertmanager) {
    log(`alertmanager: polling ${config.alertmanager.url} every ${config.alertmanager.intervalMs} ms`);
    loops.push(
      pollAlertmanager({
        ...config.alertmanager,
        signal,
        onAnswer: (answer) => {
          alerts.onPollAnswer(answer);
        },
        onFailure: (reason) => {
          metrics.alertPollErrors.inc({ reason });
        },
        log,
      }),
    );
  }
  if (config.leaderElection) {
    const le = config.leaderElection;
    leader = new LeaderElector(api, le, {
      onStartedLeading(previousRenew) {
        // Everything seen since the previous leader was last known alive
        // (minus a second for clock skew) may not have been emitted.
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
