// Pure parts of backup and the database side: reading the dump's position, the checksum SQL, DB target config.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  DUMP_VERBOSE_LINE,
  ZSTD_STATUS_LINE,
  decodeDumpHead,
  dumpSnapshotTaken,
  parseDumpPosition,
  parseZstdSizes,
} from '../../../src/dr/backup.js';
import { checksumAlgorithmOf, clientArgs, parseDbTarget, tableStatSql, tlsClientArgs } from '../../../src/dr/db.js';

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
  it("knows from mariadb-dump --verbose's stderr when the dump has its snapshot", () => {
    assert.equal(dumpSnapshotTaken('-- Connecting to localhost...'), false);
    assert.equal(dumpSnapshotTaken('-- Starting transaction...'), false, 'printed before START TRANSACTION, too early');
    assert.equal(dumpSnapshotTaken('-- Setting savepoint...'), true);
    assert.equal(dumpSnapshotTaken('-- Retrieving table structure for table t...'), true);
    assert.equal(dumpSnapshotTaken('mariadb-dump: Got error: 1045: Access denied'), false);
  });
});

describe('dump head from the compressed stream', () => {
  it('decodes the position from the first compressed bytes of a long dump (real zstd)', async () => {
    // 8 MiB of incompressible rows after the head: the first MiB of zstd output holds only the start.
    const dump = Buffer.concat([Buffer.from(head), Buffer.from(randomBytes(6 * 1024 * 1024).toString('base64'))]);
    const compressed = execFileSync('zstd', ['-q', '-c', '-3'], { input: dump, maxBuffer: 64 * 1024 * 1024 });
    assert.ok(compressed.length > 4 * 1024 * 1024);
    const text = await decodeDumpHead(compressed.subarray(0, 1024 * 1024), 'zstd');
    assert.ok(text.length > 0 && text.length <= 1_000_000);
    assert.deepEqual(parseDumpPosition(text), { binlogFile: 'binlog.000001', binlogPos: 1203 });
  });
  it('finds no position in a head that has none, and survives garbage', async () => {
    const other = execFileSync('zstd', ['-q', '-c'], { input: Buffer.from('-- MariaDB dump\nCREATE DATABASE x;\n') });
    assert.equal(parseDumpPosition(await decodeDumpHead(other, 'zstd')), undefined);
    assert.equal(await decodeDumpHead(Buffer.from('not zstd at all'), 'zstd'), '');
  });
});

describe('child chatter and zstd sizes', () => {
  it("keeps mariadb-dump's and zstd's real errors and drops their status lines", () => {
    assert.ok(DUMP_VERBOSE_LINE.test('-- Retrieving rows...'));
    assert.ok(!DUMP_VERBOSE_LINE.test("mariadb-dump: Got error: 2002: Can't connect"));
    for (const line of [
      '*** Zstandard CLI (64-bit) v1.5.4, by Yann Collet ***',
      '--zstd=wlog=21,clog=16',
      'Using stdin for input ',
      'Decompression will require 2097152 B of memory',
      '/*stdin*\\            : 75.37%   (6754388 B => 5090834 B, /*stdout*\\) ',
      '/*stdin*\\            :  (     0 B =>     13 B, /*stdout*\\) ',
      '/*stdin*\\            : Completed in 0.07 sec  (cpu load : 35%)',
    ]) {
      assert.ok(ZSTD_STATUS_LINE.test(line), line);
    }
    assert.ok(!ZSTD_STATUS_LINE.test('zstd: error 70 : Write error : cannot write block : Broken pipe'));
    assert.ok(!ZSTD_STATUS_LINE.test('/*stdin*\\ : Read error (39) : premature end'));
  });
  it('reads the exact byte counts zstd -vv reports', () => {
    assert.deepEqual(parseZstdSizes('/*stdin*\\            : 75.37%   (6754388 B => 5090834 B, /*stdout*\\) '), {
      in: 6754388,
      out: 5090834,
    });
    assert.deepEqual(parseZstdSizes('/*stdin*\\            :  (     0 B =>     13 B, /*stdout*\\) '), {
      in: 0,
      out: 13,
    });
    assert.equal(
      parseZstdSizes('/*stdin*\\            : 75.37%   (  6.44 MiB =>   4.85 MiB, /*stdout*\\) '),
      undefined,
    );
  });
});

