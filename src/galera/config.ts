// The agent's configuration (one JSON file, the same shape in a pod and in the loopback tests) and the
// my.cnf it derives for mariadbd. Pure: parsing names the bad field, rendering is plain text.
import { hostPort, parseInterfaceName } from './address.js';
import { ordinalOf } from './decide.js';

export interface MemberAddress {
  name: string;
  /** Host peers use to reach this member (pod DNS name via the headless Service, or 127.0.0.1). */
  host: string;
  sqlPort: number;
  /** Galera group communication (gmcast.listen_addr). */
  galeraPort: number;
  /** Incremental state transfer receiver (ist.recv_addr). */
  istPort: number;
  /** Snapshot state transfer receiver (wsrep_sst_receive_address). */
  sstPort: number;
  /** The agent's HTTP endpoint (/state, /ready, /live). */
  agentPort: number;
}

export interface AgentConfig {
  mode: 'galera' | 'standalone';
  /** This member's name; must be one of `members`. */
  self: string;
  members: MemberAddress[];
  clusterName: string;
  dataDir: string;
  /** Socket, pid file, generated my.cnf and recovery logs. */
  runDir: string;
  /**
   * mariadbd's tmpdir (and mariadb-install-db's). Every mariadbd deletes all `#sql*` files in its tmpdir
   * when it starts, so servers sharing one (several members on one host) destroy each other's temporary
   * tables: each member needs its own. A pod's /tmp is already its own.
   */
  tmpDir: string;
  /** Address mariadbd, Galera and the agent listen on (0.0.0.0 in a pod, 127.0.0.1 in tests). */
  bindAddress: string;
  mariadbd: string;
  installDb: string;
  /** OS user mariadbd runs as (needed when the agent runs as root: mariadbd refuses root otherwise). */
  runAsUser: string | undefined;
  sstMethod: 'rsync' | 'mariabackup';
  /** File holding the root password (a mounted Secret key). */
  rootPasswordFile: string;
  /** Optional application account created with the new cluster. */
  app: { user: string; passwordFile: string; database: string } | undefined;
  /**
   * Accounts of the backup and restore Jobs (src/dr), reached over TCP from their pods: created with a new
   * cluster and ensured on every start of a Synced member (an upgrade from a chart without them). Empty when
   * backups are off.
   */
  drAccounts: DrAccount[];
  /** Extra lines for the [mysqld] section (tuning from values). */
  extraMysqld: string[];
  /** How often peers are polled while waiting, and the live status refreshed. */
  pollMs: number;
  /** Binary logging with GTIDs, for point-in-time recovery (the binlog archiver ships the closed files). */
  binlog: boolean;
  /**
   * Interface whose address Galera advertises (a Multus secondary network, e.g. net1), from
   * GALERA_SECONDARY_INTERFACE or "secondaryInterface"; undefined: the pod network.
   */
  secondaryInterface: string | undefined;
  /** This pod's IP (POD_IP, from the downward API); advertised instead of the DNS name when set. */
  podIp: string | undefined;
  /**
   * TLS for everything that leaves the member: client connections (required: require_secure_transport),
   * Galera replication and IST (socket.ssl), SST (socat with OpenSSL). Undefined: all in plain text.
   */
  tls: TlsFiles | undefined;
  /** This cluster's place in a pair of regions (docs/multi-region.md); undefined: one region, as before. */
  region: RegionConfig | undefined;
}

/**
 * One region of a primary/standby pair. Each region is its own Galera cluster; the standby's members apply
 * the primary's binlog stream by asynchronous GTID replication, so the two need distinct identities.
 */
export interface RegionConfig {
  name: string;
  /** server_id of every member of this region; a replica skips events carrying its own server_id. */
  serverId: number;
  /** wsrep_gtid_domain_id of this region's cluster, so the GTIDs of each region's writes never collide. */
  gtidDomainId: number;
  /**
   * The role the region takes until `kstack region` records another in the region state table: members
   * always start read-only and the agent opens writes only on a primary (src/galera/region-role.ts).
   */
  initialRole: RegionRole;
  /** The account the other region's replica logs in with (least privilege); undefined: none is made. */
  replicationAccount: { user: string; passwordFile: string } | undefined;
}

export type RegionRole = 'primary' | 'standby' | 'fenced';

