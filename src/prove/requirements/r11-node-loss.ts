// R11: the stack survives the loss of a node. Page requests through the load-balanced entry point and
// acknowledged writes through the db Service run while a db node, then the web node that answers most
// page requests, is frozen (every process stopped, as a hung machine) for FREEZE_SECONDS and started
// again. Judged strictly: no acknowledged write lost, every member back; and against the objectives: the
// longest write outage, the share of failed page requests, the time until the node's pods are back.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { List } from '../../kube/kube.js';
import { componentService, loadBalancerUrl } from '../../stack/endpoints.js';
import { startPageLoad, summarizePageLoad, type PageLoadSummary } from '../page-load.js';
import { judgeWrites, startWriter, type WriteJudgement } from '../writer.js';
import { dbSql, isPodReady, podName, podsOf, wsrepStatus } from './stack.js';
import { fail, skipped, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

/** How long a node stays frozen. */
export const FREEZE_SECONDS = 60;
/** What R11 judges the measurements against (issue "Lose any one node and keep serving"). */
export const NODE_LOSS_OBJECTIVES = { writeOutageSeconds: 10, failedPagePercent: 1, recoverySeconds: 60 } as const;
const PAGE_RATE = 20;
const WRITE_INTERVAL_MS = 200;
const TIMEOUT_MS = 2000;
/** Longest wait for a node's pods to come back before the row gives up (a member that never returns). */
const RECOVERY_LIMIT_MS = 5 * 60_000;

export type NodeLossObjectives = { [K in keyof typeof NODE_LOSS_OBJECTIVES]: number };

export interface PodPlace {
  pod: string;
  node: string;
}

/**
 * Pure: whether the placement can lose any one node: Galera members on distinct nodes (a node holding
 * two of three takes the majority with it) and web replicas on at least two nodes.
 */
export function judgePlacementForNodeLoss(db: readonly PodPlace[], web: readonly PodPlace[]): string[] {
  const problems: string[] = [];
  const byNode = new Map<string, string[]>();
  for (const m of db) byNode.set(m.node, [...(byNode.get(m.node) ?? []), m.pod]);
  for (const [node, pods] of byNode)
    if (pods.length > 1 && pods.length * 2 >= db.length)
      problems.push(
        `db members ${pods.join(', ')} share node ${node}: losing it ` +
          `takes ${pods.length} of ${db.length} members, and the rest have no majority`,
      );
  const webNodes = new Set(web.map((w) => w.node));
  if (webNodes.size < 2)
    problems.push(`every web replica runs on ${[...webNodes].join(', ') || 'no node'}: losing it takes the page down`);
  return problems;
}

export interface PhaseResult {
  role: 'db' | 'web';
  node: string;
  /** How the node was stopped (R11: freeze). */
  mode?: NodeLossFault['mode'];
  page: PageLoadSummary;
  writes: WriteJudgement;
  /** The most acknowledged writes any member lacks afterwards. */
  lost: number;
  /** From starting the node until its pods were Ready (and every member Synced); undefined: never. */
  recoverySeconds?: number;
}

/** Pure: the problems of one phase: strict outcomes first, then the objectives. */
export function judgePhase(p: PhaseResult, o: NodeLossObjectives): string[] {
  const how = { freeze: 'frozen', kill: 'killed', drain: 'drained', none: 'left running' }[p.mode ?? 'freeze'];
  const what = `with ${p.role} node ${p.node} ${how}`;
  const problems: string[] = [];
  if (p.lost > 0) problems.push(`${what}: ${p.lost} acknowledged write${p.lost === 1 ? '' : 's'} lost`);
  if (p.writes.acknowledged === 0) problems.push(`${what}: no write was acknowledged, the drill proves nothing`);
  if (p.page.attempted - p.page.failed === 0) problems.push(`${what}: no page request succeeded`);
  if (p.recoverySeconds === undefined)
    problems.push(`${what}: its pods were not back within ${RECOVERY_LIMIT_MS / 60_000} min of starting it`);
  else if (p.recoverySeconds > o.recoverySeconds)
    problems.push(
      `${what}: its pods were back ${p.recoverySeconds.toFixed(1)} ` +
        `s after it returned, objective ${o.recoverySeconds} s`,
    );
  const outage = p.writes.longestOutageMs / 1000;
  if (outage > o.writeOutageSeconds)
    problems.push(`${what}: writes stopped for ${outage.toFixed(1)} s, objective ${o.writeOutageSeconds} s`);
  if (p.page.failedPercent > o.failedPagePercent)
    problems.push(
      `${what}: ${p.page.failed} of ${p.page.attempted} page requests failed (${p.page.failedPercent}%` +
        `${p.page.commonError ? `, mostly ${p.page.commonError}` : ''}), objective ${o.failedPagePercent}%`,
    );
  return problems;
}

const place = (p: V1Pod): PodPlace => ({ pod: podName(p), node: p.spec?.nodeName ?? '' });

/** Until every release pod on `node` is Ready and (db) every member Synced at full size; ms, or undefined. */
async function waitForNodePods(ctx: ProveContext, node: string, since: number): Promise<number | undefined> {
  const replicas = ctx.intent.db.replicas;
  while (Date.now() - since < RECOVERY_LIMIT_MS) {
    const pods = (
      await ctx.kube.json<List<V1Pod>>(['get', 'pods', '-l', `app.kubernetes.io/instance=${ctx.release}`])
    ).items.filter(
      // The node's pods, and (after a drain) the replacements still waiting for a node.
      (p) => (p.spec?.nodeName === node || !p.spec?.nodeName) && p.status?.phase !== 'Succeeded',
    );
    const db = await podsOf(ctx.kube, ctx.release, 'db');
    let synced = db.length === replicas && db.every(isPodReady);
    if (synced) {
      const states = await Promise.all(
        db.map((p) => wsrepStatus(ctx.kube, podName(p)).catch((): Record<string, string> => ({}))),
      );
      synced = states.every(
        (w) => w.wsrep_local_state_comment === 'Synced' && w.wsrep_cluster_size === String(replicas),
      );
    }
    if (pods.every(isPodReady) && synced) return Date.now() - since;
    ctx.note(`waiting for ${node}'s pods (${Math.round((Date.now() - since) / 1000)} s)`);
    await sleep(1000);
  }
  return undefined;
}

/** How a phase fails its node: frozen or killed for `downSeconds`, or not at all (a bench's baseline). */
export interface NodeLossFault {
  mode: 'freeze' | 'kill' | 'drain' | 'none';
  downSeconds: number;
}

export const R11_FAULT: NodeLossFault = { mode: 'freeze', downSeconds: FREEZE_SECONDS };

/**
 * The drill of one phase, under load: the writer, the node stopped and started, the pods back, the writes read back.
 */
async function stopUnderWrites(
  ctx: ProveContext,
  ev: Evidence,
  role: 'db' | 'web',
  node: string,
  table: string,
  fault: NodeLossFault,
): Promise<{ writes: WriteJudgement; lost: number; recoveryMs?: number }> {
  const nodes = ctx.nodes;
  if (!nodes) throw new Error('no node control');
  const qualified = `\`${ctx.intent.db.appDatabase}\`.${table}`;
  const writerPod = (await podsOf(ctx.kube, ctx.release, 'web')).find(
    (p) => isPodReady(p) && p.spec?.nodeName !== node,
  );
  if (!writerPod) throw new Error(`no Ready web pod outside ${node} to write from`);
  const writer = await startWriter(
    ctx.kube,
    podName(writerPod),
    { table, intervalMs: WRITE_INTERVAL_MS, timeoutMs: TIMEOUT_MS },
    ev,
  );
  const verb = { freeze: 'freezing', kill: 'killing', drain: 'draining', none: 'not stopping' }[fault.mode];
  ev.add(`  ${role} phase: writes from ${podName(writerPod)} every 0.2 s, page at ${PAGE_RATE}/s; ${verb} ${node}`);
  let stopped = false;
  let recoveryMs: number | undefined;
  try {
    await sleep(3000);
    ctx.note(`${node}: ${fault.mode} for ${fault.downSeconds} s`);
    if (fault.mode !== 'none') {
      // Set first: a stop that fails half-way (a drain that evicted some pods) is still undone below.
      stopped = true;
      await nodes.stop(node, fault.mode);
    }
    await sleep(fault.downSeconds * 1000);
    const startedAt = Date.now();
    if (fault.mode !== 'none') await nodes.start(node);
    stopped = false;
    recoveryMs = await waitForNodePods(ctx, node, startedAt);
    await sleep(3000);
  } catch (err) {
    // The writer is a child process: a drill that fails must not leave it running (nor prove waiting on it).
    await writer.stop().catch(() => undefined);
    throw err;
  } finally {
    // A drill restores what it broke, whatever happened in between.
    if (stopped) await nodes.start(node).catch(() => undefined);
  }
  const log = await writer.stop();
  let lost = 0;
  let writes = judgeWrites(log.attempts, new Set());
  const members = (await podsOf(ctx.kube, ctx.release, 'db')).filter(isPodReady);
  for (const [i, m] of members.entries()) {
    const rows = new Set(
      (await dbSql(ctx.kube, podName(m), `SELECT seq FROM ${qualified}`, ev)).map(([seq]) => Number(seq)),
    );
    const j = judgeWrites(log.attempts, rows);
    if (i === 0) writes = j;
    lost = Math.max(lost, j.lost.length);
  }
  return { writes, lost, ...(recoveryMs !== undefined ? { recoveryMs } : {}) };
}

/**
 * One phase: page load throughout, the node picked from the first seconds of it, the drill, the
 * judgement's facts. Exported for bench:failover, which runs it frozen, killed and without a fault.
 */
export async function nodeLossPhase(
  ctx: ProveContext,
  ev: Evidence,
  role: 'db' | 'web',
  pageUrl: string,
  pickNode: (byHost: Record<string, number>) => Promise<string>,
  fault: NodeLossFault = R11_FAULT,
): Promise<PhaseResult> {
  const load = startPageLoad(pageUrl, { ratePerSecond: PAGE_RATE, timeoutMs: TIMEOUT_MS });
  const table = `kstack_prove_r11_${randomBytes(4).toString('hex')}`;
  let node: string;
  let drill: Awaited<ReturnType<typeof stopUnderWrites>>;
  let page: PageLoadSummary;
  try {
    await sleep(3000);
    node = await pickNode(summarizePageLoad(load.peek()).byHost);
    drill = await stopUnderWrites(ctx, ev, role, node, table, fault);
  } finally {
    page = summarizePageLoad(await load.stop());
    const any = (await podsOf(ctx.kube, ctx.release, 'db').catch(() => [])).find(isPodReady);
    if (any)
      await dbSql(ctx.kube, podName(any), `DROP TABLE IF EXISTS \`${ctx.intent.db.appDatabase}\`.${table}`).catch(
        () => undefined,
      );
  }
  const { writes, lost, recoveryMs } = drill;
  const result: PhaseResult = {
    role,
    node,
    mode: fault.mode,
    page,
    writes,
    lost,
    ...(recoveryMs !== undefined ? { recoverySeconds: Number((recoveryMs / 1000).toFixed(1)) } : {}),
  };
  const servedBy = Object.entries(page.byHost)
    .map(([h, n]) => `${h} ${n}`)
    .join(', ');
  ev.add(
    `  ${role} node ${node}: page ${page.attempted - page.failed}/${page.attempted} ` +
      `ok (${page.failedPercent}% failed; served by ${servedBy}); ` +
      `writes ${writes.acknowledged}/${writes.attempted} acknowledged, ${lost} ` +
      `lost, longest outage ${(writes.longestOutageMs / 1000).toFixed(1)} s; ` +
      `pods back ${result.recoverySeconds ?? 'never'} s after the node returned`,
  );
  return result;
}

/** The node of db member 0 (every member takes writes through the Service; any one stands for all). */
export async function dbNodeOfMember0(ctx: ProveContext): Promise<string> {
  const db = await podsOf(ctx.kube, ctx.release, 'db');
  return (db.find((p) => /-0$/.test(podName(p))) ?? db[0])?.spec?.nodeName ?? '';
}

/** The web node whose replicas answered most page requests so far. */
export async function busiestWebNode(ctx: ProveContext, byHost: Record<string, number>): Promise<string> {
  const perNode = new Map<string, number>();
  for (const p of await podsOf(ctx.kube, ctx.release, 'web')) {
    const node = p.spec?.nodeName ?? '';
    perNode.set(node, (perNode.get(node) ?? 0) + (byHost[`Host-${podName(p).slice(-5)}`] ?? 0));
  }
  return [...perNode].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
}

function measurePhase(ev: Evidence, p: PhaseResult): void {
  ev.measure(`${p.role}.node`, p.node);
  ev.measure(`${p.role}.failedPagePercent`, p.page.failedPercent);
  ev.measure(`${p.role}.writeOutageSeconds`, Number((p.writes.longestOutageMs / 1000).toFixed(1)));
  ev.measure(`${p.role}.writesLost`, p.lost);
  ev.measure(`${p.role}.recoverySeconds`, p.recoverySeconds ?? 'never');
}

export const r11NodeLoss: Requirement = {
  id: 'R11',
  title: 'Survives the loss of a node',
  checks:
    `Galera members each on their own node and web replicas on two or more nodes; then ` +
    `two drills through the load-balanced page URL (the web Service's load-balancer ` +
    `address): page requests at ${PAGE_RATE}/s, each on a new connection with a ${TIMEOUT_MS / 1000} ` +
    `s timeout and no retry, and a write every ${WRITE_INTERVAL_MS / 1000} s ` +
    `through the db Service from a web pod on another node (as in R2), each counted once. ` +
    `First the node of db member 0, then the web node that answered most page requests, ` +
    `is frozen for ${FREEZE_SECONDS} s (every process of it stopped, as a hung machine; ` +
    `kstack cluster node stop) and started again; on a cluster kstack did not make ` +
    `(--context) it is cordoned and drained instead (evictions respect the PodDisruptionBudgets) ` +
    `and uncordoned ${FREEZE_SECONDS} s later. Strict: no acknowledged write missing ` +
    `on any member, the node's pods Ready and every member Synced within ${RECOVERY_LIMIT_MS / 60_000} ` +
    `min. Objectives: longest write outage ≤ ${NODE_LOSS_OBJECTIVES.writeOutageSeconds} ` +
    `s, failed page requests ≤ ${NODE_LOSS_OBJECTIVES.failedPagePercent}%, ` +
    `pods back ≤ ${NODE_LOSS_OBJECTIVES.recoverySeconds} s after the node returns.`,
  mutates: true,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    if (!ctx.intent.db.enabled || !ctx.intent.db.galera)
      return fail(
        'the release runs no Galera cluster (db.enabled false or db.mode standalone): a db node loss loses the db',
      );
    if (ctx.intent.db.replicas < 3)
      return fail(`db.replicaCount=${ctx.intent.db.replicas}: fewer than 3 members cannot lose one and keep quorum`);
    if (ctx.intent.web.replicas < 2 && !ctx.intent.web.autoscaled)
      return fail(`web.replicaCount=${ctx.intent.web.replicas}: one web replica cannot survive the loss of its node`);
    const db = await podsOf(ctx.kube, ctx.release, 'db', ev);
    const web = (await podsOf(ctx.kube, ctx.release, 'web', ev)).filter(isPodReady);
    for (const p of [...db, ...web]) ev.add(`  ${podName(p)} on ${p.spec?.nodeName ?? '(not scheduled)'}`);
    const placement = judgePlacementForNodeLoss(db.map(place), web.map(place));
    if (placement.length) return verdictOf(placement, '');
    if (!ctx.nodes) return skipped('no node control was given to this run (kstack prove always gives one)');
    const fault: NodeLossFault = { mode: ctx.nodes.fault, downSeconds: FREEZE_SECONDS };
    const services = (
      await ctx.kube.json<List<V1Service>>(['get', 'services', '-l', `app.kubernetes.io/instance=${ctx.release}`], {
        ev,
      })
    ).items;
    const entry = componentService(services, 'web');
    const pageUrl = entry ? loadBalancerUrl(entry.service, entry.port) : undefined;
    if (!pageUrl)
      return fail(
        'the web Service has no load-balancer address (web.service.type ' +
          'LoadBalancer): there is no entry point that outlives a node',
      );
    ev.add(`  page URL ${pageUrl}`);
    const dbPhase = await nodeLossPhase(ctx, ev, 'db', pageUrl, () => dbNodeOfMember0(ctx), fault);
    measurePhase(ev, dbPhase);
    const webPhase = await nodeLossPhase(ctx, ev, 'web', pageUrl, (byHost) => busiestWebNode(ctx, byHost), fault);
    const how = fault.mode === 'drain' ? 'drained' : 'frozen';
    measurePhase(ev, webPhase);
    const problems = [...judgePhase(dbPhase, NODE_LOSS_OBJECTIVES), ...judgePhase(webPhase, NODE_LOSS_OBJECTIVES)];
    return verdictOf(
      problems,
      `with db node ${dbPhase.node} ${how} ${FREEZE_SECONDS} s: writes stopped at ` +
        `most ${(dbPhase.writes.longestOutageMs / 1000).toFixed(1)} s, ${dbPhase.page.failedPercent}% ` +
        `page requests failed, back in ${dbPhase.recoverySeconds ?? '?'} s; with web ` +
        `node ${webPhase.node} ${how}: ${webPhase.page.failedPercent}% failed, writes stopped at ` +
        `most ${(webPhase.writes.longestOutageMs / 1000).toFixed(1)} s; no acknowledged write lost`,
    );
  },
};
