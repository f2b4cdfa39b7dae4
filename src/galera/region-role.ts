// A region's role (primary, standby or fenced) as its members read it: one row in the region state table,
// which Galera copies to every member of the region and which never goes to the other region (the
// replica filters its database: regionMysqld). Until `kstack region` writes the row, the role is the
// configured initial one. Pure: the agent runs these statements and applies the answer to read_only.
import { REGION_STATE_DATABASE, sqlString, type RegionRole } from './config.js';

export const REGION_STATE_TABLE = `\`${REGION_STATE_DATABASE}\`.\`state\``;

/**
 * Where the other region's replication entry point is, as `kstack region` recorded it (Galera copies the row
 * to every member; the replica filter keeps it in this region). A primary's agent asks the peer its role
 * there before it opens writes: the fence of an old primary that comes back after an unplanned failover.
 */
export const REGION_PEER_TABLE = `\`${REGION_STATE_DATABASE}\`.\`peer\``;

export const REGION_PEER_DDL =
  `CREATE TABLE IF NOT EXISTS ${REGION_PEER_TABLE} (id TINYINT PRIMARY KEY, region VARCHAR(32) NOT NULL, ` +
  'host VARCHAR(255) NOT NULL, port INT NOT NULL)';

/** The table (idempotent). `epoch` grows at every promotion, so the newer primary of two is known. */
export const REGION_STATE_DDL: readonly string[] = [
  `CREATE DATABASE IF NOT EXISTS \`${REGION_STATE_DATABASE}\``,
  `CREATE TABLE IF NOT EXISTS ${REGION_STATE_TABLE} (id TINYINT PRIMARY KEY, role VARCHAR(16) NOT NULL, ` +
    'epoch BIGINT NOT NULL, reason VARCHAR(255) NOT NULL, ' +
    'changed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))',
  REGION_PEER_DDL,
];

/** The server's answer while `kstack region` has not made the region tables yet (no table, no database). */
export function isMissingRegionTable(err: unknown): boolean {
  const errno = (err as { errno?: number } | undefined)?.errno;
  return errno === 1146 || errno === 1049;
}

export const READ_REGION_STATE_SQL = `SELECT role, epoch, reason FROM ${REGION_STATE_TABLE} WHERE id = 1`;

export interface RegionState {
  role: RegionRole;
  epoch: number;
  reason: string;
}

const ROLES: readonly RegionRole[] = ['primary', 'standby', 'fenced'];

/** The stored row, checked; a row with an unknown role reads as fenced (never writable by mistake). */
export function parseRegionState(
  row: { role?: unknown; epoch?: unknown; reason?: unknown } | undefined,
): RegionState | undefined {
  if (!row) return undefined;
  const role = ROLES.find((r) => r === row.role) ?? 'fenced';
  const epoch = Number(row.epoch ?? 0);
  return { role, epoch: Number.isFinite(epoch) ? epoch : 0, reason: typeof row.reason === 'string' ? row.reason : '' };
}

/** The role in force: the stored one, else the configured initial role. */
export function effectiveRole(initialRole: RegionRole, stored: RegionState | undefined): RegionRole {
  return stored?.role ?? initialRole;
}

/** Only a primary takes writes; a standby applies the replica stream, which read_only does not bind. */
export const wantsReadOnly = (role: RegionRole): boolean => role !== 'primary';

/** Records a role; Galera copies it to every member, and the other region's replica filters it out. */
export function writeRegionStateSql(state: RegionState): string {
  return (
    `REPLACE INTO ${REGION_STATE_TABLE} (id, role, epoch, reason) ` +
    `VALUES (1, '${state.role}', ${Math.trunc(state.epoch)}, ${sqlString(state.reason.slice(0, 255))})`
  );
}

export const READ_REGION_PEER_SQL = `SELECT region, host, port FROM ${REGION_PEER_TABLE} WHERE id = 1`;

export interface RegionPeer {
  region: string;
  host: string;
  port: number;
}

