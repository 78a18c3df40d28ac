import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { connectClient } from '../src/db/index.js';
import { CancelledError } from '../src/errors.js';

test('Ctrl-C while connecting to a database that never answers settles at once, not after the connect timeout', async () => {
  // A server that accepts TCP connections and then says nothing (a hung host behind a firewall).
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 300);
  try {
    await assert.rejects(
      connectClient(
        { host: '127.0.0.1', port, database: 'chatgenius', user: 'postgres', password: 'x', sslMode: 'disable' },
        { retry: { maxRetries: 1, retryDelayMs: 0 }, signal: controller.signal },
      ),
      (err: unknown) => err instanceof CancelledError,
    );
    const ms = Date.now() - started;
    assert.ok(ms < 2000, `settled ${ms} ms after start (abort at 300 ms); pg's connect timeout is 10 s`);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});
