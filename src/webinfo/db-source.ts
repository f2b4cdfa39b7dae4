// The "mariadb" data source of the webinfo companion (WEBINFO_DATA_SOURCE=mariadb): on every /api/info
// request it bumps a visit counter row and reports which database member answered (wsrep_node_name),
// the cluster size and state. This is the only database traffic from the web pods.
// Settings (environment): WEBINFO_DB_HOST, WEBINFO_DB_PORT (3306), WEBINFO_DB_USER,
// WEBINFO_DB_PASSWORD_FILE (a mounted Secret key) or WEBINFO_DB_PASSWORD (a secretKeyRef), WEBINFO_DB_DATABASE,
// WEBINFO_DB_TLS_CA (the db's CA file: set, the connection uses TLS and verifies the server's certificate and name).
import { readFileSync } from 'node:fs';
import * as mariadb from 'mariadb';
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

/** The page's report from what the server said. Pure. */
export function visitReport(visits: number, node: string, status: readonly StatusRow[]): DataReport {
  const s = new Map(status.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const galera =
    s.has('wsrep_cluster_size') &&
    s.get('wsrep_cluster_status') !== undefined &&
    s.get('wsrep_cluster_status') !== 'Disconnected';
  const values: Record<string, string | number | boolean | null> = { visits, answeredBy: node };
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

// A certification conflict (two members bumped the counter at once) or a deadlock: safe to retry.
const RETRYABLE = new Set([1213, 1205]);

export function createMariadbSource(settings: MariadbSourceSettings): DataSource {
  const { tlsCa, ...connection } = settings;
  const pool = mariadb.createPool({
    ...connection,
    ...(tlsCa ? { ssl: { ca: tlsCa, rejectUnauthorized: true } } : {}),
    connectionLimit: 2,
    connectTimeout: 2000,
    acquireTimeout: 2500,
  });
  let tableReady = false;
  return {
    name: 'mariadb',
    async read(signal: AbortSignal): Promise<DataReport> {
      const conn = await pool.getConnection();
      try {
        if (!tableReady) {
          await conn.query(
            'CREATE TABLE IF NOT EXISTS webinfo_visits (id TINYINT PRIMARY KEY, visits BIGINT NOT NULL)',
          );
          tableReady = true;
        }
        for (let attempt = 1; ; attempt++) {
          if (signal.aborted) throw new Error('aborted');
          try {
            await conn.query(
              'INSERT INTO webinfo_visits (id, visits) VALUES (1, 1) ON DUPLICATE KEY UPDATE visits = visits + 1',
            );
            break;
          } catch (err) {
            if (attempt >= 5 || !RETRYABLE.has((err as { errno?: number }).errno ?? 0)) throw err;
          }
        }
        const rows = await conn.query<{ visits: number | bigint; node: string | null; host: string }[]>(
          'SELECT visits, @@wsrep_node_name AS node, @@hostname AS host FROM webinfo_visits WHERE id = 1',
        );
        const status = await conn.query<StatusRow[]>(
          'SHOW GLOBAL STATUS WHERE Variable_name IN ' +
            "('wsrep_cluster_size','wsrep_cluster_status','wsrep_local_state_comment')",
        );
        const row = rows[0];
        return visitReport(Number(row?.visits ?? 0), row?.node || row?.host || '?', status);
      } finally {
        await conn.release();
      }
    },
    close: () => pool.end(),
  };
}

registerDataSource('mariadb', (env) => createMariadbSource(mariadbSettingsFromEnv(env)));
