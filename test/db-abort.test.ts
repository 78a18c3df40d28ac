import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSilentServer } from './helpers/ports.js';
import { connectClient } from '../src/db/index.js';
import { CancelledError } from '../src/errors.js';

test('Ctrl-C while connecting to a database that never answers settles at once, not after the connect timeout', async () => {
  const silent = await startSilentServer(); // a hung host: accepts TCP, never answers
  const port = silent.port;
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
    await silent.close();
  }
});
