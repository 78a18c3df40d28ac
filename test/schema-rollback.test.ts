/**
 * Every down returns the database exactly to the state before its up (catalog snapshots), in
 * public and in the test schema; what happens to the extensions on a full rollback; and a
 * database made by the spec's plain script is the state after 0002 (baseline can adopt it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { applySqlFiles, sqlFiles } from './helpers/schema.js';
import { SPEC_SCRIPT, applyFile, applyUpRange } from './helpers/catalog.js';
import { BOOKKEEPING_TABLES, snapshotCatalog, snapshotTables, type CatalogSnapshot } from '../src/migrate/catalog.js';
import { diffCatalog } from '../src/migrate/catalog-diff.js';

let server: TestPostgres;
const clients: pg.Client[] = [];

before(async () => {
  server = await startPostgres();
});
after(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
  await server?.stop();
});

/** A fresh database and a client on it that records the NOTICEs about extensions. */
async function freshDb(): Promise<{ c: pg.Client; notices: string[] }> {
  const c = new pg.Client({ connectionString: await server.createDatabase() });
  await c.connect();
  clients.push(c);
  const notices: string[] = [];
  c.on('notice', (n) => {
    if (/^extension /.test(n.message ?? '')) notices.push(n.message!);
  });
  return { c, notices };
}
async function extensions(c: pg.Client): Promise<string[]> {
  return (await c.query<{ extname: string }>(`SELECT extname FROM pg_extension ORDER BY 1`)).rows.map((r) => r.extname);
}
const OURS = ['citext', 'pgcrypto', 'plpgsql', 'uuid-ossp'];

/** Up one file at a time, then down one at a time, checking each down against the snapshot before its up. */
async function roundTrip(c: pg.Client, schema: string): Promise<CatalogSnapshot> {
  const ups = sqlFiles('up');
  const downs = sqlFiles('down').reverse();
  assert.deepEqual(
    ups.map((f) => f.replace('.up.sql', '')),
    downs.map((f) => f.replace('.down.sql', '')),
    'every up has its down',
  );
  const snaps = [await snapshotCatalog(c, schema)];
  for (const f of ups) {
    await applyFile(c, schema, f);
    snaps.push(await snapshotCatalog(c, schema));
  }
  const full = snaps[snaps.length - 1]!;
  for (let i = downs.length - 1; i >= 0; i--) {
    await applyFile(c, schema, downs[i]!);
    const now = await snapshotCatalog(c, schema);
    assert.deepEqual(diffCatalog(snaps[i]!, now), [], `${downs[i]} returns to the state before ${ups[i]}`);
    assert.deepEqual(now, snaps[i], `${downs[i]}: identical snapshot`);
  }
  await applySqlFiles(c, schema, 'up');
  assert.deepEqual(await snapshotCatalog(c, schema), full, 'up again gives the same catalog');
  return full;
}

let publicCatalog: CatalogSnapshot | undefined;

test('up all, down all, up all in public: each down undoes its up exactly, the catalog comes back identical', async () => {
  const { c, notices } = await freshDb();
  const before = await snapshotCatalog(c, 'public');
  publicCatalog = await roundTrip(c, 'public');
  assert.equal(publicCatalog.tables.length, 12);
  assert.deepEqual(
    publicCatalog.functions.map((f) => f.signature),
    ['chatgenius_advance_read_cursor()', 'chatgenius_notify()', 'chatgenius_set_updated_at()', 'chatgenius_ulid()'],
  );
  assert.deepEqual(await extensions(c), OURS);
  await applySqlFiles(c, 'public', 'down');
  const after = await snapshotCatalog(c, 'public');
  assert.deepEqual(after, before, 'down all leaves nothing of ours');
  assert.deepEqual(after.tables, []);
  assert.deepEqual(after.functions, []);
  assert.deepEqual(await extensions(c), ['plpgsql'], 'the extensions 0001 created are gone');
  assert.deepEqual(notices, []);
});

