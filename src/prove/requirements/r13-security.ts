// R13: security you can show. The db's traffic is captured (tcpdump in the db nodes' network namespace) while
// the drills' writer inserts a marker and a member rejoins by IST: the marker must not be in the capture in
// plain text, and the capture must have seen the SQL and Galera traffic. A client without TLS is refused; the
// release namespace enforces Pod Security "restricted"; each ServiceAccount has exactly the least-privilege
// table's rights; no container runs as root or with capabilities. Privileged helpers (the capture) run in
// kstack's own namespace, never in the release's.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment, V1Namespace, V1Pod, V1ServiceAccount } from '@kubernetes/client-node';
import { componentSelector, copySecrets, type Kube, type List } from '../../kube/kube.js';
import { judgeCapture, summarizeCapture, type CaptureSummary } from '../security/pcap.js';
import { compareGrants, expandGrants, parseApiResources, universeOf, type ResourceRule } from '../security/rbac.js';
import { expectedGrants, LEAST_PRIVILEGE } from '../security/least-privilege.js';
import {
  judgeClientTls,
  judgeContainerSpec,
  judgePodSecurity,
  judgeProcStatus,
  parseProcStatus,
} from '../security/containers.js';
import { judgeWrites, startWriter, type WriterLog } from '../writer.js';
import { ensureClientNamespace, releaseNodeImage, restrictedPod, type ReleaseImage } from './in-cluster.js';
import { DB_CONTAINER, DB_PORT_NAMES, dbPortsOf, dbSql, isPodReady, podName, podsOf, wsrepStatus } from './stack.js';
import { skipped, verdictOf, type Evidence, type ProveContext, type Requirement, type Verdict } from './types.js';

/**
 * Pure: how a member caught up after its last start, from its mariadbd error log. The SST script always runs
 * (and reports "SST received" when the donor bypasses it for IST), so "IST received" decides.
 */
export function transferOf(log: string): 'IST' | 'SST' | 'unknown' {
  const starts = log.split(/Starting MariaDB .* as process|mariadbd .*starting as process/);
  const last = starts[starts.length - 1] ?? '';
  if (/IST received/.test(last)) return 'IST';
  if (/SST received/.test(last)) return 'SST';
  return 'unknown';
}

/** Pure: the capture pod: host network of `node`, privileged (tcpdump), in kstack's own namespace. */
export function capturePodObject(name: string, namespace: string, node: string, image: ReleaseImage): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'kstack-prove-capture' } },
    spec: {
      nodeName: node,
      hostNetwork: true,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      ...(image.pullSecrets.length ? { imagePullSecrets: image.pullSecrets.map((n) => ({ name: n })) } : {}),
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'capture',
          image: image.image,
          imagePullPolicy: image.pullPolicy,
          command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'],
          securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false },
          volumeMounts: [{ name: 'capture', mountPath: '/capture' }],
          resources: { requests: { cpu: '20m', memory: '32Mi' }, limits: { memory: '256Mi' } },
        },
      ],
      volumes: [{ name: 'capture', emptyDir: {} }],
    },
  };
}

const PCAP = '/capture/db.pcap';

// The programs of these scripts run in the cluster's pods, not on this host: they are named through argv.

/** Runs tcpdump until stdin closes, then stops it with SIGINT; prints "listening", "exit …" or "error …". */
const CAPTURE = `
const { spawn } = require('node:child_process');
const [program, file, filter] = process.argv.slice(1);
const out = (s) => process.stdout.write(s + '\\n');
let err = '', listening = false;
const p = spawn(program, ['-i', 'any', '-n', '-U', '-s', '0', '-Z', 'root', '-w', file, filter], { stdio: ['ignore',\
 'ignore', 'pipe'] });
p.on('error', (e) => { out('error ' + e.message); process.exit(1); });
p.stderr.setEncoding('utf8').on('data', (d) => { err += d; if (!listening && /listening on/.test(err)) {\
 listening = true; out('listening'); } });
p.on('exit', (code, sig) => { out('exit ' + code + ' ' + sig + ' ' + JSON.stringify(err.slice(-300))); process.exit(0);\
 });
process.stdin.on('data', () => {});
process.stdin.on('end', () => p.kill('SIGINT'));
`;

