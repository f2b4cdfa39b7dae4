// `kstack region …` on a running pair of regions (docs/multi-region.md): connects a region's replica to the
// other's entry point, reports each region's role and lag, and switches the roles over without losing a
// write. The decisions live in pair.ts and replication.ts; this is the I/O that applies them to the two
// clusters, through kubectl only (region-up.ts brings the clusters and stacks up).
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { rootClientLine } from '../chart/db-member.js';
import { controlPlaneStatus } from '../cluster/status.js';
import { Kube, componentSelector, releaseValues, secretCopy, type List } from '../kube/kube.js';
import { ensureKubectlAndHelm } from '../setup/kubectl-layer.js';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { linkRegionNetworks } from './link.js';
import { globalDnsDir, readDnsStatus, type DnsStatus } from './global-name.js';
import type { RegionRole } from '../galera/config.js';
import { afterFailover, pairFile, regionIdentity, requirePair, writePair, type RegionPair } from './pair.js';
import {
  binlogPosition,
  formatGtidList,
  parseDumpGtid,
  promote,
  replicaPosition,
  replicaStatus,
  SWITCHOVER_MAX_LAG_SECONDS,
  switchoverRefusal,
  scalarText,
  setRegionPeer,
  setRegionRole,
  startReplica,
  transactionsBehind,
  writeDomain,
  type ReplicaStatus,
  type SqlSession,
} from './replication.js';

const DB_CONTAINER = 'mariadb';
/** The CA both regions' certificates come from (the standby's copy of the primary's). */
const MEMBER_CA_FILE = '/etc/webstack-db/tls/ca.crt';
const REPLICATION_USER = 'kstack_repl';

/** Reads `mariadb -B` output: a header line, then one tab-separated line per row; NULL is NULL. */
export function parseBatchOutput(text: string): Record<string, unknown>[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const header = lines[0]?.split('\t') ?? [];
  return lines.slice(1).map((line) => {
    const cells = line.split('\t');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] === 'NULL' ? null : (cells[i] ?? null)]));
  });
}

/** SQL as root on one member, over its socket; statements go on stdin, so no password shows in a process list. */
export function memberSession(kube: Kube, pod: string): SqlSession {
  return {
    async query(sql: string) {
      const res = await kube.kubectl(
        ['exec', '-i', pod, '-c', DB_CONTAINER, '--', 'sh', '-c', rootClientLine('mariadb', '-B')],
        { input: `${sql};\n`, allowFailure: true, timeoutMs: 60_000 },
      );
      if (res.code !== 0) {
        const message = (res.stderr || res.stdout).trim().split('\n').slice(-2).join(' ');
        const errno = /ERROR (\d+)/.exec(message)?.[1];
        throw Object.assign(new Error(`SQL on ${pod} failed: ${message}`), errno ? { errno: Number(errno) } : {});
      }
      return parseBatchOutput(res.stdout);
    },
  };
}

const apiServerHealthy = (status: Awaited<ReturnType<typeof controlPlaneStatus>>): boolean =>
  status.components.some((c) => c.name === 'kube-apiserver' && c.healthy);

/** kubectl/helm against one region's local cluster; a clear error when it is not running. */
export async function regionKube(region: string, namespace: string, progress: Progress): Promise<Kube> {
  const { kubectl, helm } = await ensureKubectlAndHelm(progress);
  const status = await controlPlaneStatus({ name: region });
  if (!status.exists || !status.kubeconfig || !apiServerHealthy(status))
    throw new UserError(
      `region '${region}': its cluster is not running; start it with 'kstack cluster up --name ${region}'`,
    );
  return new Kube({
    kubectl,
    helm,
    kubeArgs: ['--kubeconfig', status.kubeconfig],
    helmArgs: ['--kubeconfig', status.kubeconfig],
    namespace,
  });
}

