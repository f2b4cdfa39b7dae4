// The binlog archiver process (the db StatefulSet's binlog-archiver sidecar): every interval it runs a
// BinlogArchiver round against the member's mariadbd (its socket) and serves /metrics — binlog lag and
// the backups' success/verification/duration/size from the storage. Configured from the environment.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mariadb from 'mariadb';
import { BinlogArchiver } from './binlog-archiver.js';
import { backupMetricsText, readBackupSummary } from './binlog-metrics.js';
import { keySealer, s3ArchiveStore } from './binlog-store.js';
import { parseKey } from './encrypt.js';
import { ObjectStore, parseStorageConfig } from '../s3/object-store.js';
import { messageOf } from '../util/errors.js';

export interface ArchiverEnv {
  stream: string;
  binlogDir: string;
  socket: string | undefined;
  host: string;
  port: number;
  user: string;
  passwordFile: string;
  keyFile: string;
  intervalSeconds: number;
  metricsPort: number;
}

/** Parses the archiver's environment; each problem names the variable. */
export function parseArchiverEnv(env: NodeJS.ProcessEnv): ArchiverEnv {
  const need = (k: string): string => {
    const v = env[k];
    if (v === undefined || v === '') throw new Error(`${k}: must be set`);
    return v;
  };
  const int = (k: string, fallback: number, min: number, max: number): number => {
    const raw = env[k];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`${k}: must be a whole number from ${min} to ${max}, not '${raw}'`);
    return n;
  };
  return {
    stream: need('KSTACK_BINLOG_STREAM'),
    binlogDir: need('KSTACK_BINLOG_DIR'),
    socket: env.KSTACK_BINLOG_SOCKET === '' ? undefined : env.KSTACK_BINLOG_SOCKET,
    host: env.KSTACK_BINLOG_HOST ?? '127.0.0.1',
    port: int('KSTACK_BINLOG_PORT', 3306, 1, 65535),
    user: env.KSTACK_DR_DB_USER ?? 'root',
    passwordFile: need('KSTACK_DR_DB_PASSWORD_FILE'),
    keyFile: need('KSTACK_DR_KEY_FILE'),
    intervalSeconds: int('KSTACK_BINLOG_INTERVAL_SECONDS', 30, 1, 3600),
    metricsPort: int('KSTACK_BINLOG_METRICS_PORT', 9106, 1, 65535),
  };
}

const log = (msg: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(
    JSON.stringify({ time: new Date().toISOString(), component: 'binlog-archiver', msg, ...fields }) + '\n',
  );
};

/**
 * A configuration the archiver cannot start with (no key file, bad storage settings) must not take the
 * database member down with it (a crash-looping sidecar makes the pod unready): it keeps running, says
 * what is wrong on /metrics and in its log every minute, and exits only when stopped.
 */
async function degraded(err: unknown, port: number): Promise<void> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/metrics' ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      req.url === '/metrics'
        ? '# HELP kstack_binlog_archive_config_error 1 when the archiver cannot start (see its log).\n# ' +
            'TYPE kstack_binlog_archive_config_error gauge\nkstack_binlog_archive_config_error 1\n'
        : '',
    );
  });
  server.listen(port);
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.on(sig, () => {
      stop.abort();
    });
  while (!stop.signal.aborted) {
    log('cannot archive binlogs: fix the configuration and restart the pod', { error: messageOf(err) });
    await sleep(60_000, undefined, { signal: stop.signal }).catch(() => undefined);
  }
  server.close();
}

async function main(): Promise<void> {
  let cfg: ArchiverEnv;
  try {
    cfg = parseArchiverEnv(process.env);
    parseStorageConfig(process.env);
    parseKey(readFileSync(cfg.keyFile), 'KSTACK_DR_KEY_FILE');
    readFileSync(cfg.passwordFile, 'utf8');
  } catch (err) {
    const port = Number(process.env.KSTACK_BINLOG_METRICS_PORT);
    await degraded(err, Number.isInteger(port) && port > 0 && port < 65536 ? port : 9106);
    return;
  }
  const storage = parseStorageConfig(process.env);
  const store = new ObjectStore(storage);
  const key = parseKey(readFileSync(cfg.keyFile), 'KSTACK_DR_KEY_FILE');
  const password = readFileSync(cfg.passwordFile, 'utf8').trim();
  const archiver = new BinlogArchiver({
    connect: () =>
      mariadb.createConnection({
        ...(cfg.socket ? { socketPath: cfg.socket } : { host: cfg.host, port: cfg.port }),
        user: cfg.user,
        password,
        connectTimeout: 5000,
      }),
    binlogDir: cfg.binlogDir,
    stream: cfg.stream,
    prefix: storage.prefix,
    store: s3ArchiveStore(store),
    sealer: keySealer(key),
  });
  let backupText = '';
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(archiver.metrics() + backupText);
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(cfg.metricsPort);
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.on(sig, () => {
      stop.abort();
    });
  log('started', {
    stream: cfg.stream,
    intervalSeconds: cfg.intervalSeconds,
    bucket: storage.bucket,
    prefix: storage.prefix,
  });
  let round = 0;
  while (!stop.signal.aborted) {
    try {
      const shipped = await archiver.tick();
      if (shipped.length > 0) log('archived', { files: shipped, lastGtid: archiver.status.lastArchivedGtid });
    } catch (err) {
      log('archiving failed; retrying next round', { error: messageOf(err) });
    }
    if (round++ % 4 === 0) {
      try {
        backupText = backupMetricsText(await readBackupSummary(store, storage.prefix));
      } catch (err) {
        log('reading backup manifests failed', { error: messageOf(err) });
      }
    }
    await sleep(cfg.intervalSeconds * 1000, undefined, { signal: stop.signal }).catch(() => undefined);
  }
  // A last round on shutdown: whatever was closed is shipped before the pod goes.
  await archiver.tick().catch(() => undefined);
  server.close();
}

if (process.argv[1]?.endsWith('binlog-main.js')) {
  main().catch((err: unknown) => {
    log('fatal', { error: messageOf(err) });
    process.exit(1);
  });
}
