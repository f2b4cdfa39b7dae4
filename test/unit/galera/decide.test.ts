// The coordination rule, case by case: who bootstraps, who joins, who waits. Each row is a situation a
// StatefulSet of three db pods can be in; `self` is the member deciding.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideStart,
  compareForBootstrap,
  donorOrder,
  hasLeftGroup,
  isAlive,
  isSynced,
  ordinalOf,
  sstDonorOption,
  type MemberReport,
  type PeerView,
} from '../../../src/galera/decide.js';
import { NIL_UUID } from '../../../src/galera/position.js';

const U = '6e3c1d8a-1111-11ef-8000-0242ac120002';
const OTHER = '9f0e2b7c-2222-11ef-8000-0242ac120003';

type Spec = Partial<MemberReport> & { name: string };

function member(s: Spec): MemberReport {
  return {
    ordinal: ordinalOf(s.name) ?? 0,
    phase: 'waiting',
    hasData: false,
    position: null,
    safeToBootstrap: false,
    wsrep: null,
    plan: '',
    ...s,
  };
}
const data = (name: string, seqno: number, extra: Partial<MemberReport> = {}): Spec => ({
  name,
  hasData: true,
  position: { uuid: U, seqno },
  ...extra,
});
const primary = (name: string): Spec => ({
  name,
  phase: 'running',
  hasData: true,
  position: { uuid: U, seqno: 50 },
  wsrep: { clusterStatus: 'Primary', localState: 4, ready: true, clusterSize: 1, nodeName: name },
});
const SILENT = 'silent';

interface Row {
  case: string;
  self: Spec;
  peers: (Spec | typeof SILENT)[];
  action: 'bootstrap' | 'join' | 'wait';
  fresh?: boolean;
  reason?: RegExp;
}

