// PITR planning and the binlog archive's bookkeeping (pure logic): which files are replayed, with which
// mariadb-binlog options, and the errors for archives with holes or targets out of reach.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type ArchivedBinlog,
  type BinlogIndex,
  addToIndex,
  emptyIndex,
  filesToArchive,
  formatGtidPosition,
  indexPosition,
  parseGtid,
  parseGtidPosition,
  positionCovered,
  summariseBinlog,
  archiveLagSeconds,
} from '../../../src/dr/binlog.js';
import { chooseBackup, mariadbDatetime, parseTargetTime, planFromStreams, planPitr } from '../../../src/dr/pitr.js';

function file(
  number: number,
  first: number,
  last: number,
  firstTime: number,
  lastTime: number,
  created = 1000,
  domain = 0,
): ArchivedBinlog {
  const name = `mariadb-bin.${String(number).padStart(6, '0')}`;
  return {
    name,
    number,
    key: `dr/binlogs/db-0/${name}.${created}`,
    size: 100,
    sha256: 'x',
    archivedAt: lastTime + 5,
    transactions: last - first + 1,
    domains: { [String(domain)]: { first, last, server: 1 } },
    firstGtid: `${domain}-1-${first}`,
    lastGtid: `${domain}-1-${last}`,
    firstTime,
    lastTime,
    created,
    closed: true,
    trailingBytes: 0,
  };
}
const idx = (...files: ArchivedBinlog[]): BinlogIndex => files.reduce(addToIndex, emptyIndex('db-0'));
// Files 1-3: seq 1-10 at t 100-109, 11-20 at 110-119, 21-30 at 120-129.
const three = idx(file(1, 1, 10, 100, 109), file(2, 11, 20, 110, 119), file(3, 21, 30, 120, 129));

describe('GTIDs and positions', () => {
  it('parses and formats GTIDs and multi-domain positions', () => {
    assert.deepEqual(parseGtid('0-1-42'), { domain: 0, server: 1, seq: 42 });
    assert.equal(formatGtidPosition(parseGtidPosition('1-2-7, 0-1-42')), '0-1-42,1-2-7');
    assert.equal(parseGtidPosition('').size, 0);
  });
  it('names the field and the expected form on bad input', () => {
    assert.throws(() => parseGtid('0-1', '--to-gtid'), /--to-gtid: '0-1' is not a GTID; use domain-server-sequence/);
    assert.throws(() => parseGtidPosition('0-1-2,0-1-3'), /domain 0 appears twice/);
  });
  it('a position is covered only when every domain is archived that far', () => {
    assert.ok(positionCovered(parseGtidPosition('0-1-30'), indexPosition(three)));
    assert.ok(!positionCovered(parseGtidPosition('0-1-31'), indexPosition(three)));
    assert.ok(!positionCovered(parseGtidPosition('0-1-5,1-1-1'), indexPosition(three)));
  });
  it('lag is 0 when nothing waits, else the seconds since the archive fell behind', () => {
    assert.equal(archiveLagSeconds(50_000, undefined), 0);
    assert.equal(archiveLagSeconds(50_000, 20_000), 30);
  });
});

describe('binlog file summary', () => {
  const event = (type: number, ts: number, serverId: number, body: Buffer): Buffer => {
    const h = Buffer.alloc(19);
    h.writeUInt32LE(ts, 0);
    h.writeUInt8(type, 4);
    h.writeUInt32LE(serverId, 5);
    h.writeUInt32LE(19 + body.length, 9);
    return Buffer.concat([h, body]);
  };
  const gtid = (ts: number, domain: number, seq: number): Buffer => {
    const b = Buffer.alloc(13);
    b.writeBigUInt64LE(BigInt(seq), 0);
    b.writeUInt32LE(domain, 8);
    return event(162, ts, 1, b);
  };
  const magic = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
  it('reads the creation time, GTIDs, times and whether the server closed the file', () => {
    const buf = Buffer.concat([
      magic,
      event(15, 500, 1, Buffer.alloc(100)),
      gtid(501, 0, 7),
      event(16, 501, 1, Buffer.alloc(8)),
      gtid(503, 0, 8),
      event(16, 504, 1, Buffer.alloc(8)),
      event(4, 510, 1, Buffer.alloc(20)),
    ]);
    const s = summariseBinlog(buf);
    assert.equal(s.created, 500);
    assert.equal(s.transactions, 2);
    assert.deepEqual(s.domains, { '0': { first: 7, last: 8, server: 1 } });
    assert.equal(s.firstGtid, '0-1-7');
    assert.equal(s.lastGtid, '0-1-8');
    assert.equal(s.firstTime, 501);
    assert.equal(s.lastTime, 504);
    assert.ok(s.closed);
    assert.equal(s.trailingBytes, 0);
  });
  it('stops at a torn last event and reports its bytes; rejects what is not a binlog', () => {
    const whole = Buffer.concat([magic, event(15, 500, 1, Buffer.alloc(100)), gtid(501, 0, 7)]);
    const s = summariseBinlog(whole.subarray(0, whole.length - 5));
    assert.equal(s.transactions, 0);
    assert.equal(s.trailingBytes, 32 - 5);
    assert.ok(!s.closed);
    assert.throws(() => summariseBinlog(Buffer.from('hello world')), /not a MariaDB binlog/);
  });
});

