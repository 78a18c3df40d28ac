import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { startFlakyServer, startStartupFilter } from './helpers/flaky-server.js';
import { freePort } from './helpers/ports.js';
import { connectClient, executeWithRetry, isTransient } from '../src/db/index.js';
import { initializePool, executeSchemaFile, closePool } from '../src/library/index.js';
import { explain } from '../src/explain/index.js';
import { ChatgeniusError, CancelledError } from '../src/errors.js';
import type { ChatgeniusEvent } from '../src/events.js';
import type { ConnectionConfig } from '../src/config/types.js';

let pg: TestPostgres;
let conn: ConnectionConfig;

before(async () => {
  pg = await startPostgres();
  conn = { host: pg.host, port: pg.port, database: pg.database, user: pg.user, password: pg.password, sslMode: 'disable' };
});
after(async () => {
  await closePool();
  await pg.stop();
});

function recorder() {
  const events: ChatgeniusEvent[] = [];
  return { events, emit: (e: ChatgeniusEvent) => events.push(e) };
}
const retries = (events: ChatgeniusEvent[]) => events.filter((e): e is Extract<ChatgeniusEvent, { type: 'retry' }> => e.type === 'retry');
const starts = (events: ChatgeniusEvent[]) => events.filter((e) => e.type === 'connect:start');

test('a server that refuses connections for a while is retried with growing delays until it answers', async () => {
  const flaky = await startFlakyServer({ target: pg, mode: 'refuse', downMs: 800 });
  try {
    const { events, emit } = recorder();
    const started = Date.now();
    const client = await connectClient({ ...conn, port: flaky.port }, { retry: { maxRetries: 6, retryDelayMs: 250 }, emit });
    try {
      const r = await client.query<{ db: string }>('select current_database() as db');
      assert.equal(r.rows[0]!.db, pg.database);
    } finally {
      await client.end();
    }
    const rs = retries(events);
    assert.ok(rs.length >= 2, `expected at least 2 retries, saw ${rs.length}`);
    assert.deepEqual(
      rs.map((r) => r.code),
      rs.map(() => 'ECONNREFUSED'),
    );
    assert.deepEqual(
      rs.map((r) => r.delayMs),
      rs.map((_, i) => 250 * (i + 1)),
      'delay grows with the attempt',
    );
    assert.deepEqual(
      rs.map((r) => r.attempt),
      rs.map((_, i) => i + 1),
    );
    assert.equal(rs[0]!.operation, 'connect');
    assert.equal(rs[0]!.maxRetries, 6);
    assert.ok(Date.now() - started >= 750, 'waited for the server');
    const done = events.find((e) => e.type === 'connect:done');
    assert.ok(done && done.type === 'connect:done' && /^\d+/.test(done.serverVersion ?? ''), 'connect:done carries the server version');
  } finally {
    await flaky.close();
  }
});

test('a server that accepts and drops connections while starting is retried, then used', async () => {
  const flaky = await startFlakyServer({ target: pg, mode: 'reset', downMs: 500 });
  try {
    const { events, emit } = recorder();
    const client = await connectClient({ ...conn, port: flaky.port }, { retry: { maxRetries: 6, retryDelayMs: 200 }, emit });
    await client.end();
    assert.ok(flaky.rejected >= 1);
    const rs = retries(events);
    assert.ok(rs.length >= 1);
    for (const r of rs) assert.ok(['ECONNRESET', 'DB_CONNECTION_LOST'].includes(r.code ?? ''), `transient code, got ${r.code}`);
  } finally {
    await flaky.close();
  }
});

test('"the database system is starting up" (57P03) is retried until the server is ready', async () => {
  const flaky = await startFlakyServer({ target: pg, mode: 'starting', downMs: 450 });
  try {
    const { events, emit } = recorder();
    const client = await connectClient({ ...conn, port: flaky.port }, { retry: { maxRetries: 6, retryDelayMs: 200 }, emit });
    await client.end();
    const rs = retries(events);
    assert.ok(rs.length >= 1);
    assert.equal(rs[0]!.code, '57P03');
    assert.equal(explain({ code: '57P03', message: 'the database system is starting up' }).title, 'The database is starting up');
  } finally {
    await flaky.close();
  }
});

test('executeWithRetry keeps the spec signature: maxRetries counts attempts and the last error is thrown', async () => {
  const port = await freePort(); // nothing listens here
  let calls = 0;
  const { events, emit } = recorder();
  await assert.rejects(
    executeWithRetry(
      async () => {
        calls++;
        await connectClient({ ...conn, port }, { retry: { maxRetries: 1, retryDelayMs: 0 } });
      },
      3,
      { delayMs: 50, emit, operation: 'setup' },
    ),
    (err: unknown) => (err as ChatgeniusError).code === 'ECONNREFUSED',
  );
  assert.equal(calls, 3);
  assert.deepEqual(
    retries(events).map((r) => r.delayMs),
    [50, 100],
  );
  assert.equal(retries(events)[0]!.operation, 'setup');
});