/** The release's db members that are Ready, by name. */
export async function readyMembers(kube: Kube, release: string): Promise<string[]> {
  const pods = await kube.json<List<V1Pod>>(['get', 'pods', '-l', componentSelector(release, 'db')]);
  return pods.items
    .filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => p.metadata?.name ?? '')
    .filter(Boolean)
    .sort();
}

async function firstMember(kube: Kube, release: string, region: string): Promise<string> {
  const members = await readyMembers(kube, release);
  const first = members[0];
  if (!first) throw new UserError(`region '${region}': no db member of release '${release}' is Ready`);
  return first;
}

/** The region's replication entry point: the address its load balancer gave the replication Service. */
async function replicationEntry(kube: Kube, release: string, region: string): Promise<{ host: string; port: number }> {
  const services = await kube.json<List<V1Service>>(['get', 'services', '-l', componentSelector(release, 'db')]);
  const svc = services.items.find((s) => s.metadata?.name?.endsWith('-replication'));
  const host = svc?.status?.loadBalancer?.ingress?.[0]?.ip;
  const port = svc?.spec?.ports?.find((p) => p.name === 'mysql')?.port;
  if (!svc || !host || !port)
    throw new UserError(
      `region '${region}': the db replication Service has no load-balancer address yet; ` +
        `see 'kubectl -n ${kube.namespace} get services'`,
    );
  return { host, port };
}

/** The replication account's password, from the region's own db Secret. */
async function replicationPassword(kube: Kube, release: string, region: string): Promise<string> {
  const secrets = await kube.json<List<V1Secret>>(['get', 'secrets', '-l', componentSelector(release, 'db')]);
  const value = secrets.items
    .map((s) => s.data?.['mariadb-replication-password'])
    .find((v): v is string => typeof v === 'string');
  if (!value) throw new UserError(`region '${region}': the db Secret has no mariadb-replication-password`);
  return Buffer.from(value, 'base64').toString('utf8');
}

/**
 * The standby is made from the primary's secrets, copied before the standby's release exists and marked as
 * the release's, so the chart adopts them (its lookups keep what they find):
 * - the CA (`<db>-tls-ca`): the standby's certificate is issued from it, so each region trusts the other's;
 * - the db Secret (passwords): account statements replicate like any write, so both regions must hold the
 *   same passwords, and the app and the Jobs keep working after a failover. With db.auth.existingSecret,
 *   give both regions the same Secret yourself.
 */
export async function copyRegionSecrets(from: Kube, to: Kube, release: string): Promise<void> {
  const secrets = await from.json<List<V1Secret>>(['get', 'secrets', '-l', componentSelector(release, 'db')]);
  const ca = secrets.items.find((s) => s.metadata?.name?.endsWith('-tls-ca'));
  if (!ca?.data?.['ca.crt'] || !ca.data['ca.key'])
    throw new UserError("the primary region's db has no CA Secret (<db>-tls-ca); is db.tls.enabled on?");
  const passwords = secrets.items.find((s) => s.data?.['mariadb-replication-password'] !== undefined);
  for (const secret of [ca, ...(passwords ? [passwords] : [])])
    await to.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify(secretCopy(secret, to.namespace, { release })),
      clusterScope: true,
    });
}

/** Polls until `check` says yes; throws `what` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new UserError(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(500);
  }
}

/** Sets a role on every Ready member at once (each also records it; Galera would copy it within pollMs). */
export async function roleEverywhere(
  kube: Kube,
  release: string,
  region: string,
  role: RegionRole,
  epoch: number,
  reason: string,
): Promise<void> {
  const members = await readyMembers(kube, release);
  if (members.length === 0) throw new UserError(`region '${region}': no db member is Ready`);
  // All at once: each member's kubectl exec is a round trip, and writes are paused while this runs.
  await Promise.all(members.map((m) => setRegionRole(memberSession(kube, m), { role, epoch, reason })));
}

/** The app database of the release (db.auth.database), which is what a standby is seeded with. */
async function appDatabase(kube: Kube, release: string): Promise<string> {
  const values = await releaseValues(kube, release);
  const db = values.db as { auth?: { database?: unknown } } | undefined;
  return typeof db?.auth?.database === 'string' ? db.auth.database : 'app';
}

