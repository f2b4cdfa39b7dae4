// The pure judges behind each prove row: from what the cluster reported (objects written out here, as
// kubectl would return them) to the problems found. The I/O around them is covered by test/e2e/prove.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import type { K8sObject } from '../../../src/chart/manifests.js';
import { parseCidr, type Cidr } from '../../../src/netpol/cidr.js';
import { expectedMatrix } from '../../../src/netpol/matrix.js';
import { buildModel, podEndpoint } from '../../../src/netpol/evaluator.js';
import { judgeNodes, nodeFacts } from '../../../src/prove/requirements/r1-nodes.js';
import { judgeGalera, type MemberFacts } from '../../../src/prove/requirements/r2-galera.js';
import { judgeLoad, judgeMarker, proveSnippet } from '../../../src/prove/requirements/r3-nginx.js';
import { judgeOwnPage, judgeServiceAnswers } from '../../../src/prove/requirements/r4-page.js';
import { engineOf, judgeDbIsolation } from '../../../src/prove/requirements/r5-reachability.js';
import {
  galeraPortOf,
  judgeMultinet,
  requestedNetworks,
  subnetOfConfig,
  type MemberNet,
} from '../../../src/prove/requirements/r7-multinet.js';
import type { TcpConnection } from '../../../src/netpol/proc-net.js';
import { judgePlacement, nodeInfo, termMatches, tolerates } from '../../../src/prove/requirements/r8-placement.js';
import { judgeEvents, parseSse, type SeenEvent } from '../../../src/prove/requirements/r9-podwatch.js';
import { unsettledReason } from '../../../src/prove/requirements/settle.js';
import { judgeOwnership } from '../../../src/prove/requirements/r10-helm.js';
import { parseHttp } from '../../../src/prove/requirements/stack.js';

const node = (
  name: string,
  ready: boolean,
  labels: Record<string, string> = {},
  taints: V1Node['spec'] = {},
): V1Node => ({
  metadata: { name, labels },
  spec: taints,
  status: {
    conditions: [
      { type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'KubeletNotReady' },
    ],
    nodeInfo: { kubeletVersion: 'v1.35.0' } as NonNullable<V1Node['status']>['nodeInfo'],
  },
});

describe('R1 nodes', () => {
  it('passes when every node is Ready, naming the kubelet versions', () => {
    const v = judgeNodes([node('web-1', true), node('db-1', true)].map(nodeFacts), { dbNodesAtLeast: 1 });
    assert.equal(v.status, 'pass');
    assert.match(v.reason, /2 nodes Ready \(kubelet v1\.35\.0\)/);
  });
  it('fails on a NotReady node or on no nodes', () => {
    assert.match(
      judgeNodes([node('web-1', true), node('db-2', false)].map(nodeFacts), { dbNodesAtLeast: 1 }).reason,
      /node db-2 is not Ready: False \(KubeletNotReady\)/,
    );
    assert.equal(judgeNodes([], { dbNodesAtLeast: 0 }).status, 'fail');
  });
});

describe('R10 helm ownership', () => {
  const obj = (kind: string, name: string, owned = true): K8sObject => ({
    apiVersion: 'v1',
    kind,
    metadata: {
      name,
      labels: owned ? { 'app.kubernetes.io/managed-by': 'Helm' } : {},
      annotations: owned ? { 'meta.helm.sh/release-name': 'web', 'meta.helm.sh/release-namespace': 'webstack' } : {},
    },
  });
  it('no problems when every manifest object is live and owned', () => {
    assert.deepEqual(
      judgeOwnership(
        [obj('Service', 'a'), obj('ConfigMap', 'b')],
        [obj('ConfigMap', 'b'), obj('Service', 'a')],
        'web',
        'webstack',
      ),
      [],
    );
  });
  it('names missing objects and missing or foreign ownership marks', () => {
    const p = judgeOwnership(
      [obj('Service', 'a'), obj('ConfigMap', 'b')],
      [obj('Service', 'a', false)],
      'web',
      'webstack',
    );
    assert.deepEqual(p, [
      'Service/a lacks app.kubernetes.io/managed-by=Helm',
      'Service/a has meta.helm.sh/release-name=(none), not web',
      'Service/a has meta.helm.sh/release-namespace=(none), not webstack',
      "ConfigMap/b is in the release's manifest but not in the cluster",
    ]);
  });
});