test("the same round trip in schema test, where the extensions in public stay usable and the catalog equals public's", async () => {
  const { c } = await freshDb();
  const full = await roundTrip(c, 'test');
  assert.ok(publicCatalog, 'the public round trip ran first');
  assert.deepEqual(diffCatalog(publicCatalog!, full), [], 'same catalog in test as in public');
  assert.deepEqual((await c.query(`SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' GROUP BY 1`)).rows, [
    { nspname: 'public' },
  ]);
  // The spec's own setup sets only `search_path TO test`: the ULID default still works.
  await c.query('SET search_path TO test');
  const u = await c.query(`INSERT INTO users (auth0_id, email, username) VALUES ('a', 'a@x', 'a') RETURNING id`);
  assert.match(u.rows[0].id, /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
  assert.deepEqual((await snapshotCatalog(c, 'public')).tables, [], 'nothing in public');
  // Defaults and triggers do not depend on the caller's search_path, even an empty one.
  await c.query(`SET search_path TO ''`);
  const ch = (await c.query(`INSERT INTO test.channels (name) VALUES ('general') RETURNING id`)).rows[0].id;
  const m = (await c.query(`INSERT INTO test.messages (channel_id, user_id, content) VALUES ($1, $2, 'hi') RETURNING id`, [ch, u.rows[0].id])).rows[0].id;
  await c.query(`INSERT INTO test.message_reads (message_id, user_id) VALUES ($1, $2)`, [m, u.rows[0].id]);
  await c.query(`UPDATE test.messages SET content = 'edited', deleted_at = now() WHERE id = $1`, [m]);
  const cursor = await c.query(`SELECT last_read_message_id FROM test.channel_read_cursors`);
  assert.deepEqual(cursor.rows, [{ last_read_message_id: m }]);
  const edited = await c.query(`SELECT updated_at > created_at AS moved FROM test.messages WHERE id = $1`, [m]);
  assert.deepEqual(edited.rows, [{ moved: true }]);
  // With the test schema's search_path, the extensions live in public and are usable.
  await c.query('SET search_path TO test, public');
  const r = await c.query(`SELECT 'Ab'::citext = 'aB'::citext AS ci, length(gen_random_bytes(8)) AS n, uuid_generate_v4() IS NOT NULL AS u`);
  assert.deepEqual(r.rows, [{ ci: true, n: 8, u: true }]);
  await c.query('DELETE FROM messages; DELETE FROM channels; DELETE FROM users');
  await applySqlFiles(c, 'test', 'down');
  const left = await snapshotCatalog(c, 'test');
  assert.deepEqual([left.tables, left.functions, left.views, left.sequences, left.types], [[], [], [], [], []]);
  assert.deepEqual(await extensions(c), ['plpgsql']);
});

test('extensions that existed before are kept by a full rollback', async () => {
  const { c, notices } = await freshDb();
  await c.query('CREATE EXTENSION citext');
  await applySqlFiles(c, 'public', 'up');
  assert.deepEqual(
    (await c.query('SELECT name FROM chatgenius_extensions ORDER BY 1')).rows.map((r) => r.name),
    ['pgcrypto', 'uuid-ossp'],
  );
  await applySqlFiles(c, 'public', 'down');
  assert.deepEqual(await extensions(c), ['citext', 'plpgsql']);
  assert.deepEqual(notices, []);
});

test('extensions stay, with a NOTICE, while another schema of the database has the ChatGenius schema; the last rollback drops them', async () => {
  const { c, notices } = await freshDb();
  await applySqlFiles(c, 'a', 'up');
  await applySqlFiles(c, 'b', 'up');
  await applySqlFiles(c, 'a', 'down');
  assert.deepEqual(await extensions(c), OURS);
  assert.deepEqual(notices, [
    'extension "citext" kept: the ChatGenius schema is still installed in schema(s) b',
    'extension "pgcrypto" kept: the ChatGenius schema is still installed in schema(s) b',
    'extension "uuid-ossp" kept: the ChatGenius schema is still installed in schema(s) b',
  ]);
  notices.length = 0;
  await applySqlFiles(c, 'b', 'down');
  assert.deepEqual(await extensions(c), ['plpgsql'], 'handed over to b, dropped by its rollback');
  assert.deepEqual(notices, []);
});

test('an install known only by its journal (adopted with baseline) keeps the extensions too, unless its 0001 failed', async () => {
  for (const [status, kept] of [
    ['failed', false],
    ['applied', true],
  ] as const) {
    const { c, notices } = await freshDb();
    await c.query(`CREATE SCHEMA legacy; CREATE TABLE legacy.chatgenius_migrations (version text PRIMARY KEY, status text NOT NULL)`);
    await c.query(`INSERT INTO legacy.chatgenius_migrations VALUES ('0001', $1), ('0002', $1)`, [status]);
    await applySqlFiles(c, 'public', 'up');
    await applySqlFiles(c, 'public', 'down');
    assert.deepEqual(await extensions(c), kept ? OURS : ['plpgsql'], `journal row ${status}`);
    assert.equal(notices.length, kept ? 3 : 0);
    if (kept) assert.match(notices[0]!, /^extension "citext" kept: the ChatGenius schema is still installed in schema\(s\) legacy$/);
  }
});

test('an extension still used by something outside our schema is kept, with a NOTICE naming the user', async () => {
  const { c, notices } = await freshDb();
  await applySqlFiles(c, 'public', 'up');
  await c.query('CREATE SCHEMA elsewhere; CREATE TABLE elsewhere.handles (h public.citext)');
  await applySqlFiles(c, 'public', 'down');
  assert.deepEqual(await extensions(c), ['citext', 'plpgsql']);
  assert.deepEqual(notices, ['extension "citext" kept: still used by column h of table elsewhere.handles']);
});

test("a database made by the spec's plain script is the state after 0002, so it can be adopted and upgraded", async () => {
  const spec = (await freshDb()).c;
  const ours = (await freshDb()).c;
  await spec.query(SPEC_SCRIPT);
  await applyUpRange(ours, 'public', 0, 2);
  assert.deepEqual(await snapshotTables(spec, 'public'), await snapshotTables(ours, 'public'));
  const ignore = { ignoreTables: BOOKKEEPING_TABLES };
  assert.deepEqual(diffCatalog(await snapshotCatalog(ours, 'public', ignore), await snapshotCatalog(spec, 'public', ignore)), []);
  // The rest of the migrations apply on top of the adopted database and give the same schema.
  await applyUpRange(spec, 'public', 2);
  await applyUpRange(ours, 'public', 2);
  assert.deepEqual(diffCatalog(await snapshotCatalog(ours, 'public', ignore), await snapshotCatalog(spec, 'public', ignore)), []);
  // A full rollback of the adopted database keeps the spec's extensions (we did not create them).
  await applySqlFiles(spec, 'public', 'down');
  assert.deepEqual(await extensions(spec), OURS);
  assert.deepEqual((await snapshotCatalog(spec, 'public')).tables, []);
});

test('0005 down also rolls back a database that got the first 0005 (one row-level notify trigger per table for all events)', async () => {
  const { c } = await freshDb();
  await applyUpRange(c, 'public', 0, 4);
  const before0005 = await snapshotCatalog(c, 'public');
  await applyFile(c, 'public', '0005_triggers.up.sql');
  // The first 0005's layout: <table>_notify AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW.
  const first: Array<[string, string]> = [
    ['messages', `'id', 'channel_id', 'user_id'`],
    ['reactions', `'id', 'message_id', 'user_id'`],
    ['channel_members', `'channel_id', 'user_id'`],
    ['channels', `'id'`],
    ['user_status', `'user_id'`],
    ['message_reads', `'message_id', 'user_id'`],
  ];
  for (const [t, args] of first) {
    await c.query(`DROP TRIGGER ${t}_notify ON ${t}; DROP TRIGGER ${t}_notify_update ON ${t}; DROP TRIGGER ${t}_notify_delete ON ${t};
                   CREATE TRIGGER ${t}_notify AFTER INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION chatgenius_notify(${args})`);
  }
  const triggers = await c.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE '%\\_notify%' AND NOT tgisinternal`);
  assert.deepEqual(triggers.rows, [{ n: 6 }]);
  await applyFile(c, 'public', '0005_triggers.down.sql');
  assert.deepEqual(diffCatalog(before0005, await snapshotCatalog(c, 'public')), []);
});

test('diffCatalog names what differs, so drift can be reported in words', async () => {
  const { c } = await freshDb();
  await applySqlFiles(c, 'public', 'up');
  const expected = await snapshotCatalog(c, 'public');
  await c.query(`DROP INDEX messages_channel_active_idx; ALTER TABLE messages ADD COLUMN pinned boolean;
                 ALTER TABLE users ALTER COLUMN full_name SET NOT NULL; DROP TRIGGER messages_notify ON messages`);
  assert.deepEqual(diffCatalog(expected, await snapshotCatalog(c, 'public')), [
    'table messages column pinned: extra (only in the second)',
    'table messages index messages_channel_active_idx: missing (only in the first)',
    'table messages trigger messages_notify: missing (only in the first)',
    'table users column full_name: notNull false -> true',
  ]);
});