/**
 * A new standby starts as a copy of the primary's app database: one consistent dump (single transaction,
 * with the GTID position of its snapshot) loaded into a standby member, which Galera copies to the others.
 * Returns the position the replica continues from. For a large database, restore a backup instead
 * (docs/multi-region.md).
 */
async function seedStandby(
  sourceKube: Kube,
  source: string,
  replicaKube: Kube,
  replica: string,
  release: string,
): Promise<string> {
  const database = await appDatabase(sourceKube, release);
  const from = await firstMember(sourceKube, release, source);
  const dump = await sourceKube.exec(from, DB_CONTAINER, [
    'sh',
    '-c',
    rootClientLine(
      'mariadb-dump',
      '--single-transaction --gtid --master-data=2 --routines --triggers --events --databases "$1"',
    ),
    'dump',
    database,
  ]);
  if (dump.code !== 0)
    throw new UserError(`seeding ${replica}: mariadb-dump on ${source}/${from} failed: ${dump.stderr.trim()}`);
  const position = parseDumpGtid(`${dump.stdout.slice(0, 8192)}\n${dump.stdout.slice(-8192)}`);
  if (position === undefined) throw new UserError(`seeding ${replica}: the dump from ${source} names no GTID position`);
  const to = await firstMember(replicaKube, release, replica);
  const load = await replicaKube.kubectl(
    ['exec', '-i', to, '-c', DB_CONTAINER, '--', 'sh', '-c', rootClientLine('mariadb')],
    { input: dump.stdout, allowFailure: true, timeoutMs: 600_000 },
  );
  if (load.code !== 0)
    throw new UserError(`seeding ${replica}: loading the dump into ${to} failed: ${load.stderr.trim()}`);
  return position;
}

/**
 * Makes `replica`'s region follow `source`: a replica already running is left as it is; one that is set up
 * but not running is pointed at the source again from the position it holds (a new address or password, a
 * source that was down); one never set up is seeded from the source first. It never seeds a region that
 * has a replica: that would replace the region's data.
 */
export async function ensureReplica(
  sourceKube: Kube,
  source: string,
  replicaKube: Kube,
  replica: string,
  release: string,
  progress: Progress,
): Promise<'running' | 'seeded'> {
  const session = memberSession(replicaKube, await firstMember(replicaKube, release, replica));
  const status = await replicaStatus(session);
  if (status.configured && status.ioRunning && status.sqlRunning) return 'running';
  if (status.configured) {
    await connectReplica(sourceKube, source, replicaKube, replica, release, undefined);
    return 'running';
  }
  const from = await progress.step(`seed ${replica} from ${source}`, () =>
    seedStandby(sourceKube, source, replicaKube, replica, release),
  );
  await connectReplica(sourceKube, source, replicaKube, replica, release, from);
  return 'seeded';
}

/**
 * Points one member of `replica`'s region at `source`'s entry point, from position `from` (every
 * transaction up to it is already there), and waits until it is connected and applying.
 */
export async function connectReplica(
  sourceKube: Kube,
  source: string,
  replicaKube: Kube,
  replica: string,
  release: string,
  from: string | undefined,
): Promise<void> {
  await linkRegionNetworks(source, replica);
  const entry = await replicationEntry(sourceKube, release, source);
  const password = await replicationPassword(sourceKube, release, source);
  const member = await firstMember(replicaKube, release, replica);
  const session = memberSession(replicaKube, member);
  // The replica reaches the source by its load-balancer address, which no certificate names: the chain is
  // checked against the shared CA, as Galera peers check each other.
  await startReplica(
    session,
    {
      host: entry.host,
      port: entry.port,
      user: REPLICATION_USER,
      password,
      caFile: MEMBER_CA_FILE,
      verifyServerName: false,
    },
    from,
  );
  let last: ReplicaStatus | undefined;
  try {
    await until(
      `the replica on ${replica}/${member} connecting to ${source} (${entry.host}:${entry.port})`,
      60_000,
      async () => {
        last = await replicaStatus(session);
        return last.ioRunning && last.sqlRunning;
      },
    );
  } catch (err) {
    throw new UserError(`${(err as Error).message}; last error: ${last?.lastError ?? 'none'}`);
  }
}

