// The db member's agent: the thin I/O around decideStart. It inspects the data dir (recovering the
// position after a crash), publishes its state over HTTP, polls its peers until the rule says what to
// do, then runs mariadbd as its child and supervises it: the agent exits when mariadbd does, so the
// container restarts and the rule runs again. Nothing here decides; decide.ts does.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  writeFileSync,
  renameSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mariadb from 'mariadb';
import { run } from '../util/exec.js';
import { advertisedHost, clusterAddress } from './address.js';
import { messageOf } from '../util/errors.js';
import {
  type AgentConfig,
  drAccountsSql,
  appAccountTlsSql,
  dropExtraUsersSql,
  initialSql,
  myCnfPath,
  renderMyCnf,
  replicationAccountSql,
  selfMember,
  socketPath,
} from './config.js';
import {
  READ_REGION_PEER_SQL,
  READ_REGION_STATE_SQL,
  REGION_STATE_DDL,
  effectiveRole,
  isMissingRegionTable,
  parseRegionPeer,
  parseRegionState,
  regionVerdict,
  writeRegionStateSql,
  type PeerRegionView,
  type RegionPeer,
} from './region-role.js';
import { askPeerRegion } from './region-peer.js';
import {
  decideStart,
  donorOrder,
  hasLeftGroup,
  isAlive,
  isSynced,
  ordinalOf,
  sstDonorOption,
  type Decision,
  type MemberReport,
  type PeerView,
  type Phase,
  type WsrepStatus,
} from './decide.js';
import {
  NIL_UUID,
  formatGrastate,
  formatPosition,
  parseGrastate,
  parseRecoveredPosition,
  type Position,
} from './position.js';
import { parseReport } from './report.js';
import { initialiseStaged, installDbArgs, isInitialised, removeStaging } from './datadir.js';

export type Log = (msg: string, fields?: Record<string, unknown>) => void;

/** One JSON object per line on stdout: what `kubectl logs` shows. Never includes secrets. */
export const jsonLog: Log = (msg, fields = {}) => {
  process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), msg, ...fields }) + '\n');
};

interface Inspection {
  hasData: boolean;
  position: Position | null;
  safeToBootstrap: boolean;
}

function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(`${what}: cannot read ${file} (${messageOf(err)}); mount the db Secret there`, { cause: err });
  }
}

/** Looks at the data dir; after a crash (grastate seqno -1) asks mariadbd itself for the last committed position. */
async function inspect(cfg: AgentConfig, log: Log, own: (file: string) => void): Promise<Inspection> {
  const hasData = isInitialised(cfg.dataDir);
  if (!hasData || cfg.mode === 'standalone') return { hasData, position: null, safeToBootstrap: false };
  const grastateFile = join(cfg.dataDir, 'grastate.dat');
  let grastate: ReturnType<typeof parseGrastate> | undefined;
  if (existsSync(grastateFile)) grastate = parseGrastate(readFileSync(grastateFile, 'utf8'));
  if (grastate && grastate.position.seqno >= 0)
    return { hasData, position: grastate.position, safeToBootstrap: grastate.safeToBootstrap };
  const recoverLog = join(cfg.runDir, 'wsrep-recover.log');
  writeFileSync(recoverLog, '');
  own(recoverLog);
  log('recovering position', { reason: grastate ? 'grastate seqno is -1 (unclean stop)' : 'no grastate.dat' });
  const res = await run(
    cfg.mariadbd,
    [`--defaults-file=${myCnfPath(cfg)}`, '--wsrep-recover', `--log-error=${recoverLog}`],
    { allowFailure: true, timeoutMs: 300_000 },
  );
  const position = parseRecoveredPosition(readFileSync(recoverLog, 'utf8') + res.stdout + res.stderr) ?? null;
  log('recovered position', { position: position ? formatPosition(position) : null, exit: res.code });
  return { hasData, position, safeToBootstrap: grastate?.safeToBootstrap ?? false };
}

