// The "mariadb" data source of the webinfo companion (WEBINFO_DATA_SOURCE=mariadb): on every /api/info
// request it bumps a visit counter row and, in the same transaction, records the visit as its own row
// (webinfo_visit_log: a random id made here, the region and the pod), then reports which database member
// answered (wsrep_node_name), the cluster size and state, and the visit's id. A visit is acknowledged only
// once its COMMIT succeeded: an answer with a visitId names a row that exists. A server that refuses writes
// (read_only, as a standby region's is) gets a report that says so, without a visitId.
// This is the only database traffic from the web pods.
// Settings (environment): WEBINFO_DB_HOST, WEBINFO_DB_PORT (3306), WEBINFO_DB_USER,
// WEBINFO_DB_PASSWORD_FILE (a mounted Secret key) or WEBINFO_DB_PASSWORD (a secretKeyRef), WEBINFO_DB_DATABASE,
// WEBINFO_DB_TLS_CA (the db's CA file: set, the connection uses TLS and verifies the server's certificate and name);
// WEBINFO_REGION and POD_NAME go into each visit's row.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as mariadb from 'mariadb';
import { regionFromEnv } from './config.js';
import { registerDataSource, type DataReport, type DataSource } from './data-source.js';

export interface MariadbSourceSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** The db's CA (PEM text); undefined: no TLS. */
  tlsCa?: string;
}

/** Settings from the environment; a missing or bad variable is an error naming it. */
export function mariadbSettingsFromEnv(
  env: NodeJS.ProcessEnv,
  read: (file: string) => string = (f) => readFileSync(f, 'utf8'),
): MariadbSourceSettings {
  const need = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) throw new Error(`${name} is not set; the mariadb data source needs it`);
    return v;
  };
  const portText = env.WEBINFO_DB_PORT?.trim() || '3306';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`WEBINFO_DB_PORT='${portText}' is not a port number (1-65535)`);
  // A mounted Secret file is preferred; an env var from a secretKeyRef works too (webinfo.env can set it).
  const file = env.WEBINFO_DB_PASSWORD_FILE?.trim();
  let password: string;
  if (file) {
    try {
      password = read(file).trim();
    } catch (err) {
      throw new Error(`WEBINFO_DB_PASSWORD_FILE: cannot read ${file}; mount the db Secret there`, { cause: err });
    }
  } else if (env.WEBINFO_DB_PASSWORD) {
    password = env.WEBINFO_DB_PASSWORD;
  } else {
    throw new Error(
      'neither WEBINFO_DB_PASSWORD_FILE nor WEBINFO_DB_PASSWORD is set; the ' +
        'mariadb data source needs one (from the db Secret, key mariadb-password)',
    );
  }
  const database = need('WEBINFO_DB_DATABASE');
  if (!/^[A-Za-z0-9_]{1,64}$/.test(database))
    throw new Error(`WEBINFO_DB_DATABASE='${database}' must be letters, digits and _`);
  const caFile = env.WEBINFO_DB_TLS_CA?.trim();
  let tlsCa: string | undefined;
  if (caFile) {
    try {
      tlsCa = read(caFile);
    } catch (err) {
      throw new Error(`WEBINFO_DB_TLS_CA: cannot read ${caFile}; mount the db's CA there`, { cause: err });
    }
  }
  return {
    host: need('WEBINFO_DB_HOST'),
    port,
    user: need('WEBINFO_DB_USER'),
    password,
    database,
    ...(tlsCa ? { tlsCa } : {}),
  };
}

interface StatusRow {
  Variable_name: string;
  Value: string;
}

/** Where a visit was served: the release's region (null: none) and the web pod. */
export interface VisitOrigin {
  region: string | null;
  pod: string;
}

/** One visit, as its webinfo_visit_log row records it. */
export interface Visit extends VisitOrigin {
  /** 32 lowercase hex digits (128 random bits), made by webinfo: unique without asking the database. */
  id: string;
}

/** WEBINFO_REGION and POD_NAME; a bad region is an error naming the variable. */
export function visitOriginFromEnv(env: NodeJS.ProcessEnv): VisitOrigin {
  return { region: regionFromEnv(env), pod: env.POD_NAME?.trim() || 'unknown' };
}

/** A new visit from `origin` with a fresh random id (`random` for tests). */
export function newVisit(origin: VisitOrigin, random: (bytes: number) => Buffer = randomBytes): Visit {
  return { id: random(16).toString('hex'), region: origin.region, pod: origin.pod };
}

export const CREATE_VISITS_TABLE =
  'CREATE TABLE IF NOT EXISTS webinfo_visits (id TINYINT PRIMARY KEY, visits BIGINT NOT NULL)';
// One row per acknowledged visit. The key is webinfo's random id, so members never compete for an
// auto-increment value and a failover drill can look visits up by the ids the clients were given.
export const CREATE_VISIT_LOG_TABLE =
  'CREATE TABLE IF NOT EXISTS webinfo_visit_log (id CHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY, ' +
  'region VARCHAR(63) NULL, pod VARCHAR(253) NOT NULL, at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))';
const BUMP_COUNTER =
  'INSERT INTO webinfo_visits (id, visits) VALUES (1, 1) ON DUPLICATE KEY UPDATE visits = visits + 1';