const hex = (n: number): string => randomBytes(n).toString('hex');
const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

interface Capture {
  node: string;
  pod: string;
  stop(): Promise<string>;
}

async function startCapture(
  ctx: ProveContext,
  ev: Evidence,
  ns: string,
  node: string,
  image: ReleaseImage,
  filter: string,
): Promise<Capture> {
  const pod = `kstack-prove-r13-capture-${hex(3)}`;
  await ctx.kube.kubectl(['apply', '-f', '-'], {
    clusterScope: true,
    input: JSON.stringify(capturePodObject(pod, ns, node, image)),
    ev,
  });
  await ctx.kube.kubectl(['-n', ns, 'wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=120s'], {
    clusterScope: true,
    timeoutMs: 140_000,
    ev,
  });
  const stream = ctx.kube.execStream(pod, 'capture', ['node', '-e', CAPTURE, 'tcpdump', PCAP, filter], ev, ns);
  for (const deadline = Date.now() + 30_000; !/^listening$/m.test(stream.peek());) {
    if (/^error /m.test(stream.peek()) || stream.exited() || Date.now() > deadline) {
      const res = await stream.finish();
      const why = /^error (.*)$/m.exec(res.stdout)?.[1] ?? (res.stdout + res.stderr).trim().slice(-300);
      throw new Error(
        /ENOENT/.test(why)
          ? `the image ${image.image} has no tcpdump (rebuild it: kstack ` +
              `images build node), so nothing could be captured (${why})`
          : `tcpdump did not start on ${node}: ${why}`,
      );
    }
    await sleep(200);
  }
  ev.add(`  capturing on ${node} (pod ${ns}/${pod}): tcpdump -i any '${filter}'`);
  return {
    node,
    pod,
    stop: async () => (await stream.finish()).stdout.trim().split('\n').pop() ?? '',
  };
}

/** Reads a capture pod's pcap (base64 through exec: kubectl's stdout is text). */
async function readPcap(kube: Kube, ns: string, pod: string, ev: Evidence): Promise<Buffer> {
  const script = `process.stdout.write(require('fs').readFileSync(${JSON.stringify(PCAP)}).toString('base64'))`;
  const res = await kube.kubectl(['-n', ns, 'exec', pod, '-c', 'capture', '--', 'node', '-e', script], {
    clusterScope: true,
    timeoutMs: 120_000,
    ev,
  });
  return Buffer.from(res.stdout.trim(), 'base64');
}

const addSummary = (ev: Evidence, where: string, s: CaptureSummary): void => {
  ev.add(
    `  ${where}: ${s.frames} frames; ${s.perPort
      .map((p) => `${p.name}:${p.port} ${p.packets} packets/${p.payloadBytes} B payload/${p.markerPackets} with marker`)
      .join('; ')}; marker in file ${s.markerInFile}×`,
  );
};

