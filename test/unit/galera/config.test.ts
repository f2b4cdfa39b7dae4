// Parsing what Galera leaves on disk and what peers send, and the agent's config and my.cnf.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatGrastate, parseGrastate, parseRecoveredPosition } from '../../../src/galera/position.js';
import {
  BACKUP_PRIVILEGES,
  appAccountTlsSql,
  drAccountsSql,
  dropExtraUsersSql,
  initialSql,
  parseAgentConfig,
  renderMyCnf,
  sqlString,
  statefulSetMembers,
} from '../../../src/galera/config.js';
import { parseReport } from '../../../src/galera/report.js';

const U = '6e3c1d8a-1111-11ef-8000-0242ac120002';

describe('grastate.dat and --wsrep-recover', () => {
  it('reads a clean-shutdown grastate.dat', () => {
    const text = `# GALERA saved state\nversion: 2.1\nuuid:    ${U}\nseqno:   1234\nsafe_to_bootstrap: 1\n`;
    assert.deepEqual(parseGrastate(text), { position: { uuid: U, seqno: 1234 }, safeToBootstrap: true });
  });

  it('reads a crashed one (seqno -1) and round-trips what we write', () => {
    const crashed = parseGrastate(`version: 2.1\nuuid: ${U}\nseqno: -1\nsafe_to_bootstrap: 0\n`);
    assert.deepEqual(crashed, { position: { uuid: U, seqno: -1 }, safeToBootstrap: false });
    const marked = { position: { uuid: U, seqno: 88 }, safeToBootstrap: true };
    assert.deepEqual(parseGrastate(formatGrastate(marked)), marked);
  });

  for (const [what, text, field] of [
    ['no uuid', 'seqno: 3\n', /'uuid'/],
    ['a bad uuid', 'uuid: nope\nseqno: 3\n', /'uuid'.*nope/],
    ['a bad seqno', `uuid: ${U}\nseqno: x\n`, /'seqno'/],
    ['a bad safe_to_bootstrap', `uuid: ${U}\nseqno: 1\nsafe_to_bootstrap: yes\n`, /'safe_to_bootstrap'/],
  ] as const) {
    it(`refuses a grastate.dat with ${what}, naming the field`, () => {
      assert.throws(() => parseGrastate(text), field);
    });
  }

  it('takes the last "Recovered position" line of a --wsrep-recover log', () => {
    const log = [
      '2026-11-25 15:00:01 0 [Note] InnoDB: Starting crash recovery',
      `2026-11-25 15:00:02 0 [Note] WSREP: Recovered position: ${U}:41`,
      `2026-11-25 15:00:02 0 [Note] WSREP: Recovered position: ${U}:42`,
    ].join('\n');
    assert.deepEqual(parseRecoveredPosition(log), { uuid: U, seqno: 42 });
    assert.equal(parseRecoveredPosition('[ERROR] Aborting'), undefined);
  });
});

