// A private, throw-away mariadbd: its own data dir and unix socket under one folder, no TCP. `verify`
// restores into one; the integration tests and bench:dr use them as sources and restore targets. Like
// test/helpers/galera-loopback.ts it runs the real Debian mariadbd, tracked by pid and only that pid is signalled.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  lchownSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mariadb from 'mariadb';
import { run } from '../util/exec.js';
import { UserError } from '../util/errors.js';
import { executableOf } from '../util/process.js';
import { installDbArgs, isInitialised } from '../galera/datadir.js';

export const MARIADBD = '/usr/sbin/mariadbd';
export const INSTALL_DB = '/usr/bin/mariadb-install-db';

export interface ScratchOptions {
  /** Folder that will hold data/ and run/; created if missing. */
  dir: string;
  /** Extra mariadbd options (without leading --), e.g. 'log-bin=binlog'. */
  extra?: string[];
  /** Also listen on 127.0.0.1:port (off by default). */
  port?: number;
  bufferPool?: string;
}

/** The uid/gid mariadbd runs as: mysql when we are root (mariadbd refuses root), else ourselves. */
function serverOwner(): { user: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('mysql:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new UserError('running as root, but there is no mysql user to run mariadbd as; install mariadb-server');
  return { user: 'mysql', uid: Number(uid), gid: Number(gid) };
}

/**
 * Hands a folder and everything in it to the user mariadbd runs as (mysql when we are root; nothing to do
 * otherwise): files extracted or moved by root, e.g. a physical backup's datadir, must be writable by it.
 */
export function ownForServer(path: string): void {
  const owner = serverOwner();
  if (!owner) return;
  lchownSync(path, owner.uid, owner.gid);
  for (const rel of readdirSync(path, { recursive: true, encoding: 'utf8' }))
    lchownSync(join(path, rel), owner.uid, owner.gid);
}

export class ScratchDb {
  private constructor(
    readonly dir: string,
    readonly pid: number,
    readonly socket: string,
    readonly port: number | undefined,
  ) {}

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  static async start(opts: ScratchOptions): Promise<ScratchDb> {
    const dir = resolve(opts.dir);
    const data = join(dir, 'data');
    const runDir = join(dir, 'run');
    // Its own tmpdir, for mariadb-install-db too (installDbArgs): a shared /tmp loses its temporary tables
    // to any other mariadbd that starts.
    const tmp = join(dir, 'tmp');
    mkdirSync(data, { recursive: true });
    mkdirSync(runDir, { recursive: true });
    mkdirSync(tmp, { recursive: true });
    const owner = serverOwner();
    if (owner) {
      for (let d = dir; d !== dirname(d); d = dirname(d)) {
        if (d !== dir && (statSync(d).mode & 0o001) === 0)
          throw new UserError(
            `${d} is not searchable by the mysql user that runs mariadbd; chmod o+x it or use another folder`,
          );
      }
      for (const d of [dir, data, runDir, tmp]) {
        chmodSync(d, 0o750);
        chownSync(d, owner.uid, owner.gid);
      }
    }
    if (!isInitialised(data)) await run(INSTALL_DB, installDbArgs(data, tmp, owner?.user), { timeoutMs: 300_000 });
    const socket = join(runDir, 'mysqld.sock');
    const args = [
      '--no-defaults',
      `--datadir=${data}`,
      `--socket=${socket}`,
      `--pid-file=${join(runDir, 'mysqld.pid')}`,
      `--tmpdir=${tmp}`,
      ...(opts.port !== undefined ? ['--bind-address=127.0.0.1', `--port=${opts.port}`] : ['--skip-networking']),
      ...(owner ? [`--user=${owner.user}`] : []),
      `--innodb-buffer-pool-size=${opts.bufferPool ?? '128M'}`,
      '--innodb-log-file-size=96M',
      '--performance-schema=OFF',
      '--skip-name-resolve',
      '--max-allowed-packet=256M',
      `--log-error=${join(dir, 'mariadbd.err')}`,
      ...(opts.extra ?? []).map((o) => `--${o}`),
    ];
    const fd = openSync(join(dir, 'mariadbd.out'), 'a');
    let pid: number;
    try {
      const child = spawn(MARIADBD, args, { stdio: ['ignore', fd, fd], detached: true });
      if (child.pid === undefined) throw new Error('could not start mariadbd');
      child.unref();
      pid = child.pid;
    } finally {
      closeSync(fd);
    }
    const db = new ScratchDb(dir, pid, socket, opts.port);
    await db.waitReady();
    return db;
  }

  private async waitReady(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (executableOf(this.pid) !== MARIADBD) {
        let log = '';
        try {
          log = readFileSync(join(this.dir, 'mariadbd.err'), 'utf8')
            .split('\n')
            .filter((l) => /ERROR/.test(l))
            .slice(-3)
            .join(' | ');
        } catch {
          /* no log */
        }
        throw new UserError(
          `the throw-away mariadbd in ${this.dir} exited while starting: ${log || 'see mariadbd.err there'}`,
        );
      }
      try {
        const c = await this.connect();
        await c.end();
        return;
      } catch {
        if (Date.now() > deadline)
          throw new UserError(
            `the throw-away mariadbd in ${this.dir} did not answer ` +
              `within ${timeoutMs / 1000}s; see ${join(this.dir, 'mariadbd.err')}`,
          );
        await sleep(250);
      }
    }
  }

  connect(database?: string): Promise<mariadb.Connection> {
    return mariadb.createConnection({
      socketPath: this.socket,
      user: 'root',
      password: '',
      database,
      // A busy machine (2 cores, several clusters) can take seconds to hand a new connection its handshake;
      // the readiness loop above retries, a caller's single connect after it does not.
      connectTimeout: 10_000,
      bigIntAsNumber: true,
      decimalAsNumber: false,
    });
  }

  /** Client arguments for mariadb / mariadb-dump that reach this server. */
  clientArgs(): string[] {
    return ['--no-defaults', `--socket=${this.socket}`, '--user=root'];
  }

  /** Stops mariadbd (SIGTERM, then SIGKILL) and optionally removes its folder. */
  async stop(remove = true): Promise<void> {
    if (executableOf(this.pid) === MARIADBD) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const deadline = Date.now() + 60_000;
      while (executableOf(this.pid) === MARIADBD && Date.now() < deadline) await sleep(250);
      if (executableOf(this.pid) === MARIADBD) {
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        while (executableOf(this.pid) === MARIADBD) await sleep(250);
      }
    }
    if (remove) rmSync(this.dir, { recursive: true, force: true });
  }
}