describe('R2 Galera', () => {
  const m = (pod: string, size: string, state = 'Synced', phase = 'Bound'): MemberFacts => ({
    pod,
    ready: true,
    wsrep: { wsrep_cluster_size: size, wsrep_local_state_comment: state, wsrep_cluster_status: 'Primary' },
    pvcs: [{ name: `data-${pod}`, phase }],
  });
  it('a whole cluster: size = replicas, all Synced, PVCs Bound', () => {
    assert.deepEqual(judgeGalera([m('db-0', '3'), m('db-1', '3'), m('db-2', '3')], 3), []);
  });
  it('names a short cluster, a Donor member and a Pending PVC', () => {
    assert.deepEqual(judgeGalera([m('db-0', '2'), m('db-1', '2', 'Donor/Desynced', 'Pending')], 3), [
      '2 db pods, expected 3',
      'db-0 reports wsrep_cluster_size=2, expected 3',
      'db-1 reports wsrep_cluster_size=2, expected 3',
      'db-1 is Donor/Desynced, not Synced',
      "db-1's PVC data-db-1 is Pending, not Bound",
    ]);
  });
});

describe('R3 nginx', () => {
  it("the marker is the custom config's /healthz answering ok", () => {
    assert.deepEqual(judgeMarker('w', parseHttp('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n')), []);
    assert.match(
      judgeMarker('w', parseHttp('HTTP/1.1 404 Not Found\r\n\r\n<html>'))[0] ?? '',
      /not the custom config's 200 'ok'/,
    );
    assert.match(judgeMarker('w', undefined)[0] ?? '', /did not answer/);
  });
  it('load: any non-2xx or unanswered request fails the rollout; too few requests too', () => {
    assert.deepEqual(judgeLoad({ sent: 3000, byStatus: { 200: 3000 }, errors: 0, failures: [] }, 60, 50), []);
    assert.match(
      judgeLoad(
        { sent: 3000, byStatus: { 200: 2998, 502: 1 }, errors: 1, failures: ['HTTP 502', 'ECONNRESET'] },
        60,
        50,
      )[0] ?? '',
      /2 of 3000 requests failed.*HTTP 502; ECONNRESET/,
    );
    assert.match(
      judgeLoad({ sent: 100, byStatus: { 200: 100 }, errors: 0, failures: [] }, 60, 50)[0] ?? '',
      /only 100 requests/,
    );
  });
  it('the config change keeps existing server directives and adds the token location', () => {
    assert.equal(proveSnippet('', 't1'), 'location = /kstack-prove { default_type text/plain; return 200 "t1"; }');
    assert.match(proveSnippet('gzip off;', 't1'), /^gzip off;\nlocation = \/kstack-prove/);
  });
});

