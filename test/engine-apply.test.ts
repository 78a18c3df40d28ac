/**
 * The engine applying migrations on a real PostgreSQL: fresh apply, re-run, failures reported at
 * file:line:column, drift, dry run and status changing nothing, files that cannot run in a
 * transaction, and the project's own sql/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { migrationDirs, upSql } from './helpers/engine-fixtures.js';
import { sqlDir } from './helpers/schema.js';
import { migrate, status, verify, readMigrations } from '../src/migrate/index.js';
import { snapshotCatalog } from '../src/migrate/catalog.js';
import type { ChatgeniusEvent } from '../src/events.js';
import { ChatgeniusError } from '../src/errors.js';

let server: TestPostgres;
let client: pg.Client;
const { gen, cleanup: cleanupDirs } = migrationDirs();
let schemaCounter = 0;

before(async () => {
  server = await startPostgres();
  client = await server.client();
});
after(async () => {
  cleanupDirs();
  await server.stop();
});

function engine(dir: string, schema = `app_${++schemaCounter}`, events: ChatgeniusEvent[] = []) {
  return { schema, migrationsDir: dir, lockTimeoutMs: 5_000, statementTimeoutMs: 30_000, toolVersion: '9.9.9-test', emit: (e: ChatgeniusEvent) => events.push(e) };
}

async function journal(schema: string) {
  const r = await client.query(
    `SELECT version, name, checksum, status, applied_at, duration_ms, db_user, os_user, client_host, tool_version, error_code, error_statement, error_line FROM "${schema}".chatgenius_migrations ORDER BY version`,
  );
  return r.rows;
}

async function tablesOf(schema: string): Promise<string[]> {
  const r = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`,
    [schema],
  );
  return r.rows.map((x) => x.relname);
}

async function schemaExists(schema: string): Promise<boolean> {
  return (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
}

test('init on an empty database applies every migration, each with its journal row', async () => {
  const m = gen(5);
  const events: ChatgeniusEvent[] = [];
  const opts = engine(m.dir, undefined, events);
  const r = await migrate(client, opts);
  assert.equal(r.ok, true, JSON.stringify(r.failure));
  assert.deepEqual(
    r.results.map((x) => x.status),
    ['applied', 'applied', 'applied', 'applied', 'applied'],
  );
  assert.deepEqual(await tablesOf(opts.schema), ['chatgenius_migrations', 't_0001', 't_0002', 't_0003', 't_0004', 't_0005']);
  const rows = await journal(opts.schema);
  assert.deepEqual(
    rows.map((x) => x.version),
    ['0001', '0002', '0003', '0004', '0005'],
  );
  const files = await readMigrations(m.dir);
  for (const [i, row] of rows.entries()) {
    assert.equal(row.status, 'applied');
    assert.equal(row.checksum, files[i]!.checksum);
    assert.match(row.checksum, /^[0-9a-f]{64}$/);
    assert.equal(row.db_user, 'postgres');
    assert.equal(row.tool_version, '9.9.9-test');
    assert.ok(row.os_user && row.client_host, 'OS user and host recorded');
    assert.ok(Number.isInteger(row.duration_ms) && row.duration_ms >= 0);
  }
  // the row with a semicolon inside a string literal went in intact
  assert.equal((await client.query(`SELECT label FROM "${opts.schema}".t_0003`)).rows[0].label, 'row 3; with a semicolon');
  const starts = events.filter((e) => e.type === 'migration:start').map((e) => (e as { version: string }).version);
  const dones = events.filter((e) => e.type === 'migration:done').map((e) => (e as { version: string }).version);
  assert.deepEqual(starts, ['0001', '0002', '0003', '0004', '0005']);
  assert.deepEqual(dones, ['0001', '0002', '0003', '0004', '0005']);
});

test('each migration of one batch has its own start time and duration: a slow 3rd does not add to the others', async () => {
  // The 3rd sleeps 1.5 s: the others must not absorb it. Bounds are generous (a shared 2-core
  // machine can be slow); the durations themselves are measured by bench/, not asserted here.
  const m = gen(5, { append: { 3: 'SELECT pg_sleep(1.5);\n' } });
  const events: ChatgeniusEvent[] = [];
  const opts = engine(m.dir, undefined, events);
  const r = await migrate(client, opts);
  assert.equal(r.ok, true, JSON.stringify(r.failure));
  const rows = await journal(opts.schema);
  assert.equal(rows.length, 5);
  // applied_at strictly increasing (clock time at each migration's start, not the batch's now()), in microseconds
  const at = await client.query(`SELECT version, extract(epoch from applied_at)::float8 AS t FROM "${opts.schema}".chatgenius_migrations ORDER BY version`);
  for (let i = 1; i < at.rows.length; i++) assert.ok(at.rows[i].t > at.rows[i - 1].t, `applied_at of ${at.rows[i].version} after ${at.rows[i - 1].version}`);
  // the 4th started after the 3rd's sleep
  assert.ok(at.rows[3].t - at.rows[2].t >= 1.5, `0004 started ${at.rows[3].t - at.rows[2].t}s after 0003`);
  const journalMs = rows.map((x) => x.duration_ms as number);
  const done = events.filter((e): e is Extract<ChatgeniusEvent, { type: 'migration:done' }> => e.type === 'migration:done').map((e) => e.durationMs);
  for (const ms of [journalMs, done]) {
    assert.equal(ms.length, 5);
    assert.ok(ms[2]! >= 1500, `the sleeping 3rd took ${ms[2]} ms`);
    for (const i of [0, 1, 3, 4]) assert.ok(ms[i]! < 1000, `migration ${i + 1} took ${ms[i]} ms: part of the 3rd's sleep? (durations ${ms.join(', ')})`);
  }
});

test('re-running on an up-to-date database changes nothing (journal and catalog unchanged) and holds no lock', async () => {
  const m = gen(4);
  const opts = engine(m.dir);
  assert.equal((await migrate(client, opts)).ok, true);
  const before1 = await journal(opts.schema);
  const cat1 = await snapshotCatalog(client, opts.schema);
  const xmin1 = (await client.query(`SELECT string_agg(xmin::text, ',' ORDER BY version) AS x FROM "${opts.schema}".chatgenius_migrations`)).rows[0].x;
  const again = await migrate(client, opts);
  assert.equal(again.ok, true);
  assert.equal(again.results.length, 0);
  assert.equal(again.plan.pending.length, 0);
  assert.deepEqual(await journal(opts.schema), before1);
  assert.deepEqual(await snapshotCatalog(client, opts.schema), cat1);
  const xmin2 = (await client.query(`SELECT string_agg(xmin::text, ',' ORDER BY version) AS x FROM "${opts.schema}".chatgenius_migrations`)).rows[0].x;
  assert.equal(xmin2, xmin1, 'no journal row was rewritten');
  const locks = await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
  assert.equal(locks.rows[0].n, 0);
});

test('a syntax error in a migration: nothing applied, no retry, reported as file:line:column with a caret', async () => {
  const bad = `${upSql(3)}\nCREATE TABLE oops (\n  id integer PRIMARY KEY,\n  name text NOT NULL,,\n);\n`;
  const m = gen(5, { override: { 3: bad } });
  const events: ChatgeniusEvent[] = [];
  const opts = engine(m.dir, undefined, events);
  const r = await migrate(client, opts);
  assert.equal(r.ok, false);
  const f = r.failure!;
  assert.equal(f.phase, 'syntax');
  assert.equal(f.code, '42601');
  assert.equal(f.file, '0003_step_3.up.sql');
  assert.equal(f.line, 11);
  assert.equal(f.column, 22);
  assert.match(f.frame!, /> 11 \|   name text NOT NULL,,\n\s+\|\s{22}\^/);
  assert.deepEqual(
    r.results.map((x) => x.status),
    ['not-run', 'not-run', 'failed', 'not-run', 'not-run'],
  );
  // nothing applied: no migration's table exists, and the journal says exactly what broke
  assert.deepEqual(await tablesOf(opts.schema), ['chatgenius_migrations']);
  const rows = await journal(opts.schema);
  assert.deepEqual(
    rows.map((x) => [x.version, x.status, x.error_code, x.error_line]),
    [['0003', 'failed', '42601', 11]],
  );
  assert.equal(events.filter((e) => e.type === 'migration:start').length, 0, 'the batch was rejected before anything ran');
});

test('a run-time error in the 3rd of 5: first two committed, a failed row with SQLSTATE 22012 and the statement; the fixed file then finishes', async () => {
  const m = gen(5, { append: { 3: `\nUPDATE t_0003\n   SET label = (1/0)::text\n WHERE id = 3;\n` } });
  const events: ChatgeniusEvent[] = [];
  const opts = engine(m.dir, undefined, events);
  const r = await migrate(client, opts);
  assert.equal(r.ok, false);
  const f = r.failure!;
  assert.equal(f.phase, 'runtime');
  assert.equal(f.code, '22012');
  assert.equal(f.file, '0003_step_3.up.sql');
  // The server gives no position for a run-time error: the caret goes to the operator that raised it.
  assert.equal(f.line, 10);
  assert.equal(f.column, '   SET label = (1/0)::text'.indexOf('/') + 1);
  assert.match(f.statement!, /^UPDATE t_0003\n\s+SET label = \(1\/0\)::text\n\s+WHERE id = 3$/);
  assert.match(f.frame!, /> +10 \| {4}SET label = \(1\/0\)::text\n\s+\| {18}\^/);
  assert.deepEqual(
    r.results.map((x) => x.status),
    ['applied', 'applied', 'failed', 'not-run', 'not-run'],
  );
  assert.deepEqual(await tablesOf(opts.schema), ['chatgenius_migrations', 't_0001', 't_0002']);
  const rows = await journal(opts.schema);
  assert.deepEqual(
    rows.map((x) => [x.version, x.status]),
    [
      ['0001', 'applied'],
      ['0002', 'applied'],
      ['0003', 'failed'],
    ],
  );
  assert.equal(rows[2].error_code, '22012');
  assert.match(rows[2].error_statement, /SET label = \(1\/0\)::text/);
  const failedEvent = events.find((e) => e.type === 'migration:failed');
  assert.ok(failedEvent && failedEvent.type === 'migration:failed' && failedEvent.code === '22012');
  // the session is usable and holds no lock
  assert.equal((await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).rows[0].n, 0);
  // the next run says what broke last time, retries it, and finishes
  m.write(3, upSql(3));
  const st = await status(client, opts);
  assert.equal(st.lastFailure?.version, '0003');
  assert.equal(st.lastFailure?.errorCode, '22012');
  const again = await migrate(client, opts);
  assert.equal(again.ok, true, JSON.stringify(again.failure));
  assert.match(again.warnings.join('\n'), /previous run failed at 0003_step_3 \(22012\)/);
  assert.deepEqual(
    again.results.map((x) => x.status),
    ['applied', 'applied', 'applied'],
  );
  const rows2 = await journal(opts.schema);
  assert.deepEqual(
    rows2.map((x) => [x.version, x.status, x.error_code]),
    [
      ['0001', 'applied', null],
      ['0002', 'applied', null],
      ['0003', 'applied', null],
      ['0004', 'applied', null],
      ['0005', 'applied', null],
    ],
  );
});

test('an error found while running (unknown column) is located through the batch offset map', async () => {
  const m = gen(3, { append: { 2: `INSERT INTO t_0002 (id, nope) VALUES (99, 'x');\n` } });
  const opts = engine(m.dir);
  const r = await migrate(client, opts);
  assert.equal(r.ok, false);
  assert.equal(r.failure!.code, '42703');
  assert.equal(r.failure!.file, '0002_step_2.up.sql');
  assert.equal(r.failure!.line, 8);
  assert.equal(r.failure!.column, 25);
  assert.deepEqual(
    r.results.map((x) => x.status),
    ['applied', 'failed', 'not-run'],
  );
});

test('drift: a changed applied file is refused, naming the file, and nothing runs', async () => {
  const m = gen(3);
  const opts = engine(m.dir);
  assert.equal((await migrate(client, opts)).ok, true);
  m.write(2, upSql(2) + '-- edited after it ran\n');
  m.write(4, upSql(4));
  m.write(4, 'DROP TABLE t_0004;\n', 'down');
  await assert.rejects(migrate(client, opts), (err: unknown) => {
    assert.ok(err instanceof ChatgeniusError);
    assert.equal(err.code, 'MIGRATION_DRIFT');
    assert.match(err.message, /0002_step_2\.up\.sql/);
    assert.deepEqual(err.details.files, ['0002_step_2.up.sql']);
    return true;
  });
  assert.deepEqual(await tablesOf(opts.schema), ['chatgenius_migrations', 't_0001', 't_0002', 't_0003'], '0004 was not applied');
  assert.equal((await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).rows[0].n, 0);
  const v = await verify(client, opts);
  assert.equal(v.ok, false);
  assert.deepEqual(
    v.drift.map((d) => d.file),
    ['0002_step_2.up.sql'],
  );
});

test('dry run and status change nothing: no schema, no journal, no lock left', async () => {
  const m = gen(3);
  const opts = engine(m.dir);
  const st = await status(client, opts);
  assert.equal(st.journalExists, false);
  assert.deepEqual(
    st.pending.map((p) => p.version),
    ['0001', '0002', '0003'],
  );
  const dry = await migrate(client, { ...opts, dryRun: true });
  assert.equal(dry.ok, true);
  assert.equal(dry.dryRun, true);
  assert.deepEqual(
    dry.plan.pending.map((p) => p.version),
    ['0001', '0002', '0003'],
  );
  assert.match(dry.sql!, /CREATE TABLE t_0002/);
  assert.match(dry.sql!, /INSERT INTO "app_\d+"\."chatgenius_migrations"/);
  assert.equal(await schemaExists(opts.schema), false);
  // after a real run, a dry run of a newer file changes nothing either
  assert.equal((await migrate(client, opts)).ok, true);
  const j1 = await journal(opts.schema);
  const m4 = gen(4);
  const dry2 = await migrate(client, { ...opts, migrationsDir: m4.dir, dryRun: true });
  assert.deepEqual(
    dry2.plan.pending.map((p) => p.version),
    ['0004'],
  );
  assert.deepEqual(await journal(opts.schema), j1);
  assert.deepEqual(await tablesOf(opts.schema), ['chatgenius_migrations', 't_0001', 't_0002', 't_0003']);
  const st2 = await status(client, { ...opts, migrationsDir: m4.dir });
  assert.deepEqual(
    st2.applied.map((a) => a.version),
    ['0001', '0002', '0003'],
  );
  assert.deepEqual(
    st2.pending.map((p) => p.version),
    ['0004'],
  );
  assert.equal((await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).rows[0].n, 0);
});

test('a file of CREATE INDEX CONCURRENTLY runs outside a transaction, between batched files, on a database that was already in use', async () => {
  const m = gen(4, {
    override: { 3: `CREATE INDEX CONCURRENTLY IF NOT EXISTS t_0002_conc ON t_0002 (label);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_0001_conc ON t_0001 (label);\n` },
  });
  m.write(3, 'DROP INDEX CONCURRENTLY IF EXISTS t_0002_conc;\nDROP INDEX CONCURRENTLY IF EXISTS t_0001_conc;\n', 'down');
  const events: ChatgeniusEvent[] = [];
  const opts = engine(m.dir, undefined, events);
  // In use: 0001 applied by an earlier run (its table may hold rows).
  const first = gen(1);
  assert.equal((await migrate(client, { ...opts, migrationsDir: first.dir })).ok, true);
  events.length = 0;
  const r = await migrate(client, opts);
  assert.equal(r.ok, true, JSON.stringify(r.failure));
  const plan = events.find((e) => e.type === 'plan');
  assert.ok(plan && plan.type === 'plan');
  assert.deepEqual(
    plan.steps.map((s) => s.transactional),
    [true, false, true],
  );
  const idx = await client.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE '%conc' ORDER BY 1`, [opts.schema]);
  assert.deepEqual(
    idx.rows.map((x) => x.indexname),
    ['t_0001_conc', 't_0002_conc'],
  );
  assert.deepEqual(
    (await journal(opts.schema)).map((x) => x.version),
    ['0001', '0002', '0003', '0004'],
  );

  // A fresh database (nothing applied: the run creates every table itself): the same file runs
  // plainly inside the one batch.
  const fresh: ChatgeniusEvent[] = [];
  const opts2 = engine(m.dir, undefined, fresh);
  assert.equal((await migrate(client, opts2)).ok, true);
  const plan2 = fresh.find((e) => e.type === 'plan');
  assert.ok(plan2 && plan2.type === 'plan');
  assert.deepEqual(
    plan2.steps.map((s) => s.transactional),
    [true, true, true, true],
  );
  const idx2 = await client.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE '%conc' ORDER BY 1`, [opts2.schema]);
  assert.deepEqual(
    idx2.rows.map((x) => x.indexname),
    ['t_0001_conc', 't_0002_conc'],
  );
});

test('a migration that waits for a lock the app holds retries in lockTimeoutMs slices and gives up (55P03) when the lock budget is spent, at a migration boundary', async () => {
  const m = gen(1);
  const opts = engine(m.dir);
  assert.equal((await migrate(client, opts)).ok, true);
  // 0002 needs an ACCESS EXCLUSIVE lock on t_0001; the "app" holds a conflicting lock and does not let go.
  m.write(2, `ALTER TABLE t_0001 ADD COLUMN extra int;\n`);
  m.write(2, `ALTER TABLE t_0001 DROP COLUMN extra;\n`, 'down');
  const app = await server.client();
  try {
    await app.query(`BEGIN; LOCK TABLE "${opts.schema}".t_0001 IN ROW EXCLUSIVE MODE`);
    const t0 = Date.now();
    const r = await migrate(client, { ...opts, lockTimeoutMs: 300, lockWaitTimeoutMs: 2_000, statementTimeoutMs: 20_000 });
    const ms = Date.now() - t0;
    assert.equal(r.ok, false);
    assert.equal(r.failure?.code, '55P03', JSON.stringify(r.failure));
    assert.ok(ms >= 600, `retried within the budget before giving up (${ms} ms)`);
    assert.ok(ms < 15_000, `gave up after ${ms} ms (2 s budget), not at the 20 s statement timeout`);
    assert.deepEqual(
      (await journal(opts.schema)).filter((x) => x.status === 'applied').map((x) => x.version),
      ['0001'],
    );
  } finally {
    await app.query('ROLLBACK').catch(() => {});
    await app.end();
  }
});

test('a file with its own BEGIN/COMMIT is refused with an explanation, before anything runs', async () => {
  const m = gen(2, { override: { 2: `BEGIN;\nCREATE TABLE t_0002 (id int);\nCOMMIT;\n` } });
  const opts = engine(m.dir);
  await assert.rejects(migrate(client, opts), (err: unknown) => {
    assert.ok(err instanceof ChatgeniusError);
    assert.equal(err.code, 'MIGRATION_BAD_FILE');
    assert.match(err.message, /0002_step_2\.up\.sql:1:1 contains its own BEGIN/);
    return true;
  });
  assert.equal(await schemaExists(opts.schema), false);
});

test('notices raised by a migration become notice events', async () => {
  const m = gen(2, { append: { 2: `DO $$ BEGIN RAISE NOTICE 'hello from 2'; RAISE WARNING 'careful'; END $$;\n` } });
  const events: ChatgeniusEvent[] = [];
  const r = await migrate(client, engine(m.dir, undefined, events));
  assert.equal(r.ok, true);
  const notices = events.filter((e) => e.type === 'notice').map((e) => e.type === 'notice' && [e.level, e.message]);
  assert.deepEqual(notices, [
    ['info', 'hello from 2'],
    ['warn', 'careful'],
  ]);
});

test('a schema name that is not a plain identifier is refused', async () => {
  const m = gen(1);
  await assert.rejects(migrate(client, { ...engine(m.dir), schema: 'x"; DROP TABLE y; --' }), { code: 'MIGRATION_BAD_SCHEMA' });
});

test("the project's sql/ applies into schema test, verifies clean, and a second run is a no-op", async () => {
  assert.ok(readdirSync(sqlDir).filter((f) => f.endsWith('.up.sql')).length >= 5, `sql/ holds the project's migrations: ${sqlDir}`);
  const opts = engine(sqlDir, 'test');
  const r = await migrate(client, opts);
  assert.equal(r.ok, true, JSON.stringify(r.failure));
  assert.ok(r.results.length >= 5);
  assert.ok((await tablesOf('test')).includes('messages'));
  const v = await verify(client, opts);
  assert.deepEqual(v.problems, []);
  assert.equal(v.ok, true);
  const again = await migrate(client, opts);
  assert.equal(again.results.length, 0);
});
