// The Docker-free local cluster, end to end: `kstack cluster up` gives 3 Ready nodes that run real pods,
// with pod networking across nodes, Service DNS, persistent volumes, placement rules, recovery from a
// dead kubelet or containerd, and a `down` that leaves nothing behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlPlaneDown, restartNode, startNodeOnDemand, stopNodeOnDemand } from '../../src/cluster/control-plane.js';
import { nodeProcesses } from '../../src/cluster/nodes/node-faults.js';
import { readState } from '../../src/cluster/state.js';
import { createProgress } from '../../src/util/progress.js';
import { eventually } from '../helpers/cluster.js';
import { assertNothingLeft, LocalTestCluster } from '../helpers/local-cluster.js';

const progress = createProgress();
// Not useLocalCluster: the last test takes this cluster down and brings it up again itself.
const cluster = new LocalTestCluster('e2e', progress);
const { baseDir, name: NAME } = cluster;
const kubectl = (args: string[], input?: string): Promise<string> => cluster.kubectl(args, input);
const applyYaml = (yaml: string): Promise<string> => kubectl(['apply', '-f', '-'], yaml);
const json = <T>(args: string[]): Promise<T> => cluster.json<T>(args);

interface PodList {
  items: {
    metadata: { name: string; labels?: Record<string, string> };
    spec: { nodeName?: string };
    status: { phase: string; podIP?: string };
  }[];
}
interface NodeList {
  items: {
    metadata: { name: string; labels: Record<string, string> };
    spec: { taints?: { key: string; value: string; effect: string }[] };
    status: { conditions: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string } };
  }[];
}

const nodeReady = async (name: string): Promise<string> => {
  const node = await json<NodeList['items'][number]>(['get', 'node', name]);
  return node.status.conditions.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
};

/** An HTTP GET from inside a pod, with bash's /dev/tcp (the Debian images have no curl). */
// Each attempt is bounded: a SYN that went out before the Service's rules were in place keeps its
// conntrack entry, so the kernel's own retries of that connection can hang for two minutes; a new
// attempt gets a new source port.
const httpFromPod = (pod: string, host: string, path = '/'): Promise<string> =>
  kubectl([
    'exec',
    pod,
    '--',
    'timeout',
    '10',
    'bash',
    '-c',
    `exec 3<>/dev/tcp/${host}/80 && printf 'GET ${path} HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' >&3 && cat <&3`,
  ]);

