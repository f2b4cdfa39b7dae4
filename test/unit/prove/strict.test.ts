// kstack prove is strict: each test here fails on a defect the prove-strictness issue found and passes on
// the behaviour that replaced it (a skip counted as green, a failed row shown with ✓, R8 passing any
// placement the scheduler accepts, R4 matching the IP as a substring, R6 printing RTO/RPO without judging
// them, R7 checking one port, rows judging a release still rolling out).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Node, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { verdictLine } from '../../../src/prove/report.js';
import { exitStatusOf, verdictOfRun } from '../../../src/prove/run.js';
import { judgeNodes, nodeFacts, nodeNeeds, requiresOnePerNode } from '../../../src/prove/requirements/r1-nodes.js';
import { nodeImageOf } from '../../../src/prove/requirements/in-cluster.js';
import { intentOf } from '../../../src/prove/requirements/release.js';
import { judgeOwnPage, pageFields } from '../../../src/prove/requirements/r4-page.js';
import { judgeObjectives } from '../../../src/prove/requirements/r6-backup.js';
import { istRecvAddress } from '../../../src/prove/requirements/r7-multinet.js';
import { judgeIntent, judgePlacement, nodeInfo } from '../../../src/prove/requirements/r8-placement.js';
import { releaseUnsettledReason, statefulSetUnsettledReason } from '../../../src/prove/requirements/settle.js';
import { parseHttp } from '../../../src/prove/requirements/stack.js';
import { fail, pass, skipped, type Requirement, type Verdict } from '../../../src/prove/requirements/types.js';
import {
  hostSourceNode,
  judgeOutside,
  outsideExpected,
  outsidePods,
  outsideSources,
  type DbTarget,
} from '../../../src/prove/requirements/outside.js';
import { podEndpoint, type Endpoint } from '../../../src/netpol/evaluator.js';
import type { ExpectedCell, Target } from '../../../src/netpol/matrix.js';
import { UserError } from '../../../src/util/errors.js';
import { createProgress } from '../../../src/util/progress.js';
import { runFake } from '../../helpers/prove-fakes.js';