describe('R4 page', () => {
  const page = (body: string) => parseHttp(`HTTP/1.1 200 OK\r\n\r\n${body}`);
  it("a replica's own page must show its IP and Host- + the last 5 characters of its name", () => {
    const fields = (ip: string, host: string): string =>
      `<h1>Served by <span class="serving-host" data-field="serving-host">` +
      `${host}</span></h1><dd><code data-field="pod-ip">${ip}</code></dd>`;
    assert.deepEqual(
      judgeOwnPage('web-webstack-web-7d9f-k8x2p', '10.244.1.5', page(fields('10.244.1.5', 'Host-k8x2p'))),
      [],
    );
    assert.deepEqual(
      judgeOwnPage('web-webstack-web-7d9f-k8x2p', '10.244.1.5', page(fields('10.244.1.6', 'Host-zzzzz'))),
      [
        'web-webstack-web-7d9f-k8x2p: its page shows pod IP 10.244.1.6, its pod IP is 10.244.1.5',
        'web-webstack-web-7d9f-k8x2p: its page does not show Host-k8x2p (serving-host field: Host-zzzzz)',
      ],
    );
  });
  it('through the Service: every replica must answer, as itself, with live data', () => {
    const replicas = new Map([
      ['w-aaaaa', '10.0.0.1'],
      ['w-bbbbb', '10.0.0.2'],
    ]);
    const ok = (name: string, ip: string) => ({
      pod: { name, ip },
      servingHost: `Host-${name.slice(-5)}`,
      data: { source: 'mariadb', ok: true },
    });
    assert.deepEqual(judgeServiceAnswers(replicas, [ok('w-aaaaa', '10.0.0.1'), ok('w-bbbbb', '10.0.0.2')], true), []);
    assert.deepEqual(
      judgeServiceAnswers(
        replicas,
        [ok('w-aaaaa', '10.0.0.1'), { ...ok('w-aaaaa', '10.0.0.1'), data: { ok: false, message: 'db down' } }],
        true,
      ),
      ['w-aaaaa shows no live database data: db down', 'replica w-bbbbb never answered through the Service'],
    );
    assert.deepEqual(
      judgeServiceAnswers(
        replicas,
        [{ ...ok('w-aaaaa', '10.0.0.1'), servingHost: 'Host-xxxxx' }, ok('w-bbbbb', '10.0.0.2')],
        false,
      ),
      ['w-aaaaa reports serving-host Host-xxxxx, expected Host-aaaaa'],
    );
  });
  it('parses raw HTTP answers; garbage is no answer', () => {
    const a = parseHttp('HTTP/1.1 503 Service Unavailable\r\nX-A: b\r\n\r\nbody');
    assert.deepEqual(a, { status: 503, headers: { 'x-a': 'b' }, body: 'body' });
    assert.equal(parseHttp('bash: connect: Connection refused'), undefined);
  });
});

describe('R5 reachability', () => {
  const pod = (name: string, component: string, ip: string) => ({
    namespace: 'ns',
    name,
    labels: { 'app.kubernetes.io/component': component },
    ips: [ip],
    ports: [{ port: 3306 }],
  });
  const pods = [
    pod('web-a', 'web', '10.0.0.1'),
    pod('pw-a', 'podwatch', '10.0.0.2'),
    pod('db-0', 'db', '10.0.0.3'),
    pod('db-1', 'db', '10.0.0.4'),
  ];
  const components = new Map(pods.map((p) => [`ns/${p.name}`, p.labels['app.kubernetes.io/component']]));
  const dbOnlyFromWeb = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: 'ns', name: 'db' },
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/component': 'db' } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/component': 'web' } } }], ports: [{ port: 3306 }] },
      ],
    },
  };
  const matrix = (policies: object[]) =>
    expectedMatrix(
      buildModel({ namespaces: [{ name: 'ns' }], pods, policies }),
      pods.map((p) => podEndpoint('ns', p.name)),
      [{ to: podEndpoint('ns', 'db-0'), port: 3306 }],
    );
  it('policies that let only web reach the db pass; db peers are not judged', () => {
    assert.deepEqual(judgeDbIsolation(matrix([dbOnlyFromWeb]), components, ['ns/db-0:3306']), []);
  });
  it('no policy: every other source may reach the db, which is named', () => {
    assert.deepEqual(
      judgeDbIsolation(matrix([]), components, ['ns/db-0:3306']).map((p) => p.split(' (')[0]),
      ['the policies allow ns/pw-a → ns/db-0:3306'],
    );
  });
  it('known engines by agent pod or ClusterRole name', () => {
    assert.equal(engineOf('calico-node-x7k2p'), 'calico-node');
    assert.equal(engineOf('kube-router'), 'kube-router');
    assert.equal(engineOf('kstack:kube-router'), 'kube-router');
    assert.equal(engineOf('coredns-abc'), undefined);
  });
});

