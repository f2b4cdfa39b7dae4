// Reading a tcpdump capture (classic pcap, any byte order, µs or ns timestamps) without libpcap: R13 counts
// the packets and TCP payload bytes per db port (the positive control: the capture saw the traffic) and
// finds a marker string in the payloads (plain text on the wire). Pure; tcpdump itself runs in the cluster.

export interface TcpPacket {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

const TCP = 6;

/** The IP packet inside one captured frame, by the capture's link type; undefined for other frames. */
function ipStart(frame: Buffer, linkType: number): number | undefined {
  switch (linkType) {
    case 1: {
      // Ethernet, one VLAN tag at most
      let type = frame.length >= 14 ? frame.readUInt16BE(12) : 0;
      let at = 14;
      if (type === 0x8100 && frame.length >= 18) {
        type = frame.readUInt16BE(16);
        at = 18;
      }
      return type === 0x0800 || type === 0x86dd ? at : undefined;
    }
    case 113: // LINUX_SLL (tcpdump -i any)
      return frame.length >= 16 && [0x0800, 0x86dd].includes(frame.readUInt16BE(14)) ? 16 : undefined;
    case 276: // LINUX_SLL2
      return frame.length >= 20 && [0x0800, 0x86dd].includes(frame.readUInt16BE(0)) ? 20 : undefined;
    case 12:
    case 101: // raw IP
    case 228:
    case 229:
      return 0;
    default:
      return undefined;
  }
}

/** The TCP segment of one frame (IPv4 or IPv6 without extension headers), or undefined. */
export function tcpOf(frame: Buffer, linkType: number): TcpPacket | undefined {
  const ip = ipStart(frame, linkType);
  if (ip === undefined || frame.length < ip + 20) return undefined;
  const version = (frame[ip] ?? 0) >> 4;
  let tcp: number;
  let end: number;
  if (version === 4) {
    if (frame[ip + 9] !== TCP) return undefined;
    tcp = ip + ((frame[ip] ?? 0) & 0x0f) * 4;
    end = Math.min(frame.length, ip + frame.readUInt16BE(ip + 2));
  } else if (version === 6) {
    if (frame.length < ip + 40 || frame[ip + 6] !== TCP) return undefined;
    tcp = ip + 40;
    end = Math.min(frame.length, tcp + frame.readUInt16BE(ip + 4));
  } else return undefined;
  if (frame.length < tcp + 20) return undefined;
  const data = tcp + ((frame[tcp + 12] ?? 0) >> 4) * 4;
  return {
    srcPort: frame.readUInt16BE(tcp),
    dstPort: frame.readUInt16BE(tcp + 2),
    payload: frame.subarray(Math.min(data, end), Math.max(data, end)),
  };
}

/** The frames of a pcap file and its link type; throws on a file that is not one. */
export function parsePcap(buf: Buffer): { linkType: number; frames: Buffer[] } {
  if (buf.length < 24) throw new Error(`not a pcap file (${buf.length} bytes)`);
  const magic = buf.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const big = buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d;
  if (!little && !big) throw new Error(`not a pcap file (magic 0x${magic.toString(16)})`);
  const u32 = (at: number): number => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const linkType = u32(20) & 0x0fffffff;
  const frames: Buffer[] = [];
  // A capture stopped mid-write may end in a partial record: the whole records before it count.
  for (let at = 24; at + 16 <= buf.length;) {
    const len = u32(at + 8);
    if (at + 16 + len > buf.length) break;
    frames.push(buf.subarray(at + 16, at + 16 + len));
    at += 16 + len;
  }
  return { linkType, frames };
}

export interface PortTraffic {
  name: string;
  port: number;
  packets: number;
  payloadBytes: number;
  /** Packets whose payload holds the marker. */
  markerPackets: number;
}

export interface CaptureSummary {
  frames: number;
  perPort: PortTraffic[];
  /** Occurrences of the marker anywhere in the file (also across packet boundaries). */
  markerInFile: number;
}

/** How many times `needle` occurs in `hay`. */
export function countOccurrences(hay: Buffer, needle: string): number {
  if (needle === '') return 0;
  let n = 0;
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** Packets, payload bytes and marker hits per named db port (a packet counts for the port on either end). */
export function summarizeCapture(buf: Buffer, ports: Readonly<Record<string, number>>, marker: string): CaptureSummary {
  const { linkType, frames } = parsePcap(buf);
  const perPort = Object.entries(ports).map(([name, port]) => ({
    name,
    port,
    packets: 0,
    payloadBytes: 0,
    markerPackets: 0,
  }));
  for (const frame of frames) {
    const tcp = tcpOf(frame, linkType);
    if (!tcp) continue;
    for (const p of perPort) {
      if (tcp.srcPort !== p.port && tcp.dstPort !== p.port) continue;
      p.packets++;
      p.payloadBytes += tcp.payload.length;
      if (tcp.payload.includes(marker)) p.markerPackets++;
    }
  }
  return { frames: frames.length, perPort, markerInFile: countOccurrences(buf, marker) };
}

/**
 * Problems with a capture: the marker in plain text anywhere, or no payload seen on a port that must carry
 * traffic (then the capture proves nothing about it).
 */
export function judgeCapture(where: string, s: CaptureSummary, marker: string, mustCarry: readonly string[]): string[] {
  const problems: string[] = [];
  const hits = s.perPort.filter((p) => p.markerPackets > 0);
  if (hits.length > 0 || s.markerInFile > 0) {
    const ports = hits.map((p) => `${p.name} (${p.port}): ${p.markerPackets} packets`).join(', ');
    problems.push(
      `the marker ${marker} was found in plain text in the capture ` +
        `on ${where} (${s.markerInFile} times${ports ? `; ${ports}` : ''})`,
    );
  }
  for (const name of mustCarry) {
    const p = s.perPort.find((x) => x.name === name);
    if (!p || p.payloadBytes === 0)
      problems.push(
        `the capture on ${where} saw no payload on the ${name} port${p ? ` (${p.port})` : ''}: it proves nothing there`,
      );
  }
  return problems;
}
