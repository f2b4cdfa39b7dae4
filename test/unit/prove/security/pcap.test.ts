// R13's pcap reader: packets and payload per db port, the marker found in a packet and across packets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { judgeCapture, parsePcap, summarizeCapture } from '../../../../src/prove/security/pcap.js';

/** A LINUX_SLL (tcpdump -i any) IPv4/TCP frame. */
function frame(src: number, dst: number, payload: string): Buffer {
  const sll = Buffer.alloc(16);
  sll.writeUInt16BE(0x0800, 14);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[9] = 6;
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(src, 0);
  tcp.writeUInt16BE(dst, 2);
  tcp[12] = 5 << 4;
  const data = Buffer.from(payload, 'latin1');
  ip.writeUInt16BE(20 + 20 + data.length, 2);
  return Buffer.concat([sll, ip, tcp, data]);
}

function pcap(frames: Buffer[], linkType = 113): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(linkType, 20);
  const recs = frames.map((f) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    return Buffer.concat([r, f]);
  });
  return Buffer.concat([head, ...recs]);
}

const PORTS = { mysql: 3306, galera: 4567, ist: 4568, sst: 4444 };

describe('R13 pcap', () => {
  it('counts packets and payload per port and finds the marker in plain text', () => {
    const buf = pcap([
      frame(40000, 3306, "INSERT INTO t (seq, at, note) VALUES (1, NOW(3), 'kstackR13markerabc')"),
      frame(4567, 41000, '\x17\x03\x03 encrypted'),
      frame(4568, 41001, ''),
    ]);
    const s = summarizeCapture(buf, PORTS, 'kstackR13markerabc');
    assert.equal(s.frames, 3);
    assert.deepEqual(
      s.perPort.map((p) => [p.name, p.packets, p.markerPackets]),
      [
        ['mysql', 1, 1],
        ['galera', 1, 0],
        ['ist', 1, 0],
        ['sst', 0, 0],
      ],
    );
    assert.equal(s.perPort[2]?.payloadBytes, 0);
    const problems = judgeCapture('db-1', s, 'kstackR13markerabc', ['mysql', 'galera']);
    assert.match(problems[0] ?? '', /marker kstackR13markerabc was found in plain text .* mysql \(3306\): 1 packets/);
  });
  it('passes encrypted traffic and fails a port that carried nothing (the positive control)', () => {
    const buf = pcap([frame(40000, 3306, '\x17\x03\x03 xx'), frame(4567, 41000, '\x17\x03\x03 yy')]);
    const s = summarizeCapture(buf, PORTS, 'kstackR13markerabc');
    assert.deepEqual(judgeCapture('db-1', s, 'kstackR13markerabc', ['mysql', 'galera']), []);
    assert.match(judgeCapture('db-1', s, 'kstackR13markerabc', ['ist']).join(), /no payload on the ist port \(4568\)/);
  });
  it('finds a marker split over two packets in the file, and reads SLL2, big-endian and a cut-off tail', () => {
    const split = pcap([frame(40000, 3306, 'xx kstackR13'), frame(40000, 3306, 'markerabc yy')]);
    assert.equal(summarizeCapture(split, PORTS, 'kstackR13markerabc').markerInFile, 0);
    const whole = pcap([frame(40000, 3306, 'kstackR13markerabc'), frame(1, 2, 'kstackR13markerabc')]);
    const cut = whole.subarray(0, whole.length - 5);
    assert.equal(parsePcap(cut).frames.length, 1);
    const s = summarizeCapture(whole, PORTS, 'kstackR13markerabc');
    assert.equal(s.markerInFile, 2, 'also off the db ports');
    assert.ok(judgeCapture('n', s, 'kstackR13markerabc', []).length > 0);
    const sll2 = Buffer.concat([Buffer.from([0x08, 0x00]), Buffer.alloc(18), frame(4567, 1, 'z').subarray(16)]);
    assert.equal(summarizeCapture(pcap([sll2], 276), PORTS, 'q').perPort[1]?.packets, 1);
    assert.throws(() => parsePcap(Buffer.alloc(30)), /not a pcap/);
  });
});