describe('R7 secondary network', () => {
  const subnet = parseCidr('10.99.0.0/24') as Cidr;
  const conn = (l: string, lp: number, r: string, rp: number): TcpConnection => ({
    local: { ip: l, port: lp },
    remote: { ip: r, port: rp },
    state: 'ESTABLISHED',
  });
  const healthy = (): MemberNet[] => [
    {
      pod: 'db-0',
      net1: ['10.99.0.10'],
      nodeAddress: '10.99.0.10',
      incoming: '10.99.0.10:3306,10.99.0.11:3306',
      galera: [conn('10.99.0.10', 4567, '10.99.0.11', 51000)],
      istAddress: '10.99.0.10:4568',
      sstAddress: '10.99.0.10:4444',
    },
    {
      pod: 'db-1',
      net1: ['10.99.0.11'],
      nodeAddress: '10.99.0.11',
      incoming: '10.99.0.10:3306,10.99.0.11:3306',
      galera: [conn('10.99.0.11', 51000, '10.99.0.10', 4567)],
      istAddress: '10.99.0.11:4568',
      sstAddress: '10.99.0.11:4444',
    },
  ];
  it('db members with net1 in the subnet whose Galera connections join their net1 addresses pass', () => {
    assert.deepEqual(judgeMultinet(healthy(), subnet, '10.99.0.0/24'), []);
  });
  it('no net1, or Galera on the pod network, fails', () => {
    assert.deepEqual(
      judgeMultinet(
        [
          { pod: 'db-0', net1: [], nodeAddress: '10.244.1.4', incoming: '10.244.1.4:3306', galera: [] },
          { pod: 'db-1', net1: [], nodeAddress: '', incoming: '' },
        ],
        subnet,
        '10.99.0.0/24',
      ),
      [
        'db-0 has no net1 interface (no secondary network attached)',
        "db-0's Galera replication address wsrep_node_address=10.244.1.4 is not in 10.99.0.0/24",
        'db-0 sees wsrep_incoming_addresses outside 10.99.0.0/24: 10.244.1.4:3306',
        'db-0 receives incremental state transfer (ist.recv_addr) at (unset), not at its net1 address',
        'db-0 receives snapshot state transfer (wsrep_sst_receive_address) at (unset), not at its net1 address',
        'db-0 has no established Galera connection to any peer',
        'db-1 has no net1 interface (no secondary network attached)',
        "db-1's Galera replication address wsrep_node_address=(unset) is not in 10.99.0.0/24",
        'db-1 receives incremental state transfer (ist.recv_addr) at (unset), not at its net1 address',
        'db-1 receives snapshot state transfer (wsrep_sst_receive_address) at (unset), not at its net1 address',
        'db-1: its TCP connections could not be read, so Galera traffic over net1 is not shown',
      ],
    );
  });
  it('configured for net1 but talking over eth0 fails on the connections alone', () => {
    // The configuration looks right; a peer was dialled at its pod IP (its DNS name), so the traffic runs on eth0.
    const members = healthy();
    (members[0] as MemberNet).galera = [
      conn('10.99.0.10', 4567, '10.99.0.11', 51000),
      conn('10.244.1.4', 4567, '10.244.2.7', 40100),
    ];
    (members[1] as MemberNet).galera = [
      conn('10.99.0.11', 51000, '10.99.0.10', 4567),
      conn('10.99.0.11', 51001, '10.99.0.99', 4567),
    ];
    assert.deepEqual(judgeMultinet(members, subnet, '10.99.0.0/24'), [
      'db-0 talks Galera outside 10.99.0.0/24 (not over net1): 10.244.1.4:4567 ↔ 10.244.2.7:40100',
      'db-1 has a Galera connection 10.99.0.11:51001 ↔ 10.99.0.99:4567 ' +
        "that is not between its net1 address and another member's",
    ]);
  });
  it("takes the Galera port from the pod (the mariadb container's port named galera), 4567 otherwise", () => {
    const pod = (ports: { name: string; containerPort: number }[]): V1Pod => ({
      spec: { containers: [{ name: 'mariadb', ports }] },
    });
    assert.equal(
      galeraPortOf(
        pod([
          { name: 'mysql', containerPort: 3306 },
          { name: 'galera', containerPort: 14567 },
        ]),
      ),
      14567,
    );
    assert.equal(galeraPortOf(pod([])), 4567);
  });
  it('reads the subnet from whereabouts or host-local IPAM and the requested networks from the annotation', () => {
    assert.equal(
      subnetOfConfig('{"type":"macvlan","ipam":{"type":"whereabouts","range":"10.99.0.0/24"}}'),
      '10.99.0.0/24',
    );
    assert.equal(
      subnetOfConfig(
        '{"plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.98.0.0/24"}]]}}]}',
      ),
      '10.98.0.0/24',
    );
    assert.equal(subnetOfConfig('not json'), undefined);
    const p = (v: string): V1Pod => ({ metadata: { annotations: { 'k8s.v1.cni.cncf.io/networks': v } } });
    assert.deepEqual(requestedNetworks(p('galera-net')), [{ name: 'galera-net' }]);
    assert.deepEqual(requestedNetworks(p('other/galera-net@eth9')), [{ namespace: 'other', name: 'galera-net' }]);
    assert.deepEqual(requestedNetworks(p('[{"name":"galera-net","namespace":"x"}]')), [
      { name: 'galera-net', namespace: 'x' },
    ]);
  });
});