describe('agent config', () => {
  const base = {
    self: 'db-1',
    rootPasswordFile: '/secrets/root',
    members: [0, 1, 2].map((i) => ({ name: `db-${i}`, host: `db-${i}.db`, galeraPort: 4567 + i })),
  };

  it('fills defaults and keeps explicit ports', () => {
    const cfg = parseAgentConfig(base);
    assert.equal(cfg.mode, 'galera');
    assert.equal(cfg.sstMethod, 'mariabackup');
    assert.deepEqual(cfg.members[2], {
      name: 'db-2',
      host: 'db-2.db',
      sqlPort: 3306,
      galeraPort: 4569,
      istPort: 4568,
      sstPort: 4444,
      agentPort: 8081,
    });
  });

  it('derives members from a StatefulSet and takes self from HOSTNAME (the pod name)', () => {
    const cfg = parseAgentConfig(
      {
        rootPasswordFile: '/s',
        statefulSet: { name: 'web-db', replicas: 3, domain: 'web-db-headless.ns.svc.cluster.local' },
      },
      { HOSTNAME: 'web-db-2' },
    );
    assert.equal(cfg.self, 'web-db-2');
    assert.deepEqual(
      cfg.members.map((m) => m.host),
      [0, 1, 2].map((i) => `web-db-${i}.web-db-headless.ns.svc.cluster.local`),
    );
    assert.deepEqual(statefulSetMembers('x', 1, 'd', { sqlPort: 3307 })[0]?.sqlPort, 3307);
  });

  for (const [what, patch, msg] of [
    ['an unknown mode', { mode: 'async' }, /^mode: must be "galera" or "standalone"/],
    ['self not among members', { self: 'db-9' }, /^self: "db-9" is not one of the members/],
    ['an even member count', { members: base.members.slice(0, 2) }, /^members: galera mode needs an odd number/],
    ['standalone with 3 members', { mode: 'standalone' }, /^members: standalone mode has exactly 1 member/],
    [
      'a bad port',
      { members: [{ name: 'db-0', host: 'h', sqlPort: 70000 }] },
      /^members\[0\]\.sqlPort: must be a port/,
    ],
    [
      'names without ordinals',
      {
        self: 'a',
        members: [
          { name: 'a', host: 'h' },
          { name: 'b', host: 'h' },
          { name: 'c', host: 'h' },
        ],
      },
      /-<ordinal>/,
    ],
    ['an unknown SST method', { sstMethod: 'xtrabackup' }, /^sstMethod:/],
    ['a bad app database name', { app: { user: 'app', passwordFile: '/p', database: 'a-b' } }, /^app\.database:/],
    ['no root password file', { rootPasswordFile: undefined }, /^rootPasswordFile: must be a non-empty string/],
    ['neither members nor statefulSet', { members: undefined }, /needs either "members"/],
  ] as const) {
    it(`rejects ${what}, naming the field`, () => {
      assert.throws(() => parseAgentConfig({ ...base, ...patch }), { message: msg });
    });
  }

  it('renders a my.cnf with distinct Galera, IST and SST addresses per member', () => {
    const cfg = parseAgentConfig({
      ...base,
      bindAddress: '127.0.0.1',
      sstMethod: 'rsync',
      extraMysqld: ['innodb_buffer_pool_size=64M'],
    });
    const cnf = renderMyCnf(cfg);
    assert.match(cnf, /^wsrep_cluster_address=gcomm:\/\/db-0\.db:4567,db-1\.db:4568,db-2\.db:4569$/m);
    assert.match(cnf, /^wsrep_node_name=db-1$/m);
    assert.match(cnf, /gmcast\.listen_addr=tcp:\/\/127\.0\.0\.1:4568;ist\.recv_addr=db-1\.db:4568/);
    assert.match(cnf, /pc\.recovery=FALSE/, 'the agent, not Galera, decides who forms the primary component');
    assert.match(cnf, /^wsrep_sst_receive_address=db-1\.db:4444$/m);
    assert.match(cnf, /^innodb_buffer_pool_size=64M$/m);
    assert.doesNotMatch(cnf, /wsrep_sst_auth/, 'rsync SST needs no credentials');
  });

  it("binds IST to the configured IST port, not Galera's default (the Galera port + 1)", () => {
    const cfg = parseAgentConfig({
      ...base,
      bindAddress: '127.0.0.1',
      members: [0, 1, 2].map((i) => ({
        name: `db-${i}`,
        host: '127.0.0.1',
        galeraPort: 20414 + i * 10,
        istPort: 21753 + i,
      })),
    });
    assert.match(renderMyCnf(cfg), /ist\.recv_addr=127\.0\.0\.1:21754;ist\.recv_bind=127\.0\.0\.1:21754;/);
    const v6 = parseAgentConfig({ ...base, bindAddress: '::' });
    assert.match(renderMyCnf(v6), /ist\.recv_bind=\[::\]:4568;/, 'IPv6 in brackets');
  });

  it("gives mariadbd the configured tmpdir, /tmp by default (a pod's own)", () => {
    assert.match(renderMyCnf(parseAgentConfig(base)), /^tmpdir=\/tmp$/m);
    assert.match(renderMyCnf(parseAgentConfig({ ...base, tmpDir: '/srv/db-1/tmp' })), /^tmpdir=\/srv\/db-1\/tmp$/m);
    assert.throws(() => parseAgentConfig({ ...base, tmpDir: '' }), { message: /^tmpDir: must be a non-empty string/ });
  });

  it('advertises the address the agent chose (pod IP or secondary interface) for Galera, IST, SST and clients', () => {
    const cnf = renderMyCnf(parseAgentConfig(base), { advertise: '10.78.0.12' });
    assert.match(cnf, /^wsrep_node_address=10\.78\.0\.12:4568$/m);
    assert.match(cnf, /^wsrep_node_incoming_address=10\.78\.0\.12:3306$/m);
    assert.match(cnf, /^wsrep_sst_receive_address=10\.78\.0\.12:4444$/m);
    assert.match(cnf, /ist\.recv_addr=10\.78\.0\.12:4568;/);
    assert.match(
      renderMyCnf(parseAgentConfig(base), { advertise: 'fd00::7' }),
      /^wsrep_node_address=\[fd00::7\]:4568$/m,
      'IPv6 in brackets',
    );
  });

  it(
    'takes the secondary interface from GALERA_SECONDARY_INTERFACE and ' +
      'the pod IP from POD_IP, and rejects bad ones naming the variable',
    () => {
      const cfg = parseAgentConfig(base, { GALERA_SECONDARY_INTERFACE: 'net1', POD_IP: '10.244.1.7' });
      assert.equal(cfg.secondaryInterface, 'net1');
      assert.equal(cfg.podIp, '10.244.1.7');
      const none = parseAgentConfig(base, { GALERA_SECONDARY_INTERFACE: '' });
      assert.equal(none.secondaryInterface, undefined, 'empty means: no secondary network');
      assert.equal(none.podIp, undefined);
      assert.throws(() => parseAgentConfig(base, { GALERA_SECONDARY_INTERFACE: 'net 1; rm' }), {
        message: /^GALERA_SECONDARY_INTERFACE: "net 1; rm" is not a network interface name/,
      });
      assert.throws(() => parseAgentConfig(base, { POD_IP: 'db-1.example' }), {
        message: /^POD_IP: "db-1\.example" is not an IP address/,
      });
    },
  );

  it('puts SST credentials in my.cnf only for mariabackup, and has no wsrep at all when standalone', () => {
    assert.match(renderMyCnf(parseAgentConfig(base), { sstPassword: 'pw' }), /^wsrep_sst_auth=root:pw$/m);
    const solo = renderMyCnf(
      parseAgentConfig({ ...base, mode: 'standalone', self: 'db-0', members: base.members.slice(0, 1) }),
    );
    assert.doesNotMatch(solo, /wsrep/);
  });
});

