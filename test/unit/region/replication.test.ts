// The pure half of two-region replication: the region block of the agent config and the my.cnf it makes,
// the region role rule, CHANGE MASTER, GTID positions and the replica status a person reads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentConfig, renderMyCnf, replicationAccountSql } from '../../../src/galera/config.js';
import {
  effectiveRole,
  parseRegionState,
  wantsReadOnly,
  writeRegionStateSql,
} from '../../../src/galera/region-role.js';
import {
  changeMasterSql,
  parseGtidList,
  parseReplicaStatus,
  switchoverRefusal,
  transactionsBehind,
  type ReplicaStatus,
  type ReplicationSource,
} from '../../../src/region/replication.js';

const base = {
  self: 'db-1',
  statefulSet: { name: 'db', replicas: 3, domain: 'db-headless.ns.svc.cluster.local' },
  rootPasswordFile: '/secrets/root',
  binlog: true,
};
const region = {
  name: 'west',
  serverId: 2,
  gtidDomainId: 2,
  initialRole: 'standby',
  replicationAccount: { user: 'kstack_repl', passwordFile: '/secrets/repl' },
};

describe('the agent config of a region', () => {
  it('gives the region its own server_id and GTID domains, and starts every member read-only', () => {
    const cnf = renderMyCnf(parseAgentConfig({ ...base, region }));
    assert.match(cnf, /^server_id=2$/m);
    assert.match(cnf, /^wsrep_gtid_domain_id=2$/m);
    assert.match(cnf, /^gtid_domain_id=2101$/m, 'db-1 logs its local events in a domain of its own, per region');
    assert.match(cnf, /^read_only=ON$/m);
    assert.match(cnf, /^replicate_ignore_db=kstack_region$/m);
  });

  it('changes nothing without a region', () => {
    const cnf = renderMyCnf(parseAgentConfig(base));
    assert.match(cnf, /^server_id=1$/m);
    assert.match(cnf, /^wsrep_gtid_domain_id=0$/m);
    assert.match(cnf, /^gtid_domain_id=101$/m);
    assert.doesNotMatch(cnf, /read_only|replicate_ignore_db/);
  });

  for (const [what, patch, message] of [
    ['no binlog', { binlog: false }, /region: needs binlog: true/],
    ['a bad name', { region: { ...region, name: 'West_1' } }, /region\.name: "West_1" must be a DNS label/],
    ['server id 0', { region: { ...region, serverId: 0 } }, /region\.serverId: must be an integer from 1/],
    ['a bad role', { region: { ...region, initialRole: 'leader' } }, /region\.initialRole: must be "primary" or/],
    [
      'the app account as the replication account',
      {
        app: { user: 'app', passwordFile: '/s/app', database: 'app' },
        region: { ...region, replicationAccount: { user: 'app', passwordFile: '/s' } },
      },
      /region\.replicationAccount\.user: "app" is already another account's/,
    ],
  ] as const) {
    it(`refuses ${what}, naming the field`, () => {
      assert.throws(() => parseAgentConfig({ ...base, region, ...patch }), message);
    });
  }

  it('grants the replication account only replication and reading the region state, over TLS', () => {
    const sql = replicationAccountSql({ user: 'kstack_repl', password: "p'w" }, true).join('\n');
    assert.match(sql, /IDENTIFIED BY 'p\\'w' REQUIRE SSL/);
    assert.match(sql, /GRANT REPLICATION SLAVE ON \*\.\* TO 'kstack_repl'@'%'/);
    assert.match(sql, /GRANT SELECT ON `kstack_region`\.\* TO 'kstack_repl'@'%'/);
    assert.doesNotMatch(sql, /ALL PRIVILEGES|SUPER/);
    assert.match(replicationAccountSql({ user: 'r', password: 'x' }, false).join('\n'), /REQUIRE NONE/);
  });
});

describe('the region role', () => {
  it('is the stored one, else the initial one; only a primary takes writes', () => {
    assert.equal(effectiveRole('primary', undefined), 'primary');
    assert.equal(effectiveRole('primary', { role: 'fenced', epoch: 3, reason: 'x' }), 'fenced');
    assert.equal(effectiveRole('standby', { role: 'primary', epoch: 2, reason: 'x' }), 'primary');
    assert.equal(wantsReadOnly('primary'), false);
    assert.equal(wantsReadOnly('standby'), true);
    assert.equal(wantsReadOnly('fenced'), true);
  });

  it('reads an unknown stored role as fenced, never as writable', () => {
    assert.deepEqual(parseRegionState({ role: 'leader', epoch: 4, reason: 'r' }), {
      role: 'fenced',
      epoch: 4,
      reason: 'r',
    });
    assert.equal(parseRegionState(undefined), undefined);
  });

  it('writes the row with its reason quoted', () => {
    assert.equal(
      writeRegionStateSql({ role: 'primary', epoch: 7, reason: "east's failover" }),
      "REPLACE INTO `kstack_region`.`state` (id, role, epoch, reason) VALUES (1, 'primary', 7, 'east\\'s failover')",
    );
  });
});

describe('replication statements and positions', () => {
  const source: ReplicationSource = {
    host: '10.77.3.201',
    port: 3306,
    user: 'kstack_repl',
    password: 'pw',
    caFile: '/etc/webstack-db/tls/ca.crt',
    verifyServerName: false,
  };

  it('replicates by GTID over TLS checked against the CA', () => {
    const sql = changeMasterSql(source);
    assert.match(sql, /^CHANGE MASTER TO MASTER_HOST = '10\.77\.3\.201', MASTER_PORT = 3306, /);
    assert.match(sql, /MASTER_USE_GTID = slave_pos/);
    assert.match(
      sql,
      /MASTER_SSL = 1, MASTER_SSL_CA = '\/etc\/webstack-db\/tls\/ca\.crt', MASTER_SSL_VERIFY_SERVER_CERT = 0/,
    );
    assert.match(changeMasterSql({ ...source, caFile: undefined }), /MASTER_SSL = 0/);
  });

  it('refuses a host or port that is not one', () => {
    assert.throws(() => changeMasterSql({ ...source, host: "x'; DROP" }), /source\.host/);
    assert.throws(() => changeMasterSql({ ...source, port: 0 }), /source\.port/);
  });

  it('reads GTID lists and counts the transactions a replica lacks in the domains that matter', () => {
    const primary = parseGtidList('1-1-120,1100-1-4');
    assert.deepEqual(primary.get(1), { serverId: 1, seqNo: 120 });
    assert.equal(transactionsBehind(primary, parseGtidList('1-1-117'), [1]), 3);
    assert.equal(transactionsBehind(primary, parseGtidList('1-1-120,2-2-9'), [1]), 0);
    assert.equal(transactionsBehind(primary, parseGtidList(''), [1]), 120);
    assert.equal(transactionsBehind(primary, parseGtidList('1-1-121'), [1]), 0, 'ahead is not behind');
    assert.throws(() => parseGtidList('1-1'), /GTID "1-1" is not domain-server-sequence/);
  });

  it('reads SHOW SLAVE STATUS: running, lag and the last error', () => {
    assert.deepEqual(
      parseReplicaStatus([
        {
          Slave_IO_Running: 'Yes',
          Slave_SQL_Running: 'Yes',
          Seconds_Behind_Master: 0,
          Master_Host: '10.77.3.201',
          Master_Port: 3306,
          Gtid_IO_Pos: '4-4-120,1004-4-2',
          Last_IO_Error: '',
          Last_SQL_Error: '',
        },
      ]),
      {
        configured: true,
        ioRunning: true,
        sqlRunning: true,
        secondsBehind: 0,
        sourceHost: '10.77.3.201',
        sourcePort: 3306,
        retrieved: parseGtidList('4-4-120,1004-4-2'),
        lastError: undefined,
      },
    );
    const broken = parseReplicaStatus([
      {
        Slave_IO_Running: 'Connecting',
        Slave_SQL_Running: 'Yes',
        Seconds_Behind_Master: null,
        Last_IO_Error: 'error connecting',
      },
    ]);
    assert.equal(broken.ioRunning, false);
    assert.equal(broken.secondsBehind, undefined);
    assert.equal(broken.lastError, 'error connecting');
    assert.equal(parseReplicaStatus([]).configured, false);
  });
});

describe('when a planned failover may start', () => {
  const replica = (over: Partial<ReplicaStatus>): ReplicaStatus => ({
    configured: true,
    ioRunning: true,
    sqlRunning: true,
    secondsBehind: 0,
    sourceHost: '10.77.3.201',
    sourcePort: 3306,
    retrieved: parseGtidList('4-4-120'),
    lastError: undefined,
    ...over,
  });
  const opts = { maxLagSeconds: 30, force: false };

  it('starts on a replica that applies and is close; refuses one that does not apply, forced or not', () => {
    assert.equal(switchoverRefusal(replica({ secondsBehind: 30 }), 'west', 'east', opts), undefined);
    assert.equal(switchoverRefusal(replica({ secondsBehind: undefined }), 'west', 'east', opts), undefined);
    for (const force of [false, true]) {
      assert.match(
        switchoverRefusal(replica({ sqlRunning: false, lastError: 'Duplicate entry' }), 'west', 'east', {
          ...opts,
          force,
        }) ?? '',
        /region 'west' is not applying the primary's changes \(Duplicate entry\); a switchover would lose them/,
      );
      assert.match(
        switchoverRefusal(parseReplicaStatus([]), 'west', 'east', { ...opts, force }) ?? '',
        /\(no replica\)/,
      );
    }
  });

  it('refuses a standby too far behind, naming how far and the way round, unless forced', () => {
    assert.match(
      switchoverRefusal(replica({ secondsBehind: 31 }), 'west', 'east', opts) ?? '',
      /region 'west' is 31 s behind 'east' \(more than 30 s\): .*or add --force to switch over anyway/,
    );
    assert.equal(
      switchoverRefusal(replica({ secondsBehind: 31 }), 'west', 'east', { ...opts, force: true }),
      undefined,
    );
  });
});
