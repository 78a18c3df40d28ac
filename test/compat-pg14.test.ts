/**
 * "Works on PostgreSQL 14 and newer": the whole chain against a real PostgreSQL 14.23 (the rest
 * of the suite runs on 18). The engine through our own connectClient (so the startup options,
 * client_connection_check_interval included, are what 14 sees), the schema's spec columns, ULID
 * defaults and notify triggers, a full rollback and re-apply with an identical catalog, the CLI
 * binary (`init --env test --yes`, `status`), and doctor's version check.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { findPg14Binaries, pg14SkipReason, startPostgres14 } from './helpers/pg14.js';
import type { TestPostgres } from './helpers/pg.js';
import { binPath, runCli } from './helpers/cli.js';
import { migrationDirs, upSql } from './helpers/engine-fixtures.js';
import { startPostgres } from './helpers/pg.js';
import { sqlDir, sqlFiles } from './helpers/schema.js';
import { SPEC_SCRIPT, SPEC_TABLES, specType } from './helpers/catalog.js';
import { connectClient } from '../src/db/index.js';
import { closePool, setupDatabase } from '../src/library/index.js';
import { migrate, rollback, status, verify } from '../src/migrate/index.js';
import { BOOKKEEPING_TABLES, snapshotCatalog, type CatalogSnapshot } from '../src/migrate/catalog.js';
import { diffCatalog } from '../src/migrate/catalog-diff.js';
import type { ConnectionConfig } from '../src/config/types.js';
import type { ChatgeniusEvent } from '../src/events.js';

const skip = pg14SkipReason();
const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const VERSIONS = sqlFiles('up').map((f) => f.slice(0, 4));

let server: TestPostgres;
let cwd: string;
const clients: pg.Client[] = [];
const { gen, cleanup: cleanupDirs } = migrationDirs();

before(async () => {
  if (skip) return;
  server = await startPostgres14();
  cwd = mkdtempSync(join(tmpdir(), 'cgdb-compat14-'));
});
after(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
  cleanupDirs();
  await server?.stop();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

function connectionFor(url: string): ConnectionConfig {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port),
    database: u.pathname.slice(1),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    sslMode: 'disable',
  };
}

/** Our own connection path (startup options, retry), recording its events. */
async function ourClient(url: string, searchPath?: string[]): Promise<{ client: pg.Client; events: ChatgeniusEvent[] }> {
  const events: ChatgeniusEvent[] = [];
  const client = await connectClient(connectionFor(url), {
    retry: { maxRetries: 2, retryDelayMs: 200 },
    emit: (e) => events.push(e),
    ...(searchPath ? { searchPath } : {}),
  });
  clients.push(client);
  return { client, events };
}

const engineOpts = (schema: string, emit?: (e: ChatgeniusEvent) => void) => ({
  schema,
  migrationsDir: sqlDir,
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 30_000,
  ...(emit ? { emit } : {}),
});

async function extensions(c: pg.Client): Promise<string[]> {
  return (await c.query<{ extname: string }>('SELECT extname FROM pg_extension ORDER BY 1')).rows.map((r) => r.extname);
}

/** Apply everything, re-run (no-op), verify; returns the catalog after the first apply. */
async function applyAndCheck(client: pg.Client, schema: string): Promise<CatalogSnapshot> {
  const first = await migrate(client, engineOpts(schema));
  assert.equal(first.ok, true, JSON.stringify(first.failure));
  assert.deepEqual(
    first.results.map((r) => [r.version, r.status]),
    VERSIONS.map((v) => [v, 'applied']),
    `${schema}: every migration applied`,
  );
  const snap = await snapshotCatalog(client, schema);

  const again = await migrate(client, engineOpts(schema));
  assert.equal(again.ok, true);
  assert.deepEqual(again.plan.pending, [], `${schema}: nothing pending on a re-run`);
  assert.deepEqual(
    again.results.filter((r) => r.status === 'applied'),
    [],
    `${schema}: the re-run applies nothing`,
  );
  assert.deepEqual(await snapshotCatalog(client, schema), snap, `${schema}: the re-run changes nothing`);

  const v = await verify(client, engineOpts(schema));
  assert.equal(v.ok, true, `${schema}: verify on 14: ${v.problems.join('; ')}${v.catalogError ? ` (${v.catalogError})` : ''}`);
  assert.deepEqual(v.catalogDiff, []);
  return snap;
}

