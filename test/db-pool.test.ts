import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pgTypes from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { setupDatabase, initializePool, executeSchemaFile, closePool } from '../src/library/index.js';
import { explain } from '../src/explain/index.js';
import type { ConnectionConfig } from '../src/config/types.js';

let pg: TestPostgres;
let conn: ConnectionConfig;
/** An empty project directory: no .env files unless a test writes them. */
let project: string;

before(async () => {
  project = await mkdtemp(join(tmpdir(), 'cgdb-project-'));
  pg = await startPostgres();
  conn = { host: pg.host, port: pg.port, database: pg.database, user: pg.user, password: pg.password, sslMode: 'disable' };
  // The spec's extensions live in public (the migrations put them there).
  await pg.query('CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public; CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public');
});
after(async () => {
  await closePool();
  await pg.stop();
  await rm(project, { recursive: true, force: true });
});

async function searchPaths(pool: pgTypes.Pool, n: number): Promise<string[]> {
  // Hold n clients at once so the pool must open n distinct connections.
  const clients = await Promise.all(Array.from({ length: n }, () => pool.connect()));
  try {
    const rows = await Promise.all(clients.map((c) => c.query<{ sp: string; pid: number }>("select current_setting('search_path') as sp, pg_backend_pid() as pid")));
    assert.equal(new Set(rows.map((r) => r.rows[0]!.pid)).size, n, 'distinct connections');
    return rows.map((r) => r.rows[0]!.sp);
  } finally {
    for (const c of clients) c.release();
  }
}

test('setupDatabase(true) creates schema test and sets search_path test, public on every pooled connection', async () => {
  const { pool } = await setupDatabase({ isTest: true, connection: conn, migrate: false, max: 6 });
  try {
    const s = await pg.query(`select count(*)::int as n from pg_namespace where nspname = 'test'`);
    assert.equal(s.rows[0]!.n, 1, 'schema test exists');
    assert.deepEqual(await searchPaths(pool, 5), Array(5).fill('test, public'));
    // Unqualified names land in test; the extensions in public stay usable.
    await pool.query('CREATE TABLE IF NOT EXISTS people (email citext primary key, token bytea default gen_random_bytes(16))');
    await pool.query(`INSERT INTO people (email) VALUES ('Ada@Example.com')`);
    const r = await pool.query<{ n: number; len: number }>(`select count(*)::int as n, max(length(token))::int as len from people where email = 'ada@example.COM'`);
    assert.deepEqual(r.rows[0], { n: 1, len: 16 });
    const where = await pg.query(`select table_schema from information_schema.tables where table_name = 'people'`);
    assert.deepEqual(
      where.rows.map((x) => x.table_schema),
      ['test'],
    );
  } finally {
    await closePool(pool);
  }
});

test('setupDatabase() without test keeps the server default search_path', async () => {
  const { pool } = await setupDatabase({ connection: conn, migrate: false });
  try {
    assert.deepEqual(await searchPaths(pool, 2), ['"$user", public', '"$user", public']);
  } finally {
    await closePool(pool);
  }
});

test('setupDatabase reads DATABASE_URL from the environment it is given', async () => {
  const other = await pg.createDatabase('from_url');
  const { pool } = await setupDatabase({ env: { DATABASE_URL: other }, cwd: project, migrate: false });
  try {
    const r = await pool.query<{ db: string; app: string }>(`select current_database() as db, current_setting('application_name') as app`);
    assert.deepEqual(r.rows[0], { db: 'from_url', app: 'chatgenius-db' });
  } finally {
    await closePool(pool);
  }
});

