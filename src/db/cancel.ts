/**
 * Cancel the statement a session is running, the protocol's way: a CancelRequest on a new TCP
 * connection (16 bytes, no login, nothing comes back). The server stops the statement with
 * 57014, rolls back the open transaction and answers on the session itself, so everything the
 * session reported before (the batch's NOTICEs) still arrives, in order, and the session stays
 * usable. Closing the socket instead loses the notices in flight and leaves the client unsure
 * what committed. Sent once per client per second, however many parts of the tool ask.
 */
import { connect } from 'node:net';
import type pg from 'pg';

const CANCEL_REQUEST_CODE = 80877102;
const lastSent = new WeakMap<object, number>();

interface Cancellable {
  host?: string;
  port?: number;
  processID?: number | null;
  secretKey?: number | null;
}

/** Ask the server to cancel `client`'s running statement. Resolves when the request is written (or failed). */
export function requestCancel(client: pg.Client): Promise<boolean> {
  const c = client as unknown as Cancellable;
  if (c.processID == null || c.secretKey == null || !c.port) return Promise.resolve(false);
  const now = Date.now();
  const last = lastSent.get(client);
  if (last !== undefined && now - last < 1000) return Promise.resolve(true);
  lastSent.set(client, now);
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  packet.writeInt32BE(c.processID, 8);
  packet.writeInt32BE(c.secretKey, 12);
  const host = c.host ?? 'localhost';
  return new Promise((resolve) => {
    const socket = host.startsWith('/') ? connect(`${host}/.s.PGSQL.${c.port}`) : connect(c.port!, host);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    // Like libpq: wait for the server to close its end, so the cancel was handled when this resolves.
    socket.once('connect', () => socket.end(packet));
    socket.once('close', (hadError) => done(!hadError));
    socket.resume();
  });
}