/** rollback --all, then migrate again: the same catalog as after the first apply. */
async function roundTrip(client: pg.Client, schema: string, before: CatalogSnapshot): Promise<void> {
  const down = await rollback(client, { ...engineOpts(schema), all: true });
  assert.equal(down.ok, true, JSON.stringify(down.failure));
  assert.deepEqual(
    down.results.map((r) => [r.version, r.status]),
    [...VERSIONS].reverse().map((v) => [v, 'rolled-back']),
  );
  const emptied = await snapshotCatalog(client, schema);
  const left = emptied.tables.map((t) => t.name).filter((n) => !BOOKKEEPING_TABLES.includes(n));
  assert.deepEqual(left, [], `${schema}: nothing of ours but the journal left after rollback --all`);
  assert.deepEqual(emptied.functions, [], `${schema}: no function of ours left after rollback --all`);
  const up = await migrate(client, engineOpts(schema));
  assert.equal(up.ok, true, JSON.stringify(up.failure));
  const after = await snapshotCatalog(client, schema);
  assert.deepEqual(diffCatalog(before, after), [], `${schema}: up, down, up gives the same catalog on 14`);
  assert.deepEqual(after, before);
}

let dbUrl = '';

test('the engine applies every migration on PostgreSQL 14 through our connection (client_connection_check_interval on), and a re-run is a no-op', { skip }, async () => {
  dbUrl = await server.createDatabase('compat_engine');
  const { client, events } = await ourClient(dbUrl);
  const v = await client.query<{ num: string; check: string }>(
    "SELECT current_setting('server_version_num') AS num, current_setting('client_connection_check_interval') AS check",
  );
  assert.ok(Number(v.rows[0]!.num) >= 140000 && Number(v.rows[0]!.num) < 150000, `a PostgreSQL 14 server: ${v.rows[0]!.num}`);
  assert.equal(v.rows[0]!.check, '1s', 'our startup option reached PostgreSQL 14');
  const fallbacks = events.filter((e) => e.type === 'notice' && /refused/.test(e.message));
  assert.deepEqual(fallbacks, [], 'PostgreSQL 14 accepts our startup options; no fallback');
  const done = events.find((e) => e.type === 'connect:done');
  assert.match(done && done.type === 'connect:done' ? (done.serverVersion ?? '') : '', /^14\./);

  await applyAndCheck(client, 'public');
  assert.deepEqual(await extensions(client), ['citext', 'pgcrypto', 'plpgsql', 'uuid-ossp']);
  const s = await status(client, engineOpts('public'));
  assert.deepEqual(s.pending, []);
  assert.deepEqual(
    s.applied.map((a) => [a.version, a.status]),
    VERSIONS.map((x) => [x, 'applied']),
  );
  assert.equal(s.lastFailure, null);
});

test('on PostgreSQL 14 the schema test (search_path test, public) gets every migration too, beside public', { skip }, async () => {
  assert.ok(dbUrl, 'runs after the public test');
  const { client } = await ourClient(dbUrl, ['test', 'public']);
  await applyAndCheck(client, 'test');
  const where = await client.query<{ schema: string; n: string }>(
    `SELECT table_schema AS schema, count(*) AS n FROM information_schema.tables
      WHERE table_schema IN ('public', 'test') AND table_name = ANY($1) GROUP BY 1 ORDER BY 1`,
    [Object.keys(SPEC_TABLES)],
  );
  assert.deepEqual(
    where.rows.map((r) => [r.schema, Number(r.n)]),
    [
      ['public', 10],
      ['test', 10],
    ],
  );
});