export interface RegionView {
  region: string;
  role: string;
  epoch: number;
  readOnly: boolean | undefined;
  replica: ReplicaStatus | undefined;
  /** Transactions of the other region's write domain this region lacks (a standby's lag, counted). */
  behind: number | undefined;
  entryPoint: string | undefined;
  error: string | undefined;
}

/** Each region's recorded role, whether its members refuse writes, and its replica's state and lag. */
export async function regionStatus(
  progress: Progress,
): Promise<{ pair: RegionPair; regions: RegionView[]; dns: DnsStatus | undefined }> {
  const pair = requirePair();
  const views: RegionView[] = [];
  let primaryPos: Awaited<ReturnType<typeof binlogPosition>> | undefined;
  let primaryDomain: number | undefined;
  for (const region of [pair.primary, pair.standby]) {
    const view: RegionView = {
      region,
      role: region === pair.primary ? 'primary' : 'standby',
      epoch: pair.epoch,
      readOnly: undefined,
      replica: undefined,
      behind: undefined,
      entryPoint: pair.entryPoints[region],
      error: undefined,
    };
    try {
      const kube = await regionKube(region, pair.namespace, progress);
      const session = memberSession(kube, await firstMember(kube, pair.release, region));
      const ro = await session.query('SELECT @@GLOBAL.read_only AS ro');
      view.readOnly = scalarText(ro[0]?.ro) === '1';
      const rs = await replicaStatus(session);
      view.replica = rs.configured ? rs : undefined;
      if (region === pair.primary) {
        primaryPos = await binlogPosition(session);
        primaryDomain = await writeDomain(session);
      } else if (primaryPos && primaryDomain !== undefined) {
        view.behind = transactionsBehind(primaryPos, await replicaPosition(session), [primaryDomain]);
      }
    } catch (err) {
      view.error = (err as Error).message;
    }
    if (pair.fenced.includes(region)) view.role = 'fenced';
    views.push(view);
  }
  return { pair, regions: views, dns: readDnsStatus(globalDnsDir(pairFile())) };
}

export interface FailoverResult {
  pair: RegionPair;
  /** Transactions the new primary had to catch up on after writes stopped. */
  caughtUp: number;
  /** From writes stopped on the old primary to writes taken by the new one. */
  writesStoppedMs: number;
  /** From writes stopped to the global name answering the new primary. */
  dnsMs: number;
}

/**
 * The last steps of either failover: the standby is promoted at the pair's next epoch (its replica removed,
 * every member primary), the pair is recorded after the failover (the old primary fenced if asked), and the
 * global name must answer the new primary. Times run from `since`.
 */
async function promoteStandby(
  progress: Progress,
  pair: RegionPair,
  kube: Kube,
  session: SqlSession,
  o: { reason: string; fenceOld: boolean; since: number },
): Promise<{ next: RegionPair; promotedMs: number; dnsMs: number }> {
  const epoch = pair.epoch + 1;
  await progress.step(`promote ${pair.standby} (epoch ${epoch})`, async () => {
    await promote(session, epoch, o.reason);
    await roleEverywhere(kube, pair.release, pair.standby, 'primary', epoch, o.reason);
  });
  const promotedMs = Date.now() - o.since;
  const next = afterFailover(pair, o.fenceOld);
  writePair(next);
  const newEntry = next.entryPoints[next.primary];
  const dnsMs = await progress.step(`the global name answers ${next.primary}`, async () => {
    await until(`the global name answering ${next.primary} (${newEntry ?? '?'})`, 30_000, () =>
      Promise.resolve(readDnsStatus(globalDnsDir(pairFile()))?.answer === newEntry),
    );
    return Date.now() - o.since;
  });
  return { next, promotedMs, dnsMs };
}

