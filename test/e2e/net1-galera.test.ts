// Galera over the Multus secondary network, with the chart, on the e2e group 'stack''s cluster (alone:
// its own 'net1-e2e'), brought up like `kstack up` with
// networks.secondary.enabled: every db pod has net1 in the network's subnet
// (network-status), the members advertise their net1 addresses (wsrep_node_address,
// wsrep_incoming_addresses), and the Galera connections the kernel of each member holds on 4567 run
// between net1 addresses. The chart's MultiNetworkPolicy keeps other pods attached to net1 away from the
// members (3306, 4567), while members reach each other there. The cluster keeps all of that after one
// member pod is deleted and after every member pod is deleted at once, while a writer inserts: every
// member back Synced in a cluster of 3 with every acknowledged row (these are the Galera drills a user
// runs). prove's R7 and its break are in prove.test.ts; prove's R2 deletes every member again (grace
// period 0, writes through the db Service), so one round of it here is enough.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { inSubnet } from '../../src/cluster/addons/multinet.js';
import { podEndpoint } from '../../src/netpol/evaluator.js';
import { establishedOnPort, parseProcNetTcp, type TcpConnection } from '../../src/netpol/proc-net.js';
import { runProbes, type ResolvedTarget } from '../../src/netpol/probe.js';
import { parseNetworkStatus } from '../../src/prove/requirements/r7-multinet.js';
import { ensureKubectlAndHelm } from '../../src/setup/kubectl-layer.js';
import { stackUp, type StackUpResult } from '../../src/stack/up.js';
import { run } from '../../src/util/exec.js';
import { createProgress } from '../../src/util/progress.js';
import { eventually } from '../helpers/cluster.js';
import { e2eCluster, leaveStack } from '../helpers/e2e-cluster.js';

const NS = 'webstack';
const RELEASE = 'web';
const STS = `${RELEASE}-webstack-db`;
const MEMBERS = [0, 1, 2].map((i) => `${STS}-${i}`);
const SUBNET = '10.78.0.0/24';
const GALERA = 4567;
const own = e2eCluster('net1-e2e');
const { name: CLUSTER, baseDir } = own;
/** This file's own scratch folder (the values file). */
const work = mkdtempSync(join(tmpdir(), 'kstack-net1-e2e-work-'));
const progress = createProgress();
let stack: StackUpResult;
let kubectlBin = '';