/** PEM files of the member's TLS: the CA every peer and client trusts, and the server's certificate and key. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/** An account of the DR Jobs: `backup` dumps (least privileges), `restore` loads a dump and replays binlogs. */
export interface DrAccount {
  role: 'backup' | 'restore';
  user: string;
  passwordFile: string;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Json, key: string, where: string, fallback?: string): string {
  const v = o[key] ?? fallback;
  if (typeof v !== 'string' || v === '') throw new Error(`${where}${key}: must be a non-empty string`);
  return v;
}

function port(o: Json, key: string, where: string, fallback?: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535)
    throw new Error(`${where}${key}: must be a port number 1-65535`);
  return v;
}

const PORT_KEYS = ['sqlPort', 'galeraPort', 'istPort', 'sstPort', 'agentPort'] as const;
const DEFAULT_PORTS: Record<(typeof PORT_KEYS)[number], number> = {
  sqlPort: 3306,
  galeraPort: 4567,
  istPort: 4568,
  sstPort: 4444,
  agentPort: 8081,
};

/**
 * Members of a StatefulSet: <sts>-0 … <sts>-(n-1), reached as <pod>.<headless service>, all on the same
 * ports. This is how the agent finds its peers in Kubernetes.
 */
export function statefulSetMembers(
  statefulSet: string,
  replicas: number,
  domain: string,
  ports: Partial<Record<(typeof PORT_KEYS)[number], number>> = {},
): MemberAddress[] {
  return Array.from({ length: replicas }, (_, i) => {
    const name = `${statefulSet}-${i}`;
    return { name, host: `${name}.${domain}`, ...DEFAULT_PORTS, ...ports };
  });
}

