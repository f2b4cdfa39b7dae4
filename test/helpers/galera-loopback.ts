// Several db members on one machine, all on 127.0.0.1 with their own ports, data dirs and sockets: each
// member is a real agent process (dist/src/galera/main.js) that starts a real mariadbd. Used by the
// integration tests and bench:db to exercise exactly the code a pod runs. Processes are tracked by pid
// and only those are ever signalled.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  statSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
  openSync,
  closeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mariadb from 'mariadb';
import { ensureCertificates, type CertSpec } from '../../src/cluster/pki.js';
import { repoRoot } from '../../src/util/paths.js';
import { pickFreePorts } from '../../src/util/net.js';
import { executableOf, processesMentioning } from '../../src/util/process.js';
import type { MemberAddress, TlsFiles } from '../../src/galera/config.js';
import type { MemberReport } from '../../src/galera/decide.js';
import { parseReport } from '../../src/galera/report.js';

export interface LoopbackOptions {
  baseDir: string;
  size: number;
  mode?: 'galera' | 'standalone';
  sstMethod?: 'rsync' | 'mariabackup';
  /** Member name prefix: members are <prefix>-0 … */
  prefix?: string;
  /**
   * The host every member is configured with (default 127.0.0.1);
   * e.g. "localhost" to see what the agent advertises instead.
   */
  host?: string;
  extraMysqld?: string[];
  /**
   * An agent config to start from (e.g. the chart's rendered agent.json): its mode, SST method and
   * [mysqld] tuning are kept; members, paths, ports and password files are replaced by loopback ones.
   */
  baseConfig?: Record<string, unknown>;
  /**
   * TLS as the chart turns it on: a CA and one server certificate (SANs localhost and 127.0.0.1) made with
   * openssl under baseDir, every member's agent config gets `tls`, and the helper's clients verify the server.
   */
  tls?: boolean;
  /** With tls: use these files (another cluster's CA and certificate) instead of making new ones, as two
   * regions share one CA. */
  tlsFrom?: TlsFiles;
}

export const AGENT_MAIN = join(repoRoot, 'dist', 'src', 'galera', 'main.js');
export const MARIADBD = '/usr/sbin/mariadbd';

export class LoopbackCluster {
  readonly members: MemberAddress[];
  readonly rootPassword = 'loopback-root-pw';
  readonly appPassword = 'loopback-app-pw';
  private readonly agents = new Map<string, number>();
  /** Members that should be running: an agent that exits on its own is restarted, like a container. */
  private readonly wanted = new Set<string>();
  private readonly restarts = new Map<string, number>();
  /** The PEM files every member uses when tls is on; undefined: plain text. */
  tlsFiles: TlsFiles | undefined;

  private constructor(
    readonly opts: Required<Omit<LoopbackOptions, 'extraMysqld' | 'baseConfig' | 'host' | 'tlsFrom'>> & {
      extraMysqld: string[];
      baseConfig: Record<string, unknown>;
    },
    members: MemberAddress[],
  ) {
    this.members = members;
  }

  /** The mariadb driver's `ssl` option: TLS that verifies the server against the CA (undefined: plain). */
  clientSsl(): { ca: string; rejectUnauthorized: true } | undefined {
    return this.tlsFiles ? { ca: readFileSync(this.tlsFiles.ca, 'utf8'), rejectUnauthorized: true } : undefined;
  }