/**
 * Planned failover (a switchover): stop writes on the primary, wait until the standby has every transaction
 * of the primary's write domain (RPO 0), promote the standby, point the old primary's replica at the new
 * primary, and record the pair (the global name follows it).
 */
export async function plannedFailover(
  progress: Progress,
  opts: { timeoutMs: number; force?: boolean; maxLagSeconds?: number },
): Promise<FailoverResult> {
  const pair = requirePair();
  const oldKube = await regionKube(pair.primary, pair.namespace, progress);
  const newKube = await regionKube(pair.standby, pair.namespace, progress);
  const epoch = pair.epoch + 1;
  const standbyMember = await firstMember(newKube, pair.release, pair.standby);
  const standbySession = memberSession(newKube, standbyMember);
  const refusal = switchoverRefusal(await replicaStatus(standbySession), pair.standby, pair.primary, {
    maxLagSeconds: opts.maxLagSeconds ?? SWITCHOVER_MAX_LAG_SECONDS,
    force: opts.force === true,
  });
  if (refusal) throw new UserError(refusal);
  const stoppedAt = Date.now();
  await progress.step(`stop writes in ${pair.primary}`, () =>
    roleEverywhere(oldKube, pair.release, pair.primary, 'standby', epoch, `switchover to ${pair.standby}`),
  );
  const oldSession = memberSession(oldKube, await firstMember(oldKube, pair.release, pair.primary));
  const domain = await writeDomain(oldSession);
  const target = await binlogPosition(oldSession);
  const startBehind = transactionsBehind(target, await replicaPosition(standbySession), [domain]);
  try {
    await progress.step(`wait until ${pair.standby} has every transaction of ${pair.primary}`, (step) =>
      until(`${pair.standby} catching up with ${pair.primary}`, opts.timeoutMs, async () => {
        const behind = transactionsBehind(target, await replicaPosition(standbySession), [domain]);
        step.detail(`${behind} transaction(s) behind`);
        return behind === 0;
      }),
    );
  } catch (err) {
    // Nothing is half-done: the primary takes writes again at its own epoch, and the standby stays one.
    await progress.step(`give writes back to ${pair.primary}`, () =>
      roleEverywhere(oldKube, pair.release, pair.primary, 'primary', pair.epoch, 'switchover abandoned'),
    );
    throw new UserError(
      `switchover abandoned: ${pair.standby} did not catch up with ${pair.primary} in ` +
        `${Math.round(opts.timeoutMs / 1000)} s (${(err as Error).message}); ${pair.primary} takes writes ` +
        "again and nothing changed. See 'kstack region status', or give a longer --timeout",
    );
  }
  // Neither region takes writes now. The old primary will follow from the new primary's binlog position as it
  // stands here: it holds every transaction in it (the new primary's own history included, which it must not
  // replay), and asking for a position the new primary never logged (the old primary's own role records,
  // which the replica filtered) would be refused.
  const handover = formatGtidList(await binlogPosition(standbySession));
  const {
    next,
    promotedMs: writesStoppedMs,
    dnsMs,
  } = await promoteStandby(progress, pair, newKube, standbySession, {
    reason: `switchover from ${pair.primary}`,
    fenceOld: false,
    since: stoppedAt,
  });
  await progress.step(`${pair.primary} follows ${pair.standby}`, () =>
    connectReplica(newKube, pair.standby, oldKube, pair.primary, pair.release, handover),
  );
  return { pair: next, caughtUp: startBehind, writesStoppedMs, dnsMs };
}

/**
 * Each region records where the other's replication entry point is. A primary's agent asks that peer its
 * role before it opens writes, which is what fences an old primary that comes back after an unplanned
 * failover (src/galera/region-role.ts). Galera copies the row to the region's other members.
 */