test("the spec's ten tables have exactly its columns, types, nullability and defaults on PostgreSQL 14", { skip }, async () => {
  const { client } = await ourClient(dbUrl);
  for (const schema of ['public', 'test']) {
    for (const [table, spec] of Object.entries(SPEC_TABLES)) {
      const cols = await client.query<{
        column_name: string;
        data_type: string;
        character_maximum_length: number | null;
        is_nullable: string;
        column_default: string | null;
      }>(
        `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
           FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
        [schema, table],
      );
      const live = cols.rows.map((c) => [
        c.column_name,
        specType(c.data_type, c.character_maximum_length),
        c.is_nullable === 'YES',
        // The id default (our ULID function) is checked below.
        c.column_name === 'id' ? null : c.column_default,
      ]);
      assert.deepEqual(live, spec, `${schema}.${table}`);
    }
  }
});

test('on PostgreSQL 14 rows inserted without an id get a database-made ULID, and a bad id is refused with 23514', { skip }, async () => {
  for (const schema of ['public', 'test']) {
    const { client } = await ourClient(dbUrl, [schema, 'public']);
    const u = (await client.query<{ id: string }>(`INSERT INTO users (auth0_id, email, username) VALUES ('a|1', 'a@example.com', 'ada') RETURNING id`)).rows[0]!.id;
    const c = (await client.query<{ id: string }>(`INSERT INTO channels (name) VALUES ('general') RETURNING id`)).rows[0]!.id;
    const m = (await client.query<{ id: string }>(`INSERT INTO messages (channel_id, user_id, content) VALUES ($1, $2, 'hi') RETURNING id`, [c, u])).rows[0]!.id;
    for (const id of [u, c, m]) assert.match(id, ULID_RE, `${schema}: ${id}`);
    assert.equal(new Set([u, c, m]).size, 3);
    // The time part is now (ms since the epoch, 48 bits in the first 10 characters).
    const ms = [...u.slice(0, 10)].reduce((acc, ch) => acc * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(ch), 0);
    assert.ok(Math.abs(ms - Date.now()) < 60_000, `${schema}: the ULID's time is now (${new Date(ms).toISOString()})`);
    await assert.rejects(
      client.query(`INSERT INTO channels (id, name) VALUES ('not-a-ulid', 'x')`),
      (e: { code?: string; constraint?: string }) => e.code === '23514' && e.constraint === 'channels_id_ulid_check',
    );
  }
});

test('on PostgreSQL 14 a LISTEN client receives the notify trigger payload (schema, table, op, ids, time; no content)', { skip }, async () => {
  const { client: listener } = await ourClient(dbUrl);
  const { client: writer } = await ourClient(dbUrl, ['test', 'public']);
  const got: Array<{ channel: string; payload: Record<string, unknown> }> = [];
  let wake = () => {};
  listener.on('notification', (n) => {
    got.push({ channel: n.channel, payload: JSON.parse(n.payload ?? 'null') });
    wake();
  });
  await listener.query('LISTEN chatgenius_messages');
  const u = (await writer.query<{ id: string }>(`INSERT INTO users (auth0_id, email, username) VALUES ('n|1', 'n@example.com', 'nina') RETURNING id`)).rows[0]!.id;
  const c = (await writer.query<{ id: string }>(`INSERT INTO channels (name) VALUES ('news') RETURNING id`)).rows[0]!.id;
  const m = (await writer.query<{ id: string }>(`INSERT INTO messages (channel_id, user_id, content) VALUES ($1, $2, 'a secret') RETURNING id`, [c, u])).rows[0]!.id;
  const deadline = Date.now() + 5000;
  while (got.length < 1 && Date.now() < deadline) await new Promise<void>((r) => ((wake = r), setTimeout(r, 100)));
  assert.equal(got.length, 1, 'one notification');
  const { channel, payload } = got[0]!;
  assert.equal(channel, 'chatgenius_messages');
  assert.deepEqual(Object.keys(payload).sort(), ['at', 'ids', 'op', 'schema', 'table']);
  assert.deepEqual([payload.schema, payload.table, payload.op, payload.ids], ['test', 'messages', 'INSERT', { id: m, channel_id: c, user_id: u }]);
  assert.ok(Math.abs(Date.parse(String(payload.at)) - Date.now()) < 60_000, `at is a time: ${payload.at}`);
  assert.ok(!JSON.stringify(payload).includes('secret'));
});

test('on PostgreSQL 14 rollback --all then migrate gives an identical catalog, in test and in public (extensions dropped, then re-created)', { skip }, async () => {
  const { client } = await ourClient(dbUrl);
  // Both schemas hold rows from the tests above; rollback drops them with the tables.
  const testBefore = await snapshotCatalog(client, 'test');
  await roundTrip(client, 'test', testBefore);
  assert.deepEqual(await extensions(client), ['citext', 'pgcrypto', 'plpgsql', 'uuid-ossp'], 'public still uses the extensions');

  const publicBefore = await snapshotCatalog(client, 'public');
  // With test rolled back too, a full rollback of public removes the extensions 0001 created.
  const down = await rollback(client, { ...engineOpts('test'), all: true });
  assert.equal(down.ok, true);
  const pub = await rollback(client, { ...engineOpts('public'), all: true });
  assert.equal(pub.ok, true, JSON.stringify(pub.failure));
  assert.deepEqual(await extensions(client), ['plpgsql'], 'the extensions 0001 created are gone');
  assert.equal((await migrate(client, engineOpts('public'))).ok, true);
  assert.equal((await migrate(client, engineOpts('test'))).ok, true);
  assert.deepEqual(diffCatalog(publicBefore, await snapshotCatalog(client, 'public')), []);
  assert.deepEqual(await snapshotCatalog(client, 'public'), publicBefore);
  assert.deepEqual(await snapshotCatalog(client, 'test'), testBefore);
});

test('the CLI on PostgreSQL 14: init --env test --yes applies everything to schema test, then status shows nothing pending', { skip }, async () => {
  const url = await server.createDatabase('compat_cli');
  const env = { DATABASE_URL: url, HOME: cwd, CI: 'true' };
  const init = await runCli(['init', '--env', 'test', '--yes', '--json'], { cwd, env });
  assert.equal(init.code, 0, `init exit code\n${init.stderr}`);
  const log = init.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; level: string; data: Record<string, unknown> });
  const connected = log.find((l) => l.event === 'connect_done');
  assert.match(String(connected?.data.serverVersion), /^14\./, 'the CLI talked to PostgreSQL 14');
  assert.deepEqual(
    log.filter((l) => l.event === 'notice' && /client_connection_check_interval|startup options/.test(String(l.data.message))),
    [],
    'no startup-option fallback on 14',
  );
  const done = log.filter((l) => l.event === 'schema_migration' && l.data.status === 'done').map((l) => l.data.version);
  assert.deepEqual(done, VERSIONS, 'a schema_migration line per applied migration');
  assert.ok(!init.stdout.includes(server.password) && !init.stderr.includes(server.password), 'no password in the output');
  const tables = await server.query<{ table_schema: string; n: string }>(
    `SELECT table_schema, count(*) AS n FROM information_schema.tables WHERE table_name = ANY($1) GROUP BY 1`,
    [Object.keys(SPEC_TABLES)],
    'compat_cli',
  );
  assert.deepEqual(
    tables.rows.map((r) => [r.table_schema, Number(r.n)]),
    [['test', 10]],
    'all ten tables in test, none in public',
  );

  const st = await runCli(['status', '--env', 'test', '--json'], { cwd, env });
  assert.equal(st.code, 0, st.stderr);
  const result = st.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> })
    .at(-1)!;
  assert.equal(result.event, 'result');
  assert.equal(result.data.schema, 'test');
  assert.deepEqual(result.data.pending, []);
  assert.deepEqual(
    (result.data.applied as Array<{ version: string; status: string }>).map((a) => [a.version, a.status]),
    VERSIONS.map((v) => [v, 'applied']),
  );

  const human = await runCli(['status', '--env', 'test'], { cwd, env });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout + human.stderr, new RegExp(`${VERSIONS.length} migrations applied, 0 pending`));
});