const kubectlRaw = (args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> =>
  run(kubectlBin, [...stack.kubeArgs, ...args], {
    allowFailure: true,
    timeoutMs: 700_000,
    ...(input !== undefined ? { input } : {}),
  });
async function kubectl(args: string[], input?: string): Promise<string> {
  const res = await kubectlRaw(['-n', NS, ...args], input);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr.trim()}`);
  return res.stdout;
}
const SQL = 'mariadb -uroot -p"$(cat /etc/webstack-db/secret/mariadb-root-password)" -S /run/mysqld/mysqld.sock -N -B';
const sql = (pod: string, statement: string): Promise<string> =>
  kubectl(['exec', pod, '-c', 'mariadb', '--', 'sh', '-c', `${SQL} -e "${statement}"`]);

/** A db pod's net1 addresses, from the network-status annotation Multus (multinet) wrote. */
const net1Of = (pod: V1Pod): string[] =>
  parseNetworkStatus(pod)
    .filter((s) => s.interface === 'net1')
    .flatMap((s) => s.ips ?? []);
async function dbPods(): Promise<V1Pod[]> {
  const list = JSON.parse(await kubectl(['get', 'pods', '-l', 'app.kubernetes.io/component=db', '-o', 'json'])) as {
    items: V1Pod[];
  };
  return list.items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

interface MemberView {
  pod: string;
  net1: string;
  nodeAddress: string;
  incoming: string[];
  state: string;
  size: number;
  galera: TcpConnection[];
}

async function memberView(pod: V1Pod): Promise<MemberView> {
  const name = pod.metadata?.name ?? '';
  const out = await sql(
    name,
    'SELECT @@wsrep_node_address; SHOW STATUS WHERE Variable_name IN ' +
      "('wsrep_incoming_addresses','wsrep_local_state_comment','wsrep_cluster_size')",
  );
  const lines = out.split('\n').filter(Boolean);
  const status = new Map(lines.slice(1).map((l) => l.split('\t') as [string, string]));
  const tcp = (
    await kubectlRaw(['-n', NS, 'exec', name, '-c', 'mariadb', '--', 'cat', '/proc/net/tcp', '/proc/net/tcp6'])
  ).stdout;
  return {
    pod: name,
    net1: net1Of(pod)[0] ?? '',
    nodeAddress: lines[0] ?? '',
    incoming: (status.get('wsrep_incoming_addresses') ?? '').split(',').filter(Boolean),
    state: status.get('wsrep_local_state_comment') ?? '?',
    size: Number(status.get('wsrep_cluster_size') ?? 0),
    galera: establishedOnPort(parseProcNetTcp(tcp), GALERA),
  };
}

/** All three members Ready (Synced), within `timeoutMs`. */
async function allReady(what: string, timeoutMs = 360_000): Promise<V1Pod[]> {
  return eventually(
    `${what}: 3/3 db members Ready`,
    async () => {
      const pods = await dbPods();
      const ready = pods.filter((p) => p.status?.containerStatuses?.find((c) => c.name === 'mariadb')?.ready === true);
      return ready.length === MEMBERS.length ? pods : undefined;
    },
    timeoutMs,
  );
}

/**
 * The members as they are now: each Synced in a cluster of 3, advertising its net1 address, every
 * incoming address a member's net1 address, and each one's Galera connections between its own net1
 * address and both other members' net1 addresses (nothing over eth0).
 */
async function assertGaleraOnNet1(what: string): Promise<MemberView[]> {
  const pods = await allReady(what);
  // Galera opens its mesh connections within moments of a join; give the last joiner a few seconds.
  return eventually(
    `${what}: Galera on net1 between all members`,
    async () => {
      const views = await Promise.all(pods.map(memberView));
      const net1s = views.map((v) => v.net1);
      for (const v of views) {
        assert.ok(inSubnet(v.net1, SUBNET), `${what}: ${v.pod} has net1 ${v.net1 || '(none)'} in ${SUBNET}`);
        assert.equal(v.state, 'Synced', `${what}: ${v.pod} is Synced`);
        assert.equal(v.size, 3, `${what}: ${v.pod} sees 3 members`);
        assert.equal(
          v.nodeAddress,
          `${v.net1}:${GALERA}`,
          `${what}: ${v.pod} advertises its net1 address (wsrep_node_address)`,
        );
        // A member may miss one that joined in the same view (Galera fills the list from view changes), so
        // each entry must be a member's net1 address and together they name all three (below).
        for (const a of v.incoming)
          assert.ok(
            net1s.includes(a.split(':')[0] ?? ''),
            `${what}: ${v.pod}'s wsrep_incoming_addresses entry ${a} is a member's net1 address`,
          );
        const links = v.galera.map((c) => `${c.local.ip}:${c.local.port}↔${c.remote.ip}:${c.remote.port}`).join(' ');
        for (const c of v.galera) {
          assert.equal(
            c.local.ip,
            v.net1,
            `${what}: ${v.pod}'s Galera connections leave from its net1 address: ${links}`,
          );
          assert.ok(
            net1s.includes(c.remote.ip) && c.remote.ip !== v.net1,
            `${what}: ${v.pod}'s Galera peer ${c.remote.ip} is another member's net1 address: ${links}`,
          );
        }
        const peers = new Set(v.galera.map((c) => c.remote.ip));
        if (peers.size !== MEMBERS.length - 1) return undefined;
      }
      assert.deepEqual(
        [...new Set(views.flatMap((v) => v.incoming.map((a) => a.split(':')[0])))].sort(),
        [...net1s].sort(),
        `${what}: the members' wsrep_incoming_addresses together name every net1 address`,
      );
      return views;
    },
    60_000,
  );
}

/**
 * Inserts rows in a member until the pod goes away; returns once
 * at least `min` are acknowledged and the pods were deleted.
 */
