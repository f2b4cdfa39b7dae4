// Asynchronous GTID replication between two regions (docs/multi-region.md): one member of the standby's
// Galera cluster applies the primary's binlog stream over TLS, and Galera copies what it applies to the
// rest of the standby. This module holds the statements, the readers of what the server answers (pure)
// and the few steps that run them through any SQL session: a mariadb connection on loopback, or
// `mariadb` inside a member pod.
import { sqlString } from '../galera/config.js';
import {
  REGION_STATE_DDL,
  isMissingRegionTable,
  writeRegionPeerSql,
  writeRegionStateSql,
  type RegionPeer,
  type RegionState,
} from '../galera/region-role.js';

/** A SQL session: rows as objects keyed by column name. */
export interface SqlSession {
  query(sql: string): Promise<Record<string, unknown>[]>;
}

/** Where the standby's replica logs in: the primary's entry point, over TLS checked against `caFile`. */
export interface ReplicationSource {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The CA the replica checks the source's certificate against (a path on the replica's filesystem). */
  caFile: string | undefined;
  /** Also check that the certificate names `host` (off when the entry point is an address no SAN lists). */
  verifyServerName: boolean;
}

/**
 * CHANGE MASTER for GTID replication: the replica asks for everything after its gtid_slave_pos, so a
 * restarted replica, or one moved to another member, resumes without file/position bookkeeping. It
 * retries every second and the source sends a heartbeat every second, so a lost primary shows quickly.
 */
export function changeMasterSql(source: ReplicationSource): string {
  if (!/^[A-Za-z0-9.:-]+$/.test(source.host)) throw new Error(`source.host: "${source.host}" is not a host name or IP`);
  if (!Number.isInteger(source.port) || source.port < 1 || source.port > 65535)
    throw new Error(`source.port: must be 1-65535, not ${source.port}`);
  const tls = source.caFile
    ? [
        'MASTER_SSL = 1',
        `MASTER_SSL_CA = ${sqlString(source.caFile)}`,
        `MASTER_SSL_VERIFY_SERVER_CERT = ${source.verifyServerName ? 1 : 0}`,
      ]
    : ['MASTER_SSL = 0'];
  return [
    'CHANGE MASTER TO',
    [
      `MASTER_HOST = ${sqlString(source.host)}`,
      `MASTER_PORT = ${source.port}`,
      `MASTER_USER = ${sqlString(source.user)}`,
      `MASTER_PASSWORD = ${sqlString(source.password)}`,
      'MASTER_USE_GTID = slave_pos',
      'MASTER_CONNECT_RETRY = 1',
      'MASTER_HEARTBEAT_PERIOD = 1',
      ...tls,
    ].join(', '),
  ].join(' ');
}

/** One GTID list (`@@gtid_binlog_pos`, `@@gtid_slave_pos`): the last sequence number per domain. */
export type GtidPositions = Map<number, { serverId: number; seqNo: number }>;

/** Parses `1-1-20,1100-1-3`; an empty string is an empty position. Names the bad part. */
export function parseGtidList(text: string): GtidPositions {
  const out: GtidPositions = new Map();
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(part);
    if (!m) throw new Error(`GTID "${part}" is not domain-server-sequence`);
    out.set(Number(m[1]), { serverId: Number(m[2]), seqNo: Number(m[3]) });
  }
  return out;
}

/** Writes a position back as MariaDB reads it (domains in order). */
export function formatGtidList(pos: GtidPositions): string {
  return [...pos.entries()]
    .sort(([a], [b]) => a - b)
    .map(([d, g]) => `${d}-${g.serverId}-${g.seqNo}`)
    .join(',');
}

/**
 * The position `mariadb-dump --gtid --master-data=2` wrote (its snapshot's gtid_binlog_pos): in the head, or,
 * from a server that has been a replica itself (a promoted standby), deferred to the dump's end. Give it the
 * head and the tail of the dump.
 */
export function parseDumpGtid(text: string): string | undefined {
  return /^-- SET GLOBAL gtid_slave_pos='([0-9,-]*)';/m.exec(text)?.[1];
}

/**
 * How many transactions of the given domains `replica` still lacks against `source` (0: it has every one).
 * GTID sequence numbers grow by one per transaction within a domain, so the difference counts them.
 */
export function transactionsBehind(source: GtidPositions, replica: GtidPositions, domains: readonly number[]): number {
  let behind = 0;
  for (const d of domains) {
    const want = source.get(d)?.seqNo ?? 0;
    const have = replica.get(d)?.seqNo ?? 0;
    if (want > have) behind += want - have;
  }
  return behind;
}

/** What SHOW SLAVE STATUS says about the replica, reduced to what a person and an alert need. */
export interface ReplicaStatus {
  configured: boolean;
  ioRunning: boolean;
  sqlRunning: boolean;
  /** Seconds_Behind_Master; undefined while the IO thread is not connected. */
  secondsBehind: number | undefined;
  sourceHost: string | undefined;
  sourcePort: number | undefined;
  /** Every transaction the IO thread has received (Gtid_IO_Pos), applied or still in the relay log. */
  retrieved: GtidPositions;
  lastError: string | undefined;
}

/** A column's value as text: what the server sent as a string or number; '' for NULL or anything else. */
export function scalarText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return Buffer.isBuffer(value) ? value.toString('utf8') : '';
}