test('the CLI on PostgreSQL 14: verify passes, seed loads demo data, status --metrics reads the 14 statistics views', { skip }, async () => {
  const env = { DATABASE_URL: server.urlFor('compat_cli'), HOME: cwd, CI: 'true' };
  const v = await runCli(['verify', '--env', 'test'], { cwd, env });
  assert.equal(v.code, 0, v.stdout + v.stderr);

  const seed = await runCli(['seed', '--env', 'test', '--yes', '--users', '20', '--channels', '3', '--messages', '300', '--seed', 'pg14'], { cwd, env });
  assert.equal(seed.code, 0, seed.stdout + seed.stderr);
  const counts = await server.query<{ users: string; messages: string; bad_ids: string }>(
    `SELECT (SELECT count(*) FROM test.users) AS users, (SELECT count(*) FROM test.messages) AS messages,
            (SELECT count(*) FROM test.messages WHERE id !~ '^[0-7][0-9A-HJKMNP-TV-Z]{25}$') AS bad_ids`,
    [],
    'compat_cli',
  );
  assert.deepEqual(counts.rows[0], { users: '20', messages: '300', bad_ids: '0' });

  const m = await runCli(['status', '--env', 'test', '--metrics'], { cwd, env });
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, new RegExp(`^chatgenius_migrations\\{schema="test",state="applied"\\} ${VERSIONS.length}$`, 'm'));
  assert.match(m.stdout, /^chatgenius_index_scans_total\{[^}]*index="messages_/m, 'index usage from pg_stat_user_indexes on 14');
  assert.match(m.stdout, /^# TYPE chatgenius_query_duration_seconds histogram$/m);
});

test("doctor against PostgreSQL 14 passes 'Server version >= 14' with the version it found", { skip }, async () => {
  const url = server.urlFor('compat_cli');
  const r = await runCli(['doctor', '--env', 'development', '--database-url', url, '--json'], { cwd, env: { HOME: cwd, CI: 'true' } });
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> });
  const version = lines.find((l) => l.event === 'doctor_check' && l.data.id === 'pg-version');
  assert.ok(version, `a pg-version check line in:\n${r.stdout}\n${r.stderr}`);
  assert.equal(version.data.status, 'pass', JSON.stringify(version.data));
  assert.match(JSON.stringify(version.data), /PostgreSQL 14\.\d+/);
  const failed = lines.filter((l) => l.event === 'doctor_check' && l.data.status === 'fail');
  assert.deepEqual(
    failed.map((l) => l.data.title),
    [],
    'no check fails on 14',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(server.password) && !r.stderr.includes(server.password));
});