/** The stored peer row, checked; a row that does not parse reads as no peer (the agent logs it). */
export function parseRegionPeer(
  row: { region?: unknown; host?: unknown; port?: unknown } | undefined,
): RegionPeer | undefined {
  if (!row || typeof row.region !== 'string' || typeof row.host !== 'string') return undefined;
  const port = Number(row.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !/^[A-Za-z0-9.:-]+$/.test(row.host)) return undefined;
  return { region: row.region, host: row.host, port };
}

export function writeRegionPeerSql(peer: RegionPeer): string {
  if (!/^[A-Za-z0-9.:-]+$/.test(peer.host)) throw new Error(`peer.host: "${peer.host}" is not a host name or IP`);
  if (!Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535)
    throw new Error(`peer.port: must be 1-65535, not ${peer.port}`);
  return (
    `REPLACE INTO ${REGION_PEER_TABLE} (id, region, host, port) ` +
    `VALUES (1, ${sqlString(peer.region)}, ${sqlString(peer.host)}, ${Math.trunc(peer.port)})`
  );
}

/** What this member last learned from the peer region: nothing yet, no answer, or its recorded role. */
export type PeerRegionView =
  { kind: 'unknown' } | { kind: 'unreachable'; error: string } | { kind: 'answered'; state: RegionState | undefined };

export interface RegionVerdict {
  /** Whether the member refuses the app's writes. */
  readOnly: boolean;
  /** A role to record for the whole region (Galera copies it): the fence, once a newer primary is seen. */
  record: RegionState | undefined;
  /** Why, for the log and for `kstack region status`. */
  reason: string;
}

/**
 * Whether a member takes writes, from its region's role and what the peer region says:
 * - only a primary does;
 * - a primary with a peer on record first asks it: until one check has ended it stays read-only, so a
 *   region that comes back after an unplanned failover never takes a write before it has looked;
 * - a peer that is primary at a newer epoch fences this region (recorded, so it holds on every member and
 *   across restarts, until `kstack region failback` makes it a standby again);
 * - a peer that is primary at the same epoch is a conflict no kstack command makes: both must stay shut;
 * - a peer that cannot be reached does not stop a primary (availability while the standby is down), except
 *   just after the member started (`confirming`: no answer yet, within the agent's grace): a region that
 *   comes back may reach the other a few seconds after its members start, and must ask before it writes.
 *   A partition that outlasts the grace is the one case the fence cannot see; the global name never points
 *   at a fenced region.
 */
export function regionVerdict(
  own: { role: RegionRole; epoch: number },
  peerOnRecord: boolean,
  peer: PeerRegionView,
  confirming = false,
): RegionVerdict {
  if (own.role !== 'primary') return { readOnly: true, record: undefined, reason: `role ${own.role}` };
  if (!peerOnRecord) return { readOnly: false, record: undefined, reason: 'primary (no peer on record)' };
  if (peer.kind === 'unknown') return { readOnly: true, record: undefined, reason: 'asking the peer region first' };
  if (peer.kind === 'unreachable' && confirming)
    return {
      readOnly: true,
      record: undefined,
      reason: `just started and the peer region does not answer yet (${peer.error}): read-only until it does`,
    };
  if (peer.kind === 'unreachable')
    return { readOnly: false, record: undefined, reason: `primary (peer unreachable: ${peer.error})` };
  const theirs = peer.state;
  if (theirs?.role === 'primary' && theirs.epoch > own.epoch)
    return {
      readOnly: true,
      record: {
        role: 'fenced',
        epoch: own.epoch,
        reason: `the peer region is primary at epoch ${theirs.epoch}, newer than ${own.epoch}`,
      },
      reason: `fenced: the peer region is primary at epoch ${theirs.epoch}`,
    };
  if (theirs?.role === 'primary' && theirs.epoch === own.epoch)
    return {
      readOnly: true,
      record: undefined,
      reason: `both regions are primary at epoch ${own.epoch}: read-only until one is made standby`,
    };
  return { readOnly: false, record: undefined, reason: `primary (peer is ${theirs?.role ?? 'without a role'})` };
}
