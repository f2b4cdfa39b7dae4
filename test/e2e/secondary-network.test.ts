// Secondary networks end to end on the local cluster: pods on web-1 and db-1 ask for a macvlan network
// with whereabouts IPAM (a NetworkAttachmentDefinition), get net1 with an address in its subnet (shown by
// the network-status annotation), reach each other across nodes over net1, and a MultiNetworkPolicy
// allowing only db↔db on 3306 is enforced on net1: the probed matrix equals the evaluator's. A control
// with the policy agent stopped shows the mismatch, so this test catches non-enforcement.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { controlPlaneDown, controlPlaneUp, type UpResult } from '../../src/cluster/control-plane.js';
import { defaultNodeSettings } from '../../src/cluster/nodes/cluster-nodes.js';
import { readState } from '../../src/cluster/state.js';
import { ensureKubectlAndHelm } from '../../src/setup/kubectl-layer.js';
import { run } from '../../src/util/exec.js';
import { stopDaemon } from '../../src/util/process.js';
import { createProgress } from '../../src/util/progress.js';
import { expectedMatrix, type Target } from '../../src/netpol/matrix.js';
import {
  attachedPods,
  multiNetworkModel,
  networkAddresses,
  type MultiNetworkPolicy,
} from '../../src/netpol/multinet.js';
import { podEndpoint } from '../../src/netpol/evaluator.js';
import { namespaceInfo } from '../../src/netpol/objects.js';
import { compareAndRender, resolveTargets, runProbes, type ProbeSource } from '../../src/netpol/probe.js';
import { inSubnet } from '../../src/cluster/addons/multinet.js';
import { eventually } from '../helpers/cluster.js';
import { e2eCluster } from '../helpers/e2e-cluster.js';

const NS = 'mn';
const NET = `${NS}/storage`;
const SUBNET = '10.78.1.0/24';
// The nodes group's shared cluster, or one of its own when the file runs alone.
const own = e2eCluster('multus-e2e');
const { name: NAME, baseDir } = own;
const progress = createProgress();
let kubectlBin = '';
let cluster: UpResult;