/** Part a: capture while the writer writes the marker and a member rejoins; the marker must stay hidden. */
async function captureDrill(ctx: ProveContext, ev: Evidence): Promise<string[]> {
  const { kube, release } = ctx;
  const dbPods = await podsOf(kube, release, 'db', ev);
  const first = dbPods[0];
  if (!first) return ['the release runs no db pod: there is no traffic to capture'];
  const ports = dbPortsOf(first);
  const missing = DB_PORT_NAMES.filter((n) => ports[n] === undefined);
  if (!ports.mysql || !ports.galera) return [`the db pod ${podName(first)} names no port ${missing.join(', ')}`];
  const web = (await podsOf(kube, release, 'web', ev)).find(isPodReady);
  if (!web) return ['no Ready web pod to write through the db Service from'];
  const image = await releaseNodeImage(kube, release, ev);
  if (!image) return ['the release runs neither podwatch nor webinfo: no node image for the capture pod'];
  const nodes = [...new Set(dbPods.map((p) => p.spec?.nodeName ?? '').filter(Boolean))].sort();
  const ns = await ensureClientNamespace(kube, ev);
  // kstack's namespace, not the release's: the capture needs the host network and root.
  await kube.kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=privileged', '--overwrite'], {
    clusterScope: true,
    ev,
  });
  await copySecrets(kube, image.pullSecrets, ns, { ev });
  const filter = Object.values(ports)
    .map((p) => `tcp port ${p}`)
    .join(' or ');
  const captures: Capture[] = [];
  const problems: string[] = [];
  const marker = `kstackR13marker${hex(8)}`;
  const table = `kstack_prove_r13_${hex(4)}`;
  const qualified = `\`${ctx.intent.db.appDatabase}\`.${table}`;
  ev.measure('marker', marker);
  try {
    for (const node of nodes) captures.push(await startCapture(ctx, ev, ns, node, image, filter));
    const writer = await startWriter(kube, podName(web), { table, intervalMs: 200, timeoutMs: 2000, marker }, ev);
    ev.add(`  writing rows with note='${marker}' into ${qualified} from ${podName(web)} every 0.2 s`);
    let log: WriterLog;
    const victim = dbPods[dbPods.length - 1] ?? first;
    const victimName = podName(victim);
    let backSeconds: number | undefined;
    try {
      await sleep(5000);
      ctx.note(`deleting ${victimName}: it must rejoin by IST`);
      const deletedAt = Date.now();
      await kube.kubectl(['delete', 'pod', victimName, '--wait=false'], { ev });
      for (const deadline = Date.now() + 5 * 60_000; Date.now() < deadline;) {
        await sleep(2000);
        const now = (await podsOf(kube, release, 'db')).find((p) => podName(p) === victimName);
        if (now && now.metadata?.uid !== victim.metadata?.uid && isPodReady(now)) {
          const w = await wsrepStatus(kube, victimName).catch((): Record<string, string> => ({}));
          if (w.wsrep_local_state_comment === 'Synced') {
            backSeconds = (Date.now() - deletedAt) / 1000;
            break;
          }
        }
        ctx.note(`waiting for ${victimName} to rejoin (${Math.round((Date.now() - deletedAt) / 1000)} s)`);
      }
      await sleep(5000); // writes after the rejoin, replicated to it
    } finally {
      log = await writer.stop();
    }
    if (backSeconds === undefined) problems.push(`${victimName} was not back Ready and Synced within 5 min`);
    else {
      ev.add(`  ${victimName} back, Synced, after ${backSeconds.toFixed(1)} s`);
      ev.measure('rejoinSeconds', Number(backSeconds.toFixed(1)));
    }
    const memberLog = await kube.exec(victimName, DB_CONTAINER, ['tail', '-n', '3000', '/run/mysqld/mysqld.err'], {
      ev,
    });
    const transfer = transferOf(memberLog.stdout);
    ev.add(`  ${victimName} caught up by: ${transfer} (its mariadbd log)`);
    ev.measure('rejoinTransfer', transfer);
    for (const c of captures) ev.add(`  tcpdump on ${c.node}: ${await c.stop()}`);
    // Writes: nothing acknowledged may be missing on any member (the restart must not lose data either).
    for (const p of await podsOf(kube, release, 'db', ev)) {
      const rows = new Set((await dbSql(kube, podName(p), `SELECT seq FROM ${qualified}`, ev)).map(([s]) => Number(s)));
      const j = judgeWrites(log.attempts, rows);
      ev.add(`  ${podName(p)}: ${rows.size} rows; ${j.lost.length} acknowledged writes missing`);
      if (j.lost.length)
        problems.push(`${podName(p)} lacks ${j.lost.length} acknowledged writes (first #${j.lost[0]})`);
    }
    const all = judgeWrites(log.attempts, new Set());
    ev.measure('writesAcknowledged', all.acknowledged);
    ev.measure('writesFailed', all.failed);
    if (all.acknowledged === 0) problems.push('no write was acknowledged: the capture carried no marker to find');
    // The pcaps: the marker must not be there; the SQL and Galera ports must have carried payload.
    const total = { frames: 0, perPort: [] as CaptureSummary['perPort'], markerInFile: 0 };
    for (const c of captures) {
      const pcap = await readPcap(kube, ns, c.pod, ev);
      const file = `r13-${c.node}.pcap`;
      writeFileSync(join(ctx.reportDir, file), pcap);
      ev.artifact(file);
      const s = summarizeCapture(pcap, ports, marker);
      addSummary(ev, `${c.node} (${pcap.length} B, ${file})`, s);
      problems.push(...judgeCapture(c.node, s, marker, []));
      total.frames += s.frames;
      total.markerInFile += s.markerInFile;
      for (const p of s.perPort) {
        const t = total.perPort.find((x) => x.name === p.name);
        if (t) {
          t.packets += p.packets;
          t.payloadBytes += p.payloadBytes;
          t.markerPackets += p.markerPackets;
        } else total.perPort.push({ ...p });
      }
    }
    for (const p of total.perPort) ev.measure(`captured_${p.name}_bytes`, p.payloadBytes);
    ev.measure('markerHits', total.markerInFile);
    // The positive control over all nodes together (the marker was judged per node above).
    const control = { ...total, markerInFile: 0, perPort: total.perPort.map((p) => ({ ...p, markerPackets: 0 })) };
    problems.push(...judgeCapture('the db nodes', control, marker, ['mysql', 'galera']));
    return problems;
  } finally {
    for (const c of captures)
      await kube
        .kubectl(['-n', ns, 'delete', 'pod', c.pod, '--wait=false', '--ignore-not-found'], { clusterScope: true, ev })
        .catch(() => undefined);
    const any = (await podsOf(kube, release, 'db').catch(() => [])).find(isPodReady);
    if (any) await dbSql(kube, podName(any), `DROP TABLE IF EXISTS ${qualified}`, ev).catch(() => undefined);
  }
}