async function fetchPeer(url: string): Promise<MemberReport | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1500) });
    if (!res.ok) return undefined;
    return parseReport(await res.json());
  } catch {
    return undefined;
  }
}

/** How long a running server may fail to answer SQL before /live reports it hung. */
const STALL_LIMIT_MS = 180_000;
/** How long a running Galera member may stay outside the primary component before /live reports it stuck. */
const OUTSIDE_PRIMARY_LIMIT_MS = 120_000;
/**
 * How long a running member may be Disconnected from the group
 * (Galera gave up: a failed IST) before the agent restarts mariadbd.
 */
const DISCONNECTED_LIMIT_MS = 10_000;
/** run()'s result when the agent stopped mariadbd because it left the group: not 0, so main decides again. */
export const LEFT_GROUP_EXIT = 75;
/** How often a writable primary asks the peer region again (a region that returned while cut off). */
const PEER_CHECK_MS = 5000;
/**
 * How long a primary's member that just started waits for the peer region to answer before it opens writes
 * anyway (the peer may be down): the time a returning region needs to reach the other again.
 */
const PEER_GRACE_MS = 30_000;

const WSREP_KEYS = [
  'wsrep_cluster_status',
  'wsrep_local_state',
  'wsrep_ready',
  'wsrep_cluster_size',
  'wsrep_cluster_state_uuid',
  'wsrep_last_committed',
];

export class Agent {
  private phase: Phase = 'inspecting';
  private inspection: Inspection = { hasData: false, position: null, safeToBootstrap: false };
  private wsrep: WsrepStatus | null = null;
  private sqlOk = false;
  private lastSqlAt = performance.now();
  /** Last time the running server was in the primary component (galera mode). */
  private lastPrimaryAt = performance.now();
  /** Since when the running server has been Synced without a break (galera mode); undefined: not Synced. */
  private syncedSince: number | undefined;
  /** Since when the running server has been Disconnected from the group without a break (galera mode). */
  private disconnectedSince: number | undefined;
  /** The agent stopped mariadbd because it had left the group (run() then returns LEFT_GROUP_EXIT). */
  private leftGroup = false;
  private plan = 'inspecting the data dir';
  private child: ChildProcess | undefined;
  private server: Server | undefined;
  private stopping = false;
  private exited: Promise<number> | undefined;
  /** Where peers reach our Galera/IST/SST (advertisedHost). */
  private advertise: string | undefined;
  /** The DR Jobs' accounts were ensured by this process (once per start, on a Synced member). */
  private drAccountsDone = false;
  /** The peers' reports from the round that decided: their addresses build wsrep_cluster_address. */
  private lastViews: PeerView[] = [];
  /** What the peer region last said (the fence); reset whenever this region is not primary. */
  private peerRegion: PeerRegionView = { kind: 'unknown' };
  private peerAsking = false;
  private peerAnswered = false;
  private readonly agentStartedAt = performance.now();
  private peerAskedAt = 0;

  constructor(
    private readonly cfg: AgentConfig,
    private readonly log: Log = jsonLog,
  ) {}

  report(): MemberReport {
    return {
      name: this.cfg.self,
      ordinal: ordinalOf(this.cfg.self) ?? 0,
      phase: this.phase,
      hasData: this.inspection.hasData,
      position: this.inspection.position,
      safeToBootstrap: this.inspection.safeToBootstrap,
      wsrep: this.wsrep,
      plan: this.plan,
      ...(this.advertise !== undefined ? { address: this.advertise } : {}),
      ...(this.syncedSince !== undefined && this.phase === 'running'
        ? { syncedForMs: Math.round(performance.now() - this.syncedSince) }
        : {}),
    };
  }

  /** Readiness: Synced in a primary component (galera), answering SQL (standalone). */
  ready(): boolean {
    if (this.phase !== 'running') return false;
    return this.cfg.mode === 'standalone' ? this.sqlOk : isSynced(this.wsrep);
  }

