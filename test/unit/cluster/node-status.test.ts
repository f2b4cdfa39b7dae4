// `kstack cluster status` shows each node: running, frozen or killed on purpose (with what brings it
// back), or down with the processes that do not run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeStatusOf, type StatusResult } from '../../../src/cluster/status.js';
import { formatStatus } from '../../../src/cli/format.js';
import { MAX_RESTARTS_PER_UP, nextRetry, restartDecision } from '../../../src/cluster/nodes/nodes.js';

const all = (pid = 1): Record<string, { pid: number; binary: string }> =>
  Object.fromEntries(
    ['containerd', 'kubelet', 'kube-proxy', 'kube-router', 'multinet-policy'].map((c, i) => [
      c,
      { pid: pid + i, binary: `/bin/${c}` },
    ]),
  );

describe('cluster status: nodes', () => {
  it('running when every process runs; down naming the ones that do not', () => {
    assert.deepEqual(
      nodeStatusOf('web-1', 'web', { name: 'web-1', components: all() }, () => true),
      {
        name: 'web-1',
        role: 'web',
        state: 'running',
        missing: [],
      },
    );
    const down = nodeStatusOf('db-1', 'db', { name: 'db-1', components: all() }, (c) => c.binary !== '/bin/kubelet');
    assert.equal(down.state, 'down');
    assert.deepEqual(down.missing, ['kubelet']);
    assert.equal(nodeStatusOf('db-2', 'db', undefined, () => true).state, 'down', 'no entry: nothing runs');
  });

  it('frozen or killed on purpose, with since, whatever its processes do', () => {
    const since = '2026-12-06T22:00:00.000Z';
    const frozen = nodeStatusOf(
      'db-1',
      'db',
      { name: 'db-1', components: all(), fault: { mode: 'freeze', since } },
      () => true,
    );
    assert.deepEqual(frozen, { name: 'db-1', role: 'db', state: 'frozen', since, missing: [] });
    const killed = nodeStatusOf(
      'web-2',
      'web',
      { name: 'web-2', components: {}, fault: { mode: 'kill', since } },
      () => false,
    );
    assert.equal(killed.state, 'killed');
  });

  it('prints a node table that says how to bring a stopped node back', () => {
    const status: StatusResult = {
      name: 'kstack',
      exists: true,
      server: 'https://127.0.0.1:6443',
      kubeconfig: '/k',
      components: [{ name: 'etcd', pid: 1, running: true, healthy: true, detail: 'healthy' }],
      nodes: [
        { name: 'web-1', role: 'web', state: 'running', missing: [] },
        { name: 'db-1', role: 'db', state: 'frozen', since: 'T', missing: [] },
        { name: 'db-2', role: 'db', state: 'down', missing: ['kubelet'] },
      ],
    };
    const text = formatStatus(status);
    assert.match(text, /NODE\s+ROLE\s+STATE/);
    assert.match(text, /web-1\s+web\s+running/);
    assert.match(text, /db-1\s+db\s+frozen since T \('kstack cluster node start db-1'\)/);
    assert.match(text, /db-2\s+db\s+down: kubelet not running \('kstack cluster up' starts them\)/);
  });
});

describe('cluster up: a node process that exits while its node comes up', () => {
  it('is started again with backoff 1, 2, 4, 8, 16 s, then up gives up', () => {
    let r = { count: 0, nextAt: 0 };
    const gaps: number[] = [];
    let now = 1000;
    while (restartDecision(r, now) !== 'give up') {
      assert.equal(restartDecision(r, now), 'restart');
      const next = nextRetry(r, now);
      gaps.push(next.nextAt - now);
      if (next.count < MAX_RESTARTS_PER_UP)
        assert.equal(restartDecision(next, next.nextAt - 1), 'wait', 'not before the backoff ends');
      r = next;
      now = next.nextAt;
    }
    assert.deepEqual(gaps, [1000, 2000, 4000, 8000, 16000]);
    assert.equal(r.count, MAX_RESTARTS_PER_UP);
  });

  it('shows the restarts in the node table', () => {
    const text = formatStatus({
      name: 'k',
      exists: true,
      components: [],
      nodes: [{ name: 'web-1', role: 'web', state: 'running', missing: [], restarts: { kubelet: 2 } }],
    });
    assert.match(text, /web-1\s+web\s+running\s+kubelet 2×/);
  });
});
