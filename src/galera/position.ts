// Where a member's data stands in the cluster's history: Galera's state UUID plus the last committed
// sequence number. Parsed from grastate.dat (written by Galera on clean shutdown) or from the
// "Recovered position" line `mariadbd --wsrep-recover` logs after a crash. Pure functions only.

/** A cluster history position. seqno -1 means "unknown" (a crash left grastate.dat without one). */
export interface Position {
  uuid: string;
  seqno: number;
}

export interface GrastateInfo {
  position: Position;
  safeToBootstrap: boolean;
}

/** The all-zero UUID Galera writes before a member ever joined a cluster. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Reads grastate.dat. Throws (naming the field) when it is not a grastate file, because guessing a
 * position from a damaged file is how data gets lost.
 */
export function parseGrastate(text: string): GrastateInfo {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+)\s*:\s*(\S*)\s*$/.exec(line);
    if (m?.[1] !== undefined) fields.set(m[1], m[2] ?? '');
  }
  const uuid = fields.get('uuid');
  if (uuid === undefined || !UUID_RE.test(uuid))
    throw new Error(`grastate.dat: 'uuid' is missing or not a UUID (${uuid ?? 'absent'})`);
  const seqnoText = fields.get('seqno');
  if (seqnoText === undefined || !/^-?\d+$/.test(seqnoText))
    throw new Error(`grastate.dat: 'seqno' is missing or not an integer (${seqnoText ?? 'absent'})`);
  const safe = fields.get('safe_to_bootstrap') ?? '0';
  if (safe !== '0' && safe !== '1') throw new Error(`grastate.dat: 'safe_to_bootstrap' must be 0 or 1, not ${safe}`);
  return { position: { uuid, seqno: Number(seqnoText) }, safeToBootstrap: safe === '1' };
}

/** grastate.dat text for a position; used to mark the chosen member safe to bootstrap. */
export function formatGrastate(info: GrastateInfo): string {
  return [
    '# GALERA saved state',
    'version: 2.1',
    `uuid:    ${info.position.uuid}`,
    `seqno:   ${info.position.seqno}`,
    `safe_to_bootstrap: ${info.safeToBootstrap ? 1 : 0}`,
    '',
  ].join('\n');
}

/**
 * The position from `mariadbd --wsrep-recover` output ("WSREP: Recovered position: <uuid>:<seqno>").
 * Undefined when the log has no such line (recovery failed, or the server was never part of a cluster).
 */
export function parseRecoveredPosition(log: string): Position | undefined {
  let found: Position | undefined;
  for (const m of log.matchAll(/WSREP: Recovered position:\s*([0-9a-f-]{36}):(-?\d+)/g)) {
    if (m[1] !== undefined && m[2] !== undefined) found = { uuid: m[1], seqno: Number(m[2]) };
  }
  return found;
}

export const formatPosition = (p: Position): string => `${p.uuid}:${p.seqno}`;