describe('TLS', () => {
  const base = {
    self: 'db-1',
    rootPasswordFile: '/secrets/root',
    members: [0, 1, 2].map((i) => ({ name: `db-${i}`, host: `db-${i}.db` })),
  };
  const tls = { ca: '/tls/ca.crt', cert: '/tls/tls.crt', key: '/tls/tls.key' };

  it('serves clients over TLS only, encrypts Galera and IST, and sends SST through OpenSSL verifying the CA', () => {
    const cnf = renderMyCnf(parseAgentConfig({ ...base, tls }));
    for (const line of ['ssl_ca=/tls/ca.crt', 'ssl_cert=/tls/tls.crt', 'ssl_key=/tls/tls.key'])
      assert.match(cnf, new RegExp(`^${line}$`, 'm'));
    assert.match(cnf, /^require_secure_transport=ON$/m);
    assert.match(
      cnf,
      /^wsrep_provider_options=".*;socket\.ssl=YES;socket\.ssl_ca=\/tls\/ca\.crt;socket\.ssl_cert=\/tls\/tls\.crt;socket\.ssl_key=\/tls\/tls\.key"$/m,
    );
    const sst = cnf.slice(cnf.indexOf('[sst]'));
    assert.match(sst, /^ssl-mode=VERIFY_CA$/m);
    assert.match(sst, /^ssl-ca=\/tls\/ca\.crt$/m);
    assert.match(sst, /^transferfmt=socat$/m);
  });

  it('renders none of it without tls, and refuses a tls object that misses a file', () => {
    const cnf = renderMyCnf(parseAgentConfig(base));
    assert.doesNotMatch(cnf, /ssl|require_secure_transport/);
    assert.throws(() => parseAgentConfig({ ...base, tls: { ca: '/a', cert: '/b' } }), {
      message: /^tls\.key: must be a non-empty string/,
    });
    assert.throws(() => parseAgentConfig({ ...base, tls: 'on' }), { message: /^tls: must be an object/ });
  });

  it('makes the accounts over TCP require TLS exactly when it is on', () => {
    const app = { user: 'app', password: 'x', database: 'app' };
    assert.ok(
      initialSql('pw', app, [], true).some((s) => /^CREATE USER IF NOT EXISTS 'app'@'%' .* REQUIRE SSL$/.test(s)),
    );
    assert.ok(initialSql('pw', app, [], false).some((s) => /'app'@'%' .* REQUIRE NONE$/.test(s)));
    const dr = drAccountsSql([{ role: 'backup', user: 'kstack_backup', password: 'b' }], true);
    assert.ok(dr.some((s) => /^ALTER USER 'kstack_backup'@'%' IDENTIFIED BY 'b' REQUIRE SSL$/.test(s)));
    assert.deepEqual(appAccountTlsSql('app', true), ["ALTER USER IF EXISTS 'app'@'%' REQUIRE SSL"]);
    assert.deepEqual(appAccountTlsSql('app', false), ["ALTER USER IF EXISTS 'app'@'%' REQUIRE NONE"]);
    assert.deepEqual(appAccountTlsSql(undefined, true), []);
  });
});

