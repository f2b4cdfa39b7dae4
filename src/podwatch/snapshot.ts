// The minimal per-pod record podwatch keeps, and the semantic diff between two of them. Everything here is
// pure: the informer feeds raw API objects in, sinks get events out. Only fields a user cares about are
// kept, so noise (managedFields, resourceVersion, heartbeat timestamps) cannot produce an event and 10,000
// cached pods stay small.
import { createHash } from 'node:crypto';

export interface ContainerSnapshot {
  name: string;
  /** 'running', 'waiting:<reason>', 'terminated:<reason>:<exitCode>' (or 'unknown' before the kubelet reports). */
  state: string;
  /** The previous termination ('<reason>:<exitCode>'), which is where OOMKilled shows up after a restart. */
  lastTerminated?: string;
  restartCount: number;
  ready: boolean;
}

export interface PodSnapshot {
  uid: string;
  namespace: string;
  name: string;
  resourceVersion: string;
  phase: string;
  /** Pod status reason, e.g. Evicted. */
  reason?: string;
  /** Condition type → 'True' | 'False' | 'Unknown' (with ':<reason>' when the condition has one). */
  conditions: Record<string, string>;
  node?: string;
  podIPs: string[];
  labels: Record<string, string>;
  /** Long values are stored as a digest: a diff only needs to know that they changed. */
  annotations: Record<string, string>;
  deletionTimestamp?: string;
  containers: ContainerSnapshot[];
  initContainers: ContainerSnapshot[];
}

export interface Change {
  /** e.g. 'phase', 'condition.Ready', 'container.app.state', 'label.tier', 'node', 'terminating'. */
  field: string;
  from?: string;
  to?: string;
}

// Loosely typed view of the JSON the API server sends: the watch stream is parsed without the client's
// class deserializer (it is the hot path), so fields are read defensively.
type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const MAX_ANNOTATION_VALUE = 128;

function stringMap(v: unknown, digestLong: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) {
    if (typeof val !== 'string') continue;
    out[k] =
      digestLong && val.length > MAX_ANNOTATION_VALUE
        ? `sha256:${createHash('sha256').update(val).digest('hex').slice(0, 16)}`
        : val;
  }
  return out;
}

function containerState(state: unknown): string {
  const s = obj(state);
  if ('running' in s) return 'running';
  if ('waiting' in s) {
    const reason = str(obj(s.waiting).reason);
    return reason ? `waiting:${reason}` : 'waiting';
  }
  if ('terminated' in s) {
    const t = obj(s.terminated);
    return `terminated:${str(t.reason) ?? 'Unknown'}:${typeof t.exitCode === 'number' ? t.exitCode : '?'}`;
  }
  return 'unknown';
}

function containers(specList: unknown, statusList: unknown): ContainerSnapshot[] {
  const statuses = new Map(arr(statusList).map((s) => [str(obj(s).name) ?? '', obj(s)]));
  return arr(specList).map((c) => {
    const name = str(obj(c).name) ?? '';
    const st = statuses.get(name);
    const last = st ? containerState(st.lastState) : 'unknown';
    const snap: ContainerSnapshot = {
      name,
      state: st ? containerState(st.state) : 'unknown',
      restartCount: st && typeof st.restartCount === 'number' ? st.restartCount : 0,
      ready: st?.ready === true,
    };
    if (last.startsWith('terminated:')) snap.lastTerminated = last.slice('terminated:'.length);
    return snap;
  });
}

/** Reduces a pod as the API server sends it to what podwatch keeps. */
export function snapshotOf(pod: unknown): PodSnapshot {
  const p = obj(pod);
  const meta = obj(p.metadata);
  const spec = obj(p.spec);
  const status = obj(p.status);
  const conditions: Record<string, string> = {};
  for (const c of arr(status.conditions)) {
    const cond = obj(c);
    const type = str(cond.type);
    if (!type) continue;
    const reason = str(cond.reason);
    conditions[type] = `${str(cond.status) ?? 'Unknown'}${reason ? `:${reason}` : ''}`;
  }
  const podIPs = arr(status.podIPs)
    .map((ip) => str(obj(ip).ip))
    .filter((ip): ip is string => ip !== undefined);
  const podIP = str(status.podIP);
  if (podIPs.length === 0 && podIP) podIPs.push(podIP);
  const snap: PodSnapshot = {
    uid: str(meta.uid) ?? '',
    namespace: str(meta.namespace) ?? '',
    name: str(meta.name) ?? '',
    resourceVersion: str(meta.resourceVersion) ?? '',
    phase: str(status.phase) ?? 'Unknown',
    conditions,
    podIPs,
    labels: stringMap(meta.labels, false),
    annotations: stringMap(meta.annotations, true),
    containers: containers(spec.containers, status.containerStatuses),
    initContainers: containers(spec.initContainers, status.initContainerStatuses),
  };
  const reason = str(status.reason);
  if (reason) snap.reason = reason;
  const node = str(spec.nodeName);
  if (node) snap.node = node;
  const deletion = str(meta.deletionTimestamp);
  if (deletion) snap.deletionTimestamp = deletion;
  return snap;
}

export const podKey = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;

