/**
 * Round trips through a counting proxy (fresh apply <= login + 2, no-op <= login + 1, for 5 and
 * 50 migrations), rollback (--steps, --to, --all, a failing down file), verify, baseline, repair.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { startProxy, type CountingProxy } from './helpers/proxy.js';
import { migrationDirs, upSql } from './helpers/engine-fixtures.js';
import { baseline, migrate, repair, rollback, status, verify } from '../src/migrate/index.js';
import { ChatgeniusError } from '../src/errors.js';

let server: TestPostgres;
let client: pg.Client;
let proxy: CountingProxy;
const { gen, cleanup: cleanupDirs } = migrationDirs();
let n = 0;

before(async () => {
  server = await startPostgres();
  client = await server.client();
  proxy = await startProxy({ host: server.host, port: server.port });
});
after(async () => {
  cleanupDirs();
  await proxy.close();
  await server.stop();
});

const opts = (dir: string, schema = `s_${++n}`) => ({ schema, migrationsDir: dir, lockTimeoutMs: 5_000, statementTimeoutMs: 30_000 });

async function versions(schema: string): Promise<string[]> {
  return (await client.query(`SELECT version FROM "${schema}".chatgenius_migrations WHERE status = 'applied' ORDER BY version`)).rows.map((r) => r.version);
}
async function relations(schema: string): Promise<string[]> {
  const r = await client.query(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r','i','S','v') ORDER BY 1`,
    [schema],
  );
  return r.rows.map((x) => x.relname);
}

/** Connect through the proxy; returns the client and the login's round trips. */
async function proxied(): Promise<{ c: pg.Client; login: number }> {
  proxy.reset();
  const c = new pg.Client({ connectionString: proxy.url(server.url) });
  c.on('error', () => {});
  await c.connect();
  return { c, login: proxy.flights };
}

for (const count of [5, 50]) {
  test(`round trips: fresh apply of ${count} migrations <= login + 2, no-op and status <= login + 1, full rollback <= login + 2`, async () => {
    const m = gen(count);
    const o = opts(m.dir);
    {
      const { c, login } = await proxied();
      assert.ok(login >= 1);
      const r = await migrate(c, o);
      const trips = proxy.flights - login;
      await c.end();
      assert.equal(r.ok, true, JSON.stringify(r.failure));
      assert.equal(r.results.filter((x) => x.status === 'applied').length, count);
      assert.ok(trips <= 2, `fresh apply took login + ${trips}`);
    }
    {
      const { c, login } = await proxied();
      const r = await migrate(c, o);
      const trips = proxy.flights - login;
      await c.end();
      assert.equal(r.results.length, 0);
      assert.ok(trips <= 1, `no-op took login + ${trips}`);
    }
    {
      const { c, login } = await proxied();
      const st = await status(c, o);
      const trips = proxy.flights - login;
      await c.end();
      assert.equal(st.applied.length, count);
      assert.ok(trips <= 1, `status took login + ${trips}`);
    }
    assert.equal((await versions(o.schema)).length, count);
    assert.equal((await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).rows[0].n, 0, 'the no-op released the lock');
    {
      const { c, login } = await proxied();
      const r = await rollback(c, { ...o, all: true });
      const trips = proxy.flights - login;
      await c.end();
      assert.equal(r.ok, true);
      assert.equal(r.results.filter((x) => x.status === 'rolled-back').length, count);
      assert.ok(trips <= 2, `full rollback took login + ${trips}`);
    }
  });
}

test('rollback --steps N, --to VERSION and --all; --all leaves only the journal table', async () => {
  const m = gen(5);
  const o = opts(m.dir);
  assert.equal((await migrate(client, o)).ok, true);
  const one = await rollback(client, o);
  assert.deepEqual(
    one.results.map((r) => [r.version, r.status]),
    [['0005', 'rolled-back']],
    'default: one step',
  );
  const two = await rollback(client, { ...o, steps: 2 });
  assert.deepEqual(
    two.results.map((r) => r.version),
    ['0004', '0003'],
  );
  assert.deepEqual(await versions(o.schema), ['0001', '0002']);
  assert.equal((await migrate(client, o)).ok, true);
  const to = await rollback(client, { ...o, to: '0002' });
  assert.deepEqual(
    to.results.map((r) => r.version),
    ['0005', '0004', '0003'],
  );
  assert.deepEqual(await versions(o.schema), ['0001', '0002']);
  await assert.rejects(rollback(client, { ...o, to: '0004' }), { code: 'MIGRATION_UNKNOWN_VERSION' });
  const dry = await rollback(client, { ...o, all: true, dryRun: true });
  assert.deepEqual(
    dry.plan.steps.map((s) => s.version),
    ['0002', '0001'],
  );
  assert.match(dry.sql!, /DROP TABLE t_0002/);
  assert.deepEqual(await versions(o.schema), ['0001', '0002'], 'the dry run changed nothing');
  const all = await rollback(client, { ...o, all: true });
  assert.deepEqual(
    all.results.map((r) => r.version),
    ['0002', '0001'],
  );
  assert.deepEqual(await relations(o.schema), ['chatgenius_migrations', 'chatgenius_migrations_pkey']);
  assert.equal((await client.query(`SELECT count(*)::int AS n FROM "${o.schema}".chatgenius_migrations`)).rows[0].n, 0);
  const none = await rollback(client, o);
  assert.equal(none.ok, true);
  assert.equal(none.results.length, 0);
});

