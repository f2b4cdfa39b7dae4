// The database side of backups: where the server is (env/mounted files), client arguments for
// mariadb-dump/mariadb, and the per-table row counts and content checksums recorded in manifests.
import { readFileSync } from 'node:fs';
import * as mariadb from 'mariadb';
import { UserError, messageOf } from '../util/errors.js';
import type { TableStat } from './manifest.js';

export interface DbTarget {
  socket: string | undefined;
  host: string;
  port: number;
  user: string;
  password: string;
  /** The db's CA file: set, a TCP connection uses TLS and verifies the server's certificate and name. */
  tlsCa?: string;
}

export const DB_ENV = {
  socket: 'KSTACK_DR_DB_SOCKET',
  host: 'KSTACK_DR_DB_HOST',
  port: 'KSTACK_DR_DB_PORT',
  user: 'KSTACK_DR_DB_USER',
  password: 'KSTACK_DR_DB_PASSWORD',
  /** DNS domain of the members' stable names (<member>.<domain>): set, a TCP target is pinned to one member. */
  memberDomain: 'KSTACK_DR_DB_MEMBER_DOMAIN',
  /** The db's CA file (PEM): TLS to the server, verified. */
  tlsCa: 'KSTACK_DR_DB_TLS_CA',
} as const;

/** Reads the server to back up from / restore into: a socket, or host and port; user; password or password file. */
export function parseDbTarget(
  env: NodeJS.ProcessEnv,
  readFile: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): DbTarget {
  const socket = env[DB_ENV.socket] || undefined;
  const host = env[DB_ENV.host] || '127.0.0.1';
  const portRaw = env[DB_ENV.port] || '3306';
  if (!/^\d+$/.test(portRaw) || Number(portRaw) < 1 || Number(portRaw) > 65535)
    throw new UserError(`${DB_ENV.port}: '${portRaw}' is not a port (1-65535)`);
  const user = env[DB_ENV.user] || 'root';
  const direct = env[DB_ENV.password];
  const file = env[`${DB_ENV.password}_FILE`];
  if (direct && file) throw new UserError(`${DB_ENV.password} and ${DB_ENV.password}_FILE are both set; set only one`);
  let password = direct ?? '';
  if (file) {
    try {
      password = readFile(file).replace(/\r?\n$/, '');
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') {
        const key = file.split('/').at(-1) ?? file;
        throw new UserError(
          `${DB_ENV.password}_FILE: ${file} does not exist: the mounted Secret has ` +
            `no key '${key}' (with db.auth.existingSecret, add that key to the Secret)`,
        );
      }
      throw new UserError(
        `${DB_ENV.password}_FILE: cannot read ${file} (${messageOf(err)}); mount the Secret there or fix the path`,
      );
    }
  }
  const tlsCa = env[DB_ENV.tlsCa] || undefined;
  return { socket, host, port: Number(portRaw), user, password, ...(tlsCa ? { tlsCa } : {}) };
}

/** The mariadb CLI tools' TLS arguments for a TCP target with the db's CA: TLS, the server verified. */
export function tlsClientArgs(t: { socket?: string | undefined; tlsCa?: string | undefined }): string[] {
  return !t.socket && t.tlsCa ? ['--ssl', `--ssl-ca=${t.tlsCa}`, '--ssl-verify-server-cert'] : [];
}

/** Arguments for mariadb / mariadb-dump (the password goes through MYSQL_PWD, never the command line). */
export function clientArgs(t: DbTarget): string[] {
  return [
    '--no-defaults',
    ...(t.socket ? [`--socket=${t.socket}`] : [`--host=${t.host}`, `--port=${t.port}`, '--protocol=tcp']),
    ...tlsClientArgs(t),
    `--user=${t.user}`,
  ];
}

export function clientEnv(t: DbTarget): NodeJS.ProcessEnv {
  return { ...process.env, MYSQL_PWD: t.password };
}

export function describeTarget(t: DbTarget): string {
  return t.socket ? `${t.user}@${t.socket}` : `${t.user}@${t.host}:${t.port}`;
}

/**
 * The target pinned to one member: its stable name `<hostname>.<domain>` (a StatefulSet pod behind a headless
 * Service; mariadbd's @@hostname is the pod name). Refuses anything that is not a DNS label.
 */
export function memberTarget(t: DbTarget, hostname: string, domain: string): DbTarget {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(hostname))
    throw new UserError(
      `the server behind ${describeTarget(t)} calls itself '${hostname}', which is not a member name ` +
        `(a DNS label); unset ${DB_ENV.memberDomain} or point ${DB_ENV.host} at the members' Service`,
    );
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(domain))
    throw new UserError(`${DB_ENV.memberDomain}: '${domain}' is not a DNS domain`);
  return { ...t, host: `${hostname}.${domain}` };
}

