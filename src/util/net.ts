import { createServer } from 'node:net';

/** True when nothing listens on host:port and we may bind it. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const srv = createServer();
    srv.once('error', () => { resolvePromise(false); });
    srv.listen({ port, host, exclusive: true }, () => {
      srv.close(() => { resolvePromise(true); });
    });
  });
}

/** Ports the kernel says are free right now, distinct from each other and from `avoid`. */
export async function pickFreePorts(count: number, host = '127.0.0.1', avoid: ReadonlySet<number> = new Set()): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await new Promise<number>((resolvePromise, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen({ port: 0, host, exclusive: true }, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => { resolvePromise(p); });
      });
    });
    if (port > 0 && !ports.includes(port) && !avoid.has(port)) ports.push(port);
  }
  return ports;
}