/** Parses and checks the agent's JSON config; `env.HOSTNAME` is the default for `self` (the pod name). */
export function parseAgentConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): AgentConfig {
  if (!isObject(raw)) throw new Error('agent config: must be a JSON object');
  const mode = raw.mode ?? 'galera';
  if (mode !== 'galera' && mode !== 'standalone')
    throw new Error(`mode: must be "galera" or "standalone", not ${JSON.stringify(mode)}`);
  const self = str(raw, 'self', '', env.HOSTNAME);

  let members: MemberAddress[];
  if (raw.members !== undefined) {
    if (!Array.isArray(raw.members) || raw.members.length === 0) throw new Error('members: must be a non-empty list');
    members = raw.members.map((m: unknown, i) => {
      const where = `members[${i}].`;
      if (!isObject(m)) throw new Error(`members[${i}]: must be an object`);
      const entry = { name: str(m, 'name', where), host: str(m, 'host', where) } as MemberAddress;
      for (const k of PORT_KEYS) entry[k] = port(m, k, where, DEFAULT_PORTS[k]);
      return entry;
    });
  } else if (isObject(raw.statefulSet)) {
    const s = raw.statefulSet;
    const replicas = s.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1)
      throw new Error('statefulSet.replicas: must be a positive integer');
    const ports: Partial<Record<(typeof PORT_KEYS)[number], number>> = {};
    for (const k of PORT_KEYS) ports[k] = port(s, k, 'statefulSet.', DEFAULT_PORTS[k]);
    members = statefulSetMembers(str(s, 'name', 'statefulSet.'), replicas, str(s, 'domain', 'statefulSet.'), ports);
  } else {
    throw new Error('agent config: needs either "members" (a list) or "statefulSet" ({name, replicas, domain})');
  }
  const names = new Set(members.map((m) => m.name));
  if (names.size !== members.length) throw new Error('members: names must be unique');
  if (!names.has(self)) throw new Error(`self: "${self}" is not one of the members (${[...names].join(', ')})`);
  if (members.some((m) => ordinalOf(m.name) === undefined))
    throw new Error('members: every name must end in -<ordinal> (like a StatefulSet pod: db-0)');
  if (mode === 'standalone' && members.length !== 1)
    throw new Error(`members: standalone mode has exactly 1 member, not ${members.length}`);
  if (mode === 'galera' && (members.length < 3 || members.length % 2 === 0) && raw.allowEvenMembers !== true) {
    throw new Error(
      `members: galera mode needs an odd number of members, at least ` +
        `3 (got ${members.length}), so a majority survives one loss`,
    );
  }

  const sst = raw.sstMethod ?? 'mariabackup';
  if (sst !== 'rsync' && sst !== 'mariabackup')
    throw new Error(`sstMethod: must be "rsync" or "mariabackup", not ${JSON.stringify(sst)}`);
  let app: AgentConfig['app'];
  if (raw.app !== undefined) {
    if (!isObject(raw.app)) throw new Error('app: must be an object {user, passwordFile, database}');
    app = {
      user: str(raw.app, 'user', 'app.'),
      passwordFile: str(raw.app, 'passwordFile', 'app.'),
      database: str(raw.app, 'database', 'app.'),
    };
    if (!/^[A-Za-z0-9_]{1,64}$/.test(app.database)) throw new Error('app.database: letters, digits and _ only (1-64)');
    if (!/^[A-Za-z0-9_]{1,80}$/.test(app.user)) throw new Error('app.user: letters, digits and _ only (1-80)');
  }
  const drRaw = raw.drAccounts ?? [];
  if (!Array.isArray(drRaw)) throw new Error('drAccounts: must be a list of {role, user, passwordFile}');
  const drAccounts = drRaw.map((a: unknown, i): DrAccount => {
    const where = `drAccounts[${i}].`;
    if (!isObject(a)) throw new Error(`drAccounts[${i}]: must be an object {role, user, passwordFile}`);
    const role = a.role;
    if (role !== 'backup' && role !== 'restore')
      throw new Error(`${where}role: must be "backup" or "restore", not ${JSON.stringify(role)}`);
    const user = str(a, 'user', where);
    if (!/^[A-Za-z0-9_]{1,80}$/.test(user)) throw new Error(`${where}user: letters, digits and _ only (1-80)`);
    if (user === 'root' || user === app?.user)
      throw new Error(`${where}user: "${user}" is already root's or the app's account; choose another name`);
    return { role, user, passwordFile: str(a, 'passwordFile', where) };
  });
  if (new Set(drAccounts.map((a) => a.user)).size !== drAccounts.length)
    throw new Error('drAccounts: user names must be unique');
  const extra = raw.extraMysqld ?? [];
  if (!Array.isArray(extra) || extra.some((l) => typeof l !== 'string' || l.includes('\n')))
    throw new Error('extraMysqld: must be a list of single-line strings');
  const pollMs = raw.pollMs ?? 1000;
  if (typeof pollMs !== 'number' || pollMs < 100) throw new Error('pollMs: must be a number ≥ 100');
  const binlog = raw.binlog ?? false;
  if (typeof binlog !== 'boolean') throw new Error('binlog: must be true or false');
  const secondaryRaw = env.GALERA_SECONDARY_INTERFACE ?? raw.secondaryInterface;
  if (secondaryRaw !== undefined && typeof secondaryRaw !== 'string')
    throw new Error('secondaryInterface: must be a string (an interface name such as net1)');
  const secondaryInterface = parseInterfaceName(
    secondaryRaw,
    env.GALERA_SECONDARY_INTERFACE !== undefined ? 'GALERA_SECONDARY_INTERFACE' : 'secondaryInterface',
  );
  const podIp = env.POD_IP?.trim() ? env.POD_IP.trim() : undefined;
  if (podIp !== undefined && !/^[0-9A-Fa-f.:]+$/.test(podIp))
    throw new Error(`POD_IP: "${podIp}" is not an IP address`);
  let tls: TlsFiles | undefined;
  if (raw.tls !== undefined && raw.tls !== null) {
    if (!isObject(raw.tls)) throw new Error('tls: must be an object {ca, cert, key} (paths of PEM files) or null');
    tls = { ca: str(raw.tls, 'ca', 'tls.'), cert: str(raw.tls, 'cert', 'tls.'), key: str(raw.tls, 'key', 'tls.') };
  }
  const region = parseRegion(raw.region, binlog, app?.user, drAccounts);
  const runAsUser = raw.runAsUser;
  if (runAsUser !== undefined && (typeof runAsUser !== 'string' || runAsUser === ''))
    throw new Error('runAsUser: must be a non-empty string');

  return {
    mode,
    self,
    members,
    clusterName: str(raw, 'clusterName', '', 'kstack'),
    dataDir: str(raw, 'dataDir', '', '/var/lib/mysql'),
    runDir: str(raw, 'runDir', '', '/run/mysqld'),
    tmpDir: str(raw, 'tmpDir', '', '/tmp'),
    bindAddress: str(raw, 'bindAddress', '', '0.0.0.0'),
    mariadbd: str(raw, 'mariadbd', '', '/usr/sbin/mariadbd'),
    installDb: str(raw, 'installDb', '', '/usr/bin/mariadb-install-db'),
    runAsUser,
    sstMethod: sst,
    rootPasswordFile: str(raw, 'rootPasswordFile', ''),
    app,
    drAccounts,
    extraMysqld: extra as string[],
    pollMs,
    binlog,
    secondaryInterface,
    podIp,
    tls,
    region,
  };
}

