// The pair of regions (pure): names and identities, the values each region's release gets, the pair file
// read strictly, the roles after a failover, the host link rules, mariadb's batch output and the handover
// position.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planClusterNetwork } from '../../../src/cluster/nodes/plan.js';
import {
  afterFailover,
  checkPair,
  pairFile,
  parsePair,
  readPair,
  regionIdentity,
  regionValues,
  writePair,
  type RegionPair,
} from '../../../src/region/pair.js';
import { regionLinkRules } from '../../../src/region/link.js';
import { parseBatchOutput } from '../../../src/region/regions.js';
import { formatGtidList, parseDumpGtid, parseGtidList } from '../../../src/region/replication.js';

const pair: RegionPair = {
  primary: 'east',
  standby: 'west',
  epoch: 1,
  fenced: [],
  namespace: 'webstack',
  release: 'web',
  entryPoints: { east: '10.77.107.203', west: '10.77.118.203' },
};

describe('regions', () => {
  it("get identities from their clusters' subnets: distinct per cluster on one machine", () => {
    const east = regionIdentity('east');
    const subnet = planClusterNetwork('east', { count: 5 }).nodeSubnet;
    assert.equal(east.nodeSubnet, subnet);
    assert.equal(east.serverId, Number(subnet.split('.')[2]) + 1);
    assert.notEqual(east.serverId, regionIdentity('west').serverId);
  });

  it('are two different DNS labels', () => {
    assert.throws(() => {
      checkPair('east', 'east');
    }, /--primary and --standby are both 'east'/);
    assert.throws(() => {
      checkPair('East', 'west');
    }, /--primary 'East': a region is a lowercase DNS label/);
    assert.throws(() => {
      checkPair('east', 'we_st');
    }, /--standby 'we_st'/);
    checkPair('east', 'west');
  });

  it("give each release its role, identity, the peer's block only, and a replication entry point", () => {
    const values = regionValues('west', 'standby', 'east') as {
      region: { name: string };
      db: { replication: Record<string, unknown> & { service: Record<string, unknown> } };
    };
    const east = regionIdentity('east');
    assert.equal(values.region.name, 'west');
    assert.equal(values.db.replication.role, 'standby');
    assert.equal(values.db.replication.serverId, regionIdentity('west').serverId);
    assert.deepEqual(values.db.replication.peerCidrs, [east.nodeSubnet]);
    assert.deepEqual(values.db.replication.service.loadBalancerSourceRanges, [east.nodeSubnet]);
    assert.equal(values.db.replication.service.loadBalancerClass, 'kstack.io/local');
  });
});

describe('the pair file', () => {
  it('round-trips, written whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kstack-pair-'));
    try {
      const file = pairFile({ KSTACK_STATE_DIR: dir });
      assert.equal(readPair(file), undefined);
      writePair(pair, file);
      assert.deepEqual(readPair(file), pair);
      assert.deepEqual(parsePair(readFileSync(file, 'utf8')), pair);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [what, text, message] of [
    ['not JSON', '{', /regions file: not JSON/],
    ['no primary', JSON.stringify({ ...pair, primary: '' }), /primary must be a non-empty string/],
    ['epoch 0', JSON.stringify({ ...pair, epoch: 0 }), /epoch must be a positive integer/],
    ['a bad entry point', JSON.stringify({ ...pair, entryPoints: { east: 'x' } }), /entryPoints must map/],
    ['a bad fence list', JSON.stringify({ ...pair, fenced: 'east' }), /fenced must be a list/],
  ] as const) {
    it(`refuses ${what}, naming the field`, () => {
      assert.throws(() => parsePair(text), message);
    });
  }

  it('swaps the roles and raises the epoch after a failover; fences the old primary only when asked', () => {
    const planned = afterFailover(pair, false);
    assert.deepEqual([planned.primary, planned.standby, planned.epoch, planned.fenced], ['west', 'east', 2, []]);
    const unplanned = afterFailover(pair, true);
    assert.deepEqual(unplanned.fenced, ['east']);
    const back = afterFailover(unplanned, false);
    assert.equal(back.primary, 'east');
    assert.deepEqual(back.fenced, [], 'the region that becomes primary again is no longer fenced');
  });
});

describe('the host link between two regions', () => {
  it("accepts forwarding between the two bridges only, each rule tagged with its source cluster's comment", () => {
    const [east, west] = [
      planClusterNetwork('east', { count: 3 }).bridge,
      planClusterNetwork('west', { count: 3 }).bridge,
    ];
    assert.deepEqual(
      regionLinkRules('east', 'west').map((r) => r.rule.join(' ')),
      [
        `-i ${east} -o ${west} -m comment --comment kstack:east -j ACCEPT`,
        `-i ${west} -o ${east} -m comment --comment kstack:west -j ACCEPT`,
      ],
    );
  });
});

describe('what the databases answer', () => {
  it('reads mariadb -B output with its header, NULL as null', () => {
    assert.deepEqual(parseBatchOutput('Slave_IO_Running\tSeconds_Behind_Master\nYes\tNULL\n'), [
      { Slave_IO_Running: 'Yes', Seconds_Behind_Master: null },
    ]);
    assert.deepEqual(parseBatchOutput(''), []);
  });

  it('takes the GTID position of a dump from its head', () => {
    const head = "-- MariaDB dump\n--\n-- SET GLOBAL gtid_slave_pos='108-108-56,1108-108-2';\n";
    assert.equal(parseDumpGtid(head), '108-108-56,1108-108-2');
    assert.equal(parseDumpGtid('-- no position\n'), undefined);
  });

  it("takes it from the dump's end when the dumped server was a replica (mariadb-dump defers it)", () => {
    const dump =
      '-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;\n-- A corresponding … is printed later in the file.\n' +
      'INSERT INTO t VALUES (1);\n-- The deferred gtid setting for slave corresponding to the master-data ' +
      "CHANGE-MASTER follows\n-- SET GLOBAL gtid_slave_pos='119-119-112,108-108-114';\n";
    assert.equal(parseDumpGtid(dump), '119-119-112,108-108-114');
  });

  it('writes a GTID position back as MariaDB reads it, domains in order', () => {
    assert.equal(
      formatGtidList(parseGtidList('119-119-87,108-108-200,1108-108-3')),
      '108-108-200,119-119-87,1108-108-3',
    );
    assert.equal(formatGtidList(parseGtidList('')), '');
  });
});