const kubectlRaw = (args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> =>
  run(kubectlBin, ['--kubeconfig', cluster.kubeconfig, ...args], {
    allowFailure: true,
    ...(input !== undefined ? { input } : {}),
  });
async function kubectl(args: string[], input?: string): Promise<string> {
  const res = await kubectlRaw(args, input);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr.trim()}`);
  return res.stdout;
}
const json = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;

const nad = {
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { name: 'storage', namespace: NS },
  spec: {
    config: JSON.stringify({
      cniVersion: '1.0.0',
      name: 'storage',
      type: 'macvlan',
      master: 'eth0',
      mode: 'bridge',
      ipam: { type: 'whereabouts', range: SUBNET },
    }),
  },
};

/** nginx listening on 80 and on 3306 (the "db" port), attached to the storage network. */
function pod(name: string, node: string, app: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app }, annotations: { 'k8s.v1.cni.cncf.io/networks': 'storage' } },
    spec: {
      nodeName: node,
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }],
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'nginx',
          image: 'kstack.local/nginx:local',
          imagePullPolicy: 'Never',
          ports: [{ containerPort: 80 }, { name: 'mysql', containerPort: 3306 }],
          volumeMounts: [{ name: 'conf', mountPath: '/etc/nginx/conf.d' }],
        },
      ],
      volumes: [{ name: 'conf', configMap: { name: 'listen-3306' } }],
    },
  };
}

const policy: MultiNetworkPolicy = {
  apiVersion: 'k8s.cni.cncf.io/v1beta1',
  kind: 'MultiNetworkPolicy',
  metadata: { name: 'db-only', namespace: NS, annotations: { 'k8s.v1.cni.cncf.io/policy-for': 'storage' } },
  spec: {
    podSelector: { matchLabels: { app: 'db' } },
    policyTypes: ['Ingress'],
    ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ protocol: 'TCP', port: 3306 }] }],
  },
};
// kubectl wants the wire name "from", not the client library's "_from".
const policyManifest = JSON.stringify(policy).replace('"_from"', '"from"');

const PODS = [
  { name: 'db-a', node: 'db-1', app: 'db' },
  { name: 'db-b', node: 'web-1', app: 'db' },
  { name: 'client', node: 'web-1', app: 'web' },
];
const sources: ProbeSource[] = PODS.map((p) => ({ namespace: NS, pod: p.name }));
const targets: Target[] = [
  { to: podEndpoint(NS, 'db-a'), port: 3306 },
  { to: podEndpoint(NS, 'db-b'), port: 3306 },
  { to: podEndpoint(NS, 'db-a'), port: 80 },
  { to: podEndpoint(NS, 'client'), port: 80 },
];

/** The evaluator's matrix for the objects now in the API, the probed one, and their comparison over net1. */
async function matrices(): Promise<ReturnType<typeof compareAndRender>> {
  const pods = (await json<{ items: V1Pod[] }>(['-n', NS, 'get', 'pods'])).items;
  const namespaces = (await json<{ items: V1Namespace[] }>(['get', 'namespaces'])).items.map(namespaceInfo);
  const policies = (await json<{ items: MultiNetworkPolicy[] }>(['-n', NS, 'get', 'multi-networkpolicies'])).items;
  const model = multiNetworkModel({ network: NET, namespaces, pods, policies });
  const expected = expectedMatrix(
    model,
    sources.map((s) => podEndpoint(s.namespace, s.pod)),
    targets,
  );
  // Targets are dialled at their net1 addresses: the probe runs over the secondary network only.
  const observed = await runProbes(kubectlRaw, sources, resolveTargets(targets, attachedPods(pods, NET)), {
    timeoutSeconds: 2,
  });
  return compareAndRender(expected, observed);
}

const cellsOpen = (r: ReturnType<typeof compareAndRender>): string =>
  r.comparison.cells.map((row) => row.map((c) => c.observed ?? '?').join(',')).join(' | ');

describe(
  'secondary network (multinet + whereabouts) and MultiNetworkPolicy across nodes',
  { timeout: 10 * 60_000 },
  () => {
    before(async () => {
      kubectlBin = (await ensureKubectlAndHelm(progress)).kubectl;
      cluster = await controlPlaneUp({ name: NAME, baseDir, nodes: defaultNodeSettings(3), progress });
      await kubectl(['create', 'namespace', NS]);
      await kubectl([
        '-n',
        NS,
        'create',
        'configmap',
        'listen-3306',
        '--from-literal=db.conf=server { listen 3306; return 200 "db\\n"; }',
      ]);
      await kubectl(
        ['apply', '-f', '-'],
        [nad, ...PODS.map((p) => pod(p.name, p.node, p.app))].map((o) => JSON.stringify(o)).join('\n'),
      );
      await kubectl(['-n', NS, 'wait', '--for=condition=Ready', '--timeout=120s', 'pod', ...PODS.map((p) => p.name)]);
    });
    after(async () => {
      if (own.shared) {
        await kubectl(['delete', 'namespace', NS, '--wait=true', '--timeout=120s']).catch(() => undefined);
        return;
      }
      await controlPlaneDown({ name: NAME, baseDir, progress }).catch(() => undefined);
      own.removeFolder();
    });

    it(
      'gives each pod net1 with an address in the subnet, ' + 'shown in network-status, and leaves eth0 as before',
      async () => {
        const pods = (await json<{ items: V1Pod[] }>(['-n', NS, 'get', 'pods'])).items;
        const seen = new Set<string>();
        for (const p of pods) {
          const ips = networkAddresses(p, NET);
          assert.equal(
            ips.length,
            1,
            `${p.metadata?.name ?? ''} has one net1 ` +
              `address: ${p.metadata?.annotations?.['k8s.v1.cni.cncf.io/network-status'] ?? 'no network-status'}`,
          );
          assert.ok(inSubnet(ips[0] ?? '', SUBNET), `${ips[0] ?? ''} is in ${SUBNET}`);
          assert.ok(!seen.has(ips[0] ?? ''), 'addresses are unique across nodes (cluster-wide IPAM)');
          seen.add(ips[0] ?? '');
          const status = JSON.parse(p.metadata?.annotations?.['k8s.v1.cni.cncf.io/network-status'] ?? '[]') as {
            name: string;
            interface?: string;
            default?: boolean;
            ips?: string[];
          }[];
          assert.deepEqual(
            status.map((s) => [s.interface, s.default === true]),
            [
              ['eth0', true],
              ['net1', false],
            ],
          );
          assert.equal(status[0]?.ips?.[0], p.status?.podIP, 'the default network entry is the pod IP');
          // Inside the pod, net1 really carries that address.
          const addr = await kubectl(['-n', NS, 'exec', p.metadata?.name ?? '', '--', 'cat', '/proc/net/fib_trie']);
          assert.ok(
            addr.includes(ips[0] ?? ''),
            `the address ${ips[0] ?? ''} is configured inside ${p.metadata?.name ?? ''}`,
          );
        }
        const nodes = new Set(pods.map((p) => p.spec?.nodeName));
        assert.deepEqual([...nodes].sort(), ['db-1', 'web-1']);
      },
    );

    it('connects pods on different nodes over net1 (no policy: every cell open)', async () => {
      const r = await matrices();
      console.log(`net1, no policy:\n${r.table}`);
      assert.ok(r.comparison.ok, `expected all open:\n${r.differences}`);
      assert.equal(r.comparison.summary.match, sources.length * targets.length);
    });

    it(
      'control: with the policy agent stopped, ' + 'a MultiNetworkPolicy is not enforced and the comparison shows it',
      async () => {
        const state = readState(join(baseDir, NAME, 'state.json'));
        for (const node of state?.nodes ?? []) {
          const agent = node.components['multinet-policy'];
          assert.ok(agent, `multinet-policy runs on ${node.name}`);
          await stopDaemon(agent.pid, agent.binary);
        }
        await kubectl(['apply', '-f', '-'], policyManifest);
        await new Promise((resolve) => setTimeout(resolve, 3000));
        const r = await matrices();
        console.log(`net1, policy applied, agent stopped (control):\n${r.table}\n${r.differences}`);
        assert.ok(!r.comparison.ok, 'non-enforcement must show up as a difference');
        assert.ok(
          r.comparison.diffs.some(
            (d) =>
              d.row === `${NS}/client` &&
              d.column === `${NS}/db-a:3306` &&
              d.expected === 'closed' &&
              d.observed === 'open',
          ),
        );
      },
    );

    it(
      'enforces db↔db only on 3306: client→db:3306 and db→db:80 closed, ' + 'db↔db:3306 open; expected equals observed',
      async () => {
        // `up` again starts the stopped agents (and nothing else): the resume path.
        cluster = await controlPlaneUp({ name: NAME, baseDir, progress });
        const r = await eventually(
          'the MultiNetworkPolicy to be enforced on net1',
          async () => {
            const m = await matrices();
            return m.comparison.ok ? m : undefined;
          },
          60_000,
        );
        console.log(`net1, policy db-only enforced:\n${r.table}`);
        const cell = (row: string, col: string): string | undefined =>
          r.comparison.cells[r.comparison.rows.indexOf(`${NS}/${row}`)]?.[r.comparison.columns.indexOf(`${NS}/${col}`)]
            ?.observed;
        assert.equal(cell('db-b', 'db-a:3306'), 'open');
        assert.equal(cell('db-a', 'db-b:3306'), 'open');
        assert.equal(cell('client', 'db-a:3306'), 'closed');
        assert.equal(cell('client', 'db-b:3306'), 'closed');
        assert.equal(cell('db-b', 'db-a:80'), 'closed');
        assert.equal(cell('db-a', 'client:80'), 'open');
        assert.equal(r.comparison.summary.mismatch, 0, cellsOpen(r));
      },
    );

    it('leaves the pod network (eth0) alone: the client still reaches db-a:3306 at its pod IP', async () => {
      const dbA = await json<V1Pod>(['-n', NS, 'get', 'pod', 'db-a']);
      const out = await kubectl([
        '-n',
        NS,
        'exec',
        'client',
        '--',
        'bash',
        '-c',
        `exec 3<>/dev/tcp/${dbA.status?.podIP ?? ''}/3306 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`,
      ]);
      assert.match(out, /db/);
    });
  },
);
