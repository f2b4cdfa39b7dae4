// The TCP connections of a pod as its kernel lists them in /proc/net/tcp and /proc/net/tcp6 (images may
// lack `ss`; every Linux container can `cat` these). Pure: parses the text, no I/O.

export interface TcpEndpoint {
  ip: string;
  port: number;
}

export interface TcpConnection {
  local: TcpEndpoint;
  remote: TcpEndpoint;
  /** The kernel's state name (ESTABLISHED, LISTEN, …). */
  state: string;
}

// include/net/tcp_states.h
const STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
  '0C': 'NEW_SYN_RECV',
};

/** One 32-bit word as the kernel prints it: host byte order (little-endian here), so its bytes reversed. */
function wordBytes(hex: string): number[] {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** "0100007F" → 127.0.0.1; 32 hex digits → an IPv6 address (IPv4-mapped ones as the IPv4 address). */
export function decodeAddress(hex: string): string | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(hex)) return wordBytes(hex).join('.');
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) return undefined;
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8)));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // The full form (no :: shortening): still a valid address for node:net and for cidr.ts.
  return groups.join(':');
}

function endpoint(text: string | undefined): TcpEndpoint | undefined {
  const [addr, port] = (text ?? '').split(':');
  const ip = decodeAddress(addr ?? '');
  const p = Number.parseInt(port ?? '', 16);
  return ip === undefined || !Number.isInteger(p) ? undefined : { ip, port: p };
}

/**
 * The connections in the text of /proc/net/tcp and/or /proc/net/tcp6
 * (both may be concatenated); header lines are skipped.
 */
export function parseProcNetTcp(text: string): TcpConnection[] {
  const out: TcpConnection[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (!/^\d+:$/.test(f[0] ?? '')) continue;
    const local = endpoint(f[1]);
    const remote = endpoint(f[2]);
    if (!local || !remote) continue;
    out.push({ local, remote, state: STATES[(f[3] ?? '').toUpperCase()] ?? `state ${f[3] ?? '?'}` });
  }
  return out;
}

/** Established connections to or from `port` (either end), e.g. Galera's group connections on 4567. */
export function establishedOnPort(conns: readonly TcpConnection[], port: number): TcpConnection[] {
  return conns.filter((c) => c.state === 'ESTABLISHED' && (c.local.port === port || c.remote.port === port));
}