test('a wrong password (28P01) is not retried and is explained without the password', async () => {
  const { events, emit } = recorder();
  const secret = 'not-the-Password-123';
  const err = await connectClient({ ...conn, password: secret }, { retry: { maxRetries: 5, retryDelayMs: 10 }, emit }).catch((e) => e);
  assert.equal(err.code, '28P01');
  assert.equal(starts(events).length, 1, 'one attempt only');
  assert.equal(retries(events).length, 0);
  const x = explain(err);
  assert.equal(x.title, 'Password authentication failed');
  assert.match(x.cause, /postgres/);
  assert.match(x.hint, /POSTGRES_PASSWORD/);
  const all = JSON.stringify({ x, message: err.message, details: err.details, events });
  assert.ok(!all.includes(secret) && !all.includes(pg.password), 'no password anywhere');
});

test('a missing database (3D000) is not retried and names the database', async () => {
  const { events, emit } = recorder();
  const err = await connectClient({ ...conn, database: 'no_such_db' }, { retry: { maxRetries: 5, retryDelayMs: 10 }, emit }).catch((e) => e);
  assert.equal(err.code, '3D000');
  assert.equal(starts(events).length, 1);
  const x = explain(err);
  assert.equal(x.title, 'Database does not exist');
  assert.match(x.cause, /"no_such_db" on 127\.0\.0\.1:\d+/);
  assert.match(x.hint, /POSTGRES_DB/);
});

test('a role without privilege (42501) and a syntax error (42601) are not retried', async () => {
  await pg.query(`CREATE ROLE weak LOGIN PASSWORD 'weakpw'`);
  await pg.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
  const client = await connectClient({ ...conn, user: 'weak', password: 'weakpw' });
  try {
    let calls = 0;
    const err = await executeWithRetry(
      async () => {
        calls++;
        await client.query('CREATE TABLE public.nope (id int)');
      },
      4,
      { delayMs: 10 },
    ).catch((e) => e);
    assert.equal(err.code, '42501');
    assert.equal(calls, 1);
    assert.equal(explain(err).title, 'Missing privilege: CREATE on schema public');
    assert.match(explain(err).hint, /GRANT/);

    calls = 0;
    const syntax = await executeWithRetry(
      async () => {
        calls++;
        await client.query('CREAT TABLE x (id int)');
      },
      4,
      { delayMs: 10 },
    ).catch((e) => e);
    assert.equal(syntax.code, '42601');
    assert.equal(calls, 1);
    assert.match(explain(syntax).title, /SQL syntax error/);
  } finally {
    await client.end();
  }
});

test('a syntax error in a schema file is reported at file:line:column with a caret', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cgdb-db-'));
  try {
    const file = join(dir, 'broken.sql');
    await writeFile(file, 'CREATE TABLE ok_one (id int);\n-- second statement\nCREATE TABLE bad (id int,, name text);\n');
    await initializePool({ connection: conn });
    const err = await executeSchemaFile(file).catch((e) => e);
    assert.ok(err instanceof ChatgeniusError);
    assert.equal(err.code, '42601');
    assert.deepEqual([err.details.file, err.details.line, err.details.column], [file, 3, 26]);
    const x = explain(err);
    assert.match(x.title, /SQL syntax error in .*broken\.sql:3:26/);
    assert.equal(x.detail, `${file}:3:26\n> 3 | CREATE TABLE bad (id int,, name text);\n    |                          ^`);
    // A syntax error rejects the whole file: the first table was not created.
    const r = await pg.query(`select to_regclass('public.ok_one') as t`);
    assert.equal(r.rows[0]!.t, null);
  } finally {
    await closePool();
    await rm(dir, { recursive: true, force: true });
  }
});

test('sslmode require against a server without TLS fails at once, explained with the PGSSLMODE fix', async () => {
  const { events, emit } = recorder();
  const err = await connectClient({ ...conn, sslMode: 'require' }, { retry: { maxRetries: 4, retryDelayMs: 10 }, emit }).catch((e) => e);
  assert.equal(err.code, 'DB_SSL_NOT_SUPPORTED');
  assert.equal(starts(events).length, 1);
  const x = explain(err);
  assert.equal(x.title, 'The server does not support TLS (SSL)');
  assert.match(x.hint, /PGSSLMODE=disable/);
  // The raw pg error (no code) is recognised by its message too.
  assert.equal(explain(new Error('The server does not support SSL connections')).title, x.title);
});

test('sslmode prefer falls back to a plain connection when the server has no TLS, as libpq does', async () => {
  const client = await connectClient({ ...conn, sslMode: 'prefer' });
  try {
    const r = await client.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
    assert.equal(r.rows[0]!.ssl, false);
  } finally {
    await client.end();
  }
});

test('our sessions carry application_name and client_connection_check_interval', async () => {
  const client = await connectClient(conn);
  try {
    const r = await client.query<{ app: string; check: string }>(
      "select current_setting('application_name') as app, current_setting('client_connection_check_interval') as check",
    );
    assert.deepEqual(r.rows[0], { app: 'chatgenius-db', check: '1s' });
  } finally {
    await client.end();
  }
});