const rows: Row[] = [
  {
    case: 'new cluster: the lowest ordinal bootstraps',
    self: { name: 'db-0' },
    peers: [{ name: 'db-1' }, { name: 'db-2' }],
    action: 'bootstrap',
    fresh: true,
  },
  {
    case: 'new cluster: a higher ordinal waits for db-0',
    self: { name: 'db-2' },
    peers: [{ name: 'db-0' }, { name: 'db-1' }],
    action: 'wait',
    reason: /waiting for db-0 to bootstrap/,
  },
  {
    case: 'new cluster but a peer is silent: it might hold data, so nobody bootstraps',
    self: { name: 'db-0' },
    peers: [{ name: 'db-1' }, SILENT],
    action: 'wait',
    reason: /db-2 to report/,
  },
  {
    case: 'a peer still inspecting counts as silent',
    self: { name: 'db-0' },
    peers: [{ name: 'db-1', phase: 'inspecting' }, { name: 'db-2' }],
    action: 'wait',
    reason: /db-1 to report/,
  },
  {
    case:
      'a peer that is stopping (an old pod still terminating after ' +
      'kubectl delete) counts as silent: its position is not final',
    self: data('db-0', 118),
    peers: [data('db-1', 117, { phase: 'stopping' }), data('db-2', 110)],
    action: 'wait',
    reason: /db-1 to report/,
  },
  {
    case: 'a running primary exists: join it, even with no data (SST)',
    self: { name: 'db-1' },
    peers: [primary('db-0'), SILENT],
    action: 'join',
    reason: /via db-0/,
  },
  {
    case: 'a running primary exists: join it, even when our seqno is higher',
    self: data('db-0', 999),
    peers: [primary('db-1'), { name: 'db-2' }],
    action: 'join',
  },
  {
    case: 'a running but non-primary peer is not a cluster to join',
    self: data('db-0', 10),
    peers: [
      {
        ...primary('db-1'),
        wsrep: { clusterStatus: 'Non-Primary', localState: 0, ready: false, clusterSize: 1, nodeName: 'db-1' },
      },
      data('db-2', 5),
    ],
    action: 'wait',
  },
  {
    case: 'full crash: the most advanced member bootstraps from its data',
    self: data('db-2', 120),
    peers: [data('db-0', 118), data('db-1', 119)],
    action: 'bootstrap',
    fresh: false,
  },
  {
    case: 'full crash: a less advanced member waits for the most advanced',
    self: data('db-0', 118),
    peers: [data('db-1', 119), data('db-2', 120)],
    action: 'wait',
    reason: /db-2 is the most advanced member \(seqno 120\)/,
  },
  {
    case: 'full crash, equal seqnos: the lowest ordinal goes first',
    self: data('db-1', 50),
    peers: [data('db-0', 50), data('db-2', 50)],
    action: 'wait',
    reason: /db-0 is the most advanced/,
  },
  {
    case: 'equal seqnos: safe_to_bootstrap beats a lower ordinal',
    self: data('db-2', 50, { safeToBootstrap: true }),
    peers: [data('db-0', 50), data('db-1', 50)],
    action: 'bootstrap',
    fresh: false,
  },
  {
    case: 'a member with an empty (lost) volume never bootstraps over members with data',
    self: { name: 'db-0' },
    peers: [data('db-1', 7), data('db-2', 9)],
    action: 'wait',
    reason: /db-2 is the most advanced/,
  },
  {
    case: 'the only member with data bootstraps even if its ordinal is highest',
    self: data('db-2', 3),
    peers: [{ name: 'db-0' }, { name: 'db-1' }],
    action: 'bootstrap',
    fresh: false,
  },
  {
    case: 'a peer with data but no recovered position blocks the choice',
    self: data('db-0', 10),
    peers: [{ name: 'db-1', hasData: true, position: null }, data('db-2', 4)],
    action: 'wait',
    reason: /position of db-1 is unknown/,
  },
  {
    case: 'members from different clusters: refuse to choose',
    self: data('db-0', 10),
    peers: [{ name: 'db-1', hasData: true, position: { uuid: OTHER, seqno: 99 } }, data('db-2', 4)],
    action: 'wait',
    reason: /different clusters/,
  },
  {
    case: 'initialised data that never joined a cluster (nil uuid) does not conflict and ranks last',
    self: data('db-0', 10),
    peers: [{ name: 'db-1', hasData: true, position: { uuid: NIL_UUID, seqno: -1 } }, data('db-2', 4)],
    action: 'bootstrap',
    fresh: false,
  },
  {
    case: 'peers silent, but we left a clean cluster last (safe_to_bootstrap): go',
    self: data('db-1', 77, { safeToBootstrap: true }),
    peers: [SILENT, SILENT],
    action: 'bootstrap',
    fresh: false,
    reason: /safe_to_bootstrap=1/,
  },
  {
    case: 'peers silent, safe_to_bootstrap but no position: wait',
    self: { name: 'db-1', hasData: true, position: { uuid: U, seqno: -1 }, safeToBootstrap: true },
    peers: [SILENT, SILENT],
    action: 'wait',
  },
  {
    case: 'peers silent and we crashed (no safe_to_bootstrap): wait, they may be ahead',
    self: data('db-1', 77),
    peers: [SILENT, data('db-2', 3)],
    action: 'wait',
    reason: /db-0 to report/,
  },
  {
    case: 'the most advanced member is already starting: the others keep waiting (no second bootstrap)',
    self: data('db-0', 5),
    peers: [data('db-1', 9, { phase: 'starting' }), data('db-2', 5)],
    action: 'wait',
    reason: /db-1 is the most advanced/,
  },
];

describe('decideStart', () => {
  for (const row of rows) {
    it(row.case, () => {
      const names = ['db-0', 'db-1', 'db-2'].filter((n) => n !== row.self.name);
      const peers: PeerView[] = row.peers.map((p, i) =>
        p === SILENT ? { name: names[i] ?? '?', report: undefined } : { name: p.name, report: member(p) },
      );
      const d = decideStart(member(row.self), peers);
      assert.equal(d.action, row.action, d.reason);
      if (row.fresh !== undefined) assert.equal(d.action === 'bootstrap' && d.fresh, row.fresh);
      if (row.reason) assert.match(d.reason, row.reason);
    });
  }

  it('every member of a full-crash cluster agrees on the same single bootstrapper', () => {
    const all = [data('db-0', 40), data('db-1', 41, { safeToBootstrap: false }), data('db-2', 41)].map(member);
    const decisions = all.map((self) =>
      decideStart(
        self,
        all.filter((m) => m !== self).map((m) => ({ name: m.name, report: m })),
      ),
    );
    assert.deepEqual(
      decisions.map((d) => d.action),
      ['wait', 'bootstrap', 'wait'],
    );
  });
});