describe('local cluster with nodes', { timeout: 15 * 60_000 }, () => {
  before(() => cluster.start());
  after(() => cluster.remove());

  it('has 3 Ready nodes with the roles, taints and version the placement rules rely on', async () => {
    const nodes = await json<NodeList>(['get', 'nodes']);
    const byName = new Map(nodes.items.map((n) => [n.metadata.name, n]));
    assert.deepEqual([...byName.keys()].sort(), ['db-1', 'db-2', 'web-1']);
    for (const n of nodes.items) {
      assert.equal(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True', `${n.metadata.name} Ready`);
      assert.equal(n.status.nodeInfo.kubeletVersion, 'v1.35.4');
    }
    assert.ok('node-role.kstack.io/web' in (byName.get('web-1')?.metadata.labels ?? {}));
    assert.deepEqual(byName.get('web-1')?.spec.taints ?? [], []);
    for (const db of ['db-1', 'db-2']) {
      assert.ok('node-role.kstack.io/db' in (byName.get(db)?.metadata.labels ?? {}));
      assert.deepEqual(byName.get(db)?.spec.taints, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]);
    }
  });

  it('serves nginx from one node to a pod on another, by Service name (DNS) and by pod IP', async () => {
    await applyYaml(`
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  nodeSelector: {kubernetes.io/hostname: web-1}
  containers: [{name: nginx, image: kstack.local/nginx:local, imagePullPolicy: Never, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeSelector: {kubernetes.io/hostname: db-1}
  tolerations: [{key: dedicated, value: db, effect: NoSchedule}]
  containers: [{name: c, image: kstack.local/nginx:local, imagePullPolicy: Never, command: [sleep, '3600']}]
`);
    await kubectl(['wait', '--for=condition=Ready', 'pod/web', 'pod/client', '--timeout=120s']);
    const pods = await json<PodList>(['get', 'pods']);
    const web = pods.items.find((p) => p.metadata.name === 'web');
    assert.equal(web?.spec.nodeName, 'web-1');
    assert.equal(pods.items.find((p) => p.metadata.name === 'client')?.spec.nodeName, 'db-1');
    const byName = await eventually(
      'the Service to answer by name',
      async () => {
        const out = await httpFromPod('client', 'web.default.svc.cluster.local').catch(() => '');
        return out.startsWith('HTTP/1.1 200') ? out : undefined;
      },
      60_000,
    );
    assert.match(byName, /<title>Welcome to nginx!<\/title>/);
    const byIP = await httpFromPod('client', web?.status.podIP ?? '');
    assert.match(byIP, /^HTTP\/1\.1 200 OK/);
  });

  it("binds a PVC on the pod's node, and the data survives deleting the pod", async () => {
    const pod = (marker: string): string => `
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  tolerations: [{key: dedicated, value: db, effect: NoSchedule}]
  nodeSelector: {kubernetes.io/hostname: db-2}
  containers: [{name: c, image: kstack.local/nginx:local, imagePullPolicy: Never, command: [sh, -c, 'echo ${marker} >>\
 /data/log; sleep 3600'], volumeMounts: [{name: d, mountPath: /data}]}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
`;
    await applyYaml(`
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
${pod('first')}`);
    await kubectl(['wait', '--for=condition=Ready', 'pod/writer', '--timeout=120s']);
    const pvc = await json<{ status: { phase: string }; spec: { volumeName: string } }>(['get', 'pvc', 'data']);
    assert.equal(pvc.status.phase, 'Bound');
    const pv = await json<{
      spec: { nodeAffinity: { required: { nodeSelectorTerms: { matchExpressions: { values: string[] }[] }[] } } };
    }>(['get', 'pv', pvc.spec.volumeName]);
    assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0]?.matchExpressions[0]?.values, ['db-2']);

    await kubectl(['delete', 'pod', 'writer', '--grace-period=1', '--wait=true', '--timeout=60s']);
    await applyYaml(pod('second'));
    await kubectl(['wait', '--for=condition=Ready', 'pod/writer', '--timeout=120s']);
    const log = await eventually('both markers in the volume', async () => {
      const out = await kubectl(['exec', 'writer', '--', 'cat', '/data/log']);
      return out.includes('second') ? out : undefined;
    });
    assert.equal(log, 'first\nsecond\n');
  });

  it(
    'spreads a Deployment with required anti-affinity over ' + 'all 3 nodes, and keeps untolerating pods off db nodes',
    async () => {
      await applyYaml(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 3
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      tolerations: [{key: dedicated, value: db, effect: NoSchedule}]
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: spread}},\
 topologyKey: kubernetes.io/hostname}]
      containers: [{name: c, image: kstack.local/pause:local, imagePullPolicy: Never}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: plain}
spec:
  replicas: 4
  selector: {matchLabels: {app: plain}}
  template:
    metadata: {labels: {app: plain}}
    spec:
      containers: [{name: c, image: kstack.local/pause:local, imagePullPolicy: Never}]
