/**
 * A server that is not there yet: a TCP front on its own port which, for the first `downMs`,
 * either is not listening at all (`refuse`: clients get a real ECONNREFUSED), accepts and
 * drops connections (`reset`), or answers the startup packet the way a PostgreSQL that is still
 * starting does (`starting`: FATAL 57P03). After that it proxies every byte to the real
 * PostgreSQL behind it, so the success is proven against a real server.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './ports.js';

export type FlakyMode = 'refuse' | 'reset' | 'starting';

export interface FlakyServer {
  port: number;
  /** Connection attempts that reached the front (refused ones in `refuse` mode are not seen). */
  readonly rejected: number;
  readonly proxied: number;
  /** End the outage now. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** A PostgreSQL ErrorResponse ('E') with severity FATAL, a SQLSTATE and a message. */
export function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat([Buffer.from('SFATAL\0VFATAL\0', 'utf8'), Buffer.from(`C${code}\0M${message}\0`, 'utf8'), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

export async function startFlakyServer(opts: { target: { host: string; port: number }; mode: FlakyMode; downMs: number }): Promise<FlakyServer> {
  const port = await freePort();
  let down = true;
  let rejected = 0;
  let proxied = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (down) {
      rejected++;
      if (opts.mode === 'starting') {
        // Wait for the startup packet, then answer as a starting server does and hang up.
        socket.once('data', () => socket.end(errorResponse('57P03', 'the database system is starting up')));
      } else {
        socket.resetAndDestroy();
      }
      return;
    }
    proxied++;
    const upstream = connect(opts.target.port, opts.target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.pipe(upstream).pipe(socket);
  });

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });

  if (opts.mode !== 'refuse') await listen();
  let upPromise: Promise<void> | undefined;
  const up = () =>
    (upPromise ??= (async () => {
      clearTimeout(timer);
      down = false;
      if (opts.mode === 'refuse') await listen();
    })());
  const timer = setTimeout(() => void up(), opts.downMs);

  return {
    port,
    get rejected() {
      return rejected;
    },
    get proxied() {
      return proxied;
    },
    up,
    async close() {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}

/** The key/value parameters of a PostgreSQL StartupMessage (protocol 3.0), or null for other first packets. */
export function parseStartupParams(packet: Buffer): Record<string, string> | null {
  if (packet.length < 8 || packet.readInt32BE(4) !== 196608) return null;
  const params: Record<string, string> = {};
  const parts = packet.subarray(8, packet.readInt32BE(0)).toString('utf8').split('\0');
  for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2) params[parts[i]!] = parts[i + 1]!;
  return params;
}

/**
 * A front that reads each client's startup packet and either refuses it the way a particular
 * server does (`refuse` returns the SQLSTATE and message: PgBouncer's "unsupported startup
 * parameter: options", a macOS server's 22023 for client_connection_check_interval) or passes
 * it, and everything after it, to the real PostgreSQL. Plain-text connections only.
 */
export async function startStartupFilter(opts: {
  target: { host: string; port: number };
  refuse: (params: Record<string, string>) => { code: string; message: string } | undefined;
}): Promise<{ port: number; readonly refused: number; readonly passed: number; close(): Promise<void> }> {
  const port = await freePort();
  let refused = 0;
  let passed = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < buf.readInt32BE(0)) return;
      socket.off('data', onData);
      socket.pause();
      const params = parseStartupParams(buf) ?? {};
      const no = opts.refuse(params);
      if (no) {
        refused++;
        socket.end(errorResponse(no.code, no.message));
        return;
      }
      passed++;
      const upstream = connect(opts.target.port, opts.target.host);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      upstream.write(buf);
      socket.pipe(upstream).pipe(socket);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    port,
    get refused() {
      return refused;
    },
    get passed() {
      return passed;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