/** Tries mariadb without TLS, then with the CA verified, from the webinfo container; never prints the password. */
const CLIENT = `
const { spawnSync } = require('node:child_process');
const e = process.env;
const pw = e.WEBINFO_DB_PASSWORD || (e.WEBINFO_DB_PASSWORD_FILE ?\
 require('node:fs').readFileSync(e.WEBINFO_DB_PASSWORD_FILE, 'utf8').trim() : '');
const base = ['-h', e.WEBINFO_DB_HOST, '-P', String(e.WEBINFO_DB_PORT || 3306), '-u', e.WEBINFO_DB_USER,\
 '--connect-timeout=5', '-N', '-B', '-e', 'SELECT 1'];
const client = process.argv[1];
const run = (extra) => {
  const r = spawnSync(client, [...extra, ...base], { env: { ...e, MYSQL_PWD: pw }, encoding: 'utf8', timeout: 20000 });
  return { code: r.status === null ? 1 : r.status, output: ((r.stdout || '') + (r.stderr || '') +\
 (r.error ? r.error.message : '')).split(pw || '\\0').join('***').trim().slice(0, 300) };
};
const out = { plain: run(['--skip-ssl']) };
if (e.WEBINFO_DB_TLS_CA) out.tls = run(['--ssl', '--ssl-ca=' + e.WEBINFO_DB_TLS_CA, '--ssl-verify-server-cert']);
process.stdout.write(JSON.stringify(out));
`;

/** Part b: a client without TLS is refused; one with TLS (CA verified) is accepted. */
async function clientTls(ctx: ProveContext, ev: Evidence): Promise<string[]> {
  const web = (await podsOf(ctx.kube, ctx.release, 'web', ev)).find(isPodReady);
  if (!web) return ['no Ready web pod to connect from'];
  const res = await ctx.kube.exec(podName(web), 'webinfo', ['node', '-e', CLIENT, 'mariadb'], { ev });
  type Try = { code: number; output: string };
  const r = JSON.parse(res.stdout || '{}') as { plain?: Try; tls?: Try };
  if (!r.plain) return [`the client check in ${podName(web)} printed nothing: ${res.stderr.trim().slice(0, 200)}`];
  ev.add(`  mariadb --skip-ssl: exit ${r.plain.code} ${r.plain.output.replace(/\s+/g, ' ')}`);
  if (r.tls)
    ev.add(`  mariadb --ssl --ssl-verify-server-cert: exit ${r.tls.code} ${r.tls.output.replace(/\s+/g, ' ')}`);
  return judgeClientTls(r.plain, r.tls);
}