  /** Runs until mariadbd exits (returns its exit code) or stop() is called (returns 0). */
  async run(): Promise<number> {
    const me = selfMember(this.cfg);
    mkdirSync(this.cfg.runDir, { recursive: true });
    mkdirSync(this.cfg.dataDir, { recursive: true });
    this.chownForServer();
    // Created (and handed to mariadbd's user) only when missing: never chown a shared /tmp.
    if (!existsSync(this.cfg.tmpDir)) {
      mkdirSync(this.cfg.tmpDir, { recursive: true, mode: 0o750 });
      this.own(this.cfg.tmpDir);
    }
    // Whatever an initialisation interrupted by a crash or a kill left behind.
    removeStaging(this.cfg.dataDir);
    const rootPassword = readSecret(this.cfg.rootPasswordFile, 'rootPasswordFile');
    this.advertise = advertisedHost({
      secondaryInterface: this.cfg.secondaryInterface,
      podIp: this.cfg.podIp,
      memberHost: me.host,
      interfaces: networkInterfaces(),
    });
    if (this.cfg.mode === 'galera')
      this.log('advertising', { address: this.advertise, interface: this.cfg.secondaryInterface ?? null });
    writeFileSync(
      myCnfPath(this.cfg),
      renderMyCnf(this.cfg, { sstPassword: rootPassword, advertise: this.advertise }),
      { mode: 0o600 },
    );
    this.own(myCnfPath(this.cfg));
    await this.listen(me.agentPort);
    this.inspection = await inspect(this.cfg, this.log, (f) => {
      this.own(f);
    });
    this.log('inspected', {
      hasData: this.inspection.hasData,
      position: this.inspection.position ? formatPosition(this.inspection.position) : null,
      safeToBootstrap: this.inspection.safeToBootstrap,
    });

    const decision = await this.awaitDecision();
    if (this.stopping) return 0;
    this.phase = 'starting';
    const args = [`--defaults-file=${myCnfPath(this.cfg)}`];
    if (decision.action === 'bootstrap') {
      if (decision.fresh) await this.initialiseDataDir();
      else if (this.inspection.position) {
        // The rule chose us: tell Galera it may bootstrap from this data (what a human would edit by hand).
        const file = join(this.cfg.dataDir, 'grastate.dat');
        writeFileAtomic(file, formatGrastate({ position: this.inspection.position, safeToBootstrap: true }));
        this.own(file);
      }
      if (this.cfg.mode === 'galera') args.push('--wsrep-new-cluster');
    }
    if (this.cfg.mode === 'galera') {
      // Peers at the addresses they reported just now, not their DNS names: right after pods are
      // replaced a name may not resolve yet (or still name the deleted pod), and Galera resolves once.
      const reported = new Map(
        this.lastViews.map((v) => [v.name, v.report?.phase === 'stopping' ? undefined : v.report?.address]),
      );
      reported.set(this.cfg.self, this.advertise);
      // On a secondary network, never a peer's DNS name: it would put Galera's traffic on eth0.
      args.push(
        `--wsrep-cluster-address=${clusterAddress(this.cfg.members, reported, {
          onlyReported: this.cfg.secondaryInterface !== undefined,
        })}`,
      );
      // A joiner names its donors: the members Synced longest, never one that has just joined by IST itself.
      const donors = decision.action === 'join' ? sstDonorOption(donorOrder(this.lastViews)) : undefined;
      if (donors !== undefined) args.push(`--wsrep-sst-donor=${donors}`);
    }
    // Start from the recovered position so a rejoin can use IST instead of a full SST.
    if (this.cfg.mode === 'galera' && this.inspection.position && this.inspection.position.seqno >= 0) {
      args.push(`--wsrep-start-position=${formatPosition(this.inspection.position)}`);
    }
    this.exited = this.startServer(args);
    const code = await Promise.race([this.exited, this.superviseUntilExit(decision, rootPassword)]);
    this.server?.close();
    // stop() may have run while we awaited (TypeScript cannot see that), hence the method call.
    if (this.isStopping()) return 0;
    return this.leftGroup ? LEFT_GROUP_EXIT : code;
  }

