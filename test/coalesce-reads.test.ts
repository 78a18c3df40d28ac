/**
 * A listener's socket read in gulps (src/db/coalesce-reads.ts), on real TCP sockets: a stream of
 * small messages, one a millisecond like a busy chat's commits, arrives whole and in order in
 * far fewer reads; a quiet stream is read at once; stopping reads at once again; a socket the
 * trick cannot reach is left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { coalesceReads } from '../src/db/coalesce-reads.js';

/** A server that writes `n` numbered lines, one every millisecond, to each client. */
async function ticker(n: number): Promise<{ port: number; close(): void }> {
  const server = createServer((sock) => {
    let i = 0;
    const t = setInterval(() => {
      sock.write(`${i}\n`);
      if (++i === n) clearInterval(t);
    }, 1);
    sock.on('error', () => {});
    sock.on('close', () => clearInterval(t));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

/** Reads `n` lines from the socket; resolves with how many 'data' events that took. */
function readLines(sock: Socket, n: number): Promise<{ lines: string[]; reads: number }> {
  return new Promise((resolve) => {
    let buf = '';
    let reads = 0;
    sock.on('data', (d: Buffer) => {
      reads++;
      buf += d.toString();
      const lines = buf.split('\n').slice(0, -1);
      if (lines.length >= n) resolve({ lines, reads });
    });
  });
}

async function run(n: number, gulpMs: number | null): Promise<{ lines: string[]; reads: number }> {
  const srv = await ticker(n);
  const sock = connect(srv.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const stop = gulpMs === null ? () => {} : coalesceReads(sock, gulpMs);
  try {
    return await readLines(sock, n);
  } finally {
    stop();
    sock.destroy();
    srv.close();
  }
}

test('300 messages a millisecond apart arrive whole and in order, in a few gulps instead of a read each', async () => {
  const plain = await run(300, null);
  const gulped = await run(300, 25);
  const expected = Array.from({ length: 300 }, (_, i) => String(i));
  assert.deepEqual(plain.lines, expected);
  assert.deepEqual(gulped.lines, expected);
  // 300 ms of sending read every 25 ms: about 12 reads (timers on a busy machine stretch, which
  // only makes fewer); read as they come, nearly one read per message.
  assert.ok(gulped.reads <= 30, `gulped reads: ${gulped.reads}`);
  assert.ok(plain.reads > gulped.reads * 3, `plain ${plain.reads} vs gulped ${gulped.reads}`);
});

test('a read after a quiet spell is at once; stopping the gulps reads at once again; a socket without a reachable handle is left alone', async () => {
  const server = createServer((sock) => {
    sock.on('data', (d) => sock.write(d)); // echo
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sock = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const echo = (s: string) =>
    new Promise<number>((resolve) => {
      const t0 = Date.now();
      sock.once('data', () => resolve(Date.now() - t0));
      sock.write(s);
    });
  try {
    const stop = coalesceReads(sock, 2_000);
    assert.ok((await echo('a')) < 1_000, 'a read after a quiet spell: at once');
    // A second read soon after the first: the stream is busy, the socket is now unread for 2 s.
    await echo('b');
    let arrived = false;
    const c = echo('c').then(() => (arrived = true));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(arrived, false, 'held by the kernel while the gulp waits');
    const t0 = Date.now();
    stop();
    await c;
    assert.ok(Date.now() - t0 < 1_000, `read ${Date.now() - t0} ms after stop()`);
  } finally {
    sock.destroy();
    server.close();
  }
  // Not a socket of ours (no libuv handle): nothing happens, nothing throws.
  const stopNothing = coalesceReads(null);
  stopNothing();
  const fake = { on() {}, off() {}, destroyed: false, _handle: {} } as unknown as Socket;
  coalesceReads(fake)();
});
