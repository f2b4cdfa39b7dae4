// A TCP relay on 127.0.0.1 between podwatch and the API server, so a test can cut podwatch off the real
// API server (every connection reset, new ones refused) or silently drop its traffic (connections stay
// open, nothing is forwarded: a half-open network) while the test itself keeps talking to the API server.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class TcpRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private dropping = false;
  private readonly held = new Set<Socket>();
  connections = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<number> {
    this.server = createServer((client) => {
      this.connections++;
      if (this.cut) {
        client.destroy();
        return;
      }
      if (this.dropping) {
        // Accept and read nothing: like packets dropped by a firewall after the handshake.
        client.pause();
        client.on('error', () => undefined);
        this.held.add(client);
        return;
      }
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => {
          this.sockets.delete(s);
        });
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => {
      this.server?.listen(0, '127.0.0.1', resolve);
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Resets every relayed connection and refuses new ones until `restore`. */
  disconnect(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }

  /** Stops forwarding in both directions without closing anything. */
  blackhole(): void {
    this.dropping = true;
    for (const s of this.sockets) {
      s.unpipe();
      s.pause();
      this.held.add(s);
    }
  }

  restore(): void {
    this.cut = false;
    this.dropping = false;
    // Connections from the blackhole period are abandoned, as their peers timed out long ago.
    for (const s of this.held) s.destroy();
    this.held.clear();
  }

  async stop(): Promise<void> {
    this.restore();
    this.disconnect();
    await new Promise<void>((resolve) => {
      if (this.server)
        this.server.close(() => {
          resolve();
        });
      else resolve();
    });
  }
}