  /**
   * The CA and the server certificate (also a client one: Galera peers present it to each other). The key
   * is 0600 and owned by the user mariadbd runs as, which reads it itself, and so do its SST scripts.
   */
  private async makeTls(): Promise<void> {
    const dir = join(this.opts.baseDir, 'tls');
    const plan: CertSpec[] = [
      { name: 'ca', commonName: 'kstack-loopback-ca', isCA: true, usage: [], days: 2 },
      {
        name: 'server',
        commonName: 'localhost',
        signer: 'ca',
        usage: ['server', 'client'],
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
        days: 2,
      },
    ];
    await ensureCertificates(dir, plan);
    chmodSync(dir, 0o755);
    // The CA's key signs nothing more; nobody needs it.
    rmSync(join(dir, 'ca.key'), { force: true });
    const key = join(dir, 'server.key');
    chmodSync(key, 0o600);
    if (process.getuid?.() === 0) {
      const [, , uid, gid] =
        readFileSync('/etc/passwd', 'utf8')
          .split('\n')
          .find((l) => l.startsWith('mysql:'))
          ?.split(':') ?? [];
      if (uid === undefined || gid === undefined)
        throw new Error('no user mysql (it runs mariadbd): install mariadb-server');
      chownSync(key, Number(uid), Number(gid));
    }
    this.tlsFiles = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key };
  }

  static async create(opts: LoopbackOptions): Promise<LoopbackCluster> {
    const prefix = opts.prefix ?? 'db';
    const ports = await pickFreePorts(opts.size * 5);
    const at = (i: number, k: number): number => ports[i * 5 + k] ?? 0;
    const members = Array.from({ length: opts.size }, (_, i) => ({
      name: `${prefix}-${i}`,
      host: opts.host ?? '127.0.0.1',
      sqlPort: at(i, 0),
      galeraPort: at(i, 1),
      istPort: at(i, 2),
      sstPort: at(i, 3),
      agentPort: at(i, 4),
    }));
    const base = opts.baseConfig ?? {};
    const baseMode = base.mode === 'standalone' ? ('standalone' as const) : ('galera' as const);
    const baseSst = base.sstMethod === 'mariabackup' ? ('mariabackup' as const) : ('rsync' as const);
    const full = { mode: baseMode, sstMethod: baseSst, prefix, extraMysqld: [], baseConfig: base, tls: false, ...opts };
    const c = new LoopbackCluster(full, members);
    mkdirSync(join(opts.baseDir, 'secrets'), { recursive: true });
    // mariadbd runs as mysql (rsync SST refuses root-owned data); it must be able to reach its dirs.
    chmodSync(opts.baseDir, 0o755);
    if (process.getuid?.() === 0) {
      for (let d = dirname(resolve(opts.baseDir)); d !== dirname(d); d = dirname(d)) {
        if ((statSync(d).mode & 0o001) === 0)
          throw new Error(
            `${d} is not searchable by the mysql user that runs mariadbd; chmod o+x it or put baseDir elsewhere`,
          );
      }
    }
    writeFileSync(join(opts.baseDir, 'secrets', 'root'), c.rootPassword, { mode: 0o600 });
    writeFileSync(join(opts.baseDir, 'secrets', 'app'), c.appPassword, { mode: 0o600 });
    if (full.tls && opts.tlsFrom) c.tlsFiles = opts.tlsFrom;
    else if (full.tls) await c.makeTls();
    for (const m of members) c.writeConfig(m.name);
    return c;
  }

  member(name: string): MemberAddress {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  dataDir(name: string): string {
    return join(this.opts.baseDir, name, 'data');
  }
  runDir(name: string): string {
    return join(this.opts.baseDir, name, 'run');
  }
  /** A tmpdir of its own: a starting mariadbd deletes every `#sql*` file in its tmpdir, other servers' included. */
  tmpDir(name: string): string {
    return join(this.opts.baseDir, name, 'tmp');
  }
  agentLog(name: string): string {
    return join(this.opts.baseDir, name, 'agent.log');
  }

  private writeConfig(name: string): void {
    mkdirSync(join(this.opts.baseDir, name), { recursive: true, mode: 0o755 });
    const baseExtra = Array.isArray(this.opts.baseConfig.extraMysqld)
      ? (this.opts.baseConfig.extraMysqld as string[])
      : [];
    const cfg = {
      ...this.opts.baseConfig,
      statefulSet: undefined,
      mode: this.opts.mode,
      self: name,
      members: this.members,
      clusterName: 'loopback',
      dataDir: this.dataDir(name),
      runDir: this.runDir(name),
      tmpDir: this.tmpDir(name),
      bindAddress: '127.0.0.1',
      runAsUser: process.getuid?.() === 0 ? 'mysql' : undefined,
      sstMethod: this.opts.sstMethod,
      rootPasswordFile: join(this.opts.baseDir, 'secrets', 'root'),
      app: { user: 'app', passwordFile: join(this.opts.baseDir, 'secrets', 'app'), database: 'app' },
      extraMysqld: [
        ...baseExtra,
        'innodb_log_file_size=48M',
        'performance_schema=OFF',
        ...(baseExtra.length > 0 ? [] : ['innodb_buffer_pool_size=64M', 'max_connections=200']),
        ...this.opts.extraMysqld,
      ],
      pollMs: 500,
      tls: this.tlsFiles ?? null,
    };
    writeFileSync(join(this.opts.baseDir, name, 'agent.json'), JSON.stringify(cfg, null, 2));
  }

  /**
   * Starts the member's agent and keeps it running as kubelet keeps a container running: when the agent
   * exits by itself (mariadbd died, e.g. a failed SST), it is started again after a short back-off.
   */
  start(name: string): number {
    this.wanted.add(name);
    const fd = openSync(this.agentLog(name), 'a');
    try {
      const child = spawn(
        process.execPath,
        ['--enable-source-maps', AGENT_MAIN, 'run', '--config', join(this.opts.baseDir, name, 'agent.json')],
        { stdio: ['ignore', fd, fd] },
      );
      if (child.pid === undefined) throw new Error(`could not start the agent of ${name}`);
      const pid = child.pid;
      child.on('exit', () => {
        if (this.agents.get(name) !== pid || !this.wanted.has(name)) return;
        this.restarts.set(name, (this.restarts.get(name) ?? 0) + 1);
        setTimeout(() => {
          if (this.wanted.has(name) && this.agents.get(name) === pid) this.start(name);
        }, 1000).unref();
      });
      child.unref();
      this.agents.set(name, pid);
      return pid;
    } finally {
      closeSync(fd);
    }
  }

  /** How often a member's agent was restarted after exiting by itself. */
  restartCount(name: string): number {
    return this.restarts.get(name) ?? 0;
  }

  startAll(): void {
    for (const m of this.members) this.start(m.name);
  }

  /** The mariadbd pid of a member, from its pid file, only if that pid really runs mariadbd. */
  serverPid(name: string): number | undefined {
    const file = join(this.runDir(name), 'mysqld.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && executableOf(pid) === MARIADBD ? pid : undefined;
  }

  private agentAlive(name: string): number | undefined {
    const pid = this.agents.get(name);
    return pid !== undefined && executableOf(pid) === process.execPath ? pid : undefined;
  }

  /** SIGKILL the member's mariadbd and agent at once: a pod killed without grace, a node crash. */
  async kill(name: string): Promise<void> {
    this.wanted.delete(name);
    const pids = [this.serverPid(name), this.agentAlive(name)].filter((p): p is number => p !== undefined);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    while (pids.some((p) => executableOf(p) !== undefined)) await sleep(20);
    this.agents.delete(name);
  }

  /** SIGTERM to the agent: it stops mariadbd cleanly (what a pod deletion does). */
  async stop(name: string, timeoutMs = 120_000): Promise<void> {
    this.wanted.delete(name);
    const pid = this.agentAlive(name);
    const server = this.serverPid(name);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    const deadline = Date.now() + timeoutMs;
    while (
      (this.agentAlive(name) !== undefined || (server !== undefined && executableOf(server) === MARIADBD)) &&
      Date.now() < deadline
    )
      await sleep(50);
    if (this.agentAlive(name) !== undefined || (server !== undefined && executableOf(server) === MARIADBD))
      await this.kill(name);
    this.agents.delete(name);
  }

  async state(name: string): Promise<MemberReport | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.member(name).agentPort}/state`, {
        signal: AbortSignal.timeout(2000),
      });
      return parseReport(await res.json());
    } catch {
      return undefined;
    }
  }

  async isReady(name: string): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.member(name).agentPort}/ready`, {
        signal: AbortSignal.timeout(2000),
      });
      await res.text();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Waits until every named member is Synced; on timeout, the error carries each member's last state and log tail. */
  async waitReady(names: readonly string[] = this.members.map((m) => m.name), timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = await Promise.all(names.map((n) => this.isReady(n)));
      if (ready.every(Boolean)) return;
      if (Date.now() > deadline) {
        const detail = await Promise.all(
          names.map(async (n) => `${n}: ${JSON.stringify(await this.state(n))}\n${this.tail(n)}`),
        );
        throw new Error(`members not Synced after ${timeoutMs / 1000}s:\n${detail.join('\n')}`);
      }
      await sleep(300);
    }
  }

  tail(name: string, lines = 15): string {
    const read = (f: string): string =>
      existsSync(f) ? readFileSync(f, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(none)';
    return (
      `-- agent log:\n${read(this.agentLog(name))}\n-- ` + `mysqld.err:\n${read(join(this.runDir(name), 'mysqld.err'))}`
    );
  }

  /** A client on a member's SQL port: with TLS when the cluster has it, unless `plain` asks for none. */
  connect(
    name: string,
    user: 'root' | 'app' = 'app',
    opts: { plain?: boolean; connectTimeoutMs?: number } = {},
  ): Promise<mariadb.Connection> {
    return mariadb.createConnection({
      host: '127.0.0.1',
      port: this.member(name).sqlPort,
      user,
      password: user === 'root' ? this.rootPassword : this.appPassword,
      database: 'app',
      connectTimeout: opts.connectTimeoutMs ?? 3000,
      ssl: opts.plain ? undefined : this.clientSsl(),
    });
  }

  /** Deletes a member's data dir (its PVC was lost). Only while the member is down. */
  wipe(name: string): void {
    if (this.serverPid(name) !== undefined) throw new Error(`${name} is running; stop it before wiping its data`);
    rmSync(this.dataDir(name), { recursive: true, force: true });
  }

  /** Kills everything this cluster started and removes its files. */
  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m.name)));
    // Leftovers our members started (an SST's rsync daemon or socat): their arguments name our dirs.
    for (const pid of processesMentioning(this.opts.baseDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(this.opts.baseDir, { recursive: true, force: true });
  }
}

