import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseState } from '../../../src/cluster/state.js';

const valid = {
  version: 1,
  name: 'kstack',
  createdAt: '2026-11-25T00:00:00Z',
  ports: { etcdClient: 1001, etcdPeer: 1002, apiserver: 1003, controllerManager: 1004, scheduler: 1005 },
  network: { serviceCIDR: '10.96.0.0/16', apiServiceIP: '10.96.0.1' },
  components: { etcd: { pid: 42, binary: '/x/etcd' } },
};

describe('parseState', () => {
  it('accepts a complete state', () => {
    assert.equal(parseState(JSON.stringify(valid)).ports.apiserver, 1003);
  });

  it('keeps the fault of a node stopped on demand', () => {
    for (const mode of ['freeze', 'kill'] as const) {
      const state = parseState(
        JSON.stringify({
          ...valid,
          nodes: [
            { name: 'web-1', components: {} },
            { name: 'db-1', components: {}, fault: { mode, since: '2026-11-25T00:01:00Z' } },
          ],
        }),
      );
      assert.deepEqual(state.nodes?.[1]?.fault, { mode, since: '2026-11-25T00:01:00Z' });
      assert.equal(state.nodes?.[0]?.fault, undefined);
    }
  });

  const broken: [string, unknown, RegExp][] = [
    ['truncated JSON', '{"version": 1,', /not valid JSON/],
    ['wrong version', { ...valid, version: 2 }, /version must be 1, found 2/],
    ['missing name', { ...valid, name: '' }, /name is missing/],
    [
      'a port that is a string',
      { ...valid, ports: { ...valid.ports, apiserver: '6443' } },
      /ports\.apiserver must be a port number, found "6443"/,
    ],
    [
      'a port out of range',
      { ...valid, ports: { ...valid.ports, scheduler: 70000 } },
      /ports\.scheduler must be a port number/,
    ],
    [
      'an unknown component',
      { ...valid, components: { kubelet: { pid: 1, binary: '/k' } } },
      /components\.kubelet is not a control-plane component/,
    ],
    [
      'a component without pid',
      { ...valid, components: { etcd: { binary: '/x' } } },
      /components\.etcd needs a pid and a binary/,
    ],
    ['no network', { ...valid, network: undefined }, /network\.serviceCIDR and network\.apiServiceIP are required/],
    ['an array', [], /not an object/],
    [
      'a node fault of an unknown mode',
      { ...valid, nodes: [{ name: 'web-1', components: {}, fault: { mode: 'pause', since: '2026-11-25T00:01:00Z' } }] },
      /nodes\[0\]\.fault needs a mode \(freeze or kill\) and a since time/,
    ],
    [
      'a node fault without since',
      {
        ...valid,
        nodes: [
          { name: 'web-1', components: {} },
          { name: 'db-1', components: {}, fault: { mode: 'kill' } },
        ],
      },
      /nodes\[1\]\.fault needs a mode \(freeze or kill\) and a since time/,
    ],
  ];
  for (const [what, input, message] of broken) {
    it(`names the problem: ${what}`, () => {
      assert.throws(() => parseState(typeof input === 'string' ? input : JSON.stringify(input)), message);
    });
  }
});
