// Expected vs observed reachability matrices, their diff, table and JSON; and the stack's own policies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1NetworkPolicy, V1NetworkPolicySpec } from '@kubernetes/client-node';
import { buildModel, ipEndpoint, podEndpoint, type PodInfo } from '../../../src/netpol/evaluator.js';
import {
  cellText,
  compareMatrices,
  emptyObserved,
  expectedMatrix,
  formatTable,
  recordObservation,
  targetName,
  toReport,
  type ExpectedMatrix,
  type ObservedMatrix,
  type Target,
} from '../../../src/netpol/matrix.js';

const np = (ns: string, name: string, spec: V1NetworkPolicySpec): V1NetworkPolicy => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: ns, name },
  spec,
});

/** Two pods in x behind a default-deny-ingress, one in y; only x/a:80 is open, from y. */
function smallModel() {
  return buildModel({
    namespaces: [{ name: 'x' }, { name: 'y' }],
    pods: [
      { namespace: 'x', name: 'a', labels: { pod: 'a' }, ips: ['10.0.1.1'] },
      { namespace: 'x', name: 'b', labels: { pod: 'b' }, ips: ['10.0.1.2'] },
      { namespace: 'y', name: 'a', labels: { pod: 'a' }, ips: ['10.0.2.1'] },
    ],
    policies: [
      np('x', 'deny', { podSelector: {}, policyTypes: ['Ingress'] }),
      np('x', 'y-to-a-80', {
        podSelector: { matchLabels: { pod: 'a' } },
        ingress: [{ _from: [{ namespaceSelector: {} }], ports: [{ port: 80 }] }],
      }),
    ],
  });
}

const SOURCES = [podEndpoint('x', 'a'), podEndpoint('x', 'b'), podEndpoint('y', 'a')];
const TARGETS: Target[] = [
  { to: podEndpoint('x', 'a'), port: 80 },
  { to: podEndpoint('x', 'b'), port: 80 },
  { to: podEndpoint('y', 'a'), port: 53, protocol: 'UDP' },
];

function observedAsExpected(exp: ExpectedMatrix): ObservedMatrix {
  const obs = emptyObserved();
  exp.rows.forEach((row, r) => {
    exp.columns.forEach((col, c) => {
      recordObservation(obs, row, col, { result: exp.cells[r]?.[c]?.open ? 'open' : 'closed' });
    });
  });
  return obs;
}

describe('expected matrix', () => {
  it('names columns destination:port, with the protocol when not TCP', () => {
    assert.equal(targetName({ to: podEndpoint('db', 'web-db-0'), port: 3306 }), 'db/web-db-0:3306');
    assert.equal(
      targetName({ to: podEndpoint('kube-system', 'coredns'), port: 53, protocol: 'UDP' }),
      'kube-system/coredns:53/UDP',
    );
    assert.equal(targetName({ to: ipEndpoint('203.0.113.1'), port: 443 }), '203.0.113.1:443');
  });

  it('evaluates every source × target and marks loopback cells', () => {
    const exp = expectedMatrix(smallModel(), SOURCES, TARGETS);
    assert.deepEqual(exp.rows, ['x/a', 'x/b', 'y/a']);
    assert.deepEqual(exp.columns, ['x/a:80', 'x/b:80', 'y/a:53/UDP']);
    assert.deepEqual(
      exp.cells.map((row) => row.map((c) => c.open)),
      [
        [true, false, true],
        [true, true, true],
        [true, false, true],
      ],
    );
    assert.deepEqual(
      exp.cells.map((row) => row.map((c) => c.loopback)),
      [
        [true, false, false],
        [false, true, false],
        [false, false, true],
      ],
    );
    assert.match(exp.cells[2]?.[0]?.reason ?? '', /ingress to x\/a: allowed by x\/y-to-a-80/);
    assert.equal(exp.cells[1]?.[1]?.reason, 'allowed: a pod cannot block traffic to itself');
  });

  it('refuses duplicate rows or columns', () => {
    assert.throws(
      () => expectedMatrix(smallModel(), [SOURCES[0]!, SOURCES[0]!], TARGETS),
      /source "x\/a" is listed twice/,
    );
    assert.throws(
      () => expectedMatrix(smallModel(), SOURCES, [TARGETS[0]!, TARGETS[0]!]),
      /target "x\/a:80" is listed twice/,
    );
  });

  it('prints as a table of ✓ and ✗', () => {
    assert.equal(
      formatTable(expectedMatrix(smallModel(), SOURCES, TARGETS)),
      [
        '     x/a:80  x/b:80  y/a:53/UDP',
        'x/a  ✓       ✗       ✓',
        'x/b  ✓       ✓       ✓',
        'y/a  ✓       ✗       ✓',
        '',
        '✓ open  ✗ closed (expected by the policies)',
      ].join('\n'),
    );
  });
});