`);
      await kubectl(['rollout', 'status', 'deployment/spread', 'deployment/plain', '--timeout=120s']);
      const pods = await json<PodList>(['get', 'pods']);
      const nodesOf = (app: string): string[] =>
        pods.items.filter((p) => p.metadata.labels?.app === app).map((p) => p.spec.nodeName ?? '');
      assert.deepEqual(nodesOf('spread').sort(), ['db-1', 'db-2', 'web-1']);
      assert.deepEqual(
        [...new Set(nodesOf('plain'))],
        ['web-1'],
        'pods without the toleration never land on a db node',
      );
    },
  );

  it('marks a node NotReady when its kubelet dies, and `node restart` brings it back', async () => {
    const state = readState(join(baseDir, NAME, 'state.json'));
    const kubelet = state?.nodes?.find((n) => n.name === 'db-2')?.components.kubelet;
    assert.ok(kubelet, 'db-2 kubelet is recorded');
    process.kill(kubelet.pid, 'SIGKILL');
    await eventually('db-2 NotReady', async () => ((await nodeReady('db-2')) !== 'True' ? true : undefined), 120_000);
    cluster.use(await restartNode({ name: NAME, baseDir, node: 'db-2', progress }));
    assert.equal(await nodeReady('db-2'), 'True');
  });

  it('survives a dead containerd the same way', async () => {
    const state = readState(join(baseDir, NAME, 'state.json'));
    const containerd = state?.nodes?.find((n) => n.name === 'db-1')?.components.containerd;
    assert.ok(containerd);
    process.kill(containerd.pid, 'SIGKILL');
    await eventually(
      'db-1 NotReady (container runtime down)',
      async () => ((await nodeReady('db-1')) !== 'True' ? true : undefined),
      120_000,
    );
    cluster.use(await restartNode({ name: NAME, baseDir, node: 'db-1', progress }));
    assert.equal(await nodeReady('db-1'), 'True');
    // Its pods run again: the client pod from the DNS test answers.
    await kubectl(['wait', '--for=condition=Ready', 'pod/client', '--timeout=120s']);
  });

  it(
    '`node stop --mode freeze` stops every process of the ' +
      'node until `node start`; the node goes NotReady meanwhile',
    async () => {
      const stateFile = join(baseDir, NAME, 'state.json');
      const { processes } = await stopNodeOnDemand({ name: NAME, baseDir, node: 'db-1', mode: 'freeze', progress });
      try {
        const entry = readState(stateFile)?.nodes?.find((n) => n.name === 'db-1');
        assert.equal(entry?.fault?.mode, 'freeze', 'the state records the fault (cluster status shows it)');
        const pids = nodeProcesses(cluster.up.layout, entry, 'db-1');
        assert.ok(
          pids.length >= processes - 2 && pids.length > 5,
          `agents, shims and containers found (${pids.length})`,
        );
        // None runs while the node is frozen: T (stopped by SIGSTOP: agents, shims) or D (held by the
        // freezer cgroup: the containers).
        const states = pids.map((pid) => /\) (\S) /.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '?');
        assert.deepEqual(
          [...new Set(states)].filter((st) => st !== 'T' && st !== 'D'),
          [],
          `every process of the node is stopped (${states.join('')})`,
        );
        await assert.rejects(
          stopNodeOnDemand({ name: NAME, baseDir, node: 'db-1', mode: 'kill', progress }),
          /already stopped \(freeze.*kstack cluster node start db-1/,
        );
        await eventually(
          'db-1 NotReady while frozen',
          async () => ((await nodeReady('db-1')) !== 'True' ? true : undefined),
          120_000,
        );
      } finally {
        await startNodeOnDemand({ name: NAME, baseDir, node: 'db-1', progress });
      }
      assert.equal(await nodeReady('db-1'), 'True');
      assert.equal(readState(stateFile)?.nodes?.find((n) => n.name === 'db-1')?.fault, undefined);
      await kubectl(['wait', '--for=condition=Ready', 'pod/client', '--timeout=120s']);
    },
  );

  it(
    '`node stop --mode kill` kills the node at once (a power loss); ' + '`node start` brings it and its pods back',
    async () => {
      const killedAt = Math.floor(Date.now() / 1000) * 1000;
      await stopNodeOnDemand({ name: NAME, baseDir, node: 'db-1', mode: 'kill', progress });
      try {
        const entry = readState(join(baseDir, NAME, 'state.json'))?.nodes?.find((n) => n.name === 'db-1');
        assert.deepEqual(nodeProcesses(cluster.up.layout, entry, 'db-1'), [], 'no process of db-1 is left');
      } finally {
        await startNodeOnDemand({ name: NAME, baseDir, node: 'db-1', progress });
      }
      assert.equal(await nodeReady('db-1'), 'True');
      // Its container died with the node: the one running now was started after the kill.
      await eventually(
        'the client pod on db-1 running a container started after the kill',
        async () => {
          const pod = await json<{
            status: { containerStatuses?: { ready: boolean; state: { running?: { startedAt: string } } }[] };
          }>(['get', 'pod', 'client']);
          const c = pod.status.containerStatuses?.[0];
          const started = Date.parse(c?.state.running?.startedAt ?? '');
          return c?.ready && started >= killedAt ? true : undefined;
        },
        180_000,
      );
    },
  );

  it(
    '`down` removes every namespace, bridge, rule, mount, ' + 'cgroup, process and file; `up` after `down` works',
    async () => {
      await controlPlaneDown({ name: NAME, baseDir, progress });
      await assertNothingLeft(NAME, baseDir);

      await cluster.start();
      for (const n of ['web-1', 'db-1', 'db-2']) assert.equal(await nodeReady(n), 'True');
    },
  );
});
