// The [mysqld] lines that turn on binary logging for PITR (rendered into my.cnf by the galera agent).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAgentConfig, renderMyCnf } from '../../../src/galera/config.js';

const base = { rootPasswordFile: '/s/root', statefulSet: { name: 'db', replicas: 3, domain: 'h' }, self: 'db-2' };

describe('binlog settings for PITR', () => {
  it('off unless asked for', () => {
    assert.doesNotMatch(renderMyCnf(parseAgentConfig(base)), /log_bin/);
  });
  it('galera: every member logs every transaction with the cluster-wide GTID', () => {
    const cnf = renderMyCnf(parseAgentConfig({ ...base, binlog: true }));
    for (const line of [
      'log_bin=/var/lib/mysql/mariadb-bin',
      'log_slave_updates=ON',
      'server_id=1',
      'wsrep_gtid_mode=ON',
      'wsrep_gtid_domain_id=0',
      'gtid_domain_id=102',
    ]) {
      assert.ok(cnf.split('\n').includes(line), `${line} in\n${cnf}`);
    }
  });
  it('standalone: binlog without the wsrep GTID settings', () => {
    const cnf = renderMyCnf(
      parseAgentConfig({
        ...base,
        binlog: true,
        mode: 'standalone',
        statefulSet: { name: 'db', replicas: 1, domain: 'h' },
        self: 'db-0',
      }),
    );
    assert.match(cnf, /^log_bin=/m);
    assert.doesNotMatch(cnf, /wsrep_gtid_mode/);
  });
  it('rejects a non-boolean', () => {
    assert.throws(() => parseAgentConfig({ ...base, binlog: 'yes' }), /binlog: must be true or false/);
  });
});
