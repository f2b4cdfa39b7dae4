// IP addresses and CIDR blocks as numbers, for NetworkPolicy ipBlock matching. Pure and dependency-free:
// node:net can say whether a string is an IP but not whether it lies inside a block, and BlockList
// silently matches IPv4-mapped IPv6 addresses against IPv4 blocks, which no NetworkPolicy
// implementation does.
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  /** The address as an unsigned integer of 32 (IPv4) or 128 (IPv6) bits. */
  value: bigint;
}

export interface Cidr {
  family: IpFamily;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
  /** As written, for messages. */
  text: string;
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

/** An IPv4 or IPv6 address; undefined when `text` is not one (zone ids like `%eth0` are refused). */
export function parseIp(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  if (isIPv6(text) && !text.includes('%')) return { family: 6, value: ipv6Value(text) };
  return undefined;
}

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** `text` is already known to be valid IPv6 (isIPv6), so only its shorthand has to be unfolded. */
function ipv6Value(text: string): bigint {
  const plain = ipv4TailAsGroups(text);
  const doubleColon = plain.indexOf('::');
  const left = doubleColon < 0 ? plain : plain.slice(0, doubleColon);
  const right = doubleColon < 0 ? '' : plain.slice(doubleColon + 2);
  const l = left === '' ? [] : left.split(':');
  const r = right === '' ? [] : right.split(':');
  const zeros = doubleColon < 0 ? 0 : 8 - l.length - r.length;
  return [...l, ...Array<string>(zeros).fill('0'), ...r].reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** `::ffff:1.2.3.4` → `::ffff:102:304`: an embedded IPv4 tail is the last two 16-bit groups. */
function ipv4TailAsGroups(text: string): string {
  const colon = text.lastIndexOf(':');
  const tail = text.slice(colon + 1);
  if (!tail.includes('.')) return text;
  const v = ipv4Value(tail);
  return `${text.slice(0, colon + 1)}${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
}

/**
 * A CIDR like `10.0.0.0/8` or `fd00::/64`, or an error message saying why it is not one. Host bits
 * after the prefix are tolerated and cleared, as the API server's parser (Go's net.ParseCIDR) does.
 */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  if (slash < 0) return `"${text}" is not a CIDR (expected address/prefix, e.g. 10.0.0.0/16)`;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined) return `"${text}" is not a CIDR: "${text.slice(0, slash)}" is not an IP address`;
  const bits = BITS[ip.family];
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    return `"${text}" is not a CIDR: the prefix must be 0..${bits}`;
  }
  const prefix = Number(prefixText);
  return { family: ip.family, network: ip.value & mask(ip.family, prefix), prefix, text };
}

function mask(family: IpFamily, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(prefix))) & all;
}

/** Whether the address lies inside the block; addresses of the other family never do. */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  return cidr.family === ip.family && (ip.value & mask(cidr.family, cidr.prefix)) === cidr.network;
}

/** Whether `inner` lies entirely inside `outer` (same family, at least as long a prefix). */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return (
    inner.family === outer.family &&
    inner.prefix >= outer.prefix &&
    (inner.network & mask(outer.family, outer.prefix)) === outer.network
  );
}