/** Part c: the release namespace enforces restricted; a privileged pod is refused, a restricted one not. */
async function podSecurity(ctx: ProveContext, ev: Evidence): Promise<string[]> {
  const ns = ctx.namespace;
  const nsObj = await ctx.kube.json<V1Namespace>(['get', 'namespace', ns], { clusterScope: true, ev });
  const enforce = nsObj.metadata?.labels?.['pod-security.kubernetes.io/enforce'];
  ev.add(`  pod-security.kubernetes.io/enforce=${enforce ?? '(none)'}`);
  const image = (await releaseNodeImage(ctx.kube, ctx.release, ev))?.image ?? 'kstack.local/node:local';
  const privileged: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `kstack-prove-r13-privileged-${hex(3)}`, namespace: ns },
    spec: {
      containers: [{ name: 'c', image, securityContext: { privileged: true, runAsUser: 0 } }],
    },
  };
  const restricted = restrictedPod({
    name: `kstack-prove-r13-restricted-${hex(3)}`,
    namespace: ns,
    labels: {},
    container: 'c',
    image,
    pullPolicy: 'IfNotPresent',
    command: ['node', '-e', '0'],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
    tolerations: [],
  });
  const dry = async (pod: V1Pod): Promise<{ code: number; output: string }> => {
    const r = await ctx.kube.kubectl(['create', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(pod),
      allowFailure: true,
      ev,
    });
    const output = (r.stdout + r.stderr).trim();
    ev.add(`  → exit ${r.code}: ${output.slice(0, 300)}`);
    return { code: r.code, output };
  };
  return judgePodSecurity(ns, enforce, await dry(privileged), await dry(restricted));
}

/** Part d: every ServiceAccount's rights, here and in another namespace, against the least-privilege table. */
async function leastPrivilege(ctx: ProveContext, ev: Evidence): Promise<string[]> {
  const { kube, namespace: ns, release } = ctx;
  const api = parseApiResources(
    (await kube.kubectl(['api-resources', '-o', 'wide'], { clusterScope: true, ev })).stdout,
  );
  ev.add(`  ${api.length} API resources`);
  const sas = new Set(
    (await kube.json<List<V1ServiceAccount>>(['get', 'serviceaccounts'], { ev })).items.map(
      (s) => s.metadata?.name ?? '',
    ),
  );
  const pods = (await kube.json<List<V1Pod>>(['get', 'pods', '-l', `app.kubernetes.io/instance=${release}`], { ev }))
    .items;
  for (const p of pods) sas.add(p.spec?.serviceAccountName ?? 'default');
  const podwatchSas = new Set(
    pods
      .filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === 'podwatch')
      .map((p) => p.spec?.serviceAccountName ?? 'default'),
  );
  const podwatchDeploy = (
    await kube.json<List<V1Deployment>>(['get', 'deployments', '-l', componentSelector(release, 'podwatch')], { ev })
  ).items[0];
  const values = await kube.helm(['get', 'values', release, '--all', '-o', 'json'], { allowFailure: true });
  const leaseName = (/"leaseName":"([^"]+)"/.exec(values.stdout)?.[1] ?? '') || (podwatchDeploy?.metadata?.name ?? '');
  const problems: string[] = [];
  const other = ns === 'kube-system' ? 'default' : 'kube-system';
  for (const sa of [...sas].filter(Boolean).sort()) {
    for (const where of [ns, other]) {
      const review = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectRulesReview',
        spec: { namespace: where },
      };
      const as = `system:serviceaccount:${ns}:${sa}`;
      ev.add(`  (as kubectl auth can-i --list --as=${as} -n ${where})`);
      const r = await kube.json<{ status?: { resourceRules?: ResourceRule[]; incomplete?: boolean } }>(
        ['create', '--validate=false', `--as=${as}`, '-f', '-'],
        { clusterScope: true, input: JSON.stringify(review), ev },
      );
      const rules = r.status?.resourceRules ?? [];
      const grants = expandGrants(rules, universeOf(api, rules));
      const expected = expectedGrants(
        LEAST_PRIVILEGE,
        {
          podwatch: podwatchSas.has(sa),
          inReleaseNamespace: where === ns,
          podwatchLease: leaseName,
          podwatchClusterScope: ctx.intent.podwatch.clusterScope,
        },
        api,
      );
      const found = compareGrants(`ServiceAccount ${sa} (in namespace ${where})`, grants, expected);
      ev.add(`  ${sa} in ${where}: ${grants.length} grants, ${found.length} differences from the table`);
      if (r.status?.incomplete) ev.add('  (the API server marked the review incomplete)');
      problems.push(...found);
    }
  }
  return problems;
}