const row = (id: string, v: Verdict): Requirement => ({
  id,
  title: `row ${id}`,
  checks: 'fake check (unit test)',
  mutates: false,
  check: () => Promise.resolve(v),
});
describe('skip is not pass', () => {
  it('a skipped row makes the run incomplete (exit 2); a failure wins (exit 1); an allowed skip is ok (exit 0)', () => {
    assert.equal(verdictOfRun([{ status: 'pass' }, { status: 'skipped' }]), 'incomplete');
    assert.equal(verdictOfRun([{ status: 'fail' }, { status: 'skipped' }]), 'failed');
    assert.equal(verdictOfRun([{ status: 'pass' }, { status: 'skipped', skipAllowed: true }]), 'ok');
    assert.deepEqual(
      ['ok', 'failed', 'incomplete'].map((v) => exitStatusOf(v as 'ok')),
      [0, 1, 2],
    );
  });

  it('the summary says INCOMPLETE, names the rows and how to accept the skip', () => {
    const line = verdictLine({
      kind: 'ProveReport',
      release: 'web',
      namespace: 'ns',
      cluster: 'c',
      startedAt: '',
      durationMs: 0,
      verdict: 'incomplete',
      ok: false,
      summary: { pass: 9, fail: 0, skipped: 1 },
      rows: [
        {
          id: 'R6',
          title: 't',
          checks: 'c',
          status: 'skipped',
          reason: 'backups off',
          evidence: [],
          measurements: {},
          artifacts: [],
          durationMs: 0,
        },
      ],
    });
    assert.match(line, /^INCOMPLETE: 9 passed, 0 failed, 1 skipped — R6 did not run to a verdict.*--allow-skip R6$/);
  });

  it('on screen a failed row closes with ✗ and a skipped one with ⊘, never ✓', async () => {
    let out = '';
    const sink = {
      write: (s: string) => {
        out += s;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    const progress = createProgress({ out: sink, isTTY: false });
    await runFake([row('R1', pass('fine')), row('R4', fail('wrong host')), row('R7', skipped('off'))], { progress });
    assert.match(out, /^✓ R1 row R1 \(/m);
    assert.match(out, /^✗ R4 row R4 — FAILED \(/m);
    assert.match(out, /^⊘ R7 row R7 — SKIPPED \(/m);
    assert.doesNotMatch(out, /✓ R4|✓ R7/);
  });

  it('a release that does not settle fails the row with the reason, before the check runs', async () => {
    let ran = false;
    const r: Requirement = {
      ...row('R4', pass('fine')),
      check: () => {
        ran = true;
        return Promise.resolve(pass('fine'));
      },
    };
    const report = await runFake([r], {
      settle: () => Promise.resolve("release 'web' did not settle within 5 min (web: 2 of 3 pods Ready)"),
    });
    assert.equal(ran, false);
    assert.equal(report.rows[0]?.status, 'fail');
    assert.match(report.rows[0]?.reason ?? '', /did not settle/);
  });
});

describe('the release intent (helm get values --all)', () => {
  it('takes the chart defaults for missing keys and reads what the values turn off', () => {
    const d = intentOf({});
    assert.deepEqual(
      [d.web.replicas, d.db.replicas, d.db.enabled, d.podwatch.enabled, d.backup.enabled, d.placement.preset],
      [3, 3, true, true, false, 'soft'],
    );
    assert.deepEqual(d.backup.objectives, { rtoSeconds: 600, rpoSeconds: 60 });
    const v = intentOf({
      db: { enabled: false },
      backup: { enabled: true, objectives: { rtoSeconds: 120 } },
      placement: { preset: 'hard' },
    });
    assert.equal(v.db.enabled, false);
    assert.equal(v.backup.enabled, false, 'no backups without a db');
    assert.equal(
      intentOf({ backup: { enabled: true, objectives: { rtoSeconds: 120 } } }).backup.objectives.rtoSeconds,
      120,
    );
  });
  it('refuses values it cannot read, naming the key', () => {
    assert.throws(
      () => intentOf({ web: { replicaCount: 'three' } }),
      (e: Error) => e instanceof UserError && /web\.replicaCount/.test(e.message),
    );
    assert.throws(
      () => intentOf({ placement: { preset: 'strict' } }),
      /placement\.preset is 'strict', expected soft, hard, ha or none/,
    );
  });
});

const node = (name: string, labels: Record<string, string>, taint = false): V1Node => ({
  metadata: { name, labels },
  spec: taint ? { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } : {},
  status: {
    conditions: [{ type: 'Ready', status: 'True' }],
    nodeInfo: { kubeletVersion: 'v1.35.0' } as NonNullable<V1Node['status']>['nodeInfo'],
  },
});
const WEB = 'node-role.kstack.io/web';
const DB = 'node-role.kstack.io/db';
const cluster = (): V1Node[] => [
  node('web-1', { [WEB]: '' }),
  node('db-1', { [DB]: '' }, true),
  node('db-2', { [DB]: '' }, true),
];

describe('R1: the nodes the placement needs, not just Ready ones', () => {
  it('one node fails even when Ready', () => {
    const v = judgeNodes([node('only', { [WEB]: '', [DB]: '' })].map(nodeFacts), nodeNeeds(intentOf({}), false));
    assert.equal(v.status, 'fail');
    assert.match(v.reason, /one node/);
  });
  it('a preset that targets role nodes needs a web-role node; one member per node needs as many db nodes', () => {
    const noWeb = judgeNodes([node('a', {}), node('b', { [DB]: '' })].map(nodeFacts), nodeNeeds(intentOf({}), false));
    assert.match(noWeb.reason, /no Ready, schedulable node has the web role label/);
    assert.equal(judgeNodes(cluster().map(nodeFacts), nodeNeeds(intentOf({}), false)).status, 'pass');
    const perMember = judgeNodes(cluster().map(nodeFacts), nodeNeeds(intentOf({}), true));
    assert.match(perMember.reason, /2 Ready, schedulable nodes with the db role label .*need 3/);
  });
  it('reads one-member-per-node from required anti-affinity on the hostname', () => {
    const sts = (required: boolean): V1StatefulSet => ({
      spec: {
        selector: {},
        serviceName: 'db',
        template: {
          spec: {
            containers: [],
            affinity: {
              podAntiAffinity: required
                ? { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname' }] }
                : {
                    preferredDuringSchedulingIgnoredDuringExecution: [
                      { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } },
                    ],
                  },
            },
          },
        },
      },
    });
    assert.equal(requiresOnePerNode(sts(true)), true);
    assert.equal(requiresOnePerNode(sts(false)), false);
  });
});

const pod = (
  name: string,
  component: string,
  nodeName: string,
  opts: { tolerate?: boolean; spread?: boolean } = {},
): V1Pod => ({
  metadata: { name, labels: { 'app.kubernetes.io/component': component } },
  spec: {
    nodeName,
    containers: [],
    ...(opts.tolerate
      ? { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }
      : {}),
    ...(opts.spread
      ? {
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } },
              ],
            },
          },
        }
      : {}),
  },
});