test('an idle connection killed by the server does not crash the process and is reported', async () => {
  const { events, emit } = recorder();
  const client = await connectClient(conn, { emit });
  const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  await pg.query('select pg_terminate_backend($1)', [pid]);
  for (let i = 0; i < 150 && !events.some((e) => e.type === 'notice'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(
    events.some((e) => e.type === 'notice' && /lost/.test(e.message)),
    'a notice about the lost connection',
  );
  await client.end().catch(() => {});
});

test('aborting during the wait between attempts stops at once with CancelledError', async () => {
  const port = await freePort();
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 150);
  await assert.rejects(
    connectClient({ ...conn, port }, { retry: { maxRetries: 5, retryDelayMs: 5_000 }, signal: controller.signal }),
    (e: unknown) => e instanceof CancelledError,
  );
  assert.ok(Date.now() - started < 2_000);
});

test('isTransient: only failures that can pass by themselves', () => {
  const yes = ['08006', '08001', '57P01', '57P02', '57P03', '53300', '40001', '40P01', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'];
  const no = ['28P01', '28000', '3D000', '42501', '42601', '42P01', '23505', '57014', '55P03', 'ENOTFOUND', 'ENOENT', 'DB_SSL_NOT_SUPPORTED'];
  for (const code of yes) assert.equal(isTransient({ code, message: 'x' }), true, code);
  for (const code of no) assert.equal(isTransient({ code, message: 'x' }), false, code);
  assert.equal(isTransient(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isTransient(new Error('timeout expired')), true);
  assert.equal(isTransient(new Error('syntax error at or near "x"')), false);
  const agg = Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], 'x'));
  assert.equal(isTransient(agg), true);
});

test('a server that rejects client_connection_check_interval (PostgreSQL on macOS) gets a connection without it and a warning', async () => {
  const front = await startStartupFilter({
    target: pg,
    refuse: (p) =>
      /client_connection_check_interval/.test(p.options ?? '')
        ? { code: '22023', message: 'invalid value for parameter "client_connection_check_interval": 1000' }
        : undefined,
  });
  try {
    const { events, emit } = recorder();
    const client = await connectClient({ ...conn, port: front.port }, { retry: { maxRetries: 1, retryDelayMs: 0 }, emit });
    const r = await client.query<{ v: string }>(`select current_setting('client_connection_check_interval') as v`);
    await client.end();
    assert.equal(r.rows[0]!.v, '0');
    assert.deepEqual([front.refused, front.passed], [1, 1]);
    assert.ok(events.some((e) => e.type === 'notice' && e.level === 'warn' && /client_connection_check_interval/.test(e.message)));
  } finally {
    await front.close();
  }
});

test('behind a pooler that refuses startup options (PgBouncer), the test pool still sets search_path on every connection', async () => {
  const front = await startStartupFilter({
    target: pg,
    refuse: (p) => (p.options !== undefined ? { code: '08P01', message: 'unsupported startup parameter: options' } : undefined),
  });
  try {
    const pool = await initializePool({ isTest: true, connection: { ...conn, port: front.port }, retry: { maxRetries: 1, retryDelayMs: 0 } });
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    try {
      for (const c of clients) {
        const r = await c.query<{ sp: string }>(`select current_setting('search_path') as sp`);
        assert.equal(r.rows[0]!.sp, 'test, public');
      }
    } finally {
      for (const c of clients) c.release();
    }
    assert.equal(front.refused, 1, 'learned once, on the first connection');
    assert.equal(front.passed, 4, 'the probe and three pooled connections, all without startup options');
  } finally {
    await closePool();
    await front.close();
  }
});

test('a client that vanishes mid-query: its backend stops within about a second, not at the end of the statement', async () => {
  const vanish = async (connectionCheck: boolean) => {
    const c = await connectClient(conn, { connectionCheck });
    const pid = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    void c.query('select pg_sleep(30)').catch(() => {});
    for (let i = 0; i < 100; i++) {
      if ((await pg.query(`select 1 from pg_stat_activity where pid = $1 and state = 'active'`, [pid])).rowCount) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    // The process "dies": its socket closes without a goodbye.
    (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const t0 = Date.now();
    while (Date.now() - t0 < 2_500) {
      if (!(await pg.query('select 1 from pg_stat_activity where pid = $1', [pid])).rowCount) return { pid, goneAfterMs: Date.now() - t0 };
      await new Promise((r) => setTimeout(r, 50));
    }
    return { pid, goneAfterMs: undefined };
  };
  const withCheck = await vanish(true);
  assert.ok(withCheck.goneAfterMs !== undefined && withCheck.goneAfterMs < 2_500, `gone after ${withCheck.goneAfterMs} ms`);
  const without = await vanish(false);
  assert.equal(without.goneAfterMs, undefined, 'without the check the orphan runs on');
  await pg.query('select pg_terminate_backend($1)', [without.pid]);
  console.log(`# orphaned backend gone after ${withCheck.goneAfterMs} ms with client_connection_check_interval=1s; still running after 2500 ms without`);
});
