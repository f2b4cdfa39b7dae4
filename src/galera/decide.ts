// The coordination rule every db member's agent runs before it starts mariadbd. Pure: given what this
// member knows about itself and what each peer reported (or that it could not be reached), say whether
// to bootstrap a cluster, join one, or wait. Every member runs the same rule on (eventually) the same
// inputs, so they agree on who bootstraps without a lock or a leader election.
import { NIL_UUID, type Position } from './position.js';

export type Phase = 'inspecting' | 'waiting' | 'starting' | 'running' | 'stopping';

export interface WsrepStatus {
  /** wsrep_cluster_status: Primary, Non-Primary, Disconnected. */
  clusterStatus: string;
  /** wsrep_local_state: 4 = Synced, 2 = Donor, 1 = Joining, 3 = Joined. */
  localState: number;
  ready: boolean;
  clusterSize: number;
  nodeName: string;
}

/** What an agent publishes about its member (served as JSON at /state). */
export interface MemberReport {
  name: string;
  ordinal: number;
  phase: Phase;
  /** The data dir holds a database (initialised before, or received by SST). */
  hasData: boolean;
  /** Last committed position; null while unknown (not inspected yet, or recovery failed). */
  position: Position | null;
  safeToBootstrap: boolean;
  /** Live status of the running server, null when mariadbd is not up. */
  wsrep: WsrepStatus | null;
  /** The agent's latest decision, for people reading /state. */
  plan: string;
  /** Where peers reach this member's Galera, IST and SST (an IP); absent from older agents. */
  address?: string;
  /**
   * How long (ms, at the time of the report) the running server
   * has been Synced without a break; absent when not Synced.
   */
  syncedForMs?: number;
}

export interface PeerView {
  name: string;
  /** undefined: not reachable (not scheduled yet, DNS not there, agent not listening). */
  report: MemberReport | undefined;
}

export type Decision =
  | { action: 'bootstrap'; fresh: boolean; reason: string }
  | { action: 'join'; reason: string }
  | { action: 'wait'; reason: string };

/** A member that is part of a working (primary) cluster that others can join. */
export function isPrimaryMember(r: MemberReport | undefined): boolean {
  return r?.phase === 'running' && r.wsrep?.clusterStatus === 'Primary';
}

/** Synced and ready to serve: what readiness means for a member. */
export function isSynced(w: WsrepStatus | null): boolean {
  return w !== null && w.clusterStatus === 'Primary' && w.localState === 4 && w.ready;
}

/**
 * Order members by how far their data got: higher seqno first; on a tie, the one Galera itself marked
 * safe to bootstrap (it left the cluster last, cleanly); then the lowest ordinal, so every member picks
 * the same one.
 */
export function compareForBootstrap(a: MemberReport, b: MemberReport): number {
  const sa = a.position?.seqno ?? -1;
  const sb = b.position?.seqno ?? -1;
  if (sa !== sb) return sb - sa;
  if (a.safeToBootstrap !== b.safeToBootstrap) return a.safeToBootstrap ? -1 : 1;
  return a.ordinal - b.ordinal;
}

