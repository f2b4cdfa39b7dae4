import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** True when nothing listens on host:port and we may bind it. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const srv = createServer();
    srv.once('error', () => {
      resolvePromise(false);
    });
    srv.listen({ port, host, exclusive: true }, () => {
      srv.close(() => {
        resolvePromise(true);
      });
    });
  });
}

/** The lowest port of the kernel's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range). */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768; // not Linux: the usual default
  }
}

/**
 * Ports that are free right now, for programs started next: distinct from each other and from `avoid`,
 * picked at random below the kernel's ephemeral range and checked with `isPortFree`. Ports from the
 * ephemeral range (what binding port 0 hands out) can be taken between picking and binding by any outgoing
 * connection on the machine (Galera's own peer connections included), which made IST listeners fail with
 * EADDRINUSE; below it only another listener can take one. A server of this process that can bind port 0
 * itself and report the port it got needs none of this.
 */
export async function pickFreePorts(
  count: number,
  host = '127.0.0.1',
  avoid: ReadonlySet<number> = new Set(),
): Promise<number[]> {
  const floor = 20000;
  const ceiling = Math.max(floor + 1000, ephemeralLow() - 1);
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 4 * (ceiling - floor))
      throw new Error(`no ${count} free ports between ${floor} and ${ceiling} on ${host}`);
    const p = floor + Math.floor(Math.random() * (ceiling - floor));
    if (!ports.includes(p) && !avoid.has(p) && (await isPortFree(p, host))) ports.push(p);
  }
  return ports;
}
