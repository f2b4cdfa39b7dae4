// The pure parts of physical backups: the binlog position mariadb-backup reports, the option file that carries
// the credentials, the mariadb-backup arguments, the empty-datadir rule and the tee that feeds two consumers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import {
  clientOptionFile,
  emptyDatadir,
  optionFileValue,
  parseBinlogPosition,
  physicalBackupArgs,
  tee,
} from '../../../src/dr/physical.js';
import { parseFlags } from '../../../src/dr/main.js';

const STDERR = `[00] 2026-11-26 02:13:53 Streaming xtrabackup_binlog_info
[00] 2026-11-26 02:13:53         ...done
[00] 2026-11-26 02:13:53 MySQL binlog position: filename 'binlog.000001', position '772',\
 GTID of the last change '0-1-3'
[00] 2026-11-26 02:13:53 Streaming xtrabackup_info
[00] 2026-11-26 02:13:53 completed OK!
`;

describe('dr physical: pure helpers', () => {
  it('reads the binlog position and GTID mariadb-backup reports', () => {
    assert.deepEqual(parseBinlogPosition(STDERR), { binlogFile: 'binlog.000001', binlogPos: 772, gtid: '0-1-3' });
    assert.deepEqual(
      parseBinlogPosition(
        "MySQL binlog position: filename 'mysql-bin.000012', position '4', GTID of the last change '0-1-9,1-2-30'",
      ),
      { binlogFile: 'mysql-bin.000012', binlogPos: 4, gtid: '0-1-9,1-2-30' },
    );
    assert.deepEqual(
      parseBinlogPosition("MySQL binlog position: filename 'b.000002', position '120', GTID of the last change ''"),
      { binlogFile: 'b.000002', binlogPos: 120, gtid: '' },
    );
    assert.deepEqual(parseBinlogPosition("MySQL binlog position: filename 'b.000003', position '99'"), {
      binlogFile: 'b.000003',
      binlogPos: 99,
      gtid: '',
    });
    assert.equal(parseBinlogPosition('[00] completed OK!\n'), undefined, 'no binary log: no position');
    assert.equal(
      parseBinlogPosition(
        `${STDERR}MySQL binlog position: filename 'binlog.000002', position '10', GTID of the last change '0-1-4'`,
      )?.binlogFile,
      'binlog.000002',
      'the last report wins',
    );
  });

  it('quotes option file values so that comments, quotes and backslashes survive', () => {
    assert.equal(optionFileValue('plain'), '"plain"');
    assert.equal(optionFileValue('a#b "c" \\d'), '"a#b \\"c\\" \\\\d"');
    assert.equal(optionFileValue('x\ny'), '"x\\ny"');
    assert.equal(
      clientOptionFile({ socket: '/s', host: '', port: 0, user: 'backup', password: 'p#w' }),
      '[client]\nuser="backup"\npassword="p#w"\n',
    );
  });

  it(
    'builds mariadb-backup arguments: option file first, ' + 'the socket or TCP target, galera info only for Galera',
    () => {
      const sock = physicalBackupArgs({
        optionFile: '/w/client.cnf',
        db: { socket: '/run/s.sock', host: '', port: 0, user: 'root', password: 'secret' },
        datadir: '/var/lib/mysql',
        targetDir: '/w/stream',
        galera: false,
      });
      assert.deepEqual(sock, [
        '--defaults-file=/w/client.cnf',
        '--backup',
        '--stream=mbstream',
        '--target-dir=/w/stream',
        '--datadir=/var/lib/mysql',
        '--socket=/run/s.sock',
      ]);
      assert.ok(!sock.some((a) => a.includes('secret')), 'the password is not on the command line');
      const tcp = physicalBackupArgs({
        optionFile: '/f',
        db: { socket: undefined, host: '127.0.0.1', port: 3307, user: 'root', password: '' },
        datadir: '/d',
        targetDir: '/t',
        galera: true,
      });
      assert.deepEqual(tcp.slice(5), ['--host=127.0.0.1', '--port=3307', '--protocol=tcp', '--galera-info']);
    },
  );

  it('accepts an empty or missing datadir and refuses a non-empty one untouched', () => {
    const root = mkdtempSync(join(tmpdir(), 'kstack-unit-datadir-'));
    try {
      assert.equal(emptyDatadir(join(root, 'new', 'data')), join(root, 'new', 'data'));
      assert.deepEqual(readdirSync(join(root, 'new', 'data')), [], 'a missing one is created');
      mkdirSync(join(root, 'busy'));
      writeFileSync(join(root, 'busy', 'ibdata1'), 'x');
      assert.throws(
        () => emptyDatadir(join(root, 'busy')),
        /--datadir \/ KSTACK_DR_RESTORE_DATADIR: .*busy is not empty \(1 entry, e\.g\. 'ibdata1'\)/,
      );
      assert.deepEqual(readdirSync(join(root, 'busy')), ['ibdata1']);
      assert.throws(() => emptyDatadir(join(root, 'busy', 'ibdata1')), /is not a directory/);
      assert.throws(() => emptyDatadir(''), /give the empty directory/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('tee copies every byte to both consumers, and fails when one of them breaks', async () => {
    const got: [string[], string[]] = [[], []];
    const sink = (i: 0 | 1): Writable =>
      new Writable({
        highWaterMark: 4,
        write(c: Buffer, _e, done) {
          got[i].push(c.toString());
          setImmediate(done);
        },
      });
    let n = 0;
    await tee(Readable.from(['ab', 'cd', 'ef'].map((s) => Buffer.from(s))), [sink(0), sink(1)], (b) => {
      n += b;
    });
    assert.deepEqual(got, [
      ['ab', 'cd', 'ef'],
      ['ab', 'cd', 'ef'],
    ]);
    assert.equal(n, 6);
    const broken = new Writable({
      write(_c, _e, done) {
        done(new Error('EPIPE: consumer gone'));
      },
    });
    const src = new PassThrough();
    const run = tee(src, [new PassThrough().resume(), broken]);
    src.write('x');
    src.write('y');
    src.end();
    await assert.rejects(run, /EPIPE: consumer gone/);
  });

  it('dr flags: --physical takes no value', () => {
    assert.deepEqual(parseFlags(['--physical', '--datadir=/d'], ['datadir'], ['physical']), {
      physical: 'true',
      datadir: '/d',
    });
    assert.throws(() => parseFlags(['--physical=yes'], [], ['physical']), /--physical takes no value/);
    assert.throws(() => parseFlags(['--fast'], ['datadir'], ['physical']), /allowed: --datadir, --physical/);
  });
});