export async function recordPeers(aKube: Kube, a: string, bKube: Kube, b: string, release: string): Promise<void> {
  const [aEntry, bEntry] = await Promise.all([
    replicationEntry(aKube, release, a),
    replicationEntry(bKube, release, b),
  ]);
  await setRegionPeer(memberSession(aKube, await firstMember(aKube, release, a)), { region: b, ...bEntry });
  await setRegionPeer(memberSession(bKube, await firstMember(bKube, release, b)), { region: a, ...aEntry });
}

/** Whether a region's API server answers (a local cluster: its control plane's own health check). */
async function regionAnswers(region: string): Promise<boolean> {
  const status = await controlPlaneStatus({ name: region }).catch(() => undefined);
  return status !== undefined && apiServerHealthy(status);
}

export interface UnplannedResult {
  pair: RegionPair;
  /** Transactions the standby had received from the lost primary and applied before it was promoted. */
  drained: number;
  /** From the command's start to the new primary taking writes. */
  promotedMs: number;
  /** From the command's start to the global name answering the new primary. */
  dnsMs: number;
  /** Whether the old primary was reachable and fenced now (only with --force); else its agents fence it. */
  fencedNow: boolean;
}

/**
 * Unplanned failover (the primary region is lost): the standby applies every transaction it had received,
 * is promoted at a new epoch, and the pair records the old primary as fenced, so the global name never
 * answers it again. Nothing is asked of the old primary: when it comes back, its agents ask the new primary
 * its role before opening writes, see the newer epoch and fence their region themselves. What the standby
 * had not received when the primary was lost is the RPO. Refuses while the primary still answers (a planned
 * failover loses nothing) and when the standby cannot apply what it received, unless forced.
 */
export async function unplannedFailover(
  progress: Progress,
  opts: { timeoutMs: number; force: boolean },
): Promise<UnplannedResult> {
  const pair = requirePair();
  const startedAt = Date.now();
  const primaryAnswers = await regionAnswers(pair.primary);
  if (primaryAnswers && !opts.force)
    throw new UserError(
      `region '${pair.primary}' still answers: use 'kstack region failover --planned' (no write is lost), ` +
        'or add --force to fail over anyway (it is fenced)',
    );
  const newKube = await regionKube(pair.standby, pair.namespace, progress);
  const session = memberSession(newKube, await firstMember(newKube, pair.release, pair.standby));
  const before = await replicaStatus(session);
  if (!before.configured)
    throw new UserError(
      `region '${pair.standby}' has no replica: it never followed ${pair.primary}, so it holds none of its ` +
        "writes; see 'kstack region status'",
    );
  const domain = regionIdentity(pair.primary).gtidDomainId;
  const appliedBefore = await replicaPosition(session);
  await progress.step(`${pair.standby} applies what it received from ${pair.primary}`, async (step) => {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const rs = await replicaStatus(session);
      const pending = transactionsBehind(rs.retrieved, await replicaPosition(session), [domain]);
      step.detail(`${pending} transaction(s) to apply`);
      if (pending === 0) return;
      if (!rs.sqlRunning || Date.now() > deadline) {
        if (opts.force) return;
        throw new UserError(
          `region '${pair.standby}' cannot apply ${pending} transaction(s) it received from ${pair.primary}` +
            `${rs.sqlRunning ? ` within ${Math.round(opts.timeoutMs / 1000)} s` : ''} ` +
            `(${rs.lastError ?? 'no error reported'}); promoting it would lose them: fix the replica, ` +
            'or add --force to promote it as it is',
        );
      }
      await sleep(250);
    }
  });
  const drained = transactionsBehind(await replicaPosition(session), appliedBefore, [domain]);
  const reason = `unplanned failover from ${pair.primary}`;
  const { next, promotedMs, dnsMs } = await promoteStandby(progress, pair, newKube, session, {
    reason,
    fenceOld: true,
    since: startedAt,
  });
  let fencedNow = false;
  if (primaryAnswers) {
    // Forced while the old primary still runs: fence it now rather than waiting for its agents' next ask.
    const oldKube = await regionKube(pair.primary, pair.namespace, progress);
    await progress.step(`fence ${pair.primary}`, () =>
      roleEverywhere(oldKube, pair.release, pair.primary, 'fenced', pair.epoch, `fenced: ${reason} to ${pair.standby}`),
    );
    fencedNow = true;
  }
  return { pair: next, drained, promotedMs, dnsMs, fencedNow };
}