async function deleteUnderLoad(victims: readonly string[], writer: string, what: string): Promise<number[]> {
  const acked: number[] = [];
  const from = Date.now() % 1_000_000_000;
  const loop =
    `i=${from}; while true; do i=$((i+1)); ${SQL} -e "INSERT ` +
    `INTO net1drill.t VALUES ($i)" && echo $i || exit 1; done`;
  const child = spawn(
    kubectlBin,
    [...stack.kubeArgs, '-n', NS, 'exec', writer, '-c', 'mariadb', '--', 'sh', '-c', loop],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  child.stdout.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (/^\d+$/.test(l)) acked.push(Number(l));
  });
  const done = new Promise<void>((resolve) => {
    child.on('close', () => {
      resolve();
    });
  });
  await eventually(
    `${what}: rows acknowledged before the delete`,
    () => Promise.resolve(acked.length >= 10 ? true : undefined),
    60_000,
  );
  await kubectl(['delete', 'pod', ...victims, '--wait=false']);
  await done;
  await sleep(2000);
  return acked;
}

async function assertRows(acked: readonly number[], what: string): Promise<void> {
  for (const pod of MEMBERS) {
    const ids = new Set((await sql(pod, 'SELECT id FROM net1drill.t')).split('\n').filter(Boolean).map(Number));
    const missing = acked.filter((id) => !ids.has(id));
    assert.deepEqual(
      missing.slice(0, 10),
      [],
      `${what}: ${pod} lost ${missing.length} of ${acked.length} acknowledged rows`,
    );
  }
}

