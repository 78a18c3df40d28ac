/**
 * Read a streaming connection's socket in gulps: after each read, the socket is left unread for
 * `ms`, and the kernel holds what arrives meanwhile; the next read takes all of it at once.
 *
 * Why: a listener receives one small message per commit (a NOTIFY, or a replication message).
 * Read as they come, each one wakes the process: the wake-up, not the message, was most of
 * `listen`'s CPU, and on a machine with few cores that CPU is taken from the writers. Read every
 * 10 ms, thousands of wake-ups a second become at most a hundred, for at most 10 ms of delay.
 * The gulps start only when reads come closer together than that: a quiet stream is read at once.
 *
 * Node's sockets have no public "read later": this stops and restarts the libuv handle's reads
 * (`readStop` / `readStart`), and leaves the handle's `reading` flag set while stopped, so that
 * the stream does not start it again by itself. When the handle lacks those (another Node, a
 * transport that is not a plain or TLS socket), nothing is done: reads stay as they were.
 */
import type { Socket } from 'node:net';

/** How long a read waits for more to arrive (ms): the delay a listener adds, at most. */
export const READ_GULP_MS = 10;

interface ReadHandle {
  reading?: boolean;
  readStop?: () => number;
  readStart?: () => number;
}

/** The socket under a pg client (a `pg.Client` or a subclass such as a replication client). */
export function clientSocket(client: unknown): Socket | null {
  const stream = (client as { connection?: { stream?: unknown } } | null)?.connection?.stream;
  return stream && typeof (stream as Socket).on === 'function' ? (stream as Socket) : null;
}

/**
 * Gulp the socket's reads from now on (see above). Returns the function that stops doing so
 * and reads at once again.
 */
export function coalesceReads(socket: Socket | null, ms = READ_GULP_MS): () => void {
  const handle = (socket as unknown as { _handle?: ReadHandle } | null)?._handle;
  if (!socket || !handle || typeof handle.readStop !== 'function' || typeof handle.readStart !== 'function') return () => {};
  let timer: NodeJS.Timeout | null = null;
  let lastRead = Number.NEGATIVE_INFINITY;
  const resume = () => {
    timer = null;
    // What arrived during the pause is read now: that read belongs to the busy spell.
    lastRead = performance.now();
    // The stream itself may have stopped reading meanwhile (it was paused or closed): leave that be.
    if (!socket.destroyed && handle.reading) handle.readStart!();
  };
  const onData = () => {
    const now = performance.now();
    const busy = now - lastRead < ms;
    lastRead = now;
    // A read after a quiet spell is followed at once by the next: a lone change, or the three
    // messages of one logical-mode commit, is printed without waiting. Only reads that come
    // close together (a busy stream) start the gulps.
    if (!busy || timer || socket.destroyed || !handle.reading) return;
    handle.readStop!();
    timer = setTimeout(resume, ms);
  };
  socket.on('data', onData);
  return () => {
    socket.off('data', onData);
    if (timer) {
      clearTimeout(timer);
      resume();
    }
  };
}
