import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectedMatrix } from '../../../src/netpol/matrix.js';
import { buildModel, podEndpoint } from '../../../src/netpol/evaluator.js';
import {
  compareAndRender,
  execArgs,
  mapLimited,
  parseProbeOutput,
  probeScript,
  resolveTargets,
  runProbes,
  udpEchoServerCommand,
  type KubectlRunner,
  type ResolvedTarget,
} from '../../../src/netpol/probe.js';

const db = podEndpoint('shop', 'db');
const tcp = (ip: string, port: number): ResolvedTarget => ({ to: db, ip, port });

describe('probe script', () => {
  it('runs every target in the background and waits for all', () => {
    const script = probeScript([tcp('10.244.1.5', 3306), { to: db, ip: '10.244.1.5', port: 53, protocol: 'UDP' }], 2);
    assert.match(script, /^p 0 TCP 10\.244\.1\.5 3306 &$/m);
    assert.match(script, /^p 1 UDP 10\.244\.1\.5 53 &$/m);
    assert.match(script, /\nwait\n$/);
    assert.match(script, /timeout 2 bash -c 'exec 3<>"\/dev\/tcp\/\$0\/\$1"'/);
  });

  it('runs at most `parallel` attempts at once', () => {
    const script = probeScript(
      [1, 2, 3, 4, 5].map((n) => tcp('10.0.0.1', n)),
      2,
      2,
    );
    const body = script.split('\n').filter((l) => l.startsWith('p ') || l === 'wait');
    assert.deepEqual(body.map((l) => (l === 'wait' ? 'W' : 'p')).join(''), 'ppWppWpW');
  });

  it('refuses what could reach the shell unchecked or cannot be probed', () => {
    assert.throws(() => probeScript([tcp('10.0.0.1; rm -rf /', 80)]), /targets\[0\]\.ip: .* is not an IP address/);
    assert.throws(() => probeScript([tcp('10.0.0.1', 0)]), /targets\[0\]\.port: 0 is not a port/);
    assert.throws(
      () => probeScript([tcp('10.0.0.1', 80), { to: db, ip: '10.0.0.1', port: 80, protocol: 'SCTP' }]),
      /targets\[1\]\.protocol: SCTP cannot be probed/,
    );
    assert.throws(() => probeScript([tcp('10.0.0.1', 80)], 0), /timeoutSeconds: 0/);
  });

  it('execs bash in the named container', () => {
    assert.deepEqual(execArgs({ namespace: 'shop', pod: 'web', container: 'app' }, 'S'), [
      'exec',
      '-n',
      'shop',
      'web',
      '-c',
      'app',
      '--',
      'bash',
      '-c',
      'S',
    ]);
    assert.deepEqual(execArgs({ namespace: 'shop', pod: 'web' }, 'S'), [
      'exec',
      '-n',
      'shop',
      'web',
      '--',
      'bash',
      '-c',
      'S',
    ]);
  });

  it('builds a UDP echo server only for a real port', () => {
    assert.match(udpEchoServerCommand(5353).join(' '), /LocalPort => 5353, Proto => "udp"/);
    assert.throws(() => udpEchoServerCommand(70000), /port: 70000 is not a port/);
  });
});

describe('probe output', () => {
  it('reads results in any order and marks targets without a line as errors', () => {
    const cells = parseProbeOutput('noise\nkstack-probe 2 closed timeout\nkstack-probe 0 open connected\n', 3);
    assert.deepEqual(cells, [
      { result: 'open', detail: 'connected' },
      { result: 'error', detail: 'no result from the probe' },
      { result: 'closed', detail: 'timeout' },
    ]);
  });

  it('gives the exec failure as the reason when nothing came back', () => {
    assert.deepEqual(parseProbeOutput('', 1, 'kubectl exec failed (1): pod not found'), [
      { result: 'error', detail: 'kubectl exec failed (1): pod not found' },
    ]);
  });

  it('ignores indexes beyond the targets', () => {
    assert.deepEqual(parseProbeOutput('kstack-probe 5 open connected', 1), [
      { result: 'error', detail: 'no result from the probe' },
    ]);
  });
});

describe('targets', () => {
  it('dials a pod target at its first IP and names a pod without one', () => {
    const resolved = resolveTargets(
      [
        { to: db, port: 3306 },
        { to: { kind: 'ip', ip: '10.96.0.10' }, port: 53, protocol: 'UDP' },
      ],
      [{ namespace: 'shop', name: 'db', ips: ['10.244.1.5'] }],
    );
    assert.deepEqual(
      resolved.map((t) => t.ip),
      ['10.244.1.5', '10.96.0.10'],
    );
    assert.throws(
      () => resolveTargets([{ to: db, port: 1 }], [{ namespace: 'shop', name: 'db' }]),
      /pod shop\/db has no IP yet/,
    );
    assert.throws(() => resolveTargets([{ to: db, port: 1 }], []), /pod shop\/db is not among the pods/);
  });
});