describe('Galera over the secondary network (net1) with the chart', { timeout: 45 * 60_000 }, () => {
  before(async () => {
    kubectlBin = (await ensureKubectlAndHelm(progress)).kubectl;
    // On in values-local.yaml too; set here so this test keeps proving net1 whatever the local default is.
    const values = join(work, 'net1.yaml');
    writeFileSync(values, `networks:\n  secondary:\n    enabled: true\n    subnet: ${SUBNET}\n`);
    stack = await stackUp({
      namespace: NS,
      release: RELEASE,
      valuesFiles: [values],
      clusterName: CLUSTER,
      baseDir,
      timeoutMs: 15 * 60_000,
      progress,
    });
    stack.page.stop();
    stack.podwatch?.stop();
    await sql(
      MEMBERS[0] ?? '',
      'CREATE DATABASE IF NOT EXISTS net1drill; CREATE TABLE IF NOT EXISTS net1drill.t (id BIGINT PRIMARY KEY)',
    );
  });
  after(async () => {
    await leaveStack(own, stack, progress, { namespace: NS, release: RELEASE });
    rmSync(work, { recursive: true, force: true });
  });

  it(
    'gives every db pod net1 in the subnet, unique addresses, ' + 'and Galera talks over it (config and connections)',
    async () => {
      const views = await assertGaleraOnNet1('after install');
      assert.equal(new Set(views.map((v) => v.net1)).size, 3, 'cluster-wide IPAM: three different net1 addresses');
      console.log(
        views
          .map(
            (v) =>
              `${v.pod}: net1 ${v.net1}, Galera links ${v.galera
                .map((c) => `${c.local.ip}:${c.local.port}↔${c.remote.ip}:${c.remote.port}`)
                .join(' ')}`,
          )
          .join('\n'),
      );
    },
  );

  it(
    'keeps pods that are not members away from the members ' + 'on net1 (MultiNetworkPolicy), members reach each other',
    async () => {
      const members = await dbPods();
      const network = JSON.parse(
        members[0]?.metadata?.annotations?.['k8s.v1.cni.cncf.io/networks'] ?? '[]',
      ) as unknown[];
      assert.ok(network.length === 1, "the db pods ask for the chart's network");
      // One intruder on the web node and one on a db node (the same-node macvlan path), attached to the same network.
      const intruders = [
        { name: 'net1-intruder-web', node: 'web-1' },
        { name: 'net1-intruder-db', node: members[0]?.spec?.nodeName ?? 'db-1' },
      ];
      const manifests = intruders.map((i) =>
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: i.name,
            namespace: NS,
            labels: { app: 'net1-intruder' },
            annotations: { 'k8s.v1.cni.cncf.io/networks': JSON.stringify(network) },
          },
          spec: {
            nodeName: i.node,
            terminationGracePeriodSeconds: 0,
            tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }],
            // The release namespace enforces Pod Security "restricted": the intruder is such a pod (it only sends
            // probes: bash and coreutils' timeout from the nginx image, no server).
            securityContext: { runAsNonRoot: true, runAsUser: 101, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'nginx',
                image: 'kstack.local/nginx:local',
                imagePullPolicy: 'Never',
                command: ['sleep', '3600'],
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        }),
      );
      await kubectl(['apply', '-f', '-'], manifests.join('\n'));
      try {
        await kubectl(['wait', '--for=condition=Ready', '--timeout=120s', 'pod', ...intruders.map((i) => i.name)]);
        const intruderPods = await Promise.all(
          intruders.map(async (i) => JSON.parse(await kubectl(['get', 'pod', i.name, '-o', 'json'])) as V1Pod),
        );
        for (const p of intruderPods)
          assert.ok(inSubnet(net1Of(p)[0] ?? '', SUBNET), `${p.metadata?.name ?? ''} is on net1 too`);
        const target = members[1] as V1Pod;
        const targets: ResolvedTarget[] = [3306, GALERA].map((port) => ({
          to: podEndpoint(NS, target.metadata?.name ?? ''),
          port,
          ip: net1Of(target)[0] ?? '',
        }));
        const sources = [
          ...intruders.map((i) => ({ namespace: NS, pod: i.name })),
          { namespace: NS, pod: members[0]?.metadata?.name ?? '', container: 'mariadb' },
        ];
        // Let the policy agents see the intruders (they re-render within about a second).
        await sleep(3000);
        const observed = await runProbes(kubectlRaw, sources, targets, { timeoutSeconds: 3 });
        const cell = (row: string, port: number): string =>
          observed.cells[`${NS}/${row}`]?.[`${NS}/${target.metadata?.name ?? ''}:${port}`]?.result ?? '?';
        const table = sources
          .map((s) => `${s.pod}: 3306 ${cell(s.pod, 3306)}, ${GALERA} ${cell(s.pod, GALERA)}`)
          .join('\n');
        console.log(`net1 probes to ${target.metadata?.name ?? ''} (${targets[0]?.ip ?? ''}):\n${table}`);
        for (const i of intruders)
          for (const port of [3306, GALERA])
            assert.equal(cell(i.name, port), 'closed', `${i.name} → member net1:${port} is closed\n${table}`);
        for (const port of [3306, GALERA])
          assert.equal(
            cell(members[0]?.metadata?.name ?? '', port),
            'open',
            `member → member net1:${port} is open\n${table}`,
          );
      } finally {
        await kubectl(['delete', 'pod', ...intruders.map((i) => i.name), '--wait=false']);
      }
    },
  );

  it('a deleted member pod comes back Synced, on net1, with every acknowledged row', async () => {
    const acked = await deleteUnderLoad([MEMBERS[1] ?? ''], MEMBERS[1] ?? '', 'delete one');
    await assertGaleraOnNet1('delete one');
    await assertRows(acked, 'delete one');
  });

  for (const round of [1]) {
    it(
      `every member pod deleted at once (round ${round}): ` +
        `all back Synced on net1 (new addresses included), no acknowledged row lost`,
      async () => {
        const before = (await dbPods()).map((p) => `${p.metadata?.name ?? ''}=${net1Of(p)[0] ?? ''}`).join(' ');
        const acked = await deleteUnderLoad(MEMBERS, MEMBERS[1] ?? '', `delete all ${round}`);
        const views = await assertGaleraOnNet1(`delete all ${round}`);
        await assertRows(acked, `delete all ${round}`);
        console.log(
          `delete all ${round}: net1 before ${before}; after ${views.map((v) => `${v.pod}=${v.net1}`).join(' ')}`,
        );
      },
    );
  }
});
