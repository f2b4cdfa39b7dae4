// The informer: list, then watch from the list's resourceVersion, forever. It resumes from the last seen
// resourceVersion after a disconnect (with jittered backoff), relists and diffs against its cache after
// 410 Gone, restarts a watch that went silent (half-open connection, paused server), and uses a streaming
// list (sendInitialEvents) when the server supports it. See docs/decisions/0001-podwatch-informer.md.
import type { IncomingMessage } from 'node:http';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';
import { ApiError, lines, type KubeApi } from './kubeapi.js';
import { diffPods, makeEvent, podKey, relistEvents, snapshotOf, type PodEvent, type PodSnapshot } from './snapshot.js';

export type RelistReason = 'initial' | 'gone' | 'incomplete';
export type RestartReason = 'stall' | 'error' | 'closed';

export interface InformerHooks {
  /** Events in the order they happened; `initial` marks the first sync's pods (not changes). */
  onEvents(events: PodEvent[], info: { initial: boolean }): void;
  onSynced(): void;
  onRelist(reason: RelistReason): void;
  onWatchRestart(reason: RestartReason): void;
  log(message: string): void;
}

export interface InformerOptions {
  api: KubeApi;
  /** undefined = all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  pageSize: number;
  /**
   * The server closes each watch after this long (randomised ±10%); we rewatch at once from the last resourceVersion.
   */
  watchTimeoutSeconds: number;
  /** No byte (event or bookmark) for this long → the connection is presumed dead and the watch restarted. */
  stallTimeoutMs: number;
  backoff: BackoffPolicy;
  streamingList: boolean;
  hooks: InformerHooks;
  now?: () => Date;
}

type WatchEnd = 'closed' | 'gone' | 'stall';

interface WatchLine {
  type?: string;
  object?: {
    metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
    code?: number;
    message?: string;
  };
}

