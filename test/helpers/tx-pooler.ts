/**
 * A real transaction-mode pooler for tests (PgBouncer is not installed in CI). It speaks the
 * PostgreSQL wire protocol to its clients (trust login, a BackendKeyData of its own like
 * PgBouncer's), keeps a pool of real, logged-in server sessions, and lends a session per
 * transaction: the session goes back to the pool at each ReadyForQuery 'I' (idle), exactly
 * PgBouncer's pool_mode=transaction.
 */
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';

/** Split a byte stream into protocol messages (type byte + int32 length). */
class Framer {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (this.buf.length < 1 + len) break;
      out.push(this.buf.subarray(0, 1 + len));
      this.buf = this.buf.subarray(1 + len);
    }
    return out;
  }
}

function msg(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const cstr = (...s: string[]) => Buffer.concat(s.map((x) => Buffer.from(`${x}\0`, 'utf8')));

interface ServerSession {
  sock: Socket;
  framer: Framer;
  client: ClientConn | null;
  pid: number;
}
interface ClientConn {
  sock: Socket;
  session: ServerSession | null;
  queue: Buffer[];
}

export interface TxPooler {
  port: number;
  close(): Promise<void>;
}

export async function startTxPooler(url: string, size: number): Promise<TxPooler> {
  const sessions: ServerSession[] = [];
  for (let i = 0; i < size; i++) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const pid = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    // Take over pg's logged-in socket: from now on the bytes are ours.
    const sock = (c as unknown as { connection: { stream: Socket } }).connection.stream;
    sock.removeAllListeners('data');
    sock.on('error', () => {});
    const s: ServerSession = { sock, framer: new Framer(), client: null, pid };
    sock.on('data', (chunk: Buffer) => {
      for (const m of s.framer.push(chunk)) {
        const owner = s.client;
        owner?.sock.write(m);
        if (m[0] === 0x5a /* Z */ && m[5] === 0x49 /* I: idle, outside a transaction */ && owner) {
          owner.session = null;
          s.client = null;
          pump();
        }
      }
    });
    sessions.push(s);
  }
  const waiting: ClientConn[] = [];
  const clients = new Set<Socket>();
  function pump(): void {
    while (waiting.length > 0) {
      const free = sessions.find((s) => s.client === null);
      if (!free) return;
      const c = waiting.shift()!;
      c.session = free;
      free.client = c;
      for (const m of c.queue.splice(0)) free.sock.write(m);
    }
  }
  const server: Server = createServer((sock) => {
    clients.add(sock);
    sock.on('close', () => clients.delete(sock));
    sock.on('error', () => {});
    const conn: ClientConn = { sock, session: null, queue: [] };
    let started = false;
    let pre = Buffer.alloc(0);
    const framer = new Framer();
    sock.on('data', (chunk: Buffer) => {
      if (!started) {
        pre = Buffer.concat([pre, chunk]);
        while (!started && pre.length >= 8 && pre.length >= pre.readUInt32BE(0)) {
          const len = pre.readUInt32BE(0);
          const code = pre.readUInt32BE(4);
          pre = pre.subarray(len);
          if (code === 80877103 || code === 80877104) {
            sock.write('N'); // no TLS, no GSS
            continue;
          }
          started = true;
          sock.write(
            Buffer.concat([
              msg('R', int32(0)),
              msg('S', cstr('server_version', '18.4')),
              msg('S', cstr('client_encoding', 'UTF8')),
              msg('S', cstr('standard_conforming_strings', 'on')),
              msg('S', cstr('DateStyle', 'ISO, MDY')),
              msg('S', cstr('integer_datetimes', 'on')),
              msg('K', Buffer.concat([int32(4242), int32(1)])),
              msg('Z', Buffer.from('I')),
            ]),
          );
        }
        if (!started || pre.length === 0) return;
        chunk = pre;
      }
      for (const m of framer.push(chunk)) {
        if (m[0] === 0x58 /* X: terminate */) {
          sock.end();
          continue;
        }
        if (conn.session) conn.session.sock.write(m);
        else {
          conn.queue.push(m);
          if (!waiting.includes(conn)) waiting.push(conn);
        }
      }
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    async close() {
      for (const c of clients) c.destroy();
      for (const s of sessions) s.sock.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