  /** SIGTERM handling: stop mariadbd cleanly (it writes grastate.dat with its position) and wait for it. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.phase = 'stopping';
    if (this.child?.pid !== undefined && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
    this.server?.close();
  }

  private isStopping(): boolean {
    return this.stopping;
  }

  private owner: { uid: number; gid: number } | undefined;

  /**
   * When the agent is root and mariadbd runs as another user,
   * that user must own what mariadbd and its SST scripts write.
   */
  private chownForServer(): void {
    if (!this.cfg.runAsUser || process.getuid?.() !== 0 || this.cfg.runAsUser === 'root') return;
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${this.cfg.runAsUser ?? ''}:`));
    const [, , uid, gid] = line?.split(':') ?? [];
    if (uid === undefined || gid === undefined) throw new Error(`runAsUser: no such user ${this.cfg.runAsUser}`);
    this.owner = { uid: Number(uid), gid: Number(gid) };
    for (const dir of [this.cfg.dataDir, this.cfg.runDir]) this.own(dir);
  }

  private own(path: string): void {
    if (this.owner) chownSync(path, this.owner.uid, this.owner.gid);
  }

  private async listen(port: number): Promise<void> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/state') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.report()));
      } else if (path === '/ready') {
        const ok = this.ready();
        res
          .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
          .end(ok ? 'synced\n' : `not ready: ${this.phase}\n`);
      } else if (path === '/live') {
        // Alive while waiting and starting (including a long SST); a running server that stopped
        // answering SQL for minutes is hung, and only then does this fail.
        const outside = this.cfg.mode === 'galera' ? performance.now() - this.lastPrimaryAt : 0;
        const ok = isAlive(
          this.phase,
          performance.now() - this.lastSqlAt,
          STALL_LIMIT_MS,
          outside,
          OUTSIDE_PRIMARY_LIMIT_MS,
        );
        res
          .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
          .end(
            ok
              ? `${this.phase}\n`
              : 'mariadbd has not answered SQL, or has been outside the primary component, for too long\n',
          );
      } else {
        res.writeHead(404).end();
      }
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.cfg.bindAddress, () => {
        resolve();
      });
    });
  }

  private async awaitDecision(): Promise<Decision> {
    this.phase = 'waiting';
    if (this.cfg.mode === 'standalone') {
      return this.inspection.hasData
        ? { action: 'join', reason: 'standalone: starting from existing data' }
        : { action: 'bootstrap', fresh: true, reason: 'standalone: new data dir' };
    }
    const peers = this.cfg.members.filter((m) => m.name !== this.cfg.self);
    for (;;) {
      if (this.stopping) return { action: 'wait', reason: 'stopping' };
      const views: PeerView[] = await Promise.all(
        peers.map(async (p) => ({ name: p.name, report: await fetchPeer(`http://${p.host}:${p.agentPort}/state`) })),
      );
      const decision = decideStart(this.report(), views);
      this.lastViews = views;
      if (decision.reason !== this.plan) this.log('plan', { action: decision.action, reason: decision.reason });
      this.plan = decision.reason;
      if (decision.action !== 'wait') return decision;
      await sleep(this.cfg.pollMs);
    }
  }

  private async initialiseDataDir(): Promise<void> {
    this.log('initialising data dir', { dataDir: this.cfg.dataDir });
    // Staged (datadir.ts): a failed or killed install never leaves a data dir that looks initialised.
    await initialiseStaged(this.cfg.dataDir, async (staging) => {
      await run(this.cfg.installDb, installDbArgs(staging, this.cfg.tmpDir, this.cfg.runAsUser), {
        timeoutMs: 300_000,
      });
    });
    // A brand-new history: data, but nothing committed yet. Peers rank it last instead of waiting for it.
    this.inspection = { hasData: true, position: { uuid: NIL_UUID, seqno: -1 }, safeToBootstrap: false };
  }

  private startServer(args: string[]): Promise<number> {
    const fd = openSync(join(this.cfg.runDir, 'mariadbd.out'), 'a');
    try {
      this.log('starting mariadbd', { args });
      const child = spawn(this.cfg.mariadbd, args, { stdio: ['ignore', fd, fd] });
      this.child = child;
      return new Promise((resolve) => {
        child.on('exit', (code, signal) => {
          this.phase = this.stopping ? 'stopping' : 'waiting';
          this.wsrep = null;
          this.log('mariadbd exited', { code, signal });
          resolve(code ?? 1);
        });
        child.on('error', (err) => {
          this.log('mariadbd failed to start', { error: err.message });
          resolve(1);
        });
      });
    } finally {
      closeSync(fd);
    }
  }

  /** The replication account and the region state table, when this cluster is one of two regions. */
  private regionAccountSql(): string[] {
    const region = this.cfg.region;
    if (!region) return [];
    const account = region.replicationAccount;
    const repl = account
      ? replicationAccountSql(
          { user: account.user, password: readSecret(account.passwordFile, 'region.replicationAccount') },
          this.cfg.tls !== undefined,
        )
      : [];
    return [...repl, ...REGION_STATE_DDL];
  }

  /**
   * Opens writes only on a primary region that the peer region has not superseded: read_only follows the
   * verdict of region-role.ts on the role in the region state table (or the configured initial one) and on
   * what the peer answers. Checked on every poll, so a promotion or a fence reaches each member in pollMs.
   */
  private async reconcileRegionRole(conn: mariadb.Connection): Promise<void> {
    const region = this.cfg.region;
    if (!region) return;
    const stored = parseRegionState((await this.optionalRows(conn, READ_REGION_STATE_SQL))[0]);
    const peer = parseRegionPeer((await this.optionalRows(conn, READ_REGION_PEER_SQL))[0]);
    const own = { role: effectiveRole(region.initialRole, stored), epoch: stored?.epoch ?? 0 };
    // Just started and never answered by the peer: ask on every poll, and no writes on "unreachable" yet.
    const confirming = !this.peerAnswered && performance.now() - this.agentStartedAt < PEER_GRACE_MS;
    if (own.role !== 'primary' || !peer) this.peerRegion = { kind: 'unknown' };
    else if (this.peerRegion.kind === 'unknown' || (this.peerRegion.kind === 'unreachable' && confirming))
      this.peerRegion = await this.askPeer(peer);
    else void this.refreshPeer(peer);
    const verdict = regionVerdict(own, peer !== undefined, this.peerRegion, confirming);
    if (verdict.record) {
      await conn.query(writeRegionStateSql(verdict.record));
      this.log('region fenced: a newer primary holds the other region', {
        region: region.name,
        peer: peer?.region,
        ...verdict.record,
      });
    }
    const rows: { ro: number | bigint }[] = await conn.query('SELECT @@global.read_only AS ro');
    const current = Number(rows[0]?.ro ?? 1) === 1;
    if (current === verdict.readOnly) return;
    await conn.query(`SET GLOBAL read_only = ${verdict.readOnly ? 'ON' : 'OFF'}`);
    this.log(verdict.readOnly ? 'region role: read-only' : 'region role: writable', {
      region: region.name,
      role: own.role,
      epoch: own.epoch,
      reason: stored?.reason ?? 'initial role',
      verdict: verdict.reason,
    });
  }

  /** Rows of a region table, or none while `kstack region` has not made it yet. */
  private async optionalRows(conn: mariadb.Connection, sql: string): Promise<Record<string, unknown>[]> {
    try {
      return await conn.query(sql);
    } catch (err) {
      if (isMissingRegionTable(err)) return [];
      throw err;
    }
  }

  private async askPeer(peer: RegionPeer): Promise<PeerRegionView> {
    const account = this.cfg.region?.replicationAccount;
    if (!account) return { kind: 'unreachable', error: 'no replication account configured to ask with' };
    const view = await askPeerRegion(peer, {
      user: account.user,
      password: readSecret(account.passwordFile, 'region.replicationAccount'),
      caFile: this.cfg.tls?.ca,
    });
    if (view.kind === 'answered') this.peerAnswered = true;
    if (view.kind !== this.peerRegion.kind)
      this.log('peer region', { peer: peer.region, host: peer.host, port: peer.port, ...view });
    return view;
  }

  /** While writable, the peer is asked again every PEER_CHECK_MS in the background: the poll never waits. */
  private async refreshPeer(peer: RegionPeer): Promise<void> {
    if (this.peerAsking || performance.now() - this.peerAskedAt < PEER_CHECK_MS) return;
    this.peerAsking = true;
    this.peerAskedAt = performance.now();
    try {
      const view = await this.askPeer(peer);
      if (this.peerRegion.kind !== 'unknown') this.peerRegion = view;
    } finally {
      this.peerAsking = false;
    }
  }

  /** The DR accounts whose password file is there (a missing key in an existingSecret is logged, not fatal). */
  private drAccountPasswords(): { role: 'backup' | 'restore'; user: string; password: string }[] {
    return this.cfg.drAccounts.flatMap((a) => {
      try {
        return [{ role: a.role, user: a.user, password: readSecret(a.passwordFile, `drAccounts ${a.user}`) }];
      } catch (err) {
        this.log(
          'DR account skipped: its password is missing; add the key to ' +
            'the db Secret (db.auth.existingSecret) and restart the member',
          { user: a.user, error: messageOf(err) },
        );
        return [];
      }
    });
  }

  /**
   * Upgrades from a chart without the DR accounts, and TLS turned on or off: a Synced member makes sure the
   * DR accounts exist with the Secret's password and that every account over TCP requires TLS exactly when
   * the member serves it (idempotent; on Galera the statements replicate to every member).
   */
  private async ensureAccounts(conn: mariadb.Connection): Promise<void> {
    const dr = this.drAccountPasswords();
    const requireSsl = this.cfg.tls !== undefined;
    try {
      for (const stmt of [
        ...drAccountsSql(dr, requireSsl),
        ...appAccountTlsSql(this.cfg.app?.user, requireSsl),
        ...this.regionAccountSql(),
      ])
        await conn.query(stmt);
      this.drAccountsDone = true;
      this.log('accounts ensured', { dr: dr.map((a) => a.user), app: this.cfg.app?.user ?? null, requireSsl });
    } catch (err) {
      this.log('ensuring the DR accounts failed; retrying', { error: messageOf(err) });
    }
  }

  /** Waits for SQL, creates the accounts on a new cluster, then keeps the live status fresh until mariadbd exits. */
  private async superviseUntilExit(decision: Decision, rootPassword: string): Promise<number> {
    // Joiners get the accounts with the data (SST/IST). A bootstrapper sets them up when root still has
    // no password: a new data dir, or one whose first start died before the accounts were made.
    let accountsDone = decision.action !== 'bootstrap' && this.cfg.mode !== 'standalone';
    for (;;) {
      if (this.child?.exitCode !== null || this.stopping)
        return new Promise<number>(() => {
          /* the exit promise wins the race */
        });
      let conn: mariadb.Connection | undefined;
      try {
        const connect = (password: string): Promise<mariadb.Connection> =>
          mariadb.createConnection({ socketPath: socketPath(this.cfg), user: 'root', password, connectTimeout: 2000 });
        try {
          conn = await connect(rootPassword);
          accountsDone = true;
        } catch (err) {
          if (accountsDone || (err as { errno?: number }).errno !== 1045) throw err;
          conn = await connect('');
        }
        if (!accountsDone) {
          const app = this.cfg.app
            ? { ...this.cfg.app, password: readSecret(this.cfg.app.passwordFile, 'app.passwordFile') }
            : undefined;
          const accounts: { User: string; Host: string }[] = await conn.query('SELECT User, Host FROM mysql.user');
          const dr = this.drAccountPasswords();
          for (const stmt of [
            ...dropExtraUsersSql(accounts, app?.user, [
              ...this.cfg.drAccounts.map((a) => a.user),
              ...(this.cfg.region?.replicationAccount ? [this.cfg.region.replicationAccount.user] : []),
            ]),
            ...initialSql(rootPassword, app, dr, this.cfg.tls !== undefined),
            ...this.regionAccountSql(),
          ])
            await conn.query(stmt);
          accountsDone = true;
          this.drAccountsDone = true;
          this.log('accounts created', { app: this.cfg.app?.user ?? null, dr: dr.map((a) => a.user) });
        }
        this.sqlOk = true;
        this.lastSqlAt = performance.now();
        if (this.cfg.mode === 'galera') {
          const live = await readWsrep(conn);
          this.wsrep = live.status;
          if (!isSynced(live.status)) this.syncedSince = undefined;
          else this.syncedSince ??= performance.now();
          if (live.status.clusterStatus !== 'Disconnected') this.disconnectedSince = undefined;
          else this.disconnectedSince ??= performance.now();
          if (
            hasLeftGroup(
              this.phase,
              live.status,
              performance.now() - (this.disconnectedSince ?? performance.now()),
              DISCONNECTED_LIMIT_MS,
            )
          ) {
            // Galera gave up on the group (e.g. "Receiving IST failed, node restart required") and will
            // not come back by itself: stop mariadbd so the agent decides and joins again in seconds,
            // instead of waiting for /live to fail and the kubelet's restart back-off.
            this.log('left the group: restarting mariadbd', { wsrep: live.status });
            this.leftGroup = true;
            this.child.kill('SIGTERM');
          }
          if (live.status.clusterStatus === 'Primary' || this.phase !== 'running')
            this.lastPrimaryAt = performance.now();
          // While running, publish the live position: peers deciding later compare against it.
          if (live.position) this.inspection = { ...this.inspection, hasData: true, position: live.position };
        }
        if (this.phase === 'starting') {
          this.phase = 'running';
          this.plan = `running (${decision.reason})`;
          this.log('mariadbd answers SQL', { wsrep: this.wsrep });
        }
        if (!this.drAccountsDone && this.ready()) await this.ensureAccounts(conn);
        if (this.drAccountsDone && this.ready()) await this.reconcileRegionRole(conn);
      } catch (err) {
        this.sqlOk = false;
        if (this.phase === 'running') this.log('status query failed', { error: messageOf(err) });
      } finally {
        await conn?.end().catch(() => undefined);
      }
      if (!this.inspection.hasData && this.phase === 'running') this.inspection = { ...this.inspection, hasData: true };
      await sleep(this.phase === 'running' ? this.cfg.pollMs : 250);
    }
  }
}

export async function readWsrep(
  conn: mariadb.Connection,
): Promise<{ status: WsrepStatus; position: Position | undefined }> {
  const rows: { Variable_name: string; Value: string }[] = await conn.query(
    `SHOW GLOBAL STATUS WHERE Variable_name IN (${WSREP_KEYS.map((k) => `'${k}'`).join(',')})`,
  );
  const v = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const name: { n: string }[] = await conn.query('SELECT @@wsrep_node_name AS n');
  const uuid = v.get('wsrep_cluster_state_uuid');
  const seqno = Number(v.get('wsrep_last_committed') ?? NaN);
  return {
    status: {
      clusterStatus: v.get('wsrep_cluster_status') ?? 'Disconnected',
      localState: Number(v.get('wsrep_local_state') ?? 0),
      ready: v.get('wsrep_ready') === 'ON',
      clusterSize: Number(v.get('wsrep_cluster_size') ?? 0),
      nodeName: name[0]?.n ?? '',
    },
    position: uuid && Number.isInteger(seqno) ? { uuid, seqno } : undefined,
  };
}

/** Atomic small-file write, for state other processes read. */
export function writeFileAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}
