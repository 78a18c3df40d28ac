/**
 * Pinned search_path (0006): a role with no table privilege but CREATE on `public` plants
 * operators and functions that match the unqualified names inside our functions with an exact
 * type match. Before 0006 the app's next writes run them as the app role (the test proves its
 * trap works); after 0006 none of them runs, in schema public and in schema test, on
 * PostgreSQL 18 (CREATE granted) and on 14 (where PUBLIC may create in public by default).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
// Online files (CONCURRENTLY) run here as the engine runs them on a fresh database: plainly, in one transaction.
import { plainText } from '../src/migrate/files.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { pg14SkipReason, startPostgres14 } from './helpers/pg14.js';
import { sqlDir, sqlFiles } from './helpers/schema.js';

const servers: TestPostgres[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

const PLANTS = `
CREATE FUNCTION public.mal_note(what text) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  PERFORM set_config('mallory.ran', concat_ws(',', nullif(current_setting('mallory.ran', true), ''), concat(what, ' as ', current_user)), false);
END $$;
CREATE FUNCTION public.mal_mul(a double precision, b integer) RETURNS double precision LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.mal_note('*'); RETURN a * b::double precision; END $$;
CREATE OPERATOR public.* (LEFTARG = double precision, RIGHTARG = integer, FUNCTION = public.mal_mul);
CREATE FUNCTION public.mal_and(a bigint, b integer) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.mal_note('&'); RETURN int8and(a, b::bigint); END $$;
CREATE OPERATOR public.& (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = public.mal_and);
CREATE FUNCTION public.mal_cat(a name, b name) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.mal_note('||'); RETURN textcat(a::text, b::text); END $$;
CREATE OPERATOR public.|| (LEFTARG = name, RIGHTARG = name, FUNCTION = public.mal_cat);
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.mal_note('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.uuid_send(uuid) RETURNS bytea LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.mal_note('uuid_send()'); RETURN pg_catalog.uuid_send($1); END $$;
CREATE FUNCTION public.to_json(anyelement) RETURNS json LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM public.mal_note('to_json()'); RETURN pg_catalog.to_json($1); END $$;
`;

async function applyFiles(c: pg.Client, schema: string, files: string[]): Promise<void> {
  for (const f of files) {
    await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}"${schema === 'public' ? '' : ', public'}`);
    await c.query(`BEGIN; ${plainText(readFileSync(join(sqlDir, f), 'utf8'))}\n; COMMIT;`);
  }
}

/** The app's ordinary writes, as the app role with the app's search_path; returns what mallory's code recorded. */
async function appWrites(url: string, schema: string): Promise<string> {
  const app = new pg.Client({ connectionString: url });
  await app.connect();
  try {
    if (schema !== 'public') await app.query(`SET search_path TO "${schema}", public`);
    await app.query(`INSERT INTO users (auth0_id, email, username) VALUES ('a|' || random(), random() || '@x.io', 'ann')`);
    await app.query(`INSERT INTO channels (name) VALUES ('general')`);
    await app.query(`INSERT INTO channel_members (channel_id, user_id) SELECT c.id, u.id FROM channels c, users u ON CONFLICT DO NOTHING`);
    await app.query(`INSERT INTO messages (channel_id, user_id, content) SELECT c.id, u.id, 'secret' FROM channels c, users u LIMIT 1`);
    await app.query(`UPDATE messages SET content = 'edited'`);
    await app.query(`INSERT INTO message_reads (message_id, user_id) SELECT m.id, m.user_id FROM messages m ON CONFLICT DO NOTHING`);
    await app.query(`UPDATE users SET username = 'ann2'`);
    await app.query(`DELETE FROM message_reads`);
    return (await app.query<{ v: string | null }>(`SELECT current_setting('mallory.ran', true) AS v`)).rows[0]!.v ?? '';
  } finally {
    await app.end();
  }
}