const REGION_NAME = /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/;

function positiveInt(o: Json, key: string, where: string, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    throw new Error(`${where}${key}: must be an integer from 1 to ${max}`);
  return v;
}

function parseRegion(
  raw: unknown,
  binlog: boolean,
  appUser: string | undefined,
  drAccounts: readonly DrAccount[],
): RegionConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw))
    throw new Error('region: must be an object {name, serverId, gtidDomainId, initialRole, replicationAccount}');
  const name = str(raw, 'name', 'region.');
  if (!REGION_NAME.test(name)) throw new Error(`region.name: "${name}" must be a DNS label (a-z, 0-9, -)`);
  // Replication reads the binlog: a region without one could neither feed a standby nor fail back.
  if (!binlog) throw new Error('region: needs binlog: true (the standby replicates from the binary log)');
  const initialRole = raw.initialRole ?? 'primary';
  if (initialRole !== 'primary' && initialRole !== 'standby')
    throw new Error(`region.initialRole: must be "primary" or "standby", not ${JSON.stringify(initialRole)}`);
  let replicationAccount: RegionConfig['replicationAccount'];
  if (raw.replicationAccount !== undefined && raw.replicationAccount !== null) {
    const a = raw.replicationAccount;
    if (!isObject(a)) throw new Error('region.replicationAccount: must be an object {user, passwordFile}');
    const user = str(a, 'user', 'region.replicationAccount.');
    if (!/^[A-Za-z0-9_]{1,80}$/.test(user))
      throw new Error('region.replicationAccount.user: letters, digits and _ only (1-80)');
    if (user === 'root' || user === appUser || drAccounts.some((d) => d.user === user))
      throw new Error(`region.replicationAccount.user: "${user}" is already another account's; choose another name`);
    replicationAccount = { user, passwordFile: str(a, 'passwordFile', 'region.replicationAccount.') };
  }
  return {
    name,
    // server_id is 32-bit; the GTID domain too, but the per-member local domains are derived from it.
    serverId: positiveInt(raw, 'serverId', 'region.', 4_294_967_295),
    gtidDomainId: positiveInt(raw, 'gtidDomainId', 'region.', 1_000_000),
    initialRole,
    replicationAccount,
  };
}

/** Base name of the binlog files in the data dir (<dataDir>/mariadb-bin.000001 …); the archiver reads them there. */
export const BINLOG_BASENAME = 'mariadb-bin';

/**
 * Binary logging for point-in-time recovery. Every member logs every transaction (log_slave_updates: the
 * ones Galera applied too) with the same GTID on every member (wsrep_gtid_mode, one wsrep domain and one
 * server_id for the cluster), so any member's archived stream can replay the cluster's history.
 */
export function binlogMysqld(cfg: AgentConfig): string[] {
  if (!cfg.binlog) return [];
  const lines = [
    `log_bin=${cfg.dataDir}/${BINLOG_BASENAME}`,
    `log_bin_index=${cfg.dataDir}/${BINLOG_BASENAME}.index`,
    'log_slave_updates=ON',
    `server_id=${cfg.region?.serverId ?? 1}`,
    'binlog_checksum=CRC32',
    'binlog_expire_logs_seconds=604800',
  ];
  if (cfg.mode === 'galera') {
    const ordinal = ordinalOf(cfg.self) ?? 0;
    const domain = cfg.region?.gtidDomainId ?? 0;
    // Events a member logs outside Galera get a domain of their own per member, and per region.
    lines.push(
      'wsrep_gtid_mode=ON',
      `wsrep_gtid_domain_id=${domain}`,
      `gtid_domain_id=${100 + ordinal + 1000 * domain}`,
    );
  }
  return lines;
}