describe('which files the archiver ships', () => {
  const listed = [
    { name: 'mariadb-bin.000001', size: 1 },
    { name: 'mariadb-bin.000003', size: 1 },
    { name: 'mariadb-bin.000002', size: 1 },
  ];
  it('every closed file not yet in the index, never the one being written', () => {
    const index = idx(file(1, 1, 10, 100, 109));
    assert.deepEqual(
      filesToArchive(listed, index, () => 1000),
      ['mariadb-bin.000002'],
    );
  });
  it('ships a file again when its name is reused by a re-created data dir', () => {
    const index = idx(file(1, 1, 10, 100, 109, 1000), file(2, 11, 20, 110, 119, 1000));
    assert.deepEqual(
      filesToArchive(listed, index, () => 2000),
      ['mariadb-bin.000001', 'mariadb-bin.000002'],
    );
  });
});

describe('PITR plan', () => {
  it('to a time: from the file after the backup to the file holding the target, stopping at that second', () => {
    const plan = planPitr(three, parseGtidPosition('0-1-5'), { kind: 'time', time: 115 });
    assert.deepEqual(
      plan.files.map((f) => f.number),
      [1, 2],
    );
    assert.deepEqual(plan.binlogArgs, ['--start-position=0-1-5', '--stop-datetime=1970-01-01 00:01:55']);
    assert.ok(!plan.endOfArchive);
  });
  it('skips files wholly inside the backup', () => {
    const plan = planPitr(three, parseGtidPosition('0-1-10'), { kind: 'time', time: 125 });
    assert.deepEqual(
      plan.files.map((f) => f.number),
      [2, 3],
    );
  });
  it('to a GTID: stops after that transaction', () => {
    const plan = planPitr(three, parseGtidPosition('0-1-5'), { kind: 'gtid', gtid: parseGtid('0-1-21') });
    assert.deepEqual(
      plan.files.map((f) => f.number),
      [1, 2, 3],
    );
    assert.deepEqual(plan.binlogArgs, ['--start-position=0-1-5', '--stop-position=0-1-21']);
  });
  it('a time beyond the archive recovers to its end and says so', () => {
    const plan = planPitr(three, parseGtidPosition('0-1-5'), { kind: 'time', time: 999 });
    assert.deepEqual(
      plan.files.map((f) => f.number),
      [1, 2, 3],
    );
    assert.ok(plan.endOfArchive);
    assert.equal(plan.reachedTime, 129);
    assert.deepEqual(plan.binlogArgs, ['--start-position=0-1-5']);
  });
  it('nothing archived after the backup: the backup alone', () => {
    const plan = planPitr(three, parseGtidPosition('0-1-30'), { kind: 'latest' });
    assert.deepEqual(plan.files, []);
  });
  it('refuses an archive with a missing file instead of skipping it', () => {
    const holed = idx(file(1, 1, 10, 100, 109), file(3, 21, 30, 120, 129));
    assert.throws(
      () => planPitr(holed, parseGtidPosition('0-1-5'), { kind: 'latest' }),
      /hole: mariadb-bin.000001 is followed by mariadb-bin.000003/,
    );
  });
  it('refuses an archive that starts after the backup position', () => {
    const late = idx(file(2, 11, 20, 110, 119));
    assert.throws(
      () => planPitr(late, parseGtidPosition('0-1-5'), { kind: 'latest' }),
      /transactions 0-…-6…10 were never archived/,
    );
  });
  it('accepts a new generation (numbers restart) whose GTIDs follow on, refuses one that skips', () => {
    const ok = idx(file(1, 1, 10, 100, 109, 1000), file(1, 11, 20, 110, 119, 2000));
    assert.equal(planPitr(ok, parseGtidPosition('0-1-5'), { kind: 'latest' }).files.length, 2);
    const bad = idx(file(1, 1, 10, 100, 109, 1000), file(1, 15, 20, 110, 119, 2000));
    assert.throws(() => planPitr(bad, parseGtidPosition('0-1-5'), { kind: 'latest' }), /hole in domain 0/);
  });
  it('targets before the backup or outside the archive are errors that say what to do', () => {
    assert.throws(
      () => planPitr(three, parseGtidPosition('0-1-15'), { kind: 'gtid', gtid: parseGtid('0-1-12') }),
      /not after the backup's position 0-1-15: choose an older backup/,
    );
    assert.throws(
      () => planPitr(three, parseGtidPosition('0-1-5'), { kind: 'gtid', gtid: parseGtid('0-1-99') }),
      /not in the archive of db-0 \(domain 0 is archived up to 0-1-30\)/,
    );
    assert.throws(
      () => planPitr(three, parseGtidPosition('0-1-5'), { kind: 'time', time: 50 }, 60),
      /before the backup finished/,
    );
  });
});