async function serverHostname(t: DbTarget): Promise<string> {
  const conn = await connectOrExplain(t);
  try {
    const [row] = await conn.query<{ h: string }[]>('SELECT @@hostname AS h');
    return row?.h ?? '';
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/**
 * Pins a TCP target that names a load-balanced Service to the one member that answered, so that every
 * session of a backup (our snapshot session and mariadb-dump) or a restore reaches the same server for its
 * whole duration. Without KSTACK_DR_DB_MEMBER_DOMAIN (or over a socket) the target is used as it is.
 */
export async function pinMember(
  t: DbTarget,
  env: NodeJS.ProcessEnv,
): Promise<{ target: DbTarget; member: string | undefined }> {
  const domain = env[DB_ENV.memberDomain];
  if (t.socket || !domain) return { target: t, member: undefined };
  const member = await serverHostname(t);
  const pinned = memberTarget(t, member, domain);
  const again = await serverHostname(pinned);
  if (again !== member)
    throw new UserError(
      `${describeTarget(pinned)} answers as '${again}', not '${member}'; ` +
        `check ${DB_ENV.memberDomain} (the db headless Service's domain)`,
    );
  return { target: pinned, member };
}

export function connect(t: DbTarget): Promise<mariadb.Connection> {
  return mariadb.createConnection({
    ...(t.socket ? { socketPath: t.socket } : { host: t.host, port: t.port }),
    ...(!t.socket && t.tlsCa ? { ssl: { ca: readTlsCa(t.tlsCa), rejectUnauthorized: true } } : {}),
    user: t.user,
    password: t.password,
    connectTimeout: 10_000,
    bigIntAsNumber: true,
    decimalAsNumber: false,
    multipleStatements: false,
  });
}

function readTlsCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${DB_ENV.tlsCa}: cannot read ${file} (${messageOf(err)}); mount the db's CA (ca.crt) there`);
  }
}

/** connect(), with a failure turned into an error that names the target and what to check. */
export async function connectOrExplain(t: DbTarget): Promise<mariadb.Connection> {
  try {
    return await connect(t);
  } catch (err) {
    throw new UserError(
      `cannot connect to the database ${describeTarget(t)}: ${messageOf(err)}; ` +
        `check KSTACK_DR_DB_* and that the server runs`,
    );
  }
}

export const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * How a manifest's table checksums were computed (docs/dr.md):
 * - 'crc32c' (what backups write): the sum over the rows of CRC32C of the row's text, written 'crc32c:<sum>'.
 * - 'crc64': the sum of a 64-bit row hash (CRC32 in the high half, CRC32C in the low half), a bare decimal:
 *   what backups wrote before; kept so their manifests still verify. It builds each row's text twice.
 * - 'none': rows counted only (checksum '').
 */
export type ChecksumAlgorithm = 'crc32c' | 'crc64' | 'none';

export const CRC32C_PREFIX = 'crc32c:';

/** The algorithm a recorded checksum was made with. */
export function checksumAlgorithmOf(checksum: string): ChecksumAlgorithm {
  if (checksum === '') return 'none';
  return checksum.startsWith(CRC32C_PREFIX) ? 'crc32c' : 'crc64';
}

/**
 * The query that counts a table's rows and sums a hash of each row. Each column is cast to binary (no
 * collation or charset conversions, the same text on any server version) and a null-flag string tells NULL
 * from ''. The sum is order-independent and counts duplicate rows. CRC32C is cheap (one pass, in hardware);
 * MD5 made the backup twice as slow.
 */
export function tableStatSql(
  db: string,
  table: string,
  columns: readonly string[],
  algorithm: ChecksumAlgorithm = 'crc32c',
): string {
  const from = `FROM ${quoteIdent(db)}.${quoteIdent(table)}`;
  if (algorithm === 'none') return `SELECT COUNT(*) AS n, '' AS s ${from}`;
  if (columns.length === 0) throw new Error(`table ${db}.${table} has no columns`);
  const cols = columns.map((c) => `CAST(${quoteIdent(c)} AS BINARY)`).join(', ');
  const nulls = columns.map((c) => `ISNULL(${quoteIdent(c)})`).join(', ');
  const row = `CONCAT_WS('#', ${cols}, CONCAT(${nulls}))`;
  if (algorithm === 'crc32c')
    return `SELECT COUNT(*) AS n, CONCAT('${CRC32C_PREFIX}', COALESCE(SUM(CRC32C(${row})), 0)) AS s ${from}`;
  return `SELECT COUNT(*) AS n, CAST(COALESCE(SUM((CRC32(${row}) << 32) | CRC32C(${row})), 0) AS CHAR) AS s ${from}`;
}

/** Databases a logical backup covers: every one except the server's own schemas. */
export async function userDatabases(conn: mariadb.Connection): Promise<string[]> {
  const rows: { Database: string }[] = await conn.query('SHOW DATABASES');
  return rows
    .map((r) => r.Database)
    .filter((d) => !SYSTEM_SCHEMAS.includes(d))
    .sort();
}

/**
 * Row counts and checksums of every base table in `databases`, read in the connection's current
 * transaction/snapshot, with `algorithm` ('none' counts rows only: much cheaper).
 */
export async function tableStats(
  conn: mariadb.Connection,
  databases: readonly string[],
  algorithm: ChecksumAlgorithm = 'crc32c',
): Promise<Record<string, TableStat>> {
  if (databases.length === 0) return {};
  const cols: { db: string; tbl: string; col: string }[] = await conn.query(
    `SELECT c.TABLE_SCHEMA AS db, c.TABLE_NAME AS tbl, c.COLUMN_NAME AS col FROM information_schema.COLUMNS c
       JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_SCHEMA IN (?) ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME,\
 c.ORDINAL_POSITION`,
    [databases],
  );
  const byTable = new Map<string, { db: string; tbl: string; cols: string[] }>();
  for (const r of cols) {
    const k = `${r.db}.${r.tbl}`;
    const e = byTable.get(k) ?? { db: r.db, tbl: r.tbl, cols: [] };
    e.cols.push(r.col);
    byTable.set(k, e);
  }
  const out: Record<string, TableStat> = {};
  for (const [k, t] of [...byTable.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const sql = tableStatSql(t.db, t.tbl, t.cols, algorithm);
    const rows: { n: unknown; s: unknown }[] = await conn.query(sql);
    const r = rows[0];
    out[k] = {
      rows: Number(r?.n ?? 0),
      checksum:
        typeof r?.s === 'string' ? r.s : typeof r?.s === 'number' || typeof r?.s === 'bigint' ? r.s.toString() : '0',
    };
  }
  return out;
}