describe('R8: the intent, not what the scheduler already guarantees', () => {
  const intent = { webNodeLabel: WEB, dbNodeLabel: DB, dbEnabled: true };
  const nodes = cluster().map(nodeInfo);
  const web = [pod('web-a', 'web', 'web-1'), pod('web-b', 'web', 'web-1')];

  it('placement.preset none: db members the scheduler put on the web node pass the old check, fail the intent', () => {
    // As the chart renders them with preset none: no toleration, no role affinity; the tainted db nodes refuse them.
    const db = [pod('db-0', 'db', 'web-1'), pod('db-1', 'db', 'web-1'), pod('db-2', 'db', 'web-1')];
    assert.deepEqual(judgePlacement([...web, ...db], nodes), [], "the scheduler's rules hold");
    const problems = judgeIntent(web, db, nodes, intent);
    assert.equal(problems.length, 3);
    assert.match(problems[0] ?? '', /db pod db-0 runs on web-1, which is not a db node/);
  });
  it('the default placement passes: web on the web node, members spread two and one over two db nodes', () => {
    const db = [
      pod('db-0', 'db', 'db-1', { tolerate: true, spread: true }),
      pod('db-1', 'db', 'db-2', { tolerate: true, spread: true }),
      pod('db-2', 'db', 'db-1', { tolerate: true, spread: true }),
    ];
    assert.deepEqual(judgeIntent(web, db, nodes, intent), []);
  });
  it('members piled on one db node fail when their anti-affinity spreads them', () => {
    const db = ['db-0', 'db-1', 'db-2'].map((n) => pod(n, 'db', 'db-1', { tolerate: true, spread: true }));
    assert.match(judgeIntent(web, db, nodes, intent).join('\n'), /3 db members on db-1 .*at most 2 per node/);
  });
  it(
    'a Pending member counts toward the even share: ' +
      'two placed members on one of two db nodes are fine when a third waits',
    () => {
      const db = [
        pod('db-0', 'db', 'db-1', { tolerate: true, spread: true }),
        pod('db-1', 'db', 'db-1', { tolerate: true, spread: true }),
        pod('db-2', 'db', '', { tolerate: true, spread: true }),
      ];
      assert.deepEqual(judgeIntent(web, db, nodes, intent), []);
    },
  );
  it('a cluster without role nodes (a single node, or unlabelled nodes) cannot show the intent: it fails', () => {
    const plain = [node('n1', {}), node('n2', {})].map(nodeInfo);
    const problems = judgeIntent([pod('web-a', 'web', 'n1')], [pod('db-0', 'db', 'n2')], plain, intent);
    assert.match(problems.join('\n'), /no node has the web role label/);
    assert.match(problems.join('\n'), /no node has the db role label/);
  });
  it('an enabled component with zero pods fails', () => {
    assert.match(judgeIntent([], [], nodes, intent).join('\n'), /no web pods.*\n.*no db pods|no web pods/);
  });
});

describe("R4: the exact IP, from the page's own field", () => {
  it('10.0.0.1 is not found inside 10.0.0.12', () => {
    const html =
      '<h1>Served by <span class="serving-host" ' +
      'data-field="serving-host">Host-abcde</span></h1><code data-field="pod-ip">10.0.0.12</code>';
    assert.deepEqual(pageFields(html), { 'serving-host': 'Host-abcde', 'pod-ip': '10.0.0.12' });
    const answer = parseHttp(`HTTP/1.1 200 OK\r\n\r\n${html}`);
    assert.deepEqual(judgeOwnPage('web-x-abcde', '10.0.0.1', answer), [
      'web-x-abcde: its page shows pod IP 10.0.0.12, its pod IP is 10.0.0.1',
    ]);
  });
});