async function hijackStory(server: TestPostgres, label: string, grantCreate: boolean): Promise<void> {
  const url = await server.createDatabase();
  const dbName = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const ups = sqlFiles('up');
    const before0006 = ups.filter((f) => f < '0006');
    const pin = ups.filter((f) => f.startsWith('0006'));
    assert.equal(pin.length, 1, 'sql/0006_*.up.sql exists');
    for (const schema of ['public', 'test']) await applyFiles(admin, schema, before0006);
    const suffix = label.replace(/\W/g, '');
    await admin.query(`CREATE ROLE app_${suffix} LOGIN PASSWORD 'app'; CREATE ROLE mallory_${suffix} LOGIN PASSWORD 'mal'`);
    for (const schema of ['public', 'test']) {
      await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO app_${suffix}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO app_${suffix}`);
    }
    await admin.query(`GRANT CONNECT ON DATABASE "${dbName}" TO app_${suffix}, mallory_${suffix}`);
    if (grantCreate) await admin.query(`GRANT CREATE ON SCHEMA public TO mallory_${suffix}`);

    // Mallory: no privilege on any table, only CREATE in public (PostgreSQL 14: everyone has it).
    const malUrl = server.urlFor(dbName, `mallory_${suffix}`, 'mal');
    const mal = new pg.Client({ connectionString: malUrl });
    await mal.connect();
    try {
      await assert.rejects(mal.query('SELECT content FROM public.messages'), /permission denied/);
      await mal.query(PLANTS);
    } finally {
      await mal.end();
    }

    const appUrl = server.urlFor(dbName, `app_${suffix}`, 'app');
    // The trap works: without 0006 the app's writes run mallory's operators with the app's rights.
    for (const schema of ['public', 'test']) {
      const ran = await appWrites(appUrl, schema);
      assert.match(ran, new RegExp(`as app_${suffix}`), `${label} ${schema}: without 0006, a planted operator runs as the app (${ran})`);
    }

    for (const schema of ['public', 'test']) await applyFiles(admin, schema, pin);
    for (const schema of ['public', 'test']) {
      const ran = await appWrites(appUrl, schema);
      assert.equal(ran, '', `${label} ${schema}: after 0006 nothing planted runs (ran: ${ran})`);
      // Every function of the schema that is not an extension's pins its search_path.
      const unpinned = await admin.query<{ f: string }>(
        `SELECT p.oid::regprocedure::text AS f FROM pg_proc p
          WHERE p.pronamespace = $1::regnamespace
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
            AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = $2)
            AND NOT ('search_path=pg_catalog, pg_temp' = ANY (coalesce(p.proconfig, '{}')))`,
        [schema, `mallory_${suffix}`],
      );
      assert.deepEqual(
        unpinned.rows.map((r) => r.f),
        [],
        `${label} ${schema}: every function pins search_path = pg_catalog, pg_temp`,
      );
    }
    // The down file un-pins (and the schema still works).
    for (const schema of ['test', 'public'])
      await applyFiles(
        admin,
        schema,
        sqlFiles('down').filter((f) => f.startsWith('0006')),
      );
    const pinned = await admin.query(`SELECT 1 FROM pg_proc WHERE proname = 'chatgenius_ulid' AND proconfig IS NOT NULL`);
    assert.equal(pinned.rowCount, 0, '0006 down resets the search_path of the functions');
  } finally {
    await admin.end();
  }
}

let pg18: TestPostgres;
before(async () => {
  pg18 = await startPostgres();
  servers.push(pg18);
});

test('PostgreSQL 18: a role with CREATE on public plants operators and functions; after 0006 none runs when the app writes', async () => {
  await hijackStory(pg18, 'pg18', true);
});

const skip14 = pg14SkipReason();
test('PostgreSQL 14: PUBLIC may create in public by default; after 0006 nothing planted runs when the app writes', { skip: skip14 }, async () => {
  const pg14 = await startPostgres14();
  servers.push(pg14);
  await hijackStory(pg14, 'pg14', false);
});