/**
 * A region's members start read-only, whatever their role, so a member that comes back never takes a write
 * before its agent has read the role (src/galera/region-role.ts). The replica's SQL thread is not bound by
 * read_only. A region's role (the region state database) never crosses to the other: the replica filters
 * it. Filtering, not sql_log_bin=0 at the source: Galera copies such a write to the other members, which log
 * it anyway, and members whose binlogs differ could not feed a replica interchangeably. Accounts do cross
 * (no replica filter stops CREATE/ALTER USER), so both regions run from one copy of the db Secret. A dead
 * primary is noticed in slave_net_timeout; the replica retries every MASTER_CONNECT_RETRY seconds.
 */
export function regionMysqld(region: RegionConfig | undefined): string[] {
  if (!region) return [];
  return [
    'read_only=ON',
    `replicate_ignore_db=${REGION_STATE_DATABASE}`,
    `replicate_wild_ignore_table=${REGION_STATE_DATABASE}.%`,
    'slave_net_timeout=10',
  ];
}

/** The database that holds a region's role; never replicated to the other region. */
export const REGION_STATE_DATABASE = 'kstack_region';

export function selfMember(cfg: AgentConfig): MemberAddress {
  const me = cfg.members.find((m) => m.name === cfg.self);
  if (!me) throw new Error(`self: "${cfg.self}" is not one of the members`);
  return me;
}

export const socketPath = (cfg: AgentConfig): string => `${cfg.runDir}/mysqld.sock`;
export const myCnfPath = (cfg: AgentConfig): string => `${cfg.runDir}/my.cnf`;

/**
 * Failure detection: writes stall cluster-wide until a dead member is evicted, so the default 5 s suspect
 * timeout alone breaks a 5 s outage budget. 3 s still rides out a loaded machine's hiccups; a member that
 * merely stalls is declared inactive only after 10 s.
 */
const EVICTION_OPTIONS =
  'evs.keepalive_period=PT1S;evs.inactive_check_period=PT0.5S;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT10S';

/**
 * The my.cnf mariadbd runs with. Galera needs: the provider, the peer list, and its own listen/IST/SST
 * addresses (distinct ports per member make several members share one host in tests). SST scripts read
 * this file too (mariadbd passes --defaults-file on), so credentials for mariabackup SST live here,
 * in the run dir, never in a ConfigMap. ist.recv_bind names the IST port: without one Galera binds the Galera
 * port + 1 whatever ist.recv_addr says, and donors connect there (not the configured IST port).
 */
export function renderMyCnf(cfg: AgentConfig, opts: { sstPassword?: string; advertise?: string } = {}): string {
  const me = selfMember(cfg);
  // Where peers reach us: an IP chosen by the agent (advertisedHost), else the configured host.
  const host = opts.advertise ?? me.host;
  const lines = [
    '# generated by the kstack galera agent; edits are overwritten on start',
    '[mysqld]',
    `datadir=${cfg.dataDir}`,
    `socket=${socketPath(cfg)}`,
    `pid-file=${cfg.runDir}/mysqld.pid`,
    `tmpdir=${cfg.tmpDir}`,
    `port=${me.sqlPort}`,
    `bind-address=${cfg.bindAddress}`,
    'skip-name-resolve',
    'log-error=' + `${cfg.runDir}/mysqld.err`,
    'character-set-server=utf8mb4',
    'collation-server=utf8mb4_unicode_ci',
    'default-storage-engine=InnoDB',
    'innodb_autoinc_lock_mode=2',
    'innodb_flush_log_at_trx_commit=2',
    'binlog_format=ROW',
    ...tlsMysqld(cfg.tls),
  ];
  if (cfg.runAsUser) lines.push(`user=${cfg.runAsUser}`);
  if (cfg.mode === 'galera') {
    const peers = cfg.members.map((m) => `${m.host}:${m.galeraPort}`).join(',');
    lines.push(
      'wsrep_on=ON',
      'wsrep_provider=/usr/lib/galera/libgalera_smm.so',
      `wsrep_cluster_name=${cfg.clusterName}`,
      `wsrep_cluster_address=gcomm://${peers}`,
      `wsrep_node_name=${me.name}`,
      `wsrep_node_address=${hostPort(host, me.galeraPort)}`,
      `wsrep_node_incoming_address=${hostPort(host, me.sqlPort)}`,
      `wsrep_sst_receive_address=${hostPort(host, me.sstPort)}`,
      `wsrep_provider_options="gmcast.listen_addr=tcp://${cfg.bindAddress}:${me.galeraPort}` +
        `;ist.recv_addr=${hostPort(host, me.istPort)};ist.recv_bind=${hostPort(cfg.bindAddress, me.istPort)}` +
        `;gcache.size=128M;pc.recovery=FALSE;${EVICTION_OPTIONS}${galeraTlsOptions(cfg.tls)}"`,
      `wsrep_sst_method=${cfg.sstMethod}`,
      'wsrep_slave_threads=2',
    );
    if (cfg.sstMethod === 'mariabackup') lines.push(`wsrep_sst_auth=root:${opts.sstPassword ?? ''}`);
  }
  lines.push(...binlogMysqld(cfg));
  lines.push(...regionMysqld(cfg.region));
  lines.push(...cfg.extraMysqld);
  if (cfg.mode === 'galera') {
    const sst = cfg.sstMethod === 'mariabackup' ? ['transferfmt=socat', 'streamfmt=mbstream'] : [];
    sst.push(...sstTls(cfg.tls));
    if (sst.length > 0) lines.push('', '[sst]', ...sst);
  }
  return lines.join('\n') + '\n';
}