describe('table checksum SQL', () => {
  it('casts every column to binary, flags NULLs and quotes identifiers', () => {
    const sql = tableStatSql('app', 'we`ird', ['id', 'v']);
    assert.match(sql, /CAST\(`id` AS BINARY\), CAST\(`v` AS BINARY\), CONCAT\(ISNULL\(`id`\), ISNULL\(`v`\)\)/);
    assert.match(sql, /FROM `app`\.`we``ird`$/);
    assert.throws(() => tableStatSql('a', 'b', []), /no columns/);
  });
  it('builds each row text once for new backups, twice only for the older 64-bit checksum', () => {
    const count = (sql: string): number => sql.split('CONCAT_WS(').length - 1;
    assert.equal(count(tableStatSql('a', 't', ['id'])), 1);
    assert.match(tableStatSql('a', 't', ['id']), /CONCAT\('crc32c:', COALESCE\(SUM\(CRC32C\(/);
    assert.equal(count(tableStatSql('a', 't', ['id'], 'crc64')), 2);
    assert.equal(tableStatSql('a', 't', [], 'none'), "SELECT COUNT(*) AS n, '' AS s FROM `a`.`t`");
  });
  it('tells the algorithm from the recorded checksum', () => {
    assert.equal(checksumAlgorithmOf('crc32c:123'), 'crc32c');
    assert.equal(checksumAlgorithmOf('18446744073709551615'), 'crc64');
    assert.equal(checksumAlgorithmOf(''), 'none');
  });
});

describe('database target', () => {
  it('defaults to root on 127.0.0.1:3306 and keeps the password off the command line', () => {
    const t = parseDbTarget({ KSTACK_DR_DB_PASSWORD_FILE: '/s/pw' }, () => 'sec ret\n');
    assert.deepEqual(t, { socket: undefined, host: '127.0.0.1', port: 3306, user: 'root', password: 'sec ret' });
    assert.ok(!clientArgs(t).some((a) => a.includes('sec ret')));
    assert.deepEqual(clientArgs({ ...t, socket: '/run/m.sock' }), [
      '--no-defaults',
      '--socket=/run/m.sock',
      '--user=root',
    ]);
  });
  it('verifies the server over TLS with the db CA (KSTACK_DR_DB_TLS_CA), on TCP only', () => {
    const t = parseDbTarget({ KSTACK_DR_DB_HOST: 'db.shop.svc', KSTACK_DR_DB_TLS_CA: '/tls/ca.crt' });
    assert.equal(t.tlsCa, '/tls/ca.crt');
    assert.deepEqual(tlsClientArgs(t), ['--ssl', '--ssl-ca=/tls/ca.crt', '--ssl-verify-server-cert']);
    assert.ok(clientArgs(t).includes('--ssl-verify-server-cert'));
    assert.deepEqual(tlsClientArgs({ ...t, socket: '/run/m.sock' }), [], 'a socket stays inside the pod');
    assert.deepEqual(tlsClientArgs({ ...t, tlsCa: undefined }), []);
  });
  it('names the bad variable', () => {
    assert.throws(() => parseDbTarget({ KSTACK_DR_DB_PORT: '99999' }), /KSTACK_DR_DB_PORT: '99999'/);
    assert.throws(() => parseDbTarget({ KSTACK_DR_DB_PASSWORD: 'a', KSTACK_DR_DB_PASSWORD_FILE: '/x' }), /both set/);
    assert.throws(
      () =>
        parseDbTarget({ KSTACK_DR_DB_PASSWORD_FILE: '/x' }, () => {
          throw new Error('ENOENT');
        }),
      /KSTACK_DR_DB_PASSWORD_FILE: cannot read \/x/,
    );
  });
});
