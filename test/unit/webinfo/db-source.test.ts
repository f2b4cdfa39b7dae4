// The web tier's "mariadb" data source: settings from the environment and the report it builds (pure
// parts; the reads against real members are in test/integration/galera/recovery.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mariadbSettingsFromEnv, visitReport } from '../../../src/webinfo/db-source.js';
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

  it('reports a standalone server as a cluster of one', () => {
    assert.deepEqual(visitReport(1, 'db-0', []).values, {
      visits: 1,
      answeredBy: 'db-0',
      clusterSize: 1,
      clusterStatus: 'standalone',
    });
  });
});