test('without the PostgreSQL 14 package the helper fails with what to install, and only other platforms skip', async () => {
  await assert.rejects(findPg14Binaries('pg14-not-installed-here'), (e: Error) => {
    assert.match(e.message, /PostgreSQL 14 binaries are missing/);
    assert.match(e.message, /"pg14-not-installed-here"/);
    assert.match(e.message, /npm ci/);
    return true;
  });
  assert.equal(pg14SkipReason('linux', 'x64'), false, 'linux-x64 never skips: a missing package is a failure');
  assert.match(String(pg14SkipReason('darwin', 'arm64')), /linux-x64 only .* darwin-arm64/);
});

let genSchema = 0;
const genOpts = (dir: string, emit?: (e: ChatgeniusEvent) => void) => ({ ...engineOpts(`gen_${++genSchema}`, emit), migrationsDir: dir });
async function tablesIn(c: pg.Client, schema: string): Promise<string[]> {
  return (await c.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [schema])).rows.map((r) => r.t);
}

test('on PostgreSQL 14 a batch with a syntax error is rejected whole and mapped to file:line:column; a run-time error keeps the earlier migrations', {
  skip,
}, async () => {
  const { client } = await ourClient(dbUrl);
  const bad = `${upSql(3)}\nCREATE TABLE oops (\n  id integer PRIMARY KEY,\n  name text NOT NULL,,\n);\n`;
  const syntax = genOpts(gen(5, { override: { 3: bad } }).dir);
  const r = await migrate(client, syntax);
  assert.equal(r.ok, false);
  assert.deepEqual([r.failure!.phase, r.failure!.code, r.failure!.file, r.failure!.line, r.failure!.column], ['syntax', '42601', '0003_step_3.up.sql', 11, 22]);
  assert.deepEqual(await tablesIn(client, syntax.schema), ['chatgenius_migrations'], 'nothing ran');

  const runtime = genOpts(gen(5, { append: { 3: `\nUPDATE t_0003\n   SET label = (1/0)::text\n WHERE id = 3;\n` } }).dir);
  const r2 = await migrate(client, runtime);
  assert.equal(r2.ok, false);
  assert.deepEqual([r2.failure!.phase, r2.failure!.code, r2.failure!.line], ['runtime', '22012', 10]);
  assert.match(r2.failure!.statement ?? '', /SET label = \(1\/0\)::text/);
  assert.deepEqual(
    r2.results.map((x) => x.status),
    ['applied', 'applied', 'failed', 'not-run', 'not-run'],
  );
  assert.deepEqual(await tablesIn(client, runtime.schema), ['chatgenius_migrations', 't_0001', 't_0002']);
  const locks = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
  assert.equal(locks.rows[0]!.n, 0, 'the session is usable again and holds no lock');
});