describe('mapLimited', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimited([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(peak, 2);
  });
});

describe('runProbes and the comparison (fake kubectl: pure logic only)', () => {
  const model = buildModel({
    namespaces: [{ name: 'shop' }],
    pods: [
      { namespace: 'shop', name: 'web', labels: { app: 'web' }, ips: ['10.244.0.5'] },
      { namespace: 'shop', name: 'db', labels: { app: 'db' }, ips: ['10.244.1.5'] },
    ],
    policies: [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'db', namespace: 'shop' },
        spec: {
          podSelector: { matchLabels: { app: 'db' } },
          policyTypes: ['Ingress'],
          ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 3306 }] }],
        },
      },
    ],
  });
  const targets = [
    { to: db, port: 3306 },
    { to: db, port: 8080 },
  ];
  const expected = expectedMatrix(model, [podEndpoint('shop', 'web')], targets);

  it(
    'fills the observed matrix with the names the expected ' + 'matrix uses, and finds no difference when they agree',
    async () => {
      const calls: string[][] = [];
      const kubectl: KubectlRunner = (args) => {
        calls.push(args);
        return Promise.resolve({
          code: 0,
          stdout: 'kstack-probe 1 closed refused-or-no-reply\nkstack-probe 0 open connected\n',
          stderr: '',
        });
      };
      const observed = await runProbes(
        kubectl,
        [{ namespace: 'shop', pod: 'web' }],
        resolveTargets(targets, [{ namespace: 'shop', name: 'db', ips: ['10.244.1.5'] }]),
      );
      assert.equal(calls.length, 1);
      const { comparison, differences } = compareAndRender(expected, observed);
      assert.equal(comparison.ok, true);
      assert.equal(differences, 'no differences');
    },
  );

  it('shows a port that should be closed but is open as a difference with the reason', async () => {
    const kubectl: KubectlRunner = () =>
      Promise.resolve({
        code: 0,
        stdout: 'kstack-probe 0 open connected\nkstack-probe 1 open connected\n',
        stderr: '',
      });
    const observed = await runProbes(
      kubectl,
      [{ namespace: 'shop', pod: 'web' }],
      resolveTargets(targets, [{ namespace: 'shop', name: 'db', ips: ['10.244.1.5'] }]),
    );
    const { comparison, table, differences } = compareAndRender(expected, observed);
    assert.equal(comparison.ok, false);
    assert.equal(comparison.summary.mismatch, 1);
    assert.match(table, /✗≠✓/);
    const lines = differences.split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', /^shop\/web\s+shop\/db:8080\s+closed\s+open\s+/);
  });

  it('probes timed-out cells once more, slower, and keeps what the retry saw', async () => {
    const scripts: string[] = [];
    const kubectl: KubectlRunner = (args) => {
      scripts.push(args.at(-1) ?? '');
      return Promise.resolve(
        scripts.length === 1
          ? {
              code: 0,
              stdout: 'kstack-probe 0 closed timeout\nkstack-probe 1 closed refused-or-no-reply\n',
              stderr: '',
            }
          : { code: 0, stdout: 'kstack-probe 0 open connected\n', stderr: '' },
      );
    };
    const observed = await runProbes(
      kubectl,
      [{ namespace: 'shop', pod: 'web' }],
      resolveTargets(targets, [{ namespace: 'shop', name: 'db', ips: ['10.244.1.5'] }]),
    );
    assert.equal(scripts.length, 2);
    assert.match(scripts[1] ?? '', /^p 0 TCP 10\.244\.1\.5 3306 &$/m);
    assert.match(scripts[1] ?? '', /timeout 4 bash/);
    assert.deepEqual(observed.cells['shop/web']?.['shop/db:3306'], {
      result: 'open',
      detail: 'connected (after a timeout)',
    });
    assert.deepEqual(observed.cells['shop/web']?.['shop/db:8080'], { result: 'closed', detail: 'refused-or-no-reply' });
  });

  it('turns a failed exec into error cells, not into closed ones', async () => {
    const kubectl: KubectlRunner = () =>
      Promise.resolve({ code: 1, stdout: '', stderr: 'error: pods "web" not found\n' });
    const observed = await runProbes(
      kubectl,
      [{ namespace: 'shop', pod: 'web' }],
      resolveTargets(targets, [{ namespace: 'shop', name: 'db', ips: ['10.244.1.5'] }]),
    );
    const { comparison } = compareAndRender(expected, observed);
    assert.equal(comparison.summary.error, 2);
    assert.match(comparison.diffs[0]?.detail ?? '', /kubectl exec failed \(1\): error: pods "web" not found/);
  });
});