export function decideStart(self: MemberReport, peers: readonly PeerView[]): Decision {
  // 1. A cluster is running: join it (IST if our position is in its gcache, SST otherwise).
  const primaries = peers.filter((p) => isPrimaryMember(p.report)).map((p) => p.name);
  if (primaries.length > 0)
    return { action: 'join', reason: `joining the running cluster via ${primaries.join(', ')}` };

  // 2. Not everyone has reported: only a member Galera marked safe_to_bootstrap (it left a clean
  //    cluster last, so nobody can be ahead of it) may go ahead; everyone else waits, because the silent
  //    member could hold newer data, or be the one that should bootstrap a new cluster.
  //    A peer that is stopping counts as silent too: it is a pod on its way out (after `kubectl delete`,
  //    the old pod still answers under the member's name until it is gone), its position is not final
  //    until mariadbd has exited, and the pod that replaces it will report the final one.
  const silent = peers
    .filter((p) => p.report === undefined || p.report.phase === 'inspecting' || p.report.phase === 'stopping')
    .map((p) => p.name);
  if (silent.length > 0) {
    if (
      self.hasData &&
      self.safeToBootstrap &&
      self.position !== null &&
      self.position.seqno >= 0 &&
      self.position.uuid !== NIL_UUID
    ) {
      return {
        action: 'bootstrap',
        fresh: false,
        reason: `safe_to_bootstrap=1 at seqno ${self.position.seqno}; ${silent.join(', ')} not reporting`,
      };
    }
    return { action: 'wait', reason: `waiting for ${silent.join(', ')} to report their state` };
  }

  const all: MemberReport[] = [self, ...peers.map((p) => p.report).filter((r): r is MemberReport => r !== undefined)];
  const withData = all.filter((r) => r.hasData);

  // 3. Nobody has data: a brand-new cluster. The lowest ordinal initialises and bootstraps it.
  if (withData.length === 0) {
    const first = [...all].sort((a, b) => a.ordinal - b.ordinal)[0];
    if (first?.name === self.name)
      return { action: 'bootstrap', fresh: true, reason: 'no member has data: bootstrapping a new cluster' };
    return {
      action: 'wait',
      reason: `no member has data: waiting for ${first?.name ?? '?'} to bootstrap a new cluster`,
    };
  }

  // 4. Data exists but no cluster runs (full-cluster stop or crash): the most advanced member
  //    bootstraps from its own data, everyone else joins it afterwards.
  const unknown = withData.filter((r) => r.position === null).map((r) => r.name);
  if (unknown.length > 0)
    return { action: 'wait', reason: `position of ${unknown.join(', ')} is unknown (recovery did not report one)` };
  const histories = new Set(withData.map((r) => r.position?.uuid).filter((u) => u !== undefined && u !== NIL_UUID));
  if (histories.size > 1) {
    return {
      action: 'wait',
      reason:
        `members hold data from different clusters ` +
        `(${[...histories].join(', ')}); refusing to pick one, fix by hand`,
    };
  }
  const best = [...withData].sort(compareForBootstrap)[0];
  if (best === undefined) return { action: 'wait', reason: 'no candidate' };
  const at = best.position?.seqno ?? -1;
  if (best.name === self.name)
    return {
      action: 'bootstrap',
      fresh: false,
      reason: `most advanced member (seqno ${at}): bootstrapping from its data`,
    };
  return {
    action: 'wait',
    reason: `${best.name} is the most advanced member (seqno ${at}): waiting for it to bootstrap`,
  };
}

/**
 * The donors a joiner names (wsrep_sst_donor), best first: peers Synced in a primary component, the one
 * Synced the longest first (then the lowest ordinal). Galera's own choice may pick a member that has just
 * joined by IST itself, and such a member cannot serve an IST that reaches back before its own join: the
 * write sets it received by IST are not in its gcache (Galera issue 364), so the joiner's IST ends one
 * short ("IST didn't contain all write sets … node restart required") and the joiner stays non-Primary.
 * Seen on the local cluster after deleting every db pod: two joiners came up together and the second
 * was given the first as donor. The member that was there before them has the whole range.
 */
export function donorOrder(peers: readonly PeerView[]): string[] {
  return peers
    .flatMap((p) => (p.report !== undefined && isPrimaryMember(p.report) && isSynced(p.report.wsrep) ? [p.report] : []))
    .sort((a, b) => (b.syncedForMs ?? 0) - (a.syncedForMs ?? 0) || a.ordinal - b.ordinal)
    .map((r) => r.name);
}

/**
 * wsrep_sst_donor for a joiner: the preferred donors, then a trailing comma, which lets Galera take any
 * other member when none of them can donate (gone by the time the request is made). Undefined: no
 * preference (nobody Synced when we decided), Galera chooses.
 */
export function sstDonorOption(donors: readonly string[]): string | undefined {
  return donors.length === 0 ? undefined : `${donors.join(',')},`;
}

/**
 * Liveness: the agent is alive while it waits, while mariadbd starts (an SST can take hours, it must not
 * be killed), and while a running server answers SQL. Only a running server that has not answered for
 * `stallLimitMs` (hung) is reported dead, so the kubelet restarts it.
 */
export function isAlive(
  phase: Phase,
  msSinceSqlAnswered: number,
  stallLimitMs: number,
  msOutsidePrimary = 0,
  outsidePrimaryLimitMs = Infinity,
): boolean {
  // A running server outside the primary component for this long is stuck: e.g. after "Receiving IST
  // failed, node restart required" mariadbd keeps answering SQL as a non-Primary joiner and never recovers.
  return phase !== 'running' || (msSinceSqlAnswered <= stallLimitMs && msOutsidePrimary <= outsidePrimaryLimitMs);
}

/**
 * Whether a running server has left the group for good: Galera closed its group connection
 * (wsrep_cluster_status Disconnected), as it does after "Receiving IST failed, node restart required".
 * It never reconnects by itself, while a server that is merely non-Primary (a partition) keeps trying;
 * so only Disconnected, and only after `limitMs` of it without a break, means "restart mariadbd".
 */
export function hasLeftGroup(
  phase: Phase,
  wsrep: WsrepStatus | null,
  msDisconnected: number,
  limitMs: number,
): boolean {
  return phase === 'running' && wsrep?.clusterStatus === 'Disconnected' && msDisconnected >= limitMs;
}

/** Ordinal from a StatefulSet-style name (db-2 → 2); undefined when the name has no trailing number. */
export function ordinalOf(name: string): number | undefined {
  const m = /-(\d+)$/.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