test('on PostgreSQL 14 a CREATE INDEX CONCURRENTLY file runs outside a transaction, between batched files', { skip }, async () => {
  const { client } = await ourClient(dbUrl);
  const m = gen(4, { override: { 3: `CREATE INDEX CONCURRENTLY IF NOT EXISTS t_0002_conc ON t_0002 (label);\n` } });
  m.write(3, 'DROP INDEX CONCURRENTLY IF EXISTS t_0002_conc;\n', 'down');
  const o = genOpts(m.dir);
  const r = await migrate(client, o);
  assert.equal(r.ok, true, JSON.stringify(r.failure));
  const idx = await client.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname = 't_0002_conc'`, [o.schema]);
  assert.equal(idx.rowCount, 1);
  const down = await rollback(client, { ...o, steps: 2 });
  assert.equal(down.ok, true, JSON.stringify(down.failure));
  assert.equal((await client.query(`SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = 't_0002_conc'`, [o.schema])).rowCount, 0);
});

test('on PostgreSQL 14 two runs started at once both succeed and apply each migration once', { skip }, async () => {
  const [a, b] = await Promise.all([ourClient(dbUrl), ourClient(dbUrl)]);
  const o = genOpts(gen(6).dir);
  const [ra, rb] = await Promise.all([migrate(a.client, { ...o, lockPollMs: 50 }), migrate(b.client, { ...o, lockPollMs: 50 })]);
  assert.equal(ra.ok && rb.ok, true);
  const applied = [...ra.results, ...rb.results]
    .filter((x) => x.status === 'applied')
    .map((x) => x.version)
    .sort();
  assert.deepEqual(applied, ['0001', '0002', '0003', '0004', '0005', '0006'], 'each applied by exactly one of the two');
  const rows = await a.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${o.schema}".chatgenius_migrations WHERE status = 'applied'`);
  assert.equal(rows.rows[0]!.n, 6);
});

