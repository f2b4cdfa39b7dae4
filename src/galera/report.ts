// Reading a peer's /state answer. Peers run the same agent, but a half-upgraded cluster or a wrong
// port can hand us anything: anything that is not a well-formed report counts as "not reporting".
import type { MemberReport, Phase, WsrepStatus } from './decide.js';
import type { Position } from './position.js';

const PHASES: readonly Phase[] = ['inspecting', 'waiting', 'starting', 'running', 'stopping'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function position(v: unknown): Position | null | undefined {
  if (v === null) return null;
  if (!isObject(v) || typeof v.uuid !== 'string' || typeof v.seqno !== 'number' || !Number.isInteger(v.seqno))
    return undefined;
  return { uuid: v.uuid, seqno: v.seqno };
}

function wsrep(v: unknown): WsrepStatus | null | undefined {
  if (v === null) return null;
  if (!isObject(v)) return undefined;
  const { clusterStatus, localState, ready, clusterSize, nodeName } = v;
  if (
    typeof clusterStatus !== 'string' ||
    typeof localState !== 'number' ||
    typeof ready !== 'boolean' ||
    typeof clusterSize !== 'number' ||
    typeof nodeName !== 'string'
  )
    return undefined;
  return { clusterStatus, localState, ready, clusterSize, nodeName };
}

/** A MemberReport, or undefined when `raw` is not one. */
export function parseReport(raw: unknown): MemberReport | undefined {
  if (!isObject(raw)) return undefined;
  const { name, ordinal, phase, hasData, safeToBootstrap, plan } = raw;
  if (typeof name !== 'string' || typeof ordinal !== 'number' || !Number.isInteger(ordinal)) return undefined;
  if (typeof phase !== 'string' || !(PHASES as readonly string[]).includes(phase)) return undefined;
  if (typeof hasData !== 'boolean' || typeof safeToBootstrap !== 'boolean') return undefined;
  const pos = position(raw.position);
  const ws = wsrep(raw.wsrep);
  if (pos === undefined || ws === undefined) return undefined;
  const report: MemberReport = {
    name,
    ordinal,
    phase: phase as Phase,
    hasData,
    position: pos,
    safeToBootstrap,
    wsrep: ws,
    plan: typeof plan === 'string' ? plan : '',
  };
  // An address is only used when it looks like one (an IP or host name, no spaces or separators).
  if (typeof raw.address === 'string' && /^[0-9A-Za-z.:_-]{1,253}$/.test(raw.address)) report.address = raw.address;
  if (typeof raw.syncedForMs === 'number' && Number.isFinite(raw.syncedForMs) && raw.syncedForMs >= 0)
    report.syncedForMs = raw.syncedForMs;
  return report;
}