describe('comparison with an observed matrix', () => {
  const exp = expectedMatrix(smallModel(), SOURCES, TARGETS);

  it('is OK when every cell matches', () => {
    const cmp = compareMatrices(exp, observedAsExpected(exp));
    assert.equal(cmp.ok, true);
    assert.deepEqual(cmp.diffs, []);
    assert.deepEqual(cmp.summary, { cells: 9, match: 9, mismatch: 0, error: 0, missing: 0, ignored: 0 });
  });

  it('lists mismatches, probe errors, unprobed cells and stray observations; ignores loopback by default', () => {
    const obs = observedAsExpected(exp);
    recordObservation(obs, 'y/a', 'x/b:80', { result: 'open' }); // expected closed: a hole
    recordObservation(obs, 'x/b', 'x/a:80', { result: 'closed' }); // expected open: over-blocking
    recordObservation(obs, 'x/a', 'y/a:53/UDP', { result: 'error', detail: 'probe pod not ready' });
    delete obs.cells['y/a']?.['y/a:53/UDP']; // loopback, never probed
    recordObservation(obs, 'x/b', 'x/b:80', { result: 'closed' }); // loopback mismatch
    recordObservation(obs, 'z/q', 'x/a:80', { result: 'open' }); // not in the matrix
    const cmp = compareMatrices(exp, obs);
    assert.equal(cmp.ok, false);
    assert.deepEqual(cmp.summary, { cells: 9, match: 4, mismatch: 2, error: 1, missing: 1, ignored: 1 });
    assert.deepEqual(
      cmp.diffs.map((d) => [d.row, d.column, d.expected, d.observed, d.status]),
      [
        ['x/a', 'y/a:53/UDP', 'open', 'error', 'error'],
        ['x/b', 'x/a:80', 'open', 'closed', 'mismatch'],
        ['y/a', 'x/b:80', 'closed', 'open', 'mismatch'],
        ['y/a', 'y/a:53/UDP', 'open', undefined, 'missing'],
      ],
    );
    assert.equal(cmp.diffs[0]?.detail, 'probe pod not ready');
    assert.deepEqual(cmp.unexpected, ['z/q → x/a:80']);
    assert.equal(
      formatTable(cmp),
      [
        '     x/a:80  x/b:80  y/a:53/UDP',
        'x/a  ✓       ✗       ✓≠E',
        'x/b  ✓≠✗     ✓≠✗*    ✓',
        'y/a  ✓       ✗≠✓     ✓≠?',
        '',
        '✓ open  ✗ closed  E probe error  ? not probed  a≠b: expected a, observed b  *: loopback, not counted',
        '9 cells: 4 as expected, 2 mismatched, 1 probe errors, 1 not probed, 1 loopback mismatches ignored — FAILED',
        'observed cells outside the matrix: z/q → x/a:80',
      ].join('\n'),
    );
  });

  it('counts loopback mismatches when asked to', () => {
    const obs = observedAsExpected(exp);
    recordObservation(obs, 'x/b', 'x/b:80', { result: 'closed' });
    const cmp = compareMatrices(exp, obs, { ignoreLoopback: false });
    assert.equal(cmp.ok, false);
    assert.equal(cellText(cmp.cells[1]![1]!), '✓≠✗');
  });

  it('has a JSON form with rows of cells, the diffs and the summary', () => {
    const obs = observedAsExpected(exp);
    recordObservation(obs, 'y/a', 'x/b:80', { result: 'open' });
    const report = toReport(compareMatrices(exp, obs));
    const roundTripped = JSON.parse(JSON.stringify(report)) as typeof report;
    assert.deepEqual(roundTripped, report);
    assert.equal(report.kind, 'ReachabilityReport');
    assert.equal(report.ok, false);
    assert.deepEqual(report.columns, ['x/a:80', 'x/b:80', 'y/a:53/UDP']);
    assert.deepEqual(
      report.rows.map((r) => r.source),
      ['x/a', 'x/b', 'y/a'],
    );
    assert.deepEqual(report.rows[2]?.cells[1], {
      column: 'x/b:80',
      expected: 'closed',
      observed: 'open',
      status: 'mismatch',
      loopback: false,
      reason:
        'egress from y/a: allowed (no policy selects it); ingress to x/b: ' +
        'denied (isolated by x/deny; no rule admits this peer and port)',
    });
    assert.equal(report.diffs.length, 1);
  });
});