test('on PostgreSQL 14 a client that vanishes mid-query has its backend stopped within about a second (client_connection_check_interval)', { skip }, async () => {
  const vanish = async (connectionCheck: boolean) => {
    const c = await connectClient(connectionFor(dbUrl), { connectionCheck, retry: { maxRetries: 1, retryDelayMs: 0 } });
    const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    void c.query('SELECT pg_sleep(30)').catch(() => {});
    for (let i = 0; i < 100; i++) {
      if ((await server.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [pid])).rowCount) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    // The process "dies": its socket closes without a goodbye.
    (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const t0 = Date.now();
    while (Date.now() - t0 < 2_500) {
      if (!(await server.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount) return { pid, goneAfterMs: Date.now() - t0 };
      await new Promise((r) => setTimeout(r, 50));
    }
    return { pid, goneAfterMs: undefined };
  };
  const withCheck = await vanish(true);
  assert.ok(withCheck.goneAfterMs !== undefined, 'the orphaned backend stopped within 2.5 s');
  const without = await vanish(false);
  assert.equal(without.goneAfterMs, undefined, 'without the check the orphan runs on (so the check is what stopped it)');
  await server.query('SELECT pg_terminate_backend($1)', [without.pid]);
  console.log(`# PostgreSQL 14: orphaned backend gone after ${withCheck.goneAfterMs} ms with client_connection_check_interval=1s; still running after 2500 ms without`);
});

test('the schema the engine builds on PostgreSQL 14 has the same catalog as on PostgreSQL 18', { skip }, async () => {
  const pg18 = await startPostgres();
  try {
    const snap = async (url: string, schema: string) => {
      const { client } = await ourClient(url, [schema, 'public']);
      const r = await migrate(client, engineOpts(schema));
      assert.equal(r.ok, true, JSON.stringify(r.failure));
      return snapshotCatalog(client, schema);
    };
    const url14 = await server.createDatabase('compat_vs18');
    for (const schema of ['public', 'test']) {
      const on14 = await snap(url14, schema);
      const on18 = await snap(pg18.url, schema);
      // Each release ships its own extension versions (citext 1.6 vs 1.8, pgcrypto 1.3 vs 1.4):
      // that, and nothing else, may differ.
      const names = (x: CatalogSnapshot) => x.extensions.map((e) => `${e.name}@${e.schema}`);
      assert.deepEqual(names(on14), names(on18), `${schema}: the same extensions in the same schema`);
      const sameVersions = (x: CatalogSnapshot): CatalogSnapshot => ({ ...x, extensions: x.extensions.map((e) => ({ ...e, version: '*' })) });
      assert.deepEqual(diffCatalog(sameVersions(on18), sameVersions(on14)), [], `${schema}: 18 vs 14`);
      assert.deepEqual(sameVersions(on14), sameVersions(on18));
      assert.ok(on14.tables.length >= 10 && on14.functions.length >= 4 && on14.tables.some((t) => t.triggers.length > 0));
    }
  } finally {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
    await pg18.stop();
  }
});

test("the spec's library call setupDatabase(true) on PostgreSQL 14: schema test migrated, every pooled connection on search_path test, public", { skip }, async () => {
  const url = await server.createDatabase('compat_lib');
  try {
    const { pool, migrations } = await setupDatabase({ isTest: true, connection: connectionFor(url), retry: { maxRetries: 1, retryDelayMs: 0 } });
    assert.equal(migrations?.ok, true, JSON.stringify(migrations?.failure));
    assert.deepEqual(
      migrations!.results.map((r) => r.version),
      VERSIONS,
    );
    const conns = await Promise.all([pool.connect(), pool.connect()]);
    try {
      for (const c of conns) {
        const r = await c.query<{ sp: string; check: string }>(
          "SELECT current_setting('search_path') AS sp, current_setting('client_connection_check_interval') AS check",
        );
        assert.deepEqual(r.rows[0], { sp: 'test, public', check: '1s' });
      }
      const id = (await conns[0]!.query<{ id: string }>(`INSERT INTO users (auth0_id, email, username) VALUES ('l|1', 'l@example.com', 'lib') RETURNING id`)).rows[0]!.id;
      assert.match(id, ULID_RE);
      // citext from public is usable from the test schema's search_path.
      assert.equal((await conns[1]!.query<{ eq: boolean }>(`SELECT 'ABC'::citext = 'abc'::citext AS eq`)).rows[0]!.eq, true);
    } finally {
      for (const c of conns) c.release();
    }
    const where = await server.query<{ s: string }>(`SELECT table_schema AS s FROM information_schema.tables WHERE table_name = 'users'`, [], 'compat_lib');
    assert.deepEqual(
      where.rows.map((r) => r.s),
      ['test'],
    );
  } finally {
    await closePool();
  }
});

test("baseline --to 0002 on PostgreSQL 14 adopts a database made by the spec's plain script; init then finishes with nothing pending", { skip }, async () => {
  const url = await server.createDatabase('compat_spec');
  await server.query(SPEC_SCRIPT, [], 'compat_spec');
  const env = { DATABASE_URL: url, HOME: cwd, CI: 'true' };
  const b = await runCli(['baseline', '--to', '0002', '--yes'], { cwd, env });
  assert.equal(b.code, 0, b.stdout + b.stderr);
  assert.match(b.stdout, /recorded 2 migrations as applied \(0001_extensions, 0002_tables\)/);
  const i = await runCli(['init', '--yes'], { cwd, env });
  assert.equal(i.code, 0, i.stdout + i.stderr);
  assert.doesNotMatch(i.stdout, /0002_tables/, 'baselined migrations are not run');
  const st = await runCli(['status', '--json'], { cwd, env });
  const res = JSON.parse(st.stdout.trim().split('\n').at(-1)!) as { data: { pending: unknown[]; applied: Array<{ version: string }> } };
  assert.deepEqual(res.data.pending, []);
  assert.deepEqual(
    res.data.applied.map((a) => a.version),
    VERSIONS,
  );
  const v = await runCli(['verify'], { cwd, env });
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('on PostgreSQL 14 a role that is not a superuser but owns its database (as on a managed cloud database) runs init: the extensions are trusted', {
  skip,
}, async () => {
  await server.query(`CREATE ROLE app_owner LOGIN PASSWORD 'app-owner-pw'`, [], 'postgres');
  await server.query(`CREATE DATABASE compat_owned OWNER app_owner`, [], 'postgres');
  const url = server.urlFor('compat_owned', 'app_owner', 'app-owner-pw');
  const env = { DATABASE_URL: url, HOME: cwd, CI: 'true' };
  const i = await runCli(['init', '--env', 'development', '--yes'], { cwd, env });
  assert.equal(i.code, 0, i.stdout + i.stderr);
  const owner = await server.query<{ ext: string; owner: string }>(
    `SELECT e.extname AS ext, r.rolname AS owner FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner WHERE e.extname <> 'plpgsql' ORDER BY 1`,
    [],
    'compat_owned',
  );
  assert.deepEqual(
    owner.rows,
    ['citext', 'pgcrypto', 'uuid-ossp'].map((ext) => ({ ext, owner: 'app_owner' })),
  );
  const super_ = await server.query<{ s: boolean }>(`SELECT rolsuper AS s FROM pg_roles WHERE rolname = 'app_owner'`, [], 'postgres');
  assert.equal(super_.rows[0]!.s, false);
  const d = await runCli(['doctor', '--env', 'development', '--json'], { cwd, env });
  const checks = d.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> })
    .filter((l) => l.event === 'doctor_check');
  assert.deepEqual(
    checks.filter((c) => c.data.status === 'fail').map((c) => c.data.title),
    [],
    'doctor passes for the owner role on 14',
  );
});

test('on PostgreSQL 14 an edited applied file fails verify; repair --yes re-records it and verify passes again', { skip }, async () => {
  const url = await server.createDatabase('compat_repair');
  const mig = join(cwd, 'sql-copy');
  cpSync(sqlDir, mig, { recursive: true });
  const env = { DATABASE_URL: url, HOME: cwd, CI: 'true' };
  const args = ['--migrations-dir', mig];
  assert.equal((await runCli(['init', '--yes', ...args], { cwd, env })).code, 0);
  appendFileSync(join(mig, sqlFiles('up')[3]!), '\n-- a deliberate comment\n');
  const bad = await runCli(['verify', ...args], { cwd, env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr + bad.stdout, /VERIFY_DRIFT/);
  const rep = await runCli(['repair', '--yes', ...args], { cwd, env });
  assert.equal(rep.code, 0, rep.stdout + rep.stderr);
  assert.match(rep.stdout + rep.stderr, /1 checksum re-recorded/);
  const good = await runCli(['verify', ...args], { cwd, env });
  assert.equal(good.code, 0, good.stdout + good.stderr);
});

test('on PostgreSQL 14 `listen` prints a line per notification and stops cleanly on Ctrl-C (exit 0)', { skip }, async () => {
  const env = { PATH: process.env.PATH, HOME: cwd, CI: 'true', NO_COLOR: '1', DATABASE_URL: server.urlFor('compat_repair') };
  const child = spawn(process.execPath, [binPath, 'listen', '--env', 'development'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const seen = (re: RegExp, ms = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${re} in:\n${out}`)), ms);
      const check = () => {
        if (re.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', (d) => ((out += d), check()));
      child.stderr.on('data', (d) => ((out += d), check()));
      check();
    });
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    await seen(/Listening on .*chatgenius_channels/);
    const id = (await server.query<{ id: string }>(`INSERT INTO channels (name) VALUES ('from 14') RETURNING id`, [], 'compat_repair')).rows[0]!.id;
    await seen(new RegExp(`channels\\s+INSERT\\s+id=${id}`));
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await closed, 0, out);
  assert.ok(!out.includes(server.password));
});

test('on PostgreSQL 14 (no column lists) logical mode publishes whole rows, listen still prints the ids only, and a second switch changes nothing', {
  skip,
}, async () => {
  const url = server.urlFor('compat_repair');
  const env = { PATH: process.env.PATH, HOME: cwd, CI: 'true', NO_COLOR: '1', DATABASE_URL: url };
  const realtime = async (args: string[]) => {
    const r = await runCli(['realtime', ...args, '--json', '--env', 'development'], { env, cwd });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!).data as Record<string, unknown>;
  };
  assert.deepEqual([(await realtime(['use', 'logical'])).changed, (await realtime(['use', 'logical'])).changed], [true, false]);
  const child = spawn(process.execPath, [binPath, 'listen', 'channels', '--json', '--env', 'development'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const until = async (re: RegExp) => {
    const deadline = Date.now() + 15_000;
    while (!re.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, re);
  };
  try {
    await until(/"event":"listening".*"mode":"logical"/);
    const id = (
      await server.query<{ id: string }>(`INSERT INTO channels (name, description) VALUES ('whole rows', 'not for listeners') RETURNING id`, [], 'compat_repair')
    ).rows[0]!.id;
    await until(new RegExp(`"ids":\\{"id":"${id}"\\}`));
    assert.ok(!out.includes('not for listeners'), 'the decoded row has the description; the printed event does not');
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await closed, 0, out);
  assert.equal((await realtime(['use', 'notify'])).mode, 'notify');
});