describe('bootstrap order and readiness', () => {
  it('sorts by seqno, then safe_to_bootstrap, then ordinal', () => {
    const ms = [
      member(data('db-0', 5)),
      member(data('db-2', 5, { safeToBootstrap: true })),
      member(data('db-1', 6)),
      member({ name: 'db-3' }),
    ];
    assert.deepEqual(
      [...ms].sort(compareForBootstrap).map((m) => m.name),
      ['db-1', 'db-2', 'db-0', 'db-3'],
    );
  });

  it('is Synced only in a primary component, local state 4 and ready', () => {
    const base = { clusterStatus: 'Primary', localState: 4, ready: true, clusterSize: 3, nodeName: 'db-0' };
    assert.equal(isSynced(base), true);
    assert.equal(isSynced({ ...base, localState: 2 }), false, 'a donor is not Synced');
    assert.equal(isSynced({ ...base, clusterStatus: 'Non-Primary' }), false);
    assert.equal(isSynced({ ...base, ready: false }), false);
    assert.equal(isSynced(null), false);
  });

  it('is alive while waiting or starting however long it takes (SST), dead only when a running server stalls', () => {
    assert.equal(isAlive('starting', 3_600_000, 180_000), true, 'a joiner in a long SST must not be killed');
    assert.equal(isAlive('waiting', 3_600_000, 180_000), true);
    assert.equal(isAlive('running', 5_000, 180_000), true);
    assert.equal(isAlive('running', 181_000, 180_000), false);
  });

  it(
    'is dead when a running server stays outside the primary ' +
      'component too long (a failed IST leaves it stuck), not before',
    () => {
      assert.equal(isAlive('running', 1_000, 180_000, 60_000, 120_000), true);
      assert.equal(isAlive('running', 1_000, 180_000, 121_000, 120_000), false);
      assert.equal(
        isAlive('starting', 1_000, 180_000, 3_600_000, 120_000),
        true,
        'a joiner in SST is starting, never killed for it',
      );
    },
  );

  it(
    'restarts a running server only once it has been Disconnected ' +
      '(left the group) for the limit, never a non-Primary one',
    () => {
      const status = (clusterStatus: string) => ({
        clusterStatus,
        localState: 0,
        ready: false,
        clusterSize: 0,
        nodeName: 'db-0',
      });
      assert.equal(hasLeftGroup('running', status('Disconnected'), 10_000, 10_000), true);
      assert.equal(hasLeftGroup('running', status('Disconnected'), 9_000, 10_000), false);
      assert.equal(
        hasLeftGroup('running', status('non-Primary'), 60_000, 10_000),
        false,
        'a partitioned member keeps trying by itself',
      );
      assert.equal(hasLeftGroup('starting', status('Disconnected'), 60_000, 10_000), false);
    },
  );

  it('reads the ordinal of StatefulSet pod names', () => {
    assert.equal(ordinalOf('web-db-12'), 12);
    assert.equal(ordinalOf('db'), undefined);
  });
});

describe('donor choice for a joiner', () => {
  const synced = (name: string, syncedForMs?: number): PeerView => ({
    name,
    report: member({ ...primary(name), ...(syncedForMs !== undefined ? { syncedForMs } : {}) }),
  });
  it('names the peers Synced the longest first, never one still joining or not running', () => {
    const joining: PeerView = {
      name: 'db-1',
      report: member({
        ...primary('db-1'),
        wsrep: { clusterStatus: 'Primary', localState: 1, ready: false, clusterSize: 3, nodeName: 'db-1' },
      }),
    };
    // After a full restart: db-2 bootstrapped a minute ago, db-1 has just joined by IST (Galera would happily pick it).
    assert.deepEqual(donorOrder([synced('db-1', 2_000), synced('db-2', 60_000)]), ['db-2', 'db-1']);
    assert.deepEqual(donorOrder([joining, synced('db-2', 5_000), { name: 'db-0', report: undefined }]), ['db-2']);
    assert.deepEqual(
      donorOrder([synced('db-2'), synced('db-0')]),
      ['db-0', 'db-2'],
      'older agents without syncedForMs: by ordinal',
    );
  });
  it(
    'writes wsrep_sst_donor with a trailing comma (any other ' +
      'member if those cannot donate), nothing without candidates',
    () => {
      assert.equal(sstDonorOption(['db-2', 'db-1']), 'db-2,db-1,');
      assert.equal(sstDonorOption([]), undefined);
    },
  );
});
