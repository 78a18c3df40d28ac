/**
 * A TCP proxy for measuring network cost: counts client->server "flights" (a client write that
 * follows something the server said, or opens a connection: one round trip each) and can add a
 * delay each way, like a link to a cloud database behind a bastion.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface CountingProxy {
  host: '127.0.0.1';
  port: number;
  /** Round trips seen since start or the last reset(). */
  readonly flights: number;
  /** Bytes client -> server since start or the last reset(). */
  readonly bytesUp: number;
  reset(): void;
  /** The same URL with host:port replaced by the proxy's. */
  url(target: string): string;
  close(): Promise<void>;
}

export async function startProxy(target: { host: string; port: number }, opts: { delayMs?: number } = {}): Promise<CountingProxy> {
  const delay = opts.delayMs ?? 0;
  let flights = 0;
  let bytesUp = 0;
  const sockets = new Set<Socket>();
  const later = (fn: () => void) => (delay > 0 ? setTimeout(fn, delay) : fn());

  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    let serverSpoke = true; // the first client write opens a flight
    client.on('data', (chunk) => {
      bytesUp += chunk.length;
      if (serverSpoke) {
        flights++;
        serverSpoke = false;
      }
      later(() => upstream.writable && upstream.write(chunk));
    });
    upstream.on('data', (chunk) => {
      serverSpoke = true;
      later(() => client.writable && client.write(chunk));
    });
    const end = (s: Socket) => () => later(() => s.end());
    client.on('end', end(upstream));
    upstream.on('end', end(client));
    const destroy = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', destroy);
    upstream.on('error', destroy);
    client.on('close', () => {
      sockets.delete(client);
      later(() => upstream.destroy());
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      later(() => client.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: '127.0.0.1',
    port,
    get flights() {
      return flights;
    },
    get bytesUp() {
      return bytesUp;
    },
    reset() {
      flights = 0;
      bytesUp = 0;
    },
    url(t: string) {
      const u = new URL(t);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
