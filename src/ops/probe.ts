/**
 * Network probes for doctor: how long a TCP connect takes, and whether a PostgreSQL server
 * answers its protocol (an SSLRequest gets a one-byte 'S' or 'N' reply, before any password).
 */
import { connect, type Socket } from 'node:net';

export interface ProbeResult {
  ms: number;
}

function withSocket<T>(
  host: string,
  port: number,
  timeoutMs: number,
  onConnect: (sock: Socket, t0: number, done: (v: T) => void, fail: (e: Error) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t0 = performance.now();
    const sock = connect({ host, port });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(Object.assign(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`), { code: 'ETIMEDOUT', address: host, port }))),
      timeoutMs,
    );
    sock.once('error', (e) => finish(() => reject(e)));
    sock.once('connect', () =>
      onConnect(
        sock,
        t0,
        (v) => finish(() => resolve(v)),
        (e) => finish(() => reject(e)),
      ),
    );
  });
}

/** Time a TCP connect to host:port. Rejects with the Node error (ECONNREFUSED, ENOTFOUND, ETIMEDOUT). */
export function tcpConnectMs(host: string, port: number, timeoutMs = 5000): Promise<ProbeResult> {
  return withSocket(host, port, timeoutMs, (_sock, t0, done) => done({ ms: Math.round(performance.now() - t0) }));
}

export interface PgProbeResult extends ProbeResult {
  /** Whether the server offers TLS ('S') or not ('N'). */
  ssl: boolean;
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * Ask whatever listens on host:port the PostgreSQL SSLRequest question. A PostgreSQL server
 * (or a pooler speaking its protocol) answers 'S' or 'N'. A closed connection without an
 * answer (e.g. an SSH forward the bastion could not open) rejects with code ECONNRESET.
 */
export function pgProtocolProbe(host: string, port: number, timeoutMs = 5000): Promise<PgProbeResult> {
  return withSocket<PgProbeResult>(host, port, timeoutMs, (sock, t0, done, fail) => {
    sock.once('data', (buf: Buffer) => {
      const c = String.fromCharCode(buf[0] ?? 0);
      if (c === 'S' || c === 'N') done({ ms: Math.round(performance.now() - t0), ssl: c === 'S' });
      else fail(Object.assign(new Error(`${host}:${port} answered, but not like PostgreSQL`), { code: 'EPROTO', address: host, port }));
    });
    sock.once('end', () => fail(Object.assign(new Error(`${host}:${port} closed the connection without answering`), { code: 'ECONNRESET', address: host, port })));
    sock.once('close', () => fail(Object.assign(new Error(`${host}:${port} closed the connection without answering`), { code: 'ECONNRESET', address: host, port })));
    sock.write(SSL_REQUEST);
  });
}