/**
 * A client that keeps inserting numbered rows and remembers which inserts the server acknowledged. On an
 * error it moves to the next target (what a client behind a Service sees). Tests check that every
 * acknowledged row survives; the bench reads the longest gap between two acknowledged writes.
 */
export class Writer {
  readonly acked: number[] = [];
  /** Longest time between two acknowledged writes, and when it ended. */
  maxGapMs = 0;
  errors = 0;
  private next = 1;
  private running = false;
  private loop: Promise<void> | undefined;
  private target = 0;
  private lastAckAt = 0;

  constructor(
    private readonly cluster: LoopbackCluster,
    private readonly targets: string[],
    private readonly table = 'writes',
  ) {}

  async prepare(): Promise<void> {
    const conn = await this.cluster.connect(this.targets[0] ?? 'db-0');
    try {
      await conn.query(
        `CREATE TABLE IF NOT EXISTS \`${this.table}\` (id INT PRIMARY KEY, ` +
          `at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3))`,
      );
      const rows: { m: number | null }[] = await conn.query(`SELECT MAX(id) AS m FROM \`${this.table}\``);
      this.next = (rows[0]?.m ?? 0) + 1;
    } finally {
      await conn.end();
    }
  }

  start(): void {
    this.running = true;
    this.lastAckAt = performance.now();
    this.loop = this.work();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async work(): Promise<void> {
    let conn: mariadb.Connection | undefined;
    while (this.running) {
      try {
        conn ??= await this.cluster.connect(this.targets[this.target % this.targets.length] ?? 'db-0');
        const id = this.next++;
        await conn.query(`INSERT INTO \`${this.table}\` (id) VALUES (?)`, [id]);
        const now = performance.now();
        this.maxGapMs = Math.max(this.maxGapMs, now - this.lastAckAt);
        this.lastAckAt = now;
        this.acked.push(id);
      } catch {
        // Unacknowledged: the row may or may not exist; only acknowledged rows are promised.
        this.errors++;
        conn?.destroy();
        conn = undefined;
        this.target++;
        await sleep(50);
      }
    }
    await conn?.end().catch(() => undefined);
  }

  /** Acknowledged ids missing on `member` (empty when nothing was lost). */
  async missingOn(member: string): Promise<number[]> {
    const conn = await this.cluster.connect(member);
    try {
      const rows: { id: number }[] = await conn.query(`SELECT id FROM \`${this.table}\``);
      const present = new Set(rows.map((r) => r.id));
      return this.acked.filter((id) => !present.has(id));
    } finally {
      await conn.end();
    }
  }
}
