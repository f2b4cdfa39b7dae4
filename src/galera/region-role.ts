// A region's role (primary, standby or fenced) as its members read it: one row in the region state table,
// which Galera copies to every member of the region and which never goes to the other region (the
// replica filters its database: regionMysqld). Until `kstack region` writes the row, the role is the
// configured initial one. Pure: the agent runs these statements and applies the answer to read_only.
import { REGION_STATE_DATABASE, sqlString, type RegionRole } from './config.js';

export const REGION_STATE_TABLE = `\`${REGION_STATE_DATABASE}\`.\`state\``;

/** The table (idempotent). `epoch` grows at every promotion, so the newer primary of two is known. */
export const REGION_STATE_DDL: readonly string[] = [
  `CREATE DATABASE IF NOT EXISTS \`${REGION_STATE_DATABASE}\``,
  `CREATE TABLE IF NOT EXISTS ${REGION_STATE_TABLE} (id TINYINT PRIMARY KEY, role VARCHAR(16) NOT NULL, ` +
    'epoch BIGINT NOT NULL, reason VARCHAR(255) NOT NULL, ' +
    'changed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))',
];

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