/** Part e: no container as root, none privileged or with capabilities: spec, and the main process where it shows. */
async function noRoot(ctx: ProveContext, ev: Evidence): Promise<string[]> {
  const pods = (
    await ctx.kube.json<List<V1Pod>>(['get', 'pods', '-l', `app.kubernetes.io/instance=${ctx.release}`], { ev })
  ).items.filter((p) => p.status?.phase === 'Running');
  const problems: string[] = [];
  const specOnly: string[] = [];
  let runtimeChecked = 0;
  for (const p of pods) {
    for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])])
      problems.push(...judgeContainerSpec(p, c));
    for (const c of p.spec?.containers ?? []) {
      const who = `${podName(p)}/${c.name}`;
      const r = await ctx.kube.exec(podName(p), c.name, ['cat', '/proc/1/status'], {});
      const status = r.code === 0 ? parseProcStatus(r.stdout) : undefined;
      if (!status) {
        specOnly.push(who);
        continue;
      }
      runtimeChecked++;
      ev.add(`  ${who}: uid ${status.uid}, CapEff ${status.capEff}`);
      problems.push(...judgeProcStatus(who, status));
    }
  }
  ev.add(`  ${pods.length} running pods; main process read in ${runtimeChecked} containers`);
  if (specOnly.length) ev.add(`  judged by spec only (no cat): ${specOnly.join(', ')}`);
  ev.measure('containersReadAtRuntime', runtimeChecked);
  return problems;
}

export const r13Security: Requirement = {
  id: 'R13',
  title: 'Security',
  checks:
    "Capture: tcpdump in the host network of every db node (a privileged pod in kstack's namespace " +
    "<ns>-prove) on the db pods' mysql, galera, ist and sst ports while the drills' writer inserts rows " +
    'carrying a random marker and the highest db member is deleted and rejoins (IST); the marker must not ' +
    'be in any capture, and the SQL and Galera ports must have carried payload; no acknowledged write ' +
    'lost on any member. A client without TLS (mariadb --skip-ssl from webinfo) must be refused, one ' +
    'with the CA verified accepted. The release namespace enforces Pod Security restricted: a privileged ' +
    'pod is refused (server dry-run), a restricted one accepted. Every ServiceAccount of the namespace ' +
    "and of the release's pods has, here and in kube-system, exactly the least-privilege table's rights " +
    '(SelfSubjectRulesReview, as kubectl auth can-i --list, expanded over every resource and verb of ' +
    'kubectl api-resources). No container runs as root, privileged, with privilege escalation or added ' +
    'capabilities (spec; Uid and CapEff of /proc/1/status where cat runs). db.tls.enabled false fails.',
  mutates: true,
  async check(ctx: ProveContext, ev: Evidence): Promise<Verdict> {
    if (!ctx.intent.db.enabled) return skipped(`the release's values turn the db off (db.enabled is false)`);
    const problems: string[] = [];
    const parts: [string, (c: ProveContext, e: Evidence) => Promise<string[]>][] = [
      ['traffic capture (marker, member rejoin)', captureDrill],
      ['client without TLS', clientTls],
      ['Pod Security', podSecurity],
      ['least privilege', leastPrivilege],
      ['no root, no capabilities', noRoot],
    ];
    for (const [name, part] of parts) {
      ctx.note(name);
      ev.add(`${name}:`);
      const found = await part(ctx, ev).catch((err: unknown) => [`could not check ${name}: ${errText(err)}`]);
      ev.add(found.length ? `  ✗ ${found.length} problem(s): ${found.join('; ')}` : '  ✓');
      problems.push(...found);
    }
    if (!ctx.intent.dbTls) problems.push("the release's values turn the db's TLS off (db.tls.enabled: false)");
    return verdictOf(
      problems,
      'no marker in plain text on the db ports (which carried the traffic) while a member ' +
        'rejoined; a client without TLS refused; Pod Security restricted enforced; every ' +
        'ServiceAccount as the least-privilege table; no container as root or with capabilities',
    );
  },
};
