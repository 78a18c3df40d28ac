/**
 * The schema itself (sql/ applied directly, no engine): the spec's tables column by column,
 * ULID keys, CHECKs, foreign keys and their ON DELETE rules, soft delete and the active-row
 * indexes, read cursors for unread counts, updated_at, and the real-time notifications.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { decodeTime } from 'ulid';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { applySqlFiles } from './helpers/schema.js';
import { SPEC_TABLES, specType } from './helpers/catalog.js';

const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const ID_TABLES = ['users', 'channels', 'messages', 'reactions', 'files', 'sync_state'];

let server: TestPostgres;
let db: pg.Client;
let n = 0;

before(async () => {
  server = await startPostgres();
  db = await server.client();
  await applySqlFiles(db, 'public', 'up');
});
after(async () => {
  await server?.stop();
});

async function user(c = db): Promise<string> {
  n++;
  const r = await c.query<{ id: string }>(`INSERT INTO users (auth0_id, email, username) VALUES ($1, $2, $3) RETURNING id`, [
    `auth0|${n}`,
    `user${n}@example.com`,
    `user${n}`,
  ]);
  return r.rows[0]!.id;
}
async function channel(c = db): Promise<string> {
  const r = await c.query<{ id: string }>(`INSERT INTO channels (name) VALUES ($1) RETURNING id`, [`general-${++n}`]);
  return r.rows[0]!.id;
}
async function message(channelId: string, userId: string, content = 'hello', createdAt?: string): Promise<string> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO messages (channel_id, user_id, content, created_at) VALUES ($1, $2, $3, COALESCE($4::timestamptz, now())) RETURNING id`,
    [channelId, userId, content, createdAt ?? null],
  );
  return r.rows[0]!.id;
}
async function rejects(sql: string, params: unknown[], code: string, constraint?: string): Promise<void> {
  await assert.rejects(db.query(sql, params), (e: { code?: string; constraint?: string }) => {
    assert.equal(e.code, code, `expected SQLSTATE ${code} for: ${sql}`);
    if (constraint) assert.equal(e.constraint, constraint);
    return true;
  });
}
async function count(sql: string, params: unknown[] = []): Promise<number> {
  const r = await db.query<{ n: string }>(sql, params);
  return Number(r.rows[0]!.n);
}

test('every spec table has exactly the spec columns, in order, with their types, nullability and defaults', async () => {
  const r = await db.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    character_maximum_length: number | null;
    is_nullable: string;
    column_default: string | null;
  }>(
    `SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  );
  for (const [table, spec] of Object.entries(SPEC_TABLES)) {
    const live = r.rows.filter((c) => c.table_name === table);
    const shown = live.map((c): [string, string, boolean, string | null] => [
      c.column_name,
      specType(c.data_type, c.character_maximum_length),
      c.is_nullable === 'YES',
      // The id default (a ULID) is our addition, asserted below.
      ID_TABLES.includes(table) && c.column_name === 'id' ? null : c.column_default,
    ]);
    assert.deepEqual(shown, spec, `table ${table}`);
  }
  const tables = [...new Set(r.rows.map((c) => c.table_name))].sort();
  assert.deepEqual(tables, [...Object.keys(SPEC_TABLES), 'channel_read_cursors', 'chatgenius_extensions'].sort());
});

test('every id column defaults to a fresh ULID made by the database', async () => {
  const defaults = await db.query<{ table_name: string; column_default: string }>(
    `SELECT table_name, column_default FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'id' ORDER BY table_name`,
  );
  assert.deepEqual(
    defaults.rows.map((d) => [d.table_name, d.column_default]),
    [...ID_TABLES].sort().map((t) => [t, 'chatgenius_ulid()']),
  );
  const u = await user();
  const c = await channel();
  const m = await message(c, u);
  const rx = (await db.query(`INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, 'tada') RETURNING id`, [m, u])).rows[0].id;
  const f = (await db.query(`INSERT INTO files (message_id, name, type, size, url) VALUES ($1, 'a.png', 'image/png', 10, 'https://x/a.png') RETURNING id`, [m])).rows[0]
    .id;
  const s = (await db.query(`INSERT INTO sync_state (user_id, sync_type) VALUES ($1, 'full') RETURNING id`, [u])).rows[0].id;
  for (const id of [u, c, m, rx, f, s]) {
    assert.match(id, ULID_RE);
    assert.ok(Math.abs(decodeTime(id) - Date.now()) < 60_000, `time part of ${id} is now`);
  }
  const distinct = await count(`SELECT count(DISTINCT chatgenius_ulid()) AS n FROM generate_series(1, 2000)`);
  assert.equal(distinct, 2000);
});

test('ids that are not upper-case Crockford ULIDs are refused with 23514', async () => {
  const good = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
  for (const bad of ['not-a-ulid', good.toLowerCase(), `8${good.slice(1)}`, `${good.slice(0, 25)}U`, `${good.slice(0, 25)}I`, good.slice(0, 25)]) {
    await rejects(`INSERT INTO users (id, auth0_id, email, username) VALUES ($1, 'a', 'b', 'c')`, [bad], '23514', 'users_id_ulid_check');
  }
  await rejects(`INSERT INTO channels (id, name) VALUES ('x', 'n')`, [], '23514', 'channels_id_ulid_check');
  const u = await user();
  const c = await channel();
  await rejects(`INSERT INTO messages (id, channel_id, user_id, content) VALUES ('x', $1, $2, 'hi')`, [c, u], '23514', 'messages_id_ulid_check');
  await rejects(`INSERT INTO sync_state (id, user_id, sync_type) VALUES ('x', $1, 'full')`, [u], '23514', 'sync_state_id_ulid_check');
  // An app-made ULID is accepted.
  await db.query(`INSERT INTO users (id, auth0_id, email, username) VALUES ($1, 'auth0|app', 'app@example.com', 'app')`, [good]);
});

test('enum columns and sizes refuse values outside their sets with 23514', async () => {
  const u = await user();
  const c = await channel();
  const m = await message(c, u);
  await rejects(`INSERT INTO channel_members (channel_id, user_id, role) VALUES ($1, $2, 'king')`, [c, u], '23514', 'channel_members_role_check');
  await rejects(`INSERT INTO user_status (user_id, status) VALUES ($1, 'asleep')`, [u], '23514', 'user_status_status_check');
  await rejects(`INSERT INTO user_settings (user_id, theme) VALUES ($1, 'neon')`, [u], '23514', 'user_settings_theme_check');
  await rejects(`INSERT INTO sync_state (user_id, sync_type) VALUES ($1, 'partial')`, [u], '23514', 'sync_state_sync_type_check');
  await rejects(`INSERT INTO files (message_id, name, type, size, url) VALUES ($1, 'a', 'b', -1, 'u')`, [m], '23514', 'files_size_check');
  for (const role of ['owner', 'admin', 'member']) {
    const other = await user();
    await db.query(`INSERT INTO channel_members (channel_id, user_id, role) VALUES ($1, $2, $3)`, [c, other, role]);
  }
  for (const [i, status] of ['online', 'away', 'busy', 'offline'].entries()) {
    const other = await user();
    await db.query(`INSERT INTO user_status (user_id, status) VALUES ($1, $2)`, [other, status]);
    await db.query(`INSERT INTO user_settings (user_id, theme) VALUES ($1, $2)`, [other, ['light', 'dark', 'system', null][i]]);
  }
  const defaults = await db.query(`INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2) RETURNING role`, [c, u]);
  assert.equal(defaults.rows[0].role, 'member');
});

test('foreign keys, uniqueness and NOT NULL refuse bad rows with 23503, 23505 and 23502', async () => {
  const u = await user();
  const c = await channel();
  const ghost = '01HZZZZZZZZZZZZZZZZZZZZZZ0';
  await rejects(`INSERT INTO messages (channel_id, user_id, content) VALUES ($1, $2, 'hi')`, [ghost, u], '23503', 'messages_channel_id_fkey');
  await rejects(`INSERT INTO messages (channel_id, user_id, content) VALUES ($1, $2, 'hi')`, [c, ghost], '23503', 'messages_user_id_fkey');
  await rejects(`INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2)`, [c, ghost], '23503', 'channel_members_user_id_fkey');
  await rejects(`INSERT INTO message_reads (message_id, user_id) VALUES ($1, $2)`, [ghost, u], '23503', 'message_reads_message_id_fkey');
  await rejects(`INSERT INTO user_settings (user_id) VALUES ($1)`, [ghost], '23503', 'user_settings_user_id_fkey');
  const email = (await db.query(`SELECT email FROM users WHERE id = $1`, [u])).rows[0].email;
  await rejects(`INSERT INTO users (auth0_id, email, username) VALUES ('auth0|dup', $1, 'dup')`, [email], '23505', 'users_email_key');
  const m = await message(c, u);
  await db.query(`INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, 'tada')`, [m, u]);
  await rejects(`INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, 'tada')`, [m, u], '23505', 'reactions_message_id_user_id_emoji_key');
  await rejects(`INSERT INTO message_reads (message_id, user_id) VALUES ($1, $2), ($1, $2)`, [m, u], '23505', 'message_reads_pkey');
  await rejects(`INSERT INTO users (auth0_id, email) VALUES ('auth0|x', 'x@example.com')`, [], '23502');
  await rejects(`INSERT INTO messages (channel_id, user_id) VALUES ($1, $2)`, [c, u], '23502');
});

test('deleting a user or a channel that still has messages is refused: messages never go by cascade', async () => {
  const u = await user();
  const c = await channel();
  await message(c, u);
  await rejects(`DELETE FROM users WHERE id = $1`, [u], '23503', 'messages_user_id_fkey');
  await rejects(`DELETE FROM channels WHERE id = $1`, [c], '23503', 'messages_channel_id_fkey');
  assert.equal(await count(`SELECT count(*) AS n FROM messages WHERE channel_id = $1`, [c]), 1);
});

test('deleting a message takes its reactions, files and read receipts with it', async () => {
  const u = await user();
  const c = await channel();
  const m = await message(c, u);
  const keep = await message(c, u);
  for (const id of [m, keep]) {
    await db.query(`INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, 'eyes')`, [id, u]);
    await db.query(`INSERT INTO files (message_id, name, type, size, url) VALUES ($1, 'f', 'text/plain', 0, 'u')`, [id]);
    await db.query(`INSERT INTO message_reads (message_id, user_id) VALUES ($1, $2)`, [id, u]);
  }
  await db.query(`DELETE FROM messages WHERE id = $1`, [m]);
  for (const t of ['reactions', 'files', 'message_reads']) {
    assert.equal(await count(`SELECT count(*) AS n FROM ${t} WHERE message_id = $1`, [m]), 0, `${t} of the deleted message`);
    assert.equal(await count(`SELECT count(*) AS n FROM ${t} WHERE message_id = $1`, [keep]), 1, `${t} of the other message`);
  }
});

test('deleting a user without messages takes memberships, reactions, settings, status, reads, sync state and read cursors', async () => {
  const author = await user();
  const leaver = await user();
  const c = await channel();
  const m = await message(c, author);
  await db.query(`INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2), ($1, $3)`, [c, author, leaver]);
  await db.query(`INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, 'wave')`, [m, leaver]);
  await db.query(`INSERT INTO user_settings (user_id) VALUES ($1)`, [leaver]);
  await db.query(`INSERT INTO user_status (user_id) VALUES ($1)`, [leaver]);
  await db.query(`INSERT INTO message_reads (message_id, user_id) VALUES ($1, $2)`, [m, leaver]);
  await db.query(`INSERT INTO sync_state (user_id, sync_type) VALUES ($1, 'incremental')`, [leaver]);
  assert.equal(await count(`SELECT count(*) AS n FROM channel_read_cursors WHERE user_id = $1`, [leaver]), 1);
  await db.query(`DELETE FROM users WHERE id = $1`, [leaver]);
  for (const t of ['channel_members', 'reactions', 'user_settings', 'user_status', 'message_reads', 'sync_state', 'channel_read_cursors']) {
    assert.equal(await count(`SELECT count(*) AS n FROM ${t} WHERE user_id = $1`, [leaver]), 0, t);
  }
  assert.equal(await count(`SELECT count(*) AS n FROM channel_members WHERE user_id = $1`, [author]), 1);
  assert.equal(await count(`SELECT count(*) AS n FROM messages WHERE id = $1`, [m]), 1);
  // A channel without messages goes, and its memberships with it.
  const empty = await channel();
  await db.query(`INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2)`, [empty, author]);
  await db.query(`DELETE FROM channels WHERE id = $1`, [empty]);
  assert.equal(await count(`SELECT count(*) AS n FROM channel_members WHERE channel_id = $1`, [empty]), 0);
});

async function plan(sql: string, params: unknown[]): Promise<string> {
  await db.query('BEGIN');
  try {
    await db.query('SET LOCAL enable_seqscan = off');
    await db.query('SET LOCAL enable_bitmapscan = off');
    const r = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
    return r.rows.map((x) => x['QUERY PLAN']).join('\n');
  } finally {
    await db.query('ROLLBACK');
  }
}

test('soft-deleted messages stay in the table but drop out of the active index the channel view reads', async () => {
  const u = await user();
  const c = await channel();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await message(c, u, `m${i}`, `2026-01-01T00:00:0${i}Z`));
  await db.query(`UPDATE messages SET deleted_at = now() WHERE id = $1`, [ids[2]]);
  assert.equal(await count(`SELECT count(*) AS n FROM messages WHERE channel_id = $1`, [c]), 5, 'the soft-deleted row stays');
  const hot = `SELECT id FROM messages WHERE channel_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 50`;
  const page = (await db.query<{ id: string }>(hot, [c])).rows.map((r) => r.id);
  assert.deepEqual(page, [ids[4], ids[3], ids[1], ids[0]]);
  assert.match(await plan(hot, [c]), /Index (Only )?Scan using messages_channel_active_idx on messages/);
  // The active index holds no deleted rows, so the planner cannot use it to find them.
  assert.doesNotMatch(await plan(`SELECT id FROM messages WHERE channel_id = $1 AND deleted_at IS NOT NULL`, [c]), /messages_channel_active_idx/);
  const preds = await db.query<{ name: string; pred: string }>(
    `SELECT c.relname AS name, pg_get_expr(i.indpred, i.indrelid) AS pred FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relname IN ('messages_channel_active_idx', 'users_active_username_idx', 'channels_active_name_idx') ORDER BY 1`,
  );
  assert.deepEqual(preds.rows, [
    { name: 'channels_active_name_idx', pred: '(deleted_at IS NULL)' },
    { name: 'messages_channel_active_idx', pred: '(deleted_at IS NULL)' },
    { name: 'users_active_username_idx', pred: '(deleted_at IS NULL)' },
  ]);
});

test('a user is found by e-mail whatever its case, through an index', async () => {
  const u = await user();
  const email = (await db.query(`SELECT email FROM users WHERE id = $1`, [u])).rows[0].email as string;
  const q = `SELECT id FROM users WHERE lower(email) = lower($1)`;
  assert.deepEqual((await db.query(q, [email.toUpperCase()])).rows, [{ id: u }]);
  assert.match(await plan(q, [email]), /users_email_lower_idx/);
});

test('read receipts move a per-member cursor forward only, and unread counts come from the active index', async () => {
  const u = await user();
  const reader = await user();
  const c = await channel();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await message(c, u, `m${i}`, `2026-02-01T00:00:0${i}Z`));
  const unread = `SELECT count(*) AS n FROM messages m WHERE m.channel_id = $2 AND m.deleted_at IS NULL
      AND (m.created_at, m.id) > (SELECT r.last_read_at, r.last_read_message_id FROM channel_read_cursors r WHERE r.user_id = $1 AND r.channel_id = $2)`;
  await db.query(`INSERT INTO message_reads (message_id, user_id) VALUES ($1, $2)`, [ids[2], reader]);
  assert.equal(await count(unread, [reader, c]), 2);
  await db.query(`INSERT INTO message_reads (message_id, user_id) VALUES ($1, $2)`, [ids[0], reader]);
  const cur = await db.query(`SELECT last_read_message_id FROM channel_read_cursors WHERE user_id = $1 AND channel_id = $2`, [reader, c]);
  assert.deepEqual(cur.rows, [{ last_read_message_id: ids[2] }], 'an older receipt does not move the cursor back');
  await db.query(`UPDATE messages SET deleted_at = now() WHERE id = $1`, [ids[4]]);
  assert.equal(await count(unread, [reader, c]), 1, 'soft-deleted messages are not unread');
  await db.query(`INSERT INTO message_reads (message_id, user_id) VALUES ($1, $2)`, [ids[3], reader]);
  assert.equal(await count(unread, [reader, c]), 0);
  await db.query('VACUUM messages');
  assert.match(await plan(unread, [reader, c]), /Index Only Scan using messages_channel_active_idx/);
});

test('updated_at moves when a row changes (soft delete included) and stays when an update changes nothing', async () => {
  const u = await user();
  const c = await channel();
  const m = await message(c, u);
  const at = async (t: string, id: string) =>
    (await db.query<{ updated_at: Date; created_at: Date }>(`SELECT created_at, updated_at FROM ${t} WHERE id = $1`, [id])).rows[0]!;
  for (const [t, id, change] of [
    ['messages', m, `content = 'edited'`],
    ['channels', c, `description = 'topic'`],
    ['users', u, `full_name = 'Ada'`],
  ] as const) {
    const before = await at(t, id);
    assert.equal(before.updated_at.getTime(), before.created_at.getTime());
    await db.query(`UPDATE ${t} SET ${change} WHERE id = $1`, [id]);
    const edited = await at(t, id);
    assert.ok(edited.updated_at > before.updated_at, `${t}: updated_at moved on a change`);
    await db.query(`UPDATE ${t} SET ${change} WHERE id = $1`, [id]);
    assert.equal((await at(t, id)).updated_at.getTime(), edited.updated_at.getTime(), `${t}: a no-op update leaves it`);
    await db.query(`UPDATE ${t} SET deleted_at = now() WHERE id = $1`, [id]);
    assert.ok((await at(t, id)).updated_at > edited.updated_at, `${t}: a soft delete is a change`);
  }
});

type Note = { channel: string; payload: Record<string, unknown> };
const idsOf = (n: Note) => n.payload.ids as Record<string, unknown>;

async function listener(channels: string[]): Promise<{ notes: Note[]; waitFor(n: number, ms?: number): Promise<Note[]> }> {
  const c = await server.client();
  const notes: Note[] = [];
  let wake = () => {};
  c.on('notification', (m) => {
    notes.push({ channel: m.channel, payload: JSON.parse(m.payload ?? 'null') });
    wake();
  });
  for (const ch of channels) await c.query(`LISTEN ${ch}`);
  return {
    notes,
    async waitFor(k, ms = 5000) {
      const deadline = Date.now() + ms;
      while (notes.length < k && Date.now() < deadline) {
        await new Promise<void>((res) => {
          wake = res;
          setTimeout(res, 200);
        });
      }
      return notes.splice(0, notes.length);
    },
  };
}

test('a LISTEN client gets a small JSON payload from each notifying trigger: schema, table, op, ids, time, never content', async () => {
  const tables = ['messages', 'reactions', 'channel_members', 'channels', 'user_status', 'message_reads'];
  const l = await listener(tables.map((t) => `chatgenius_${t}`));
  const u = await user();
  const c = await channel();
  const secret = 'top secret message content';
  const m = await message(c, u, secret);
  const r = (await db.query(`INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, 'fire') RETURNING id`, [m, u])).rows[0].id;
  await db.query(`INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2)`, [c, u]);
  await db.query(`INSERT INTO user_status (user_id, status, custom_status) VALUES ($1, 'busy', 'in a meeting')`, [u]);
  await db.query(`INSERT INTO message_reads (message_id, user_id) VALUES ($1, $2)`, [m, u]);
  await db.query(`UPDATE messages SET content = 'also secret' WHERE id = $1`, [m]);
  await db.query(`DELETE FROM reactions WHERE id = $1`, [r]);
  const got = await l.waitFor(8);
  const before = Date.now();
  const shape = got.map((x) => [x.channel, x.payload.table, x.payload.op, x.payload.ids]);
  assert.deepEqual(shape, [
    ['chatgenius_channels', 'channels', 'INSERT', { id: c }],
    ['chatgenius_messages', 'messages', 'INSERT', { id: m, channel_id: c, user_id: u }],
    ['chatgenius_reactions', 'reactions', 'INSERT', { id: r, message_id: m, user_id: u }],
    ['chatgenius_channel_members', 'channel_members', 'INSERT', { channel_id: c, user_id: u }],
    ['chatgenius_user_status', 'user_status', 'INSERT', { user_id: u }],
    ['chatgenius_message_reads', 'message_reads', 'INSERT', { message_id: m, user_id: u }],
    ['chatgenius_messages', 'messages', 'UPDATE', { id: m, channel_id: c, user_id: u }],
    ['chatgenius_reactions', 'reactions', 'DELETE', { id: r, message_id: m, user_id: u }],
  ]);
  for (const { payload } of got) {
    assert.deepEqual(Object.keys(payload).sort(), ['at', 'ids', 'op', 'schema', 'table']);
    assert.equal(payload.schema, 'public');
    const at = Date.parse(String(payload.at));
    assert.ok(Math.abs(at - before) < 60_000, `at is a timestamp: ${payload.at}`);
    const text = JSON.stringify(payload);
    assert.ok(!text.includes('secret') && !text.includes('meeting'), `no content in ${text}`);
    assert.ok(Buffer.byteLength(text) < 8000);
  }
  // A rolled-back write notifies nobody.
  await db.query('BEGIN');
  await message(c, u, 'never sent');
  await db.query('ROLLBACK');
  assert.deepEqual(await l.waitFor(1, 500), []);
});

test('when pg_notify fails inside the trigger, the write still happens and a WARNING says why', async () => {
  // NOTIFY refuses a channel name of 64 bytes or more. The payload of our tables is small by
  // design, so the real way to make pg_notify fail is a table whose name makes the channel
  // name too long: chatgenius_<53 characters>. Same trigger function, real failure.
  const long = `t${'x'.repeat(52)}`;
  await db.query(`CREATE TABLE ${long} (id text PRIMARY KEY)`);
  await db.query(`CREATE TRIGGER long_notify AFTER INSERT ON ${long} REFERENCING NEW TABLE AS changed_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('id')`);
  const warnings: string[] = [];
  const onNotice = (n: { severity?: string; message?: string }) => warnings.push(`${n.severity}: ${n.message}`);
  db.on('notice', onNotice);
  try {
    await db.query(`INSERT INTO ${long} (id) VALUES ('kept')`);
  } finally {
    db.off('notice', onNotice);
  }
  assert.equal(await count(`SELECT count(*) AS n FROM ${long} WHERE id = 'kept'`), 1, 'the write went on');
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0], `WARNING: chatgenius_notify: no notification for public.${long} (INSERT): channel name too long [SQLSTATE 22023]`);
  await db.query(`DROP TABLE ${long}`);
});

test('a 500-row INSERT, a multi-row UPDATE and a cascading DELETE send one notification per changed row', async () => {
  const l = await listener(['chatgenius_messages', 'chatgenius_reactions']);
  const u = await user();
  const c = await channel();
  const ids = (
    await db.query<{ id: string }>(`INSERT INTO messages (channel_id, user_id, content) SELECT $1, $2, 'bulk ' || g FROM generate_series(1, 500) g RETURNING id`, [c, u])
  ).rows.map((r) => r.id);
  const inserted = await l.waitFor(500);
  assert.equal(inserted.length, 500);
  assert.deepEqual(
    inserted.map((x) => idsOf(x).id),
    ids,
    'one per row, in insert order',
  );
  assert.ok(inserted.every((x) => x.payload.op === 'INSERT' && idsOf(x).channel_id === c && idsOf(x).user_id === u));

  await db.query(`UPDATE messages SET content = 'edited' WHERE id = ANY($1)`, [ids.slice(0, 3)]);
  const updated = await l.waitFor(3);
  assert.deepEqual(
    updated.map((x) => [x.payload.op, idsOf(x).id]).sort(),
    ids
      .slice(0, 3)
      .map((id) => ['UPDATE', id])
      .sort(),
  );
  // An UPDATE that matches no row notifies nobody.
  await db.query(`UPDATE messages SET content = 'none' WHERE id = 'no such id'`);
  assert.deepEqual(await l.waitFor(1, 300), []);

  // Reactions go with their message (ON DELETE CASCADE): each deleted row notifies, with the old row's ids.
  const r1 = (await db.query(`INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, 'a') RETURNING id`, [ids[0], u])).rows[0].id;
  const r2 = (await db.query(`INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, 'b') RETURNING id`, [ids[0], u])).rows[0].id;
  assert.equal((await l.waitFor(2)).length, 2);
  await db.query(`DELETE FROM messages WHERE id = $1`, [ids[0]]);
  const deleted = await l.waitFor(3);
  assert.deepEqual(
    deleted.map((x) => [x.channel, x.payload.op, x.payload.ids]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    [
      ['chatgenius_messages', 'DELETE', { id: ids[0], channel_id: c, user_id: u }],
      ['chatgenius_reactions', 'DELETE', { id: r1, message_id: ids[0], user_id: u }],
      ['chatgenius_reactions', 'DELETE', { id: r2, message_id: ids[0], user_id: u }],
    ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  );
  await db.query(`DELETE FROM messages WHERE id = ANY($1)`, [ids]);
  assert.equal((await l.waitFor(499)).length, 499);
});

test('any table can notify: other id columns (dynamic path), JSON-escaped values and nulls, and a row-level attachment is refused with a WARNING', async () => {
  await db.query(`CREATE TABLE notify_other (code int PRIMARY KEY, "odd""name" text)`);
  await db.query(`CREATE TRIGGER notify_other_ins AFTER INSERT ON notify_other REFERENCING NEW TABLE AS changed_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION chatgenius_notify('code', 'odd"name')`);
  await db.query(`CREATE TRIGGER notify_other_upd AFTER UPDATE ON notify_other FOR EACH ROW EXECUTE FUNCTION chatgenius_notify('code')`);
  const l = await listener(['chatgenius_notify_other']);
  const warnings: string[] = [];
  const onNotice = (n: { severity?: string; message?: string }) => warnings.push(`${n.severity}: ${n.message}`);
  db.on('notice', onNotice);
  try {
    await db.query(`SET search_path TO ''`);
    await db.query(`INSERT INTO public.notify_other VALUES (1, 'a"b\\c'), (2, NULL)`);
    await db.query(`UPDATE public.notify_other SET code = 3 WHERE code = 2`);
  } finally {
    db.off('notice', onNotice);
    await db.query('RESET search_path');
  }
  const got = await l.waitFor(2);
  assert.deepEqual(
    got.map((x) => [x.payload.table, x.payload.op, x.payload.ids]),
    [
      ['notify_other', 'INSERT', { code: 1, 'odd"name': 'a"b\\c' }],
      ['notify_other', 'INSERT', { code: 2, 'odd"name': null }],
    ],
  );
  assert.deepEqual(await l.waitFor(1, 300), [], 'the row-level trigger sent nothing');
  assert.deepEqual(warnings, [
    'WARNING: chatgenius_notify: no notification for public.notify_other (UPDATE): attach it FOR EACH STATEMENT with REFERENCING NEW TABLE (OLD TABLE for DELETE) AS changed_rows [SQLSTATE P0001]',
  ]);
  assert.equal(await count(`SELECT count(*) AS n FROM notify_other WHERE code = 3`), 1, 'the update went on');
  await db.query(`DROP TABLE notify_other`);
});