describe('target times and backup choice', () => {
  it('parses ISO times with a zone and unix seconds; formats UTC for mariadb-binlog', () => {
    assert.equal(parseTargetTime('2026-11-25T18:30:00Z'), Date.UTC(2026, 10, 25, 18, 30, 0) / 1000);
    assert.equal(parseTargetTime('2026-11-25T19:30:00+01:00'), Date.UTC(2026, 10, 25, 18, 30, 0) / 1000);
    const t = Date.UTC(2026, 10, 25, 18, 30, 0) / 1000;
    assert.equal(parseTargetTime(String(t)), t);
    assert.equal(mariadbDatetime(t), '2026-11-25 18:30:00');
    assert.throws(
      () => parseTargetTime('2026-11-25 18:30'),
      /--to-time: '2026-11-25 18:30' is not a time; use ISO 8601 with a zone/,
    );
  });
  it('picks the newest backup before the target', () => {
    const backups = [
      { id: 'a', gtidPosition: '0-1-5', finishedAt: 100 },
      { id: 'b', gtidPosition: '0-1-15', finishedAt: 115 },
    ];
    assert.equal(chooseBackup(backups, { kind: 'time', time: 112 }).id, 'a');
    assert.equal(chooseBackup(backups, { kind: 'time', time: 200 }).id, 'b');
    assert.equal(chooseBackup(backups, { kind: 'gtid', gtid: parseGtid('0-1-15') }).id, 'a');
    assert.throws(() => chooseBackup(backups, { kind: 'time', time: 50 }), /no backup precedes the target/);
    assert.throws(() => chooseBackup([], { kind: 'latest' }), /kstack backup now/);
  });
});

describe("PITR across the members' streams", () => {
  it("takes the stream that reaches furthest, and names each stream's problem when none can serve", () => {
    const short = idx(file(1, 1, 10, 100, 109));
    const long = { ...three, stream: 'db-1' };
    assert.equal(
      planFromStreams([{ ...short, stream: 'db-0' }, long], parseGtidPosition('0-1-5'), { kind: 'latest' }).stream,
      'db-1',
    );
    const holed = { ...idx(file(1, 1, 10, 100, 109), file(3, 21, 30, 120, 129)), stream: 'db-2' };
    assert.equal(
      planFromStreams([holed, long], parseGtidPosition('0-1-5'), { kind: 'time', time: 125 }).stream,
      'db-1',
    );
    assert.throws(
      () => planFromStreams([holed], parseGtidPosition('0-1-5'), { kind: 'time', time: 125 }),
      /no binlog stream can serve this recovery:\n {2}db-2: the binlog archive has a hole/,
    );
    assert.throws(
      () => planFromStreams([], parseGtidPosition('0-1-5'), { kind: 'time', time: 125 }),
      /backup.binlog.enabled/,
    );
  });
});

describe('binlog file start time', () => {
  it('a rotated file (format description event at time 0) starts at its first event with a time', () => {
    const ev = (type: number, ts: number, body: Buffer): Buffer => {
      const h = Buffer.alloc(19);
      h.writeUInt32LE(ts, 0);
      h.writeUInt8(type, 4);
      h.writeUInt32LE(1, 5);
      h.writeUInt32LE(19 + body.length, 9);
      return Buffer.concat([h, body]);
    };
    const buf = Buffer.concat([
      Buffer.from([0xfe, 0x62, 0x69, 0x6e]),
      ev(15, 0, Buffer.alloc(100)),
      ev(163, 1700, Buffer.alloc(8)),
      ev(161, 1701, Buffer.alloc(8)),
    ]);
    assert.equal(summariseBinlog(buf).created, 1700);
  });
});
