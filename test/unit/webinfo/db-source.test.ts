// The web tier's "mariadb" data source: settings from the environment, the visit it records and the
// reports it builds (pure parts; the reads against real servers are in test/integration/webinfo/db-source.test.ts
// and test/integration/galera/recovery.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CREATE_VISIT_LOG_TABLE,
  mariadbSettingsFromEnv,
  newVisit,
  readOnlyReport,
  visitOriginFromEnv,
  visitReport,
} from '../../../src/webinfo/db-source.js';
import { dataSourceNames } from '../../../src/webinfo/data-source.js';

const env = {
  WEBINFO_DB_HOST: 'ws-webstack-db',
  WEBINFO_DB_USER: 'app',
  WEBINFO_DB_PASSWORD_FILE: '/s/pw',
  WEBINFO_DB_DATABASE: 'app',
};

describe('mariadb data source', () => {
  it('registers itself under "mariadb"', () => {
    assert.ok(dataSourceNames().includes('mariadb'));
  });

  it('reads its settings, the password from the mounted file', () => {
    assert.deepEqual(
      mariadbSettingsFromEnv(env, () => 'secret\n'),
      { host: 'ws-webstack-db', port: 3306, user: 'app', password: 'secret', database: 'app' },
    );
  });

  for (const [what, patch, msg] of [
    ['no host', { WEBINFO_DB_HOST: '' }, /^WEBINFO_DB_HOST is not set/],
    ['a bad port', { WEBINFO_DB_PORT: 'db' }, /^WEBINFO_DB_PORT='db' is not a port/],
    ['a bad database name', { WEBINFO_DB_DATABASE: 'a;drop' }, /^WEBINFO_DB_DATABASE='a;drop'/],
  ] as const) {
    it(`refuses ${what}, naming the variable`, () => {
      assert.throws(() => mariadbSettingsFromEnv({ ...env, ...patch }, () => 'x'), { message: msg });
    });
  }

  it('takes the password from WEBINFO_DB_PASSWORD when no file is given, and says what is missing otherwise', () => {
    const { WEBINFO_DB_PASSWORD_FILE: _file, ...noFile } = env;
    assert.equal(mariadbSettingsFromEnv({ ...noFile, WEBINFO_DB_PASSWORD: 'pw' }).password, 'pw');
    assert.throws(() => mariadbSettingsFromEnv(noFile), {
      message: /neither WEBINFO_DB_PASSWORD_FILE nor WEBINFO_DB_PASSWORD/,
    });
  });

  it('names the password file it cannot read', () => {
    assert.throws(
      () =>
        mariadbSettingsFromEnv(env, () => {
          throw new Error('ENOENT');
        }),
      { message: /WEBINFO_DB_PASSWORD_FILE: cannot read \/s\/pw/ },
    );
  });

  it('reports the member, cluster size and state of a Galera member', () => {
    const r = visitReport(42, 'db-1', [
      { Variable_name: 'wsrep_cluster_size', Value: '3' },
      { Variable_name: 'wsrep_cluster_status', Value: 'Primary' },
      { Variable_name: 'wsrep_local_state_comment', Value: 'Synced' },
    ]);
    assert.deepEqual(r.values, {
      visits: 42,
      answeredBy: 'db-1',
      clusterSize: 3,
      clusterStatus: 'Primary',
      memberState: 'Synced',
    });
    assert.match(r.message, /visit 42, answered by db-1 \(one of 3 Galera members\)/);
  });

  it('carries the visit id of the committed visit, and keeps the message the page and drills read', () => {
    const visit = { id: '0123456789abcdef0123456789abcdef', region: 'east', pod: 'web-abcde' };
    const r = visitReport(7, 'db-0', [], visit);
    assert.deepEqual(r.values, {
      visits: 7,
      answeredBy: 'db-0',
      visitId: visit.id,
      clusterSize: 1,
      clusterStatus: 'standalone',
    });
    assert.equal(r.ok, true);
    assert.equal(r.message, 'visit 7, answered by db-0');
  });

  it('makes each visit a fresh 128-bit id with the region and pod it was served from', () => {
    const origin = visitOriginFromEnv({ WEBINFO_REGION: 'east', POD_NAME: 'web-abcde' });
    assert.deepEqual(origin, { region: 'east', pod: 'web-abcde' });
    const a = newVisit(origin);
    const b = newVisit(origin);
    assert.match(a.id, /^[0-9a-f]{32}$/);
    assert.notEqual(a.id, b.id);
    assert.deepEqual({ region: a.region, pod: a.pod }, origin);
    assert.equal(newVisit(origin, (n) => Buffer.alloc(n, 0xab)).id, 'ab'.repeat(16));
    assert.deepEqual(visitOriginFromEnv({}), { region: null, pod: 'unknown' });
    assert.throws(() => visitOriginFromEnv({ WEBINFO_REGION: 'East' }), { message: /^WEBINFO_REGION='East'/ });
  });

  it('keeps one row per visit, keyed by the visit id', () => {
    assert.match(CREATE_VISIT_LOG_TABLE, /^CREATE TABLE IF NOT EXISTS webinfo_visit_log \(/);
    assert.match(CREATE_VISIT_LOG_TABLE, /id CHAR\(32\) CHARACTER SET ascii NOT NULL PRIMARY KEY/);
    for (const column of [/region VARCHAR\(63\) NULL/, /pod VARCHAR\(253\) NOT NULL/, /at TIMESTAMP\(3\)/])
      assert.match(CREATE_VISIT_LOG_TABLE, column);
  });

  it('says plainly that a read-only server refused the visit, with no visit id', () => {
    const r = readOnlyReport(
      'db-0',
      'The MariaDB server is running with the --read-only option so it cannot execute this statement',
    );
    assert.equal(r.ok, false);
    assert.equal(r.configured, true);
    assert.equal(r.source, 'mariadb');
    assert.match(
      r.message,
      /^the database is read-only: db-0 refused to record this visit \(error 1290: .*--read-only/,
    );
    assert.deepEqual(r.values, { answeredBy: 'db-0', readOnly: true });
  });

  it('reports a standalone server as a cluster of one', () => {
    assert.deepEqual(visitReport(1, 'db-0', []).values, {
      visits: 1,
      answeredBy: 'db-0',
      clusterSize: 1,
      clusterStatus: 'standalone',
    });
  });
});