test('setupDatabase() reads POSTGRES_* from .env.local like the spec says, not a hard-coded localhost:5432', async () => {
  await pg.createDatabase('from_vars');
  const dir = await mkdtemp(join(tmpdir(), 'cgdb-envlocal-'));
  try {
    await writeFile(
      join(dir, '.env.local'),
      [`POSTGRES_HOST=127.0.0.1`, `POSTGRES_PORT=${pg.port}`, `POSTGRES_DB=from_vars`, `POSTGRES_USER=${pg.user}`, `POSTGRES_PASSWORD=${pg.password}`, ''].join('\n'),
    );
    const { pool } = await setupDatabase({ env: { CHATGENIUS_ENV: 'development' }, cwd: dir, migrate: false });
    try {
      const r = await pool.query<{ db: string }>('select current_database() as db');
      assert.equal(r.rows[0]!.db, 'from_vars');
    } finally {
      await closePool(pool);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('executeSchemaFile(file, true) on a plain pool runs in schema test and leaves the connection clean', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cgdb-pool-'));
  try {
    const file = join(dir, 'schema.sql');
    await writeFile(file, 'CREATE TABLE IF NOT EXISTS rooms (id text primary key, name citext not null);\n');
    const pool = await initializePool({ connection: conn, max: 1 });
    await executeSchemaFile(file, true);
    const where = await pg.query(`select table_schema from information_schema.tables where table_name = 'rooms'`);
    assert.deepEqual(
      where.rows.map((x) => x.table_schema),
      ['test'],
    );
    const r = await pool.query<{ sp: string }>(`select current_setting('search_path') as sp`);
    assert.equal(r.rows[0]!.sp, '"$user", public', 'the one pooled connection is back to its default');
  } finally {
    await closePool();
    await rm(dir, { recursive: true, force: true });
  }
});

test('executeSchemaFile on a missing file says which file', async () => {
  const err = await executeSchemaFile('/nonexistent/schema.sql', { connection: conn }).catch((e) => e);
  assert.equal(err.code, 'ENOENT');
  const x = explain(err);
  assert.equal(x.title, 'File not found');
  assert.match(x.cause, /\/nonexistent\/schema\.sql/);
  await closePool();
});

test("a constraint violation from a schema file keeps pg's error and is explained", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cgdb-pool-'));
  try {
    const file = join(dir, 'dup.sql');
    await writeFile(file, "CREATE TABLE u (email text unique);\nINSERT INTO u VALUES ('a');\nINSERT INTO u VALUES ('a');\n");
    const pool = await initializePool({ connection: conn, max: 1 });
    const err = await executeSchemaFile(file).catch((e) => e);
    assert.equal(err.code, '23505');
    assert.equal(err.constructor.name, 'DatabaseError');
    assert.equal(explain(err).title, 'Unique constraint violation');
    assert.match(explain(err).cause, /u_email_key/);
    // The failed connection was discarded, the pool still works.
    assert.equal((await pool.query('select 1 as one')).rows[0].one, 1);
  } finally {
    await closePool();
    await rm(dir, { recursive: true, force: true });
  }
});

test('setupDatabase(true) applies the schema to test: the spec tables, usable through the pool, and again is a no-op', async () => {
  const url = await pg.createDatabase('setup_full');
  const events: string[] = [];
  const first = await setupDatabase({ isTest: true, env: { DATABASE_URL: url }, cwd: project, emit: (e) => events.push(e.type) });
  try {
    assert.equal(first.migrations?.ok, true);
    assert.ok((first.migrations?.results.filter((r) => r.status === 'applied').length ?? 0) >= 1);
    assert.ok(events.includes('migration:done'));
    const t = await pg.query<{ n: number }>(
      `select count(*)::int as n from information_schema.tables where table_schema = 'test' and table_name = any($1)`,
      [['users', 'channels', 'messages', 'channel_members', 'reactions', 'files', 'user_settings', 'user_status', 'message_reads', 'sync_state']],
      'setup_full',
    );
    assert.equal(t.rows[0]!.n, 10, 'the ten spec tables in schema test');
    // Unqualified names and the ULID default work through every pooled connection.
    const r = await first.pool.query<{ id: string }>(`INSERT INTO users (auth0_id, email, username) VALUES ('auth0|1', 'ada@example.com', 'ada') RETURNING id`);
    assert.match(r.rows[0]!.id, /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
  } finally {
    await closePool(first.pool);
  }
  const again = await setupDatabase({ isTest: true, env: { DATABASE_URL: url }, cwd: project });
  try {
    assert.equal(again.migrations?.ok, true);
    assert.equal(again.migrations?.results.filter((r) => r.status === 'applied').length, 0, 'nothing left to apply');
  } finally {
    await closePool(again.pool);
  }
});

test("setupDatabase(true) finds the credentials of .env.local (the spec's usage) and uses schema test in that database", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cgdb-envlocal-'));
  try {
    await writeFile(join(dir, '.env.local'), `DATABASE_URL=${pg.url}\n`);
    const { pool } = await setupDatabase({ isTest: true, env: {}, cwd: dir, migrate: false });
    try {
      const r = await pool.query<{ db: string; sp: string }>(`select current_database() as db, current_setting('search_path') as sp`);
      assert.deepEqual(r.rows[0], { db: pg.database, sp: 'test, public' });
    } finally {
      await closePool(pool);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
