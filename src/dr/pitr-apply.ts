// Point-in-time recovery, the I/O half: fetch and decrypt the planned binlogs of a stream, check each
// against the index's sha256, and replay them with `mariadb-binlog <options> <files> | mariadb`.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from './binlog.js';
import type { ArchiveStore, Sealer } from './binlog-archiver.js';
import type { PitrPlan } from './pitr.js';
import { tlsClientArgs } from './db.js';

export interface SqlTarget {
  host?: string;
  port?: number;
  socket?: string;
  user: string;
  password: string;
  /** The db's CA file: TLS over TCP, the server verified. */
  tlsCa?: string;
}

export interface ReplayOptions {
  plan: PitrPlan;
  store: ArchiveStore;
  sealer: Sealer;
  target: SqlTarget;
  mariadbBinlog?: string;
  mariadb?: string;
  /** Called once per file fetched (for progress). */
  onFile?: (name: string, done: number, total: number) => void;
}

/** Downloads, decrypts and verifies the plan's files into `dir`; returns their paths in replay order. */
export async function fetchBinlogs(
  plan: PitrPlan,
  store: ArchiveStore,
  sealer: Sealer,
  dir: string,
  onFile?: ReplayOptions['onFile'],
): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, f] of plan.files.entries()) {
    const sealed = await store.get(f.key);
    if (!sealed)
      throw new Error(`binlog ${f.name} (${f.key}) is listed in the archive index but missing from the storage`);
    const plain = await sealer.open(sealed);
    if (plain.length !== f.size || sha256(plain) !== f.sha256)
      throw new Error(
        `binlog ${f.name} from the storage does not match its recorded size/sha256: the archive is damaged`,
      );
    const p = join(dir, f.name);
    await writeFile(p, plain, { mode: 0o600 });
    paths.push(p);
    onFile?.(f.name, i + 1, plan.files.length);
  }
  return paths;
}

function clientArgs(t: SqlTarget): string[] {
  const args = [`--user=${t.user}`];
  if (t.socket) args.push(`--socket=${t.socket}`);
  else args.push(`--host=${t.host ?? '127.0.0.1'}`, `--port=${t.port ?? 3306}`, '--protocol=TCP');
  args.push(...tlsClientArgs(t));
  return args;
}

/** Runs `mariadb-binlog args files | mariadb` and fails with both programs' messages if either fails. */
export function pipeBinlogs(
  files: readonly string[],
  binlogArgs: readonly string[],
  target: SqlTarget,
  bins: { mariadbBinlog?: string; mariadb?: string } = {},
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    // --stop-datetime is read in the local zone: run in UTC, as the plan formats it.
    const reader = spawn(bins.mariadbBinlog ?? 'mariadb-binlog', [...binlogArgs, ...files], {
      env: { ...process.env, TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const client = spawn(bins.mariadb ?? 'mariadb', [...clientArgs(target), '--binary-mode'], {
      env: { ...process.env, MYSQL_PWD: target.password },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let readerErr = '';
    let clientErr = '';
    reader.stderr.on('data', (d: Buffer) => {
      readerErr += d.toString();
    });
    client.stderr.on('data', (d: Buffer) => {
      clientErr += d.toString();
    });
    reader.stdout.pipe(client.stdin);
    client.stdin.on('error', () => undefined);
    let readerCode: number | null | undefined;
    let clientCode: number | null | undefined;
    const done = (): void => {
      if (readerCode === undefined || clientCode === undefined) return;
      if (readerCode !== 0) reject(new Error(`mariadb-binlog failed (exit ${readerCode}): ${readerErr.trim()}`));
      else if (clientCode !== 0)
        reject(new Error(`replaying binlogs into MariaDB failed (exit ${clientCode}): ${clientErr.trim()}`));
      else resolvePromise();
    };
    reader.on('error', reject);
    client.on('error', reject);
    reader.on('close', (code) => {
      readerCode = code;
      done();
    });
    client.on('close', (code) => {
      clientCode = code;
      done();
    });
  });
}

/** Fetches the plan's binlogs into a private temporary dir, replays them into `target`, and removes them. */
export async function replayPitr(opts: ReplayOptions): Promise<void> {
  if (opts.plan.files.length === 0) return;
  const dir = await mkdtemp(join(tmpdir(), 'kstack-pitr-'));
  try {
    const files = await fetchBinlogs(opts.plan, opts.store, opts.sealer, dir, opts.onFile);
    await pipeBinlogs(files, opts.plan.binlogArgs, opts.target, {
      mariadbBinlog: opts.mariadbBinlog,
      mariadb: opts.mariadb,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