// Read through a function so the type checker does not narrow it: it changes while we await.
const isAborted = (signal: AbortSignal): boolean => signal.aborted;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class PodInformer {
  readonly cache = new Map<string, PodSnapshot>();
  resourceVersion: string | undefined;
  synced = false;
  private streamingSupported: boolean;
  private readonly now: () => Date;

  constructor(private readonly opts: InformerOptions) {
    this.streamingSupported = opts.streamingList;
    this.now = opts.now ?? (() => new Date());
  }

  private basePath(): string {
    return this.opts.namespace ? `/api/v1/namespaces/${encodeURIComponent(this.opts.namespace)}/pods` : '/api/v1/pods';
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams();
    if (this.opts.labelSelector) q.set('labelSelector', this.opts.labelSelector);
    if (this.opts.fieldSelector) q.set('fieldSelector', this.opts.fieldSelector);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return `${this.basePath()}?${q.toString()}`;
  }

  async run(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!signal.aborted) {
      const watchStarted = performance.now();
      try {
        let end: WatchEnd;
        if (this.resourceVersion === undefined && this.streamingSupported) {
          end = await this.watch(signal, true, () => {
            attempt = 0;
          });
        } else {
          if (this.resourceVersion === undefined) await this.list(signal);
          end = await this.watch(signal, false, () => {
            attempt = 0;
          });
        }
        if (isAborted(signal)) return;
        if (end === 'gone') {
          this.opts.hooks.log(
            `watch${this.scope()}: resourceVersion ${this.resourceVersion ?? '?'} is gone (410): relisting`,
          );
          this.resourceVersion = undefined;
          this.opts.hooks.onRelist('gone');
          continue;
        }
        this.opts.hooks.onWatchRestart(end);
        if (end === 'closed' && performance.now() - watchStarted < 1000) {
          // A watch that ends at once (a proxy, an overloaded server) must not turn into a busy loop.
          await sleep(backoffDelay(attempt++, this.opts.backoff), signal);
        } else if (end === 'stall') {
          this.opts.hooks.log(
            `watch${this.scope()}: no event or bookmark for ${this.opts.stallTimeoutMs} ms: reconnecting`,
          );
          await sleep(backoffDelay(attempt++, this.opts.backoff), signal);
        }
      } catch (err) {
        if (isAborted(signal)) return;
        if (err instanceof StreamingUnsupported) {
          this.opts.hooks.log(
            `watch${this.scope()}: streaming lists not supported (${err.message}); using paginated lists`,
          );
          this.streamingSupported = false;
          continue;
        }
        this.opts.hooks.onWatchRestart('error');
        const delay = backoffDelay(attempt++, this.opts.backoff);
        this.opts.hooks.log(`watch${this.scope()}: ${(err as Error).message}; retrying in ${Math.round(delay)} ms`);
        await sleep(delay, signal);
      }
    }
  }

  private scope(): string {
    return this.opts.namespace ? ` ${this.opts.namespace}` : '';
  }

  /** Paginated list; replaces the cache and emits the differences (everything on the first sync). */
  private async list(signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, PodSnapshot>();
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await this.opts.api.request<{
        metadata?: { resourceVersion?: string; continue?: string };
        items?: unknown[];
      }>(this.query({ limit: String(this.opts.pageSize), ...(cont ? { continue: cont } : {}) }), {
        signal,
        timeoutMs: 60_000,
      });
      rv ??= page.metadata?.resourceVersion;
      for (const item of page.items ?? []) {
        const s = snapshotOf(item);
        fresh.set(podKey(s), s);
      }
      cont = page.metadata?.continue || undefined;
    } while (cont);
    if (!rv) throw new Error('the pod list has no resourceVersion');
    this.replaceCache(fresh, rv);
  }

  private replaceCache(fresh: Map<string, PodSnapshot>, rv: string): void {
    const initial = !this.synced;
    if (initial) this.opts.hooks.onRelist('initial');
    const events = relistEvents(this.cache, fresh, this.now(), initial);
    this.cache.clear();
    for (const [k, v] of fresh) this.cache.set(k, v);
    this.resourceVersion = rv;
    if (events.length > 0) this.opts.hooks.onEvents(events, { initial });
    if (initial) {
      this.synced = true;
      this.opts.hooks.onSynced();
    }
  }

  /** One watch connection, until the server closes it, it goes silent, or the resourceVersion is gone. */
  private async watch(signal: AbortSignal, streamingList: boolean, onConnected: () => void): Promise<WatchEnd> {
    const params: Record<string, string> = {
      watch: '1',
      allowWatchBookmarks: 'true',
      // The server's own timeout, randomised so replicas do not reconnect together.
      timeoutSeconds: String(Math.max(1, Math.round(this.opts.watchTimeoutSeconds * (0.9 + Math.random() * 0.2)))),
    };
    if (streamingList) Object.assign(params, { sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan' });
    else params.resourceVersion = this.resourceVersion ?? '';
    const controller = new AbortController();
    const reqSignal = AbortSignal.any([signal, controller.signal]);
    let res: IncomingMessage;
    try {
      res = await this.opts.api.open(this.query(params), {
        signal: reqSignal,
        timeoutMs: Math.min(this.opts.stallTimeoutMs, 15_000),
      });
    } catch (err) {
      throw new Error(`cannot reach the API server: ${(err as Error).message}`, { cause: err });
    }
    if (res.statusCode === 410) {
      res.resume();
      return 'gone';
    }
    if (res.statusCode !== 200) {
      const body = await readAll(res);
      if (streamingList && (res.statusCode === 400 || res.statusCode === 422 || res.statusCode === 403)) {
        throw new StreamingUnsupported(new ApiError(res.statusCode, body, 'streaming list').message);
      }
      throw new ApiError(res.statusCode ?? 0, body, 'watch');
    }
    onConnected();
    res.setEncoding('utf8');
    const state = { stalled: false };
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        state.stalled = true;
        controller.abort();
        res.destroy();
      }, this.opts.stallTimeoutMs);
    };
    arm();
    res.on('data', arm);
    // Initial events of a streaming list are collected here and diffed against the cache at the end bookmark.
    let pending: Map<string, PodSnapshot> | undefined = streamingList ? new Map() : undefined;
    try {
      for await (const line of lines(res as AsyncIterable<string>)) {
        const ev = JSON.parse(line) as WatchLine;
        const rv = ev.object?.metadata?.resourceVersion;
        switch (ev.type) {
          case 'BOOKMARK':
            if (pending && ev.object?.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true') {
              this.replaceCache(pending, rv ?? '');
              pending = undefined;
            } else if (rv && !pending) this.resourceVersion = rv;
            break;
          case 'ADDED':
          case 'MODIFIED':
          case 'DELETED': {
            const s = snapshotOf(ev.object);
            if (pending) {
              pending.set(podKey(s), s);
              break;
            }
            this.apply(ev.type, s);
            if (rv) this.resourceVersion = rv;
            break;
          }
          case 'ERROR':
            if (ev.object?.code === 410) return 'gone';
            throw new Error(`watch error ${ev.object?.code ?? '?'}: ${ev.object?.message ?? line}`);
          default:
            throw new Error(`unexpected watch event type ${String(ev.type)}`);
        }
      }
    } catch (err) {
      if (state.stalled) return 'stall';
      if (isAborted(signal)) return 'closed';
      throw err;
    } finally {
      clearTimeout(timer);
      res.off('data', arm);
    }
    if (state.stalled) return 'stall';
    if (pending) {
      // The server closed the stream before the initial list completed: start over.
      this.opts.hooks.onRelist('incomplete');
      return 'closed';
    }
    return 'closed';
  }

  /** Applies one live watch event to the cache and emits what changed (nothing if no field we keep changed). */
  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', s: PodSnapshot): void {
    const key = podKey(s);
    const old = this.cache.get(key);
    const now = this.now();
    const events: PodEvent[] = [];
    if (type === 'DELETED') {
      if (old) {
        this.cache.delete(key);
        events.push(makeEvent('deleted', s, now));
      }
    } else {
      this.cache.set(key, s);
      if (!old) events.push(makeEvent('created', s, now));
      else if (old.uid !== s.uid) events.push(makeEvent('deleted', old, now), makeEvent('created', s, now));
      else {
        const changes = diffPods(old, s);
        if (changes.length > 0) events.push(makeEvent('updated', s, now, { changes }));
      }
    }
    if (events.length > 0) this.opts.hooks.onEvents(events, { initial: false });
  }
}

class StreamingUnsupported extends Error {}

async function readAll(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let s = '';
  for await (const c of res) s += c as string;
  return s;
}
