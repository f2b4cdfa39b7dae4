import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, cidrWithin, parseCidr, parseIp, type Cidr } from '../../../src/netpol/cidr.js';

function cidr(text: string): Cidr {
  const c = parseCidr(text);
  if (typeof c === 'string') throw new Error(c);
  return c;
}

const ip = (text: string) => {
  const a = parseIp(text);
  if (a === undefined) throw new Error(`bad ip ${text}`);
  return a;
};

describe('IP addresses', () => {
  for (const [text, family, value] of [
    ['10.0.1.2', 4, 0x0a000102n],
    ['0.0.0.0', 4, 0n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['::', 6, 0n],
    ['::1', 6, 1n],
    ['fd00::1', 6, (0xfd00n << 112n) | 1n],
    ['2001:db8:0:0:1:0:0:1', 6, 0x20010db8000000000001000000000001n],
    ['::ffff:1.2.3.4', 6, 0xffff01020304n],
    ['64:ff9b::10.0.0.1', 6, 0x0064ff9b00000000000000000a000001n],
  ] as const) {
    it(`reads ${text}`, () => {
      assert.deepEqual(parseIp(text), { family, value });
    });
  }

  for (const text of ['10.0.0', '10.0.0.256', '1.2.3.4/32', 'fe80::1%eth0', 'x', '', ':::']) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.equal(parseIp(text), undefined);
    });
  }
});

describe('CIDR blocks', () => {
  it('matches addresses inside, clears host bits, and never crosses families', () => {
    assert.ok(cidrContains(cidr('10.0.0.0/16'), ip('10.0.255.1')));
    assert.ok(!cidrContains(cidr('10.0.0.0/16'), ip('10.1.0.1')));
    assert.ok(cidrContains(cidr('10.0.3.7/24'), ip('10.0.3.200')), 'host bits are cleared like net.ParseCIDR');
    assert.ok(cidrContains(cidr('0.0.0.0/0'), ip('203.0.113.9')));
    assert.ok(!cidrContains(cidr('0.0.0.0/0'), ip('::1')));
    assert.ok(!cidrContains(cidr('::/0'), ip('10.0.0.1')));
    assert.ok(!cidrContains(cidr('0.0.0.0/0'), ip('::ffff:10.0.0.1')), 'an IPv4-mapped IPv6 address is IPv6');
    assert.ok(cidrContains(cidr('fd00:10::/64'), ip('fd00:10::abcd')));
    assert.ok(!cidrContains(cidr('fd00:10::/64'), ip('fd00:11::1')));
    assert.ok(cidrContains(cidr('10.0.1.2/32'), ip('10.0.1.2')));
    assert.ok(!cidrContains(cidr('10.0.1.2/32'), ip('10.0.1.3')));
  });

  it('knows when one block lies inside another', () => {
    assert.ok(cidrWithin(cidr('10.0.1.0/24'), cidr('10.0.0.0/16')));
    assert.ok(cidrWithin(cidr('10.0.0.0/16'), cidr('10.0.0.0/16')));
    assert.ok(!cidrWithin(cidr('10.0.0.0/8'), cidr('10.0.0.0/16')));
    assert.ok(!cidrWithin(cidr('10.1.0.0/24'), cidr('10.0.0.0/16')));
    assert.ok(!cidrWithin(cidr('::/128'), cidr('0.0.0.0/0')));
  });

  for (const [text, msg] of [
    ['10.0.0.0', /expected address\/prefix/],
    ['10.0.0.0/33', /prefix must be 0\.\.32/],
    ['fd00::/129', /prefix must be 0\.\.128/],
    ['10.0.0.0/x', /prefix/],
    ['10.0.0.0/-1', /prefix/],
    ['nope/8', /"nope" is not an IP address/],
  ] as const) {
    it(`refuses ${text} with a reason`, () => {
      const r = parseCidr(text);
      assert.equal(typeof r, 'string');
      assert.match(r as string, msg);
    });
  }
});
