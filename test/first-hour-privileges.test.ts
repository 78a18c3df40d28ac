/**
 * A role with less than ownership, as managed databases hand out: CREATE on its schema and
 * nothing on the database. It applies the whole schema when the extensions already exist (it
 * could not create them), and when a privilege is missing the message names the one that is,
 * not one the role already has. Real roles on a real PostgreSQL; drives the built binary.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';

const PW = 'app-pw-7';
let pg: TestPostgres;
let cwd: string;

before(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'cgdb-privs-'));
  pg = await startPostgres();
  await pg.query(`CREATE ROLE app_schema_only LOGIN PASSWORD '${PW}'`);
  await pg.query(`CREATE ROLE app_no_create LOGIN PASSWORD '${PW}'`);
});

after(async () => {
  await pg?.stop();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

/** A database owned by postgres where PUBLIC may not create anything, with the extensions made by the owner. */
async function managedDatabase(withExtensions: boolean): Promise<string> {
  const name = new URL(await pg.createDatabase()).pathname.slice(1);
  await pg.query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`, [], 'postgres');
  await pg.query(`GRANT CONNECT ON DATABASE ${name} TO app_schema_only, app_no_create`, [], 'postgres');
  await pg.query('REVOKE ALL ON SCHEMA public FROM PUBLIC', [], name);
  await pg.query('GRANT USAGE, CREATE ON SCHEMA public TO app_schema_only', [], name);
  await pg.query('GRANT USAGE ON SCHEMA public TO app_no_create', [], name);
  if (withExtensions) {
    for (const e of ['citext', 'pgcrypto', 'uuid-ossp']) await pg.query(`CREATE EXTENSION IF NOT EXISTS "${e}" SCHEMA public`, [], name);
  }
  return name;
}

test('CREATE on its schema and nothing on the database: init applies everything, status and verify agree, a re-run is a no-op', async () => {
  const db = await managedDatabase(true);
  const url = pg.urlFor(db, 'app_schema_only', PW);
  const init = await runCli(['init', '--env', 'development', '--yes', '--database-url', url], { cwd });
  assert.equal(init.code, 0, init.stdout + init.stderr);
  const tables = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'app_schema_only'`, [], db);
  assert.ok(Number(tables.rows[0]!.n) >= 10, 'the role owns the tables it made');
  const again = await runCli(['init', '--env', 'development', '--yes', '--database-url', url], { cwd });
  assert.equal(again.code, 0, again.stderr);
  const verify = await runCli(['verify', '--env', 'development', '--database-url', url], { cwd });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const priv = await pg.query<{ c: boolean }>(`SELECT has_database_privilege('app_schema_only', '${db}', 'CREATE') AS c`, [], db);
  assert.equal(priv.rows[0]!.c, false, 'the role never needed CREATE on the database');
});

test('no CREATE on the schema: the message names that privilege and blames no migration file', async () => {
  const db = await managedDatabase(true);
  const r = await runCli(['init', '--env', 'development', '--yes', '--database-url', pg.urlFor(db, 'app_no_create', PW)], { cwd });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /CREATE on schema public/i);
  assert.match(r.stderr, /GRANT USAGE, CREATE ON SCHEMA public TO app_no_create/);
  assert.doesNotMatch(r.stderr, /GRANT CREATE ON DATABASE/);
});

test('an extension the role may not create and that is missing: the message names the extension and who can create it', async () => {
  const db = await managedDatabase(false);
  const r = await runCli(['init', '--env', 'development', '--yes', '--database-url', pg.urlFor(db, 'app_schema_only', PW)], { cwd });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /extension/i);
  assert.match(r.stderr, /CREATE EXTENSION IF NOT EXISTS "?citext"?/);
  assert.doesNotMatch(r.stderr, /GRANT USAGE, CREATE ON SCHEMA/);
});