function diffValue(out: Change[], field: string, a: string | undefined, b: string | undefined): void {
  if (a === b) return;
  const c: Change = { field };
  if (a !== undefined) c.from = a;
  if (b !== undefined) c.to = b;
  out.push(c);
}

function diffMap(out: Change[], prefix: string, a: Record<string, string>, b: Record<string, string>): void {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of [...keys].sort()) diffValue(out, `${prefix}.${k}`, a[k], b[k]);
}

function diffContainers(out: Change[], prefix: string, a: ContainerSnapshot[], b: ContainerSnapshot[]): void {
  const before = new Map(a.map((c) => [c.name, c]));
  const after = new Map(b.map((c) => [c.name, c]));
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const x = before.get(name);
    const y = after.get(name);
    const f = `${prefix}.${name}`;
    if (!x || !y) {
      diffValue(out, f, x ? 'present' : undefined, y ? 'present' : undefined);
      continue;
    }
    diffValue(out, `${f}.state`, x.state, y.state);
    diffValue(out, `${f}.lastTerminated`, x.lastTerminated, y.lastTerminated);
    diffValue(out, `${f}.restartCount`, String(x.restartCount), String(y.restartCount));
    diffValue(out, `${f}.ready`, String(x.ready), String(y.ready));
  }
}

/** What changed between two snapshots of the same pod, in a stable order; empty means "nothing a user cares about". */
export function diffPods(a: PodSnapshot, b: PodSnapshot): Change[] {
  const out: Change[] = [];
  if (a.uid !== b.uid) diffValue(out, 'uid', a.uid, b.uid);
  diffValue(out, 'phase', a.phase, b.phase);
  diffValue(out, 'reason', a.reason, b.reason);
  diffMap(out, 'condition', a.conditions, b.conditions);
  diffContainers(out, 'initContainer', a.initContainers, b.initContainers);
  diffContainers(out, 'container', a.containers, b.containers);
  diffValue(out, 'node', a.node, b.node);
  diffValue(out, 'podIPs', a.podIPs.join(',') || undefined, b.podIPs.join(',') || undefined);
  diffMap(out, 'label', a.labels, b.labels);
  diffMap(out, 'annotation', a.annotations, b.annotations);
  diffValue(out, 'terminating', a.deletionTimestamp ? 'true' : undefined, b.deletionTimestamp ? 'true' : undefined);
  return out;
}

/** `existing`: the pod was there when podwatch started (its first list), so it is not news that it was created. */
export type EventType = 'created' | 'updated' | 'deleted' | 'existing';

export interface PodEvent {
  type: EventType;
  pod: { namespace: string; name: string; uid: string };
  /** When podwatch observed the change (ISO 8601). */
  time: string;
  resourceVersion: string;
  /** For updates: exactly what changed. */
  changes?: Change[];
  /**
   * Set when the change was not seen live but found by comparing
   * a relist with the cache (after 410, reconnect or hand-over).
   */
  observedOnRelist?: true;
  /**
   * Set on events a new leader emits for the hand-over window; the old leader may have emitted some of them already.
   */
  handover?: true;
  /** The pod's state after the change, for sinks that show a summary. */
  phase: string;
  node?: string;
  ready: boolean;
  labels: Record<string, string>;
}

export function isReady(s: PodSnapshot): boolean {
  return s.conditions.Ready?.startsWith('True') === true;
}

export function makeEvent(
  type: EventType,
  s: PodSnapshot,
  now: Date,
  extra: { changes?: Change[]; observedOnRelist?: boolean } = {},
): PodEvent {
  const e: PodEvent = {
    type,
    pod: { namespace: s.namespace, name: s.name, uid: s.uid },
    time: now.toISOString(),
    resourceVersion: s.resourceVersion,
    phase: s.phase,
    ready: isReady(s),
    labels: s.labels,
  };
  if (s.node) e.node = s.node;
  if (extra.changes) e.changes = extra.changes;
  if (extra.observedOnRelist) e.observedOnRelist = true;
  return e;
}

/**
 * The events that turn `cache` into `fresh` (a new list): pods only in the list were created, pods only in
 * the cache were deleted while we were not watching, pods in both may have changed. A pod whose uid changed
 * was deleted and recreated under the same name: both events are reported. On the `initial` list the pods
 * are `existing`, not created: podwatch did not see them appear (the startup flood kubewatch is known for).
 */
export function relistEvents(
  cache: ReadonlyMap<string, PodSnapshot>,
  fresh: ReadonlyMap<string, PodSnapshot>,
  now: Date,
  initial: boolean,
): PodEvent[] {
  const out: PodEvent[] = [];
  const marked = initial ? {} : { observedOnRelist: true };
  for (const [key, old] of cache) {
    const cur = fresh.get(key);
    if (!cur || cur.uid !== old.uid) out.push(makeEvent('deleted', old, now, marked));
  }
  for (const [key, cur] of fresh) {
    const old = cache.get(key);
    if (!old || old.uid !== cur.uid) {
      out.push(makeEvent(initial ? 'existing' : 'created', cur, now, marked));
      continue;
    }
    const changes = diffPods(old, cur);
    if (changes.length > 0) out.push(makeEvent('updated', cur, now, { ...marked, changes }));
  }
  return out;
}
