// Pure parts of backup and the database side: reading the dump's position, the checksum SQL, DB target config.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDumpPosition, snapshotTaken } from '../../../src/dr/backup.js';
import { clientArgs, parseDbTarget, tableStatSql } from '../../../src/dr/db.js';

const head = `-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB
-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;
--
-- CHANGE MASTER TO MASTER_LOG_FILE='binlog.000001', MASTER_LOG_POS=1203;
`;

describe('dump head', () => {
  it('reads the binlog position mariadb-dump --master-data=2 writes', () => {
    assert.deepEqual(parseDumpPosition(head), { binlogFile: 'binlog.000001', binlogPos: 1203 });
    assert.equal(parseDumpPosition('-- MariaDB dump\n'), undefined);
  });
  it('knows when the dump has its snapshot', () => {
    assert.equal(snapshotTaken('-- MariaDB dump 10.19\n-- Host: x\n'), false);
    assert.equal(snapshotTaken(head), true);
    assert.equal(snapshotTaken('-- Host: x\n--\n-- Current Database: `app`\n'), true);
  });
});

describe('table checksum SQL', () => {
  it('casts every column to binary, flags NULLs and quotes identifiers', () => {
    const sql = tableStatSql('app', 'we`ird', ['id', 'v']);
    assert.match(sql, /CAST\(`id` AS BINARY\), CAST\(`v` AS BINARY\), CONCAT\(ISNULL\(`id`\), ISNULL\(`v`\)\)/);
    assert.match(sql, /FROM `app`\.`we``ird`$/);
    assert.throws(() => tableStatSql('a', 'b', []), /no columns/);
  });
});

describe('database target', () => {
  it('defaults to root on 127.0.0.1:3306 and keeps the password off the command line', () => {
    const t = parseDbTarget({ KSTACK_DR_DB_PASSWORD_FILE: '/s/pw' }, () => 'sec ret\n');
    assert.deepEqual(t, { socket: undefined, host: '127.0.0.1', port: 3306, user: 'root', password: 'sec ret' });
    assert.ok(!clientArgs(t).some((a) => a.includes('sec ret')));
    assert.deepEqual(clientArgs({ ...t, socket: '/run/m.sock' }), ['--no-defaults', '--socket=/run/m.sock', '--user=root']);
  });
  it('names the bad variable', () => {
    assert.throws(() => parseDbTarget({ KSTACK_DR_DB_PORT: '99999' }), /KSTACK_DR_DB_PORT: '99999'/);
    assert.throws(() => parseDbTarget({ KSTACK_DR_DB_PASSWORD: 'a', KSTACK_DR_DB_PASSWORD_FILE: '/x' }), /both set/);
    assert.throws(() => parseDbTarget({ KSTACK_DR_DB_PASSWORD_FILE: '/x' }, () => { throw new Error('ENOENT'); }), /KSTACK_DR_DB_PASSWORD_FILE: cannot read \/x/);
  });
});