describe("the stack's own policies (requirement 5: only web pods reach the DB)", () => {
  const component = (c: string) => ({ 'app.kubernetes.io/component': c });
  const dbPorts = [
    { name: 'mysql', port: 3306 },
    { name: 'galera', port: 4567 },
    { name: 'ist', port: 4568 },
    { name: 'sst', port: 4444 },
    { name: 'agent', port: 8081 },
  ];
  const pods: PodInfo[] = [
    {
      namespace: 'shop',
      name: 'web-1',
      labels: component('web'),
      ips: ['10.244.1.10'],
      ports: [{ name: 'http', port: 8080 }],
    },
    {
      namespace: 'shop',
      name: 'web-2',
      labels: component('web'),
      ips: ['10.244.1.11'],
      ports: [{ name: 'http', port: 8080 }],
    },
    ...[0, 1, 2].map((i) => ({
      namespace: 'shop',
      name: `db-${i}`,
      labels: component('db'),
      ips: [`10.244.2.${10 + i}`],
      ports: dbPorts,
    })),
    {
      namespace: 'shop',
      name: 'podwatch',
      labels: component('podwatch'),
      ips: ['10.244.1.20'],
      ports: [{ name: 'http', port: 8080 }],
    },
    { namespace: 'other', name: 'intruder', labels: component('web'), ips: ['10.244.3.5'] },
    {
      namespace: 'kube-system',
      name: 'coredns',
      labels: { 'k8s-app': 'kube-dns' },
      ips: ['10.244.0.2'],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53 },
      ],
    },
  ];
  const db = { podSelector: { matchLabels: component('db') } };
  const galeraPorts = [{ port: 'galera' }, { port: 'ist' }, { port: 'sst' }, { port: 'agent' }];
  const policies = [
    np('shop', 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    np('shop', 'dns', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
          ],
        },
      ],
    }),
    np('shop', 'web-to-db', {
      podSelector: { matchLabels: component('web') },
      policyTypes: ['Egress'],
      egress: [{ to: [db], ports: [{ port: 3306 }] }],
    }),
    np('shop', 'db-from-web', {
      ...db,
      policyTypes: ['Ingress'],
      ingress: [{ _from: [{ podSelector: { matchLabels: component('web') } }], ports: [{ port: 'mysql' }] }],
    }),
    np('shop', 'galera', {
      ...db,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ _from: [db], ports: galeraPorts }],
      egress: [{ to: [db], ports: galeraPorts }],
    }),
  ];
  const model = buildModel({
    namespaces: [{ name: 'shop' }, { name: 'other' }, { name: 'kube-system' }],
    pods,
    policies,
  });
  const sources = [
    ...['web-1', 'db-0', 'db-1', 'podwatch'].map((p) => podEndpoint('shop', p)),
    podEndpoint('other', 'intruder'),
    ipEndpoint('192.0.2.10'),
  ];
  const targets: Target[] = [
    ...[3306, 4567, 8081].map((port) => ({ to: podEndpoint('shop', 'db-1'), port })),
    { to: podEndpoint('shop', 'web-2'), port: 8080 },
    { to: podEndpoint('kube-system', 'coredns'), port: 53, protocol: 'UDP' as const },
    { to: podEndpoint('kube-system', 'coredns'), port: 53 },
    { to: podEndpoint('kube-system', 'coredns'), port: 9153 },
  ];

  it(
    'web reaches the database on 3306 only; db members reach ' +
      'each other on the Galera ports; everyone resolves names',
    () => {
      assert.equal(
        formatTable(expectedMatrix(model, sources, targets)),
        [
          '                shop/db-1:3306  shop/db-1:4567  shop/db-1:8081  shop/web-2:8080  ' +
            'kube-system/coredns:53/UDP  kube-system/coredns:53  kube-system/coredns:9153',
          'shop/web-1      ✓               ✗               ✗               ' +
            '✗                ✓                           ✓                       ✗',
          'shop/db-0       ✗               ✓               ✓               ' +
            '✗                ✓                           ✓                       ✗',
          'shop/db-1       ✓               ✓               ✓               ' +
            '✗                ✓                           ✓                       ✗',
          'shop/podwatch   ✗               ✗               ✗               ' +
            '✗                ✓                           ✓                       ✗',
          'other/intruder  ✗               ✗               ✗               ' +
            '✗                ✓                           ✓                       ✓',
          '192.0.2.10      ✗               ✗               ✗               ' +
            '✗                ✓                           ✓                       ✓',
          '',
          '✓ open  ✗ closed (expected by the policies)',
        ].join('\n'),
      );
    },
  );

  it('names the policies behind a verdict', () => {
    const exp = expectedMatrix(
      model,
      [podEndpoint('other', 'intruder')],
      [{ to: podEndpoint('shop', 'db-0'), port: 3306 }],
    );
    assert.equal(
      exp.cells[0]?.[0]?.reason,
      'egress from other/intruder: allowed (no policy selects it); ' +
        'ingress to shop/db-0: denied (isolated by shop/default-deny, ' +
        'shop/db-from-web, shop/galera; no rule admits this peer and port)',
    );
  });
});