describe('R8 placement', () => {
  const taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
  const nodes = [
    nodeInfo({ metadata: { name: 'web-1', labels: { 'node-role.kstack.io/web': '' } } }),
    nodeInfo({ metadata: { name: 'db-1', labels: { 'node-role.kstack.io/db': '' } }, spec: { taints: [taint] } }),
  ];
  const pod = (name: string, nodeName: string | undefined, spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod => ({
    metadata: { name },
    spec: { containers: [], ...(nodeName ? { nodeName } : {}), ...spec },
    status: {
      phase: nodeName ? 'Running' : 'Pending',
      conditions: nodeName
        ? []
        : [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available' }],
    },
  });
  const tolerateDb = { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] };
  it('a db pod tolerating the taint on a db node, a web pod on the web node: fine', () => {
    assert.deepEqual(judgePlacement([pod('db-0', 'db-1', tolerateDb), pod('web-a', 'web-1')], nodes), []);
  });
  it('a pod on a tainted node without the toleration, against its nodeSelector, or unscheduled fails', () => {
    assert.deepEqual(
      judgePlacement(
        [
          pod('web-a', 'db-1'),
          pod('web-b', 'db-1', { ...tolerateDb, nodeSelector: { 'node-role.kstack.io/web': '' } }),
          pod('db-0', undefined),
        ],
        nodes,
      ),
      [
        'pod web-a: node db-1 has taint dedicated=db:NoSchedule, which the pod does not tolerate',
        'pod web-b: nodeSelector node-role.kstack.io/web= but node db-1 has node-role.kstack.io/web=(unset)',
        'pod db-0 is not scheduled (Unschedulable: 0/2 nodes are available)',
      ],
    );
  });
  it('required node affinity terms are ORed, their expressions ANDed', () => {
    const db = nodes[1];
    assert.ok(db);
    assert.equal(termMatches({ matchExpressions: [{ key: 'node-role.kstack.io/db', operator: 'Exists' }] }, db), true);
    assert.equal(
      termMatches(
        {
          matchExpressions: [
            { key: 'node-role.kstack.io/db', operator: 'Exists' },
            { key: 'x', operator: 'In', values: ['1'] },
          ],
        },
        db,
      ),
      false,
    );
    assert.equal(termMatches({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['db-1'] }] }, db), true);
    assert.equal(termMatches({}, db), false);
    const aff = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kstack.io/web', operator: 'Exists' }] }],
          },
        },
      },
    };
    assert.match(
      judgePlacement([pod('db-0', 'db-1', { ...aff, ...tolerateDb })], nodes)[0] ?? '',
      /matches none of the required node affinity terms/,
    );
  });
  it('tolerations: Exists with no key tolerates all; effect and value must match', () => {
    assert.equal(tolerates({ operator: 'Exists' }, taint), true);
    assert.equal(tolerates({ key: 'dedicated', operator: 'Exists' }, taint), true);
    assert.equal(tolerates({ key: 'dedicated', operator: 'Equal', value: 'web' }, taint), false);
    assert.equal(tolerates({ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoExecute' }, taint), false);
  });
});

describe('R9 podwatch events', () => {
  it('splits an SSE stream into data payloads, keeping the incomplete tail', () => {
    const { data, rest } = parseSse('retry: 2000\n\nid: 1\nevent: pod\ndata: {"a":1}\n\n: ping\n\nid: 2\ndata: {"b"');
    assert.deepEqual(data, ['{"a":1}']);
    assert.equal(rest, 'id: 2\ndata: {"b"');
  });
  it('latency = first matching event after the action; late or missing events are problems', () => {
    const e = (
      type: SeenEvent['type'],
      pod: string,
      arrived: number,
      changes: SeenEvent['changes'] = [],
    ): SeenEvent => ({ type, pod, arrived, changes, via: 'pw-0' });
    const events = [
      e('created', 'w-old', 500),
      e('created', 'w-new', 1300),
      e('updated', 'w-a', 2900, [{ field: 'label.kstack-prove', to: 'v1' }]),
    ];
    const { problems, latencies } = judgeEvents(events, [
      { key: 'createdMs', what: 'created', match: (x) => x.type === 'created', after: 1000, withinMs: 5000 },
      {
        key: 'updatedMs',
        what: 'label update',
        match: (x) => x.changes.some((c) => c.field === 'label.kstack-prove'),
        after: 2000,
        withinMs: 500,
      },
      { key: 'deletedMs', what: 'deleted', match: (x) => x.type === 'deleted', after: 3000, withinMs: 5000 },
    ]);
    assert.deepEqual(latencies, { createdMs: 300, updatedMs: 900 });
    assert.deepEqual(problems, [
      'podwatch reported label update after 0.9 s (allowed 1 s)',
      'podwatch reported no deleted',
    ]);
  });
  it('waits for a quiet Deployment: a rollout still running or pods still terminating are named', () => {
    const dep = (status: V1Deployment['status'], generation = 2): V1Deployment => ({
      metadata: { name: 'w', generation },
      spec: { replicas: 2, selector: {}, template: {} },
      status,
    });
    const pod = (name: string, ready: boolean, terminating = false): V1Pod => ({
      metadata: { name, ...(terminating ? { deletionTimestamp: new Date() } : {}) },
      status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
    const done = { observedGeneration: 2, updatedReplicas: 2 };
    assert.equal(unsettledReason(dep(done), [pod('a', true), pod('b', true)]), undefined);
    assert.equal(
      unsettledReason(dep({ observedGeneration: 1, updatedReplicas: 2 }), [pod('a', true), pod('b', true)]),
      'the Deployment controller has not seen the latest spec',
    );
    assert.equal(
      unsettledReason(dep({ observedGeneration: 2, updatedReplicas: 1 }), [pod('a', true), pod('b', true)]),
      '1 of 2 replicas updated',
    );
    assert.equal(
      unsettledReason(dep(done), [pod('a', true), pod('b', true), pod('old', false, true)]),
      '1 pod(s) still terminating (old)',
    );
    assert.equal(unsettledReason(dep(done), [pod('a', true), pod('b', false)]), '1 of 2 pods Ready');
    assert.equal(unsettledReason(dep(done), [pod('a', true)]), '1 pods for 2 replicas');
  });
});
