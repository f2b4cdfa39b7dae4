// Parsing the kernel's TCP tables (/proc/net/tcp, /proc/net/tcp6) as a db pod shows them: pure logic on
// literal text in the kernel's format (lines as read from a member on the local cluster).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAddress, establishedOnPort, parseProcNetTcp } from '../../../src/netpol/proc-net.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 7963 1 0 100 0 0 10 0
   1: 03004E0A:11D7 02004E0A:A810 01 00000000:00000000 00:00000000 00000000   999        0 7964 1 0 20 4 30 10 -1
   2: 03004E0A:BB88 01004E0A:11D7 01 00000000:00000000 00:00000000 00000000   999        0 7965 1 0 20 4 30 10 -1
   3: 0B02F40A:DA4C 016C4D0A:2328 01 00000000:00000000 00:00000000 00000000   999        0 7966 1 0 20 4 30 10 -1
   4: 0B02F40A:D000 0C02F40A:11D7 06 00000000:00000000 00:00000000 00000000     0        0 0 3 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr\
 tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:2390 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000\
 00000000   999        0 7963722 1 0 100 0 0 10 0
   1: 0000000000000000FFFF00000B02F40A:11D7 0000000000000000FFFF00000C02F40A:9C40 01 00000000:00000000 00:00000000\
 00000000   999        0 7963723 1 0 100 0 0 10 0
   2: B80D01200000000000000000010000FD:11D7 B80D01200000000000000000020000FD:9C41 01 00000000:00000000 00:00000000\
 00000000   999        0 7963724 1 0 100 0 0 10 0
`;

describe('/proc/net/tcp parsing', () => {
  it('decodes little-endian IPv4 words, IPv4-mapped IPv6 and plain IPv6', () => {
    assert.equal(decodeAddress('03004E0A'), '10.78.0.3');
    assert.equal(decodeAddress('0100007F'), '127.0.0.1');
    assert.equal(decodeAddress('0000000000000000FFFF00000B02F40A'), '10.244.2.11');
    assert.equal(decodeAddress('B80D01200000000000000000010000FD'), '2001:db8:0:0:0:0:fd00:1');
    assert.equal(decodeAddress('xyz'), undefined);
  });

  it('lists every connection of both tables with its state, skipping the headers', () => {
    const all = parseProcNetTcp(TCP + TCP6);
    assert.equal(all.length, 8);
    assert.deepEqual(all[1], {
      local: { ip: '10.78.0.3', port: 4567 },
      remote: { ip: '10.78.0.2', port: 43024 },
      state: 'ESTABLISHED',
    });
    assert.equal(all[0]?.state, 'LISTEN');
    assert.equal(all[4]?.state, 'TIME_WAIT');
  });

  it(
    'keeps the established connections to or from one port (Galera 4567): ' +
      'accepted and dialled, not listeners or closed ones',
    () => {
      const galera = establishedOnPort(parseProcNetTcp(TCP + TCP6), 4567);
      assert.deepEqual(
        galera.map((c) => `${c.local.ip}:${c.local.port}>${c.remote.ip}:${c.remote.port}`),
        [
          '10.78.0.3:4567>10.78.0.2:43024',
          '10.78.0.3:48008>10.78.0.1:4567',
          '10.244.2.11:4567>10.244.2.12:40000',
          '2001:db8:0:0:0:0:fd00:1:4567>2001:db8:0:0:0:0:fd00:2:40001',
        ],
      );
    },
  );
});