/**
 * Server TLS for client connections. require_secure_transport refuses every TCP client without TLS,
 * whatever its account says (the socket, local to the pod, stays allowed: the agent and SST use it).
 */
export function tlsMysqld(tls: TlsFiles | undefined): string[] {
  if (!tls) return [];
  return [`ssl_ca=${tls.ca}`, `ssl_cert=${tls.cert}`, `ssl_key=${tls.key}`, 'require_secure_transport=ON'];
}

/**
 * Galera's own TLS (replication and IST). Peers check each other's certificate against the CA, not the
 * name: they advertise IPs (the pod's or net1's), which no certificate of the chart names.
 */
export function galeraTlsOptions(tls: TlsFiles | undefined): string {
  if (!tls) return '';
  return `;socket.ssl=YES;socket.ssl_ca=${tls.ca};socket.ssl_cert=${tls.cert};socket.ssl_key=${tls.key}`;
}

/**
 * SST over socat with OpenSSL: the joiner listens with the certificate, the donor connects and verifies the
 * chain against the CA (VERIFY_CA, for the same reason as Galera: peers are reached by IP). The scripts
 * refuse to send a snapshot in plain text once ssl-mode is set.
 */
export function sstTls(tls: TlsFiles | undefined): string[] {
  if (!tls) return [];
  return ['ssl-mode=VERIFY_CA', `ssl-ca=${tls.ca}`, `ssl-cert=${tls.cert}`, `ssl-key=${tls.key}`];
}

/** A SQL string literal. */
export const sqlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const q = sqlString;

/**
 * mariadb-install-db leaves password-less accounts behind (root@<hostname>, root@::1, anonymous ones):
 * DROP USER statements for every account that is not root@localhost, root@127.0.0.1, the app's or a DR
 * Job's (`keepUsers`, at '%').
 */
export function dropExtraUsersSql(
  accounts: readonly { User: string; Host: string }[],
  appUser?: string,
  keepUsers: readonly string[] = [],
): string[] {
  const keep = (a: { User: string; Host: string }): boolean =>
    (a.User === 'root' && (a.Host === 'localhost' || a.Host === '127.0.0.1')) ||
    a.User === 'mariadb.sys' ||
    (a.Host === '%' && ((appUser !== undefined && a.User === appUser) || keepUsers.includes(a.User)));
  return accounts.filter((a) => !keep(a)).map((a) => `DROP USER IF EXISTS ${q(a.User)}@${q(a.Host)}`);
}

/**
 * Privileges of the backup account: what `mariadb-dump --single-transaction --master-data=2 --gtid --routines
 * --triggers --events` and the backup's own snapshot session need. SELECT on *.* (tables, and mysql.proc for
 * routines), SHOW VIEW, TRIGGER, EVENT; LOCK TABLES; RELOAD for FLUSH TABLES WITH READ LOCK; REPLICATION
 * CLIENT (BINLOG MONITOR since 10.5) for SHOW MASTER STATUS. Nothing that writes.
 */