export interface FailbackResult {
  pair: RegionPair;
  /** The GTID position the re-seeded region continues from. */
  seededFrom: string;
  ms: number;
}

/**
 * After an unplanned failover, makes the fenced old primary the standby of the new one: it is set to
 * standby, its app database is replaced by one consistent dump of the new primary's (what it took and the
 * new primary never received is dropped: the other region's history is the one kept), and its replica
 * follows the new primary from the dump's position. Then `kstack region failover --planned` can give it
 * the primary role back without losing a write.
 */
export async function failback(progress: Progress, opts: { timeoutMs: number }): Promise<FailbackResult> {
  const pair = requirePair();
  const old = pair.standby;
  if (!pair.fenced.includes(old))
    throw new UserError(
      `region '${old}' is not fenced: it already follows ${pair.primary} ('kstack region status'); ` +
        `to make it the primary again, run 'kstack region failover --planned'`,
    );
  const startedAt = Date.now();
  const newKube = await regionKube(pair.primary, pair.namespace, progress);
  const oldKube = await regionKube(old, pair.namespace, progress);
  await progress.step(`${old} becomes a standby`, () =>
    roleEverywhere(oldKube, pair.release, old, 'standby', pair.epoch, `failback: re-seeded from ${pair.primary}`),
  );
  const seededFrom = await progress.step(`re-seed ${old} from ${pair.primary}`, () =>
    seedStandby(newKube, pair.primary, oldKube, old, pair.release),
  );
  await progress.step(`${old} follows ${pair.primary}`, async () => {
    await connectReplica(newKube, pair.primary, oldKube, old, pair.release, seededFrom);
    await recordPeers(newKube, pair.primary, oldKube, old, pair.release);
  });
  await progress.step(`${old} catches up with ${pair.primary}`, async (step) => {
    const newSession = memberSession(newKube, await firstMember(newKube, pair.release, pair.primary));
    const oldSession = memberSession(oldKube, await firstMember(oldKube, pair.release, old));
    const domain = await writeDomain(newSession);
    await until(`${old} catching up with ${pair.primary}`, opts.timeoutMs, async () => {
      const behind = transactionsBehind(await binlogPosition(newSession), await replicaPosition(oldSession), [domain]);
      step.detail(`${behind} transaction(s) behind`);
      return behind === 0;
    });
  });
  const next: RegionPair = { ...pair, fenced: pair.fenced.filter((r) => r !== old) };
  writePair(next);
  return { pair: next, seededFrom, ms: Date.now() - startedAt };
}

/**
 * Which of `ids` each Ready db member of a region holds in the page's visit log: the drill's check that
 * no acknowledged visit was lost, member by member (Galera copies within a region, replication across).
 */
export async function visitsOnMembers(
  kube: Kube,
  release: string,
  region: string,
  ids: readonly string[],
): Promise<Map<string, Set<string>>> {
  const database = await appDatabase(kube, release);
  const members = await readyMembers(kube, release);
  if (members.length === 0) throw new UserError(`region '${region}': no db member is Ready`);
  const found = new Map<string, Set<string>>();
  for (const member of members) {
    const have = new Set<string>();
    const session = memberSession(kube, member);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500).filter((id) => /^[A-Za-z0-9]+$/.test(id));
      if (chunk.length === 0) continue;
      const rows = await session.query(
        `SELECT id FROM \`${database}\`.webinfo_visit_log WHERE id IN (${chunk.map((id) => `'${id}'`).join(',')})`,
      );
      for (const r of rows) have.add(scalarText(r.id));
    }
    found.set(member, have);
  }
  return found;
}