test('a failing down file stops the rollback there: newer ones rolled back and committed, the failing one still applied', async () => {
  const m = gen(4);
  m.write(2, 'DROP TABLE t_0002;\nDROP TABLE does_not_exist;\n', 'down');
  const o = opts(m.dir);
  assert.equal((await migrate(client, o)).ok, true);
  const r = await rollback(client, { ...o, all: true });
  assert.equal(r.ok, false);
  assert.equal(r.failure!.code, '42P01');
  assert.equal(r.failure!.file, '0002_step_2.down.sql');
  assert.equal(r.failure!.line, 2);
  assert.deepEqual(
    r.results.map((x) => [x.version, x.status]),
    [
      ['0004', 'rolled-back'],
      ['0003', 'rolled-back'],
      ['0002', 'failed'],
      ['0001', 'not-run'],
    ],
  );
  assert.deepEqual(await versions(o.schema), ['0001', '0002']);
  assert.ok((await relations(o.schema)).includes('t_0002'), '0002 is intact');
});

test('verify: clean after apply; a hand-made change to the live schema and a missing file are reported', async () => {
  const m = gen(3);
  const o = opts(m.dir);
  assert.equal((await migrate(client, o)).ok, true);
  const clean = await verify(client, o);
  assert.deepEqual(clean.problems, []);
  assert.equal(clean.ok, true);
  await client.query(`ALTER TABLE "${o.schema}".t_0002 ADD COLUMN extra integer`);
  const changed = await verify(client, o);
  assert.equal(changed.ok, false);
  assert.ok(
    changed.catalogDiff.some((d) => /t_0002/.test(d) && /extra/.test(d)),
    changed.catalogDiff.join('\n'),
  );
  const m2 = gen(2);
  const missing = await verify(client, { ...o, migrationsDir: m2.dir });
  assert.equal(missing.ok, false);
  assert.deepEqual(
    missing.missing.map((r) => r.version),
    ['0003'],
  );
  // verify is read-only: nothing left behind in the database
  const scratch = await client.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'chatgenius_scratch_%'`);
  assert.equal(scratch.rows[0].n, 0);
});

test('baseline adopts a database whose tables already exist, and refuses one that differs', async () => {
  const m = gen(5);
  const o = opts(m.dir);
  await client.query(`CREATE SCHEMA "${o.schema}"; SET search_path TO "${o.schema}"; ${upSql(1)}; ${upSql(2)}; ${upSql(3)}; RESET search_path`);
  const dry = await baseline(client, { ...o, to: '0003', dryRun: true });
  assert.equal(dry.ok, true);
  assert.equal((await client.query(`SELECT to_regclass('"${o.schema}".chatgenius_migrations') AS r`)).rows[0].r, null, 'dry run recorded nothing');
  const b = await baseline(client, { ...o, to: '0003' });
  assert.equal(b.ok, true, b.differences.join('\n'));
  assert.deepEqual(
    b.recorded.map((r) => r.version),
    ['0001', '0002', '0003'],
  );
  const r = await migrate(client, o);
  assert.deepEqual(
    r.results.map((x) => x.version),
    ['0004', '0005'],
  );
  await assert.rejects(baseline(client, { ...o, to: '0003' }), { code: 'BASELINE_NOT_EMPTY' });

  const o2 = opts(m.dir);
  await client.query(`CREATE SCHEMA "${o2.schema}"; CREATE TABLE "${o2.schema}".t_0001 (id integer PRIMARY KEY)`);
  const bad = await baseline(client, { ...o2, to: '0002' });
  assert.equal(bad.ok, false);
  assert.ok(
    bad.differences.some((d) => /label/.test(d)),
    bad.differences.join('\n'),
  );
  assert.ok(
    bad.differences.some((d) => /t_0002/.test(d)),
    bad.differences.join('\n'),
  );
  assert.equal((await client.query(`SELECT to_regclass('"${o2.schema}".chatgenius_migrations') AS r`)).rows[0].r, null);
});

test('repair shows the applied text and the new one, re-records the checksum, and clears a failed-run record', async () => {
  const m = gen(3, { append: { 3: 'SELECT 1/0;\n' } });
  const o = opts(m.dir);
  const first = await migrate(client, o);
  assert.equal(first.ok, false);
  const original = m.read(2);
  m.write(2, `${original}-- a comment added after it ran\n`);
  await assert.rejects(migrate(client, o), (e: unknown) => e instanceof ChatgeniusError && e.code === 'MIGRATION_DRIFT');
  const dry = await repair(client, { ...o, dryRun: true });
  assert.equal(dry.repaired.length, 1);
  assert.equal(dry.repaired[0]!.file, '0002_step_2.up.sql');
  assert.equal(dry.repaired[0]!.oldSql, original);
  assert.match(dry.repaired[0]!.newSql, /a comment added after it ran/);
  assert.deepEqual(dry.clearedFailures, [{ version: '0003', name: 'step_3' }]);
  assert.equal((await status(client, o)).drift.length, 1, 'the dry run changed nothing');
  const done = await repair(client, o);
  assert.equal(done.ok, true);
  const st = await status(client, o);
  assert.equal(st.drift.length, 0);
  assert.equal(st.lastFailure, null);
  m.write(3, upSql(3));
  const r = await migrate(client, o);
  assert.equal(r.ok, true);
  assert.deepEqual(await versions(o.schema), ['0001', '0002', '0003']);
});
