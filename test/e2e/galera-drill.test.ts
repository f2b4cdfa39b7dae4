// Galera on the local cluster, the drills a user runs: while a writer inserts rows, delete one db member
// pod, then every db member pod at once (kubectl delete --wait=false); each time all three members must be
// back Synced in one primary component, with every row the server acknowledged present on every member.
// One cluster (its own name) for the whole file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureKubectlAndHelm } from '../../src/setup/kubectl-layer.js';
import { stackUp, type StackUpResult } from '../../src/stack/up.js';
import { run } from '../../src/util/exec.js';
import { createProgress } from '../../src/util/progress.js';
import { eventually } from '../helpers/cluster.js';
import { e2eCluster, leaveStack } from '../helpers/e2e-cluster.js';

const MEMBERS = ['web-webstack-db-0', 'web-webstack-db-1', 'web-webstack-db-2'];
const own = e2eCluster('galera-e2e');
const { name: CLUSTER, baseDir } = own;
const progress = createProgress();
let result: StackUpResult;
let kubectlBin = '';

const kubectlArgs = (args: string[]): string[] => [...result.kubeArgs, '-n', result.namespace, ...args];
const kubectl = async (args: string[]): Promise<string> => (await run(kubectlBin, kubectlArgs(args))).stdout;
/** The mariadb client as root inside a member, over its socket (the password file is the mounted Secret). */
const SQL = 'mariadb -uroot -p"$(cat /etc/webstack-db/secret/mariadb-root-password)" -S /run/mysqld/mysqld.sock -N -B';
const sql = (pod: string, statement: string): Promise<string> =>
  kubectl(['exec', pod, '-c', 'mariadb', '--', 'sh', '-c', `${SQL} -e "${statement}"`]);

/**
 * Inserts numbered rows, one statement each, in a shell loop inside `pod` until the pod goes away; a row
 * counts as acknowledged when the client returned success and printed its id.
 */
function startWriter(pod: string, from: number): { acked: number[]; done: Promise<void> } {
  const acked: number[] = [];
  const loop = `i=${from}; while [ $i -lt ${from + 100_000} ]; do i=$((i+1)); ${SQL} -e "INSERT INTO drill.t VALUES ($i)" && echo $i || exit 1; done`;
  const child = spawn(kubectlBin, kubectlArgs(['exec', pod, '-c', 'mariadb', '--', 'sh', '-c', loop]), { stdio: ['ignore', 'pipe', 'ignore'] });
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (/^\d+$/.test(l)) acked.push(Number(l));
  });
  const done = new Promise<void>((resolve) => { child.on('close', () => { resolve(); }); });
  return { acked, done };
}

interface MemberState { state: string; size: number; ids: Set<number> }

async function memberState(pod: string): Promise<MemberState> {
  const out = await sql(pod, "SHOW STATUS WHERE Variable_name IN ('wsrep_local_state_comment','wsrep_cluster_size'); SELECT id FROM drill.t");
  const status = new Map(out.split('\n').filter((l) => l.includes('\t')).map((l) => l.split('\t') as [string, string]));
  const ids = new Set(out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number));
  return { state: status.get('wsrep_local_state_comment') ?? '?', size: Number(status.get('wsrep_cluster_size') ?? 0), ids };
}

/** Every member Ready (Synced), then each one's view: Synced in a cluster of 3 with every acknowledged row. */
async function assertWholeWithRows(acked: readonly number[], what: string): Promise<void> {
  await eventually(`${what}: 3/3 db members Ready`, async () => {
    const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app.kubernetes.io/component=db', '-o', 'json'])) as {
      items: { metadata: { name: string; deletionTimestamp?: string }; status: { containerStatuses?: { name: string; ready: boolean }[] } }[];
    };
    const ready = pods.items.filter((p) => !p.metadata.deletionTimestamp && p.status.containerStatuses?.find((c) => c.name === 'mariadb')?.ready === true);
    return ready.length === MEMBERS.length || undefined;
  }, 300_000);
  for (const pod of MEMBERS) {
    const m = await eventually(`${what}: ${pod} answers SQL`, () => memberState(pod), 60_000);
    assert.equal(m.state, 'Synced', `${pod} is Synced`);
    assert.equal(m.size, 3, `${pod} sees a cluster of 3`);
    const missing = acked.filter((id) => !m.ids.has(id));
    assert.deepEqual(missing.slice(0, 20), [], `${what}: ${pod} lost ${missing.length} of ${acked.length} acknowledged rows`);
  }
}

async function drill(victims: readonly string[], what: string, from: number): Promise<void> {
  // The writer runs in a member that is deleted, so it writes right up to the moment its server stops.
  const writer = startWriter('web-webstack-db-1', from);
  await eventually(`${what}: the writer to get rows acknowledged`, () => Promise.resolve(writer.acked.length >= 20 ? true : undefined), 60_000);
  await kubectl(['delete', 'pod', ...victims, '--wait=false']);
  await writer.done;
  assert.ok(writer.acked.length >= 20, `${what}: rows acknowledged before the delete`);
  await sleep(2000);
  await assertWholeWithRows(writer.acked, what);
}

describe('Galera drills on the local cluster (delete one member pod, delete every member pod)', { timeout: 25 * 60_000 }, () => {
  before(async () => {
    kubectlBin = (await ensureKubectlAndHelm(progress)).kubectl;
    result = await stackUp({ namespace: 'webstack', release: 'web', valuesFiles: [], clusterName: CLUSTER, baseDir, timeoutMs: 10 * 60_000, progress });
    result.page.stop();
    result.podwatch?.stop();
    await sql('web-webstack-db-0', 'CREATE DATABASE IF NOT EXISTS drill; CREATE TABLE IF NOT EXISTS drill.t (id INT PRIMARY KEY)');
  });
  after(() => leaveStack(own, result, progress));

  it('a deleted member pod comes back and rejoins; every acknowledged row is on all three members', async () => {
    await drill(['web-webstack-db-1'], 'delete one', 0);
  });

  it('every member pod deleted at once: the cluster recovers by itself, nothing acknowledged is lost', async () => {
    await drill(MEMBERS, 'delete all', 1_000_000);
  });

  it('every member pod deleted at once, again right after the recovery (a second full restart from the recovered state)', async () => {
    await drill(MEMBERS, 'delete all again', 2_000_000);
  });
});