const LOG_VISIT = 'INSERT INTO webinfo_visit_log (id, region, pod, at) VALUES (?, ?, ?, NOW(3))';

/** The page's report from what the server said after the visit's COMMIT. Pure. */
export function visitReport(visits: number, node: string, status: readonly StatusRow[], visit?: Visit): DataReport {
  const s = new Map(status.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const galera =
    s.has('wsrep_cluster_size') &&
    s.get('wsrep_cluster_status') !== undefined &&
    s.get('wsrep_cluster_status') !== 'Disconnected';
  const values: Record<string, string | number | boolean | null> = { visits, answeredBy: node };
  if (visit) values.visitId = visit.id;
  if (galera) {
    values.clusterSize = Number(s.get('wsrep_cluster_size'));
    values.clusterStatus = s.get('wsrep_cluster_status') ?? null;
    values.memberState = s.get('wsrep_local_state_comment') ?? null;
  } else {
    values.clusterSize = 1;
    values.clusterStatus = 'standalone';
  }
  return {
    source: 'mariadb',
    configured: true,
    ok: true,
    message: galera
      ? `visit ${visits}, answered by ${node} (one of ${values.clusterSize} Galera members)`
      : `visit ${visits}, answered by ${node}`,
    values,
  };
}

/** MariaDB's ER_OPTION_PREVENTS_STATEMENT: the server runs with --read-only (read_only=ON). */
export const ER_OPTION_PREVENTS_STATEMENT = 1290;

/** The report when the server refused to record the visit because it is read-only. Pure. */
export function readOnlyReport(node: string, serverMessage: string): DataReport {
  return {
    source: 'mariadb',
    configured: true,
    ok: false,
    message:
      `the database is read-only: ${node} refused to record this visit ` +
      `(error ${ER_OPTION_PREVENTS_STATEMENT}: ${serverMessage}); no visit was counted`,
    values: { answeredBy: node, readOnly: true },
  };
}

// A certification conflict (two members bumped the counter at once) or a deadlock: safe to retry.
const RETRYABLE = new Set([1213, 1205]);

export function createMariadbSource(
  settings: MariadbSourceSettings,
  origin: VisitOrigin = { region: null, pod: 'unknown' },
): DataSource {
  const { tlsCa, ...connection } = settings;
  const pool = mariadb.createPool({
    ...connection,
    ...(tlsCa ? { ssl: { ca: tlsCa, rejectUnauthorized: true } } : {}),
    connectionLimit: 2,
    connectTimeout: 2000,
    acquireTimeout: 2500,
  });
  let tablesReady = false;
  return {
    name: 'mariadb',
    async read(signal: AbortSignal): Promise<DataReport> {
      const conn = await pool.getConnection();
      try {
        let counted: { visits: number; node: string; visit: Visit };
        try {
          if (!tablesReady) {
            await conn.query(CREATE_VISITS_TABLE);
            await conn.query(CREATE_VISIT_LOG_TABLE);
            tablesReady = true;
          }
          counted = await recordVisit(conn, newVisit(origin), signal);
        } catch (err) {
          const e = err as { errno?: number; sqlMessage?: string; message?: string };
          if (e.errno !== ER_OPTION_PREVENTS_STATEMENT) throw err;
          const who = await conn.query<{ node: string | null; host: string }[]>(
            'SELECT @@wsrep_node_name AS node, @@hostname AS host',
          );
          return readOnlyReport(who[0]?.node || who[0]?.host || '?', e.sqlMessage ?? e.message ?? 'read-only');
        }
        const status = await conn.query<StatusRow[]>(
          'SHOW GLOBAL STATUS WHERE Variable_name IN ' +
            "('wsrep_cluster_size','wsrep_cluster_status','wsrep_local_state_comment')",
        );
        return visitReport(counted.visits, counted.node, status, counted.visit);
      } finally {
        await conn.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * One transaction: bump the counter, insert the visit's row, read the counter as this transaction left it,
 * COMMIT. Retried (with the same id: a rolled-back attempt left no row) on a certification conflict or a
 * deadlock; any other error rolls back and is thrown, so nothing is acknowledged that was not committed.
 */
async function recordVisit(
  conn: mariadb.PoolConnection,
  visit: Visit,
  signal: AbortSignal,
): Promise<{ visits: number; node: string; visit: Visit }> {
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw new Error('aborted');
    try {
      await conn.beginTransaction();
      await conn.query(BUMP_COUNTER);
      await conn.query(LOG_VISIT, [visit.id, visit.region, visit.pod]);
      const rows = await conn.query<{ visits: number | bigint; node: string | null; host: string }[]>(
        'SELECT visits, @@wsrep_node_name AS node, @@hostname AS host FROM webinfo_visits WHERE id = 1',
      );
      await conn.commit();
      const row = rows[0];
      return { visits: Number(row?.visits ?? 0), node: row?.node || row?.host || '?', visit };
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      if (attempt >= 5 || !RETRYABLE.has((err as { errno?: number }).errno ?? 0)) throw err;
    }
  }
}

registerDataSource('mariadb', (env) => createMariadbSource(mariadbSettingsFromEnv(env), visitOriginFromEnv(env)));