describe('R6: RTO and RPO judged against the objectives', () => {
  it('fails above either objective, on the unrounded value', () => {
    assert.deepEqual(judgeObjectives(30, 14.6, { rtoSeconds: 600, rpoSeconds: 60 }), []);
    assert.deepEqual(judgeObjectives(600.4, 60.05, { rtoSeconds: 600, rpoSeconds: 60 }), [
      'RTO 600.4 s is above the objective backup.objectives.rtoSeconds=600',
      'RPO 60.0 s is above the objective backup.objectives.rpoSeconds=60',
    ]);
  });
});

describe('R7: the transfer ports too', () => {
  it('reads ist.recv_addr from wsrep_provider_options', () => {
    assert.equal(
      istRecvAddress('base_dir = /var/lib/mysql/; ist.recv_addr = 10.78.0.5:4568; ist.recv_bind = 0.0.0.0'),
      '10.78.0.5:4568',
    );
    assert.equal(istRecvAddress('ist.recv_addr = tcp://10.78.0.5:4568'), '10.78.0.5:4568');
    assert.equal(istRecvAddress('gcache.size = 128M'), undefined);
  });
});

describe('a settled release before any row judges it', () => {
  const dep = (ready: number): V1Deployment => ({
    metadata: { name: 'web', generation: 2, labels: { 'app.kubernetes.io/component': 'web' } },
    spec: { replicas: 2, selector: {}, template: {} },
    status: { observedGeneration: 2, updatedReplicas: 2, readyReplicas: ready },
  });
  const webPod = (name: string, ready: boolean, extra: Partial<V1Pod['metadata']> = {}): V1Pod => ({
    metadata: { name, labels: { 'app.kubernetes.io/component': 'web' }, ...extra },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  const sts = (current: string, update: string, ready: number): V1StatefulSet => ({
    metadata: { name: 'db', generation: 1 },
    spec: { replicas: 3, selector: {}, serviceName: 'db', template: {} },
    status: {
      replicas: 3,
      observedGeneration: 1,
      currentRevision: current,
      updateRevision: update,
      readyReplicas: ready,
    },
  });

  it('a StatefulSet still rolling or with members not Ready is not settled', () => {
    assert.match(statefulSetUnsettledReason(sts('a', 'b', 3)) ?? '', /db is rolling out/);
    assert.match(statefulSetUnsettledReason(sts('b', 'b', 2)) ?? '', /2 of 3 Ready/);
    assert.equal(statefulSetUnsettledReason(sts('b', 'b', 3)), undefined);
  });
  it(
    'a terminating pod keeps the release unsettled; ' +
      "a backup Job's pod does not; an unschedulable pod ends the wait",
    () => {
      const pods = [webPod('web-a', true), webPod('web-b', true)];
      assert.equal(releaseUnsettledReason([dep(2)], [sts('b', 'b', 3)], pods), undefined);
      assert.match(
        releaseUnsettledReason([dep(2)], [], [...pods, webPod('web-old', true, { deletionTimestamp: new Date() })]) ??
          '',
        /terminating \(web-old\)/,
      );
      const jobPod: V1Pod = {
        metadata: {
          name: 'backup-x',
          ownerReferences: [{ kind: 'Job', name: 'j', apiVersion: 'batch/v1', uid: 'u' }],
          deletionTimestamp: new Date(),
        },
      };
      assert.equal(releaseUnsettledReason([dep(2)], [], [...pods, jobPod]), undefined);
      const pending: V1Pod = {
        metadata: { name: 'db-2' },
        status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
      };
      assert.equal(
        releaseUnsettledReason([dep(2)], [sts('a', 'b', 2)], [...pods, pending]),
        undefined,
        'waiting cannot place it; the rows judge it',
      );
    },
  );
});

describe('the in-cluster client needs no podwatch', () => {
  it("takes the node image from podwatch, else from the web pods' webinfo container", () => {
    const d = (containers: { name: string; image: string }[]): V1Deployment => ({
      spec: { selector: {}, template: { spec: { containers } } },
    });
    assert.deepEqual(
      nodeImageOf(
        undefined,
        d([
          { name: 'nginx', image: 'nginx' },
          { name: 'webinfo', image: 'kstack/node:1' },
        ]),
      ),
      { image: 'kstack/node:1', pullPolicy: 'IfNotPresent', pullSecrets: [] },
    );
    assert.equal(nodeImageOf(undefined, d([{ name: 'nginx', image: 'nginx' }])), undefined);
    assert.equal(nodeImageOf(d([{ name: 'podwatch', image: 'pw:1' }]), undefined)?.image, 'pw:1');
    // The client pod, in a namespace of kstack's own, pulls with the release's pull Secrets.
    const withSecret: V1Deployment = {
      spec: {
        selector: {},
        template: { spec: { imagePullSecrets: [{ name: 'reg' }], containers: [{ name: 'pw', image: 'pw:2' }] } },
      },
    };
    assert.deepEqual(nodeImageOf(withSecret, undefined)?.pullSecrets, ['reg']);
  });
});

describe('R5 from outside the release', () => {
  const dbOn = (name: string, nodeName: string): V1Pod => ({ metadata: { name }, spec: { nodeName, containers: [] } });
  it('probes from the host network of a node without a db member when there is one', () => {
    assert.equal(
      hostSourceNode(['db-1', 'db-2', 'web-1'], [dbOn('db-0', 'db-1'), dbOn('db-1', 'db-2'), dbOn('db-2', 'db-1')]),
      'web-1',
    );
    assert.equal(
      hostSourceNode(['a', 'b'], [dbOn('db-0', 'a'), dbOn('db-1', 'a'), dbOn('db-2', 'b')]),
      'b',
      'else the node with the fewest',
    );
  });
  it(
    'makes a plain and a web-lookalike pod in another namespace, ' +
      'an unlabelled one in the release namespace, a host-network one',
    () => {
      const pods = outsidePods(
        'shop',
        { image: 'nginx:1', pullPolicy: 'IfNotPresent', pullSecrets: ['reg'] },
        { 'app.kubernetes.io/component': 'web', 'app.kubernetes.io/instance': 'web' },
        'web-1',
      );
      assert.deepEqual(
        pods.map((p) => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`),
        [
          'shop-prove-outside/prove-outside',
          'shop-prove-outside/prove-web-lookalike',
          'shop/prove-unlabelled',
          'shop-prove-host/prove-host',
        ],
      );
      assert.equal(pods[1]?.metadata?.labels?.['app.kubernetes.io/component'], 'web');
      assert.deepEqual(pods[2]?.metadata?.labels, {});
      assert.equal(pods[3]?.spec?.hostNetwork, true);
      assert.equal(pods[3]?.spec?.nodeName, 'web-1');
      // Every probe pod pulls the release's image with the release's pull Secret (copied into our namespaces).
      for (const p of pods) assert.deepEqual(p.spec?.imagePullSecrets, [{ name: 'reg' }]);
    },
  );
  const sources = outsideSources('shop', 'web-1', '10.77.0.2');
  const members: DbTarget[] = [3306, 4567].map((port) => ({ to: podEndpoint('shop', 'db-0'), port, node: 'db-1' }));
  const closed = (): ExpectedCell => ({ open: false, loopback: false, reason: 'denied' });
  it(
    'nothing from outside may be admitted: a policy letting ' +
      'another namespace in fails, naming the source and port',
    () => {
      const admitsOther = (from: Endpoint, t: Target): ExpectedCell =>
        from.kind === 'pod' && from.namespace === 'shop-prove-outside' && t.port === 3306
          ? { open: true, loopback: false, reason: 'allowed by extra-policy' }
          : closed();
      const expected = outsideExpected(sources, members, { name: '10.96.0.20:3306', port: 3306 }, admitsOther);
      assert.deepEqual(expected.columns, ['shop/db-0:3306', 'shop/db-0:4567', '10.96.0.20:3306']);
      const problems = judgeOutside(expected, sources);
      assert.equal(problems.length, 4, problems.join('\n'));
      assert.match(
        problems[0] ?? '',
        /a plain pod in another namespace reach shop\/db-0:3306: allowed by extra-policy/,
      );
      assert.match(problems[1] ?? '', /reach 10\.96\.0\.20:3306: through the Service/);
      assert.deepEqual(
        judgeOutside(outsideExpected(sources, members, { name: 'svc', port: 3306 }, closed), sources),
        [],
      );
    },
  );
  it("a member on the host source's own node is left out (NetworkPolicy always lets the node in)", () => {
    const ownNode = (from: Endpoint): ExpectedCell =>
      from.kind === 'ip'
        ? { open: true, loopback: true, reason: "allowed: traffic from the pod's own node is always allowed" }
        : closed();
    assert.deepEqual(judgeOutside(outsideExpected(sources, members, undefined, ownNode), sources), []);
  });
});