export const BACKUP_PRIVILEGES = 'SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES, RELOAD, REPLICATION CLIENT';

/**
 * The DR Jobs' accounts at '%' (they log in over TCP from their own pods), password from the Secret;
 * idempotent (CREATE … IF NOT EXISTS, then ALTER USER so a changed Secret takes effect, then GRANT).
 *
 * The restore account gets ALL PRIVILEGES ON *.* (without GRANT OPTION), deliberately: a restore drops and
 * re-creates the backed-up databases, creates views, triggers, routines and events with the DEFINER of the
 * original (SET USER), and point-in-time recovery replays binlog row events (BINLOG REPLAY) with their
 * session GTID and server ids — a set that is, in effect, everything but granting, and that differs between
 * server versions. It is a separate account with its own Secret key, mounted only into the restore Job, so
 * the scheduled backup and verify Jobs never hold a password that can write.
 */
export function drAccountsSql(
  accounts: readonly { role: DrAccount['role']; user: string; password: string }[],
  requireSsl = false,
): string[] {
  return accounts.flatMap((a) => [
    `CREATE USER IF NOT EXISTS ${q(a.user)}@'%' IDENTIFIED BY ${q(a.password)}`,
    `ALTER USER ${q(a.user)}@'%' IDENTIFIED BY ${q(a.password)} ${requireClause(requireSsl)}`,
    `GRANT ${a.role === 'backup' ? BACKUP_PRIVILEGES : 'ALL PRIVILEGES'} ON *.* TO ${q(a.user)}@'%'`,
  ]);
}

/**
 * The other region's replica account: REPLICATION SLAVE to read the binlog stream, SELECT on the region
 * state (the peer reads which region is primary), nothing else. Idempotent like the DR accounts'.
 */
export function replicationAccountSql(account: { user: string; password: string }, requireSsl: boolean): string[] {
  const who = `${q(account.user)}@'%'`;
  return [
    `CREATE USER IF NOT EXISTS ${who} IDENTIFIED BY ${q(account.password)}`,
    `ALTER USER ${who} IDENTIFIED BY ${q(account.password)} ${requireClause(requireSsl)}`,
    `GRANT REPLICATION SLAVE ON *.* TO ${who}`,
    `GRANT SELECT ON \`${REGION_STATE_DATABASE}\`.* TO ${who}`,
  ];
}

const requireClause = (requireSsl: boolean): string => (requireSsl ? 'REQUIRE SSL' : 'REQUIRE NONE');

/**
 * The application account's transport requirement, set on every start of a Synced member: REQUIRE SSL with
 * TLS on, REQUIRE NONE when it is turned off (else the app could no longer log in). A no-op when the account
 * does not exist yet (a new cluster creates it with the clause).
 */
export function appAccountTlsSql(appUser: string | undefined, requireSsl: boolean): string[] {
  return appUser ? [`ALTER USER IF EXISTS ${q(appUser)}@'%' ${requireClause(requireSsl)}`] : [];
}

/**
 * SQL that sets the root password and creates the application account and the DR Jobs' accounts;
 * idempotent, run once on a new cluster.
 */
export function initialSql(
  rootPassword: string,
  app?: { user: string; password: string; database: string },
  drAccounts: readonly { role: DrAccount['role']; user: string; password: string }[] = [],
  requireSsl = false,
): string[] {
  const sql = [
    `ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password ` +
      `USING PASSWORD(${q(rootPassword)}) OR unix_socket`,
    `CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ${q(rootPassword)}`,
    `ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY ${q(rootPassword)}`,
    `GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION`,
  ];
  if (app) {
    sql.push(
      `CREATE DATABASE IF NOT EXISTS \`${app.database}\``,
      `CREATE USER IF NOT EXISTS ${q(app.user)}@'%' IDENTIFIED BY ${q(app.password)} ${requireClause(requireSsl)}`,
      `GRANT ALL PRIVILEGES ON \`${app.database}\`.* TO ${q(app.user)}@'%'`,
    );
  }
  sql.push(...drAccountsSql(drAccounts, requireSsl));
  return sql;
}