export function parseReplicaStatus(rows: readonly Record<string, unknown>[]): ReplicaStatus {
  const row = rows[0];
  if (!row)
    return {
      configured: false,
      ioRunning: false,
      sqlRunning: false,
      secondsBehind: undefined,
      sourceHost: undefined,
      sourcePort: undefined,
      retrieved: new Map(),
      lastError: undefined,
    };
  const text = (k: string): string => scalarText(row[k]);
  const behind = text('Seconds_Behind_Master');
  const errors = [text('Last_IO_Error'), text('Last_SQL_Error')].filter(Boolean);
  return {
    configured: true,
    ioRunning: text('Slave_IO_Running') === 'Yes',
    sqlRunning: text('Slave_SQL_Running') === 'Yes',
    secondsBehind: behind === '' ? undefined : Number(behind),
    sourceHost: text('Master_Host') || undefined,
    sourcePort: Number(text('Master_Port')) || undefined,
    retrieved: parseGtidList(text('Gtid_IO_Pos')),
    lastError: errors.length > 0 ? errors.join('; ') : undefined,
  };
}

/**
 * How far behind a standby may be for a planned failover to start (the default of the chart's replication
 * lag alert): writes stop until it has caught up, so a standby further behind would stop them for longer.
 */
export const SWITCHOVER_MAX_LAG_SECONDS = 30;

/**
 * Why a planned failover must not start from this replica state, or undefined when it may. Not applying
 * the stream refuses always (the switchover would wait forever); lag over `maxLagSeconds` refuses unless
 * forced (the switchover would still lose nothing, only stop writes for longer).
 */
export function switchoverRefusal(
  rs: ReplicaStatus,
  standby: string,
  primary: string,
  opts: { maxLagSeconds: number; force: boolean },
): string | undefined {
  if (!rs.configured || !rs.sqlRunning)
    return (
      `region '${standby}' is not applying the primary's changes (${rs.lastError ?? 'no replica'}); ` +
      "a switchover would lose them: fix replication first ('kstack region status')"
    );
  if (!opts.force && rs.secondsBehind !== undefined && rs.secondsBehind > opts.maxLagSeconds)
    return (
      `region '${standby}' is ${rs.secondsBehind} s behind '${primary}' (more than ${opts.maxLagSeconds} s): a ` +
      'switchover stops writes until the standby has caught up; wait until `kstack region status` shows it ' +
      'closer, or add --force to switch over anyway (still without losing a write)'
    );
  return undefined;
}

async function one(sql: SqlSession, stmt: string): Promise<string> {
  const rows = await sql.query(stmt);
  return scalarText(rows[0] ? Object.values(rows[0])[0] : undefined);
}

/** The source's position: every transaction it has logged. */
export async function binlogPosition(sql: SqlSession): Promise<GtidPositions> {
  return parseGtidList(await one(sql, 'SELECT @@GLOBAL.gtid_binlog_pos'));
}

/** The replica's position: every transaction of the source it has applied. */
export async function replicaPosition(sql: SqlSession): Promise<GtidPositions> {
  return parseGtidList(await one(sql, 'SELECT @@GLOBAL.gtid_slave_pos'));
}

/** The region's Galera GTID domain (wsrep_gtid_domain_id): the domain of the writes its clients make. */
export async function writeDomain(sql: SqlSession): Promise<number> {
  return Number(await one(sql, 'SELECT @@GLOBAL.wsrep_gtid_domain_id'));
}

export async function replicaStatus(sql: SqlSession): Promise<ReplicaStatus> {
  return parseReplicaStatus(await sql.query('SHOW SLAVE STATUS'));
}

/**
 * Points a member at the other region's entry point and starts applying. `from` is the position the member
 * already holds (every transaction up to it); undefined keeps its gtid_slave_pos (a replica re-pointed,
 * e.g. with a new password or address, continues where it stopped).
 */
export async function startReplica(
  sql: SqlSession,
  source: ReplicationSource,
  from: string | undefined,
): Promise<void> {
  if (from !== undefined) parseGtidList(from);
  await sql.query('STOP SLAVE');
  await sql.query('RESET SLAVE ALL');
  if (from !== undefined) await sql.query(`SET GLOBAL gtid_slave_pos = ${sqlString(from)}`);
  await sql.query(changeMasterSql(source));
  await sql.query('START SLAVE');
}

/** Records a role in the region state table (the other region filters it) and applies it to this member now. */
export async function setRegionRole(sql: SqlSession, state: RegionState): Promise<void> {
  for (const ddl of REGION_STATE_DDL) await sql.query(ddl);
  await sql.query(writeRegionStateSql(state));
  await sql.query(`SET GLOBAL read_only = ${state.role === 'primary' ? 'OFF' : 'ON'}`);
}

/** Records where the other region's entry point is: a primary's agent asks it before opening writes. */
export async function setRegionPeer(sql: SqlSession, peer: RegionPeer): Promise<void> {
  for (const ddl of REGION_STATE_DDL) await sql.query(ddl);
  await sql.query(writeRegionPeerSql(peer));
}

/** Stops applying the other region's stream and forgets the source: this region now takes writes. */
export async function promote(sql: SqlSession, epoch: number, reason: string): Promise<void> {
  await sql.query('STOP SLAVE');
  await sql.query('RESET SLAVE ALL');
  await setRegionRole(sql, { role: 'primary', epoch, reason });
}

/** The highest epoch this region has recorded (0 when it never recorded one). */
export async function regionEpoch(sql: SqlSession): Promise<number> {
  try {
    return Number((await one(sql, 'SELECT epoch FROM `kstack_region`.`state` WHERE id = 1')) || 0);
  } catch (err) {
    if (isMissingRegionTable(err)) return 0;
    throw err;
  }
}