describe('accounts', () => {
  it('quotes passwords so any character is safe', () => {
    assert.equal(sqlString(`a'b\\c`), `'a\\'b\\\\c'`);
    const sql = initialSql(`p'w`, { user: 'app', password: 'x', database: 'app' });
    assert.ok(sql.every((s) => !s.includes(`p'w`)));
    assert.ok(sql.some((s) => s.startsWith("CREATE USER IF NOT EXISTS 'app'@'%'")));
  });

  it('drops the accounts mariadb-install-db leaves without a password, keeps ours', () => {
    const accounts = [
      'root@localhost',
      'root@127.0.0.1',
      'root@::1',
      'root@vm',
      '@localhost',
      'mariadb.sys@localhost',
      'app@%',
    ].map((a) => {
      const [User = '', Host = ''] = a.split('@');
      return { User, Host };
    });
    assert.deepEqual(dropExtraUsersSql(accounts, 'app'), [
      "DROP USER IF EXISTS 'root'@'::1'",
      "DROP USER IF EXISTS 'root'@'vm'",
      "DROP USER IF EXISTS ''@'localhost'",
    ]);
  });
});

describe("the DR Jobs' accounts", () => {
  const dr = [
    { role: 'backup' as const, user: 'kstack_backup', password: `b'k` },
    { role: 'restore' as const, user: 'kstack_restore', password: 'r' },
  ];

  it("creates each at '%' idempotently, re-sets its password from the Secret, and grants by role", () => {
    assert.deepEqual(drAccountsSql(dr), [
      "CREATE USER IF NOT EXISTS 'kstack_backup'@'%' IDENTIFIED BY 'b\\'k'",
      "ALTER USER 'kstack_backup'@'%' IDENTIFIED BY 'b\\'k' REQUIRE NONE",
      `GRANT ${BACKUP_PRIVILEGES} ON *.* TO 'kstack_backup'@'%'`,
      "CREATE USER IF NOT EXISTS 'kstack_restore'@'%' IDENTIFIED BY 'r'",
      "ALTER USER 'kstack_restore'@'%' IDENTIFIED BY 'r' REQUIRE NONE",
      "GRANT ALL PRIVILEGES ON *.* TO 'kstack_restore'@'%'",
    ]);
  });

  it('gives the backup account nothing that writes, and nobody GRANT OPTION', () => {
    for (const p of ['INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'SUPER', 'ALL'])
      assert.ok(!BACKUP_PRIVILEGES.split(', ').includes(p), p);
    assert.ok(drAccountsSql(dr).every((s) => !/GRANT OPTION/.test(s)));
  });

  it("are part of the new cluster's initial SQL, after root and the app", () => {
    const sql = initialSql('pw', { user: 'app', password: 'x', database: 'app' }, dr);
    assert.deepEqual(sql.slice(-6), drAccountsSql(dr));
    assert.equal(
      initialSql('pw').some((s) => s.includes('kstack_')),
      false,
      'none without backups',
    );
  });

  it('are kept when the install leftovers are dropped', () => {
    const accounts = [
      { User: 'kstack_backup', Host: '%' },
      { User: 'kstack_restore', Host: '%' },
      { User: 'kstack_backup', Host: 'localhost' },
    ];
    assert.deepEqual(dropExtraUsersSql(accounts, 'app', ['kstack_backup', 'kstack_restore']), [
      "DROP USER IF EXISTS 'kstack_backup'@'localhost'",
    ]);
  });

  it('are read from the agent config, with bad entries refused by field', () => {
    const base = {
      self: 'db-0',
      rootPasswordFile: '/secrets/root',
      members: [0, 1, 2].map((i) => ({ name: `db-${i}`, host: `db-${i}.db` })),
    };
    const cfg = parseAgentConfig({
      ...base,
      drAccounts: [{ role: 'backup', user: 'kstack_backup', passwordFile: '/s/b' }],
    });
    assert.deepEqual(cfg.drAccounts, [{ role: 'backup', user: 'kstack_backup', passwordFile: '/s/b' }]);
    assert.deepEqual(parseAgentConfig(base).drAccounts, []);
    assert.throws(() => parseAgentConfig({ ...base, drAccounts: [{ role: 'admin', user: 'x', passwordFile: '/s' }] }), {
      message: /^drAccounts\[0\]\.role: must be "backup" or "restore"/,
    });
    assert.throws(
      () => parseAgentConfig({ ...base, drAccounts: [{ role: 'backup', user: 'root', passwordFile: '/s' }] }),
      { message: /^drAccounts\[0\]\.user: "root" is already/ },
    );
    assert.throws(
      () => parseAgentConfig({ ...base, drAccounts: [{ role: 'backup', user: 'a b', passwordFile: '/s' }] }),
      { message: /^drAccounts\[0\]\.user: letters, digits/ },
    );
    assert.throws(() => parseAgentConfig({ ...base, drAccounts: 'x' }), { message: /^drAccounts: must be a list/ });
  });
});

describe('peer reports', () => {
  const good = {
    name: 'db-0',
    ordinal: 0,
    phase: 'running',
    hasData: true,
    position: { uuid: U, seqno: 3 },
    safeToBootstrap: false,
    wsrep: { clusterStatus: 'Primary', localState: 4, ready: true, clusterSize: 3, nodeName: 'db-0' },
    plan: 'x',
  };

  it('accepts a well-formed report', () => {
    assert.deepEqual(parseReport(good), good);
  });

  for (const [what, bad] of [
    ['an unknown phase', { ...good, phase: 'sleeping' }],
    ['a string seqno', { ...good, position: { uuid: U, seqno: '3' } }],
    ['a partial wsrep block', { ...good, wsrep: { clusterStatus: 'Primary' } }],
    ['no hasData', { ...good, hasData: undefined }],
    ['not an object', 'hello'],
  ] as const) {
    it(`treats ${what} as "not reporting"`, () => {
      assert.equal(parseReport(bad), undefined);
    });
  }
});
