/**
 * Real-time in both modes, on a real PostgreSQL started with wal_level=logical: the same chat
 * script (a message, a reaction, a soft delete, a status change) reaches `listen` in order with
 * the documented payload in notify mode and in logical mode; switching back and forth leaves
 * nothing behind; a SIGKILLed logical listener leaves no slot holding WAL; a role without
 * REPLICATION is told why and how to fix it; doctor names a forgotten slot and its fix.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { applySqlFiles } from './helpers/schema.js';
import { runCli } from './helpers/cli.js';
import { Streaming } from './helpers/streaming.js';
import { makeUserKey, startSshServer } from './helpers/ssh-server.js';
import { writeFileSync } from 'node:fs';
import { checkPrerequisites, type LogicalFacts } from '../src/ops/realtime.js';
import { changeToPayload, isoMicros } from '../src/ops/realtime-stream.js';
import { explain } from '../src/explain/index.js';

let db: TestPostgres;
let client: pg.Client;
let home: string;
let userId: string;
let channelId: string;

const cliEnv = () => ({ PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', CI: 'true', CHATGENIUS_RETRY_DELAY_MS: '100' });
const conn = (url = db.url) => ['--env', 'development', '--database-url', url, '--schema', 'public'];
const realtime = (args: string[], url?: string) => runCli(['realtime', ...args, '--json', ...conn(url)], { env: cliEnv(), cwd: home });
const resultOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as { event: string; data: Record<string, unknown> };

before(async () => {
  db = await startPostgres({ postgresFlags: ['-c', 'wal_level=logical'] });
  client = await db.client();
  await applySqlFiles(client, 'public', 'up');
  userId = (await client.query<{ id: string }>("insert into users (auth0_id, email, username) values ('auth0|ada', 'ada@example.com', 'ada') returning id")).rows[0]!.id;
  channelId = (await client.query<{ id: string }>("insert into channels (name) values ('general') returning id")).rows[0]!.id;
  await client.query("insert into user_status (user_id, status) values ($1, 'online')", [userId]);
  home = mkdtempSync(join(tmpdir(), 'cgdb-realtime-'));
});

after(async () => {
  await db?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** The chat script; returns what each event must carry, in order. */
async function chatScript(): Promise<Array<{ table: string; op: string; ids: Record<string, string> }>> {
  const m = (await client.query<{ id: string }>("insert into messages (channel_id, user_id, content) values ($1, $2, 'secret hello') returning id", [channelId, userId]))
    .rows[0]!.id;
  const r = (await client.query<{ id: string }>("insert into reactions (message_id, user_id, emoji) values ($1, $2, '👍') returning id", [m, userId])).rows[0]!.id;
  await client.query('update messages set deleted_at = now() where id = $1', [m]);
  await client.query("update user_status set status = 'away' where user_id = $1", [userId]);
  return [
    { table: 'messages', op: 'INSERT', ids: { id: m, channel_id: channelId, user_id: userId } },
    { table: 'reactions', op: 'INSERT', ids: { id: r, message_id: m, user_id: userId } },
    { table: 'messages', op: 'UPDATE', ids: { id: m, channel_id: channelId, user_id: userId } },
    { table: 'user_status', op: 'UPDATE', ids: { user_id: userId } },
  ];
}

type Payload = { schema: string; table: string; op: string; ids: Record<string, string>; at: string };
const events = (s: Streaming, from: number) => s.lines.slice(from).filter((l) => l.event === 'notification');
const payloadOf = (l: Record<string, unknown>) => (l.data as { payload: Payload }).payload;

async function scriptReachesListen(s: Streaming, mode: 'notify' | 'logical'): Promise<void> {
  const ready = await s.waitFor((l) => l.event === 'listening', 'the listening line');
  assert.equal((ready.data as { mode: string }).mode, mode);
  const from = s.lines.length;
  const expected = await chatScript();
  await s.waitFor(() => events(s, from).length >= expected.length, `${expected.length} events`, from);
  await new Promise((r) => setTimeout(r, 300)); // nothing extra arrives
  const got = events(s, from).map(payloadOf);
  assert.deepEqual(
    got.map((p) => ({ table: p.table, op: p.op, ids: p.ids })),
    expected,
    `${mode}: in order, with the ids`,
  );
  for (const p of got) {
    assert.deepEqual(Object.keys(p), ['schema', 'table', 'op', 'ids', 'at'], 'the documented payload, nothing more');
    assert.equal(p.schema, 'public');
    assert.match(p.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d:\d\d$/); // PostgreSQL drops trailing zeros
    assert.ok(Math.abs(Date.parse(p.at) - Date.now()) < 60_000);
  }
  assert.ok(!JSON.stringify(s.lines).includes('secret hello'), 'never message content');
}

test('notify mode: a message, a reaction, a soft delete and a status change reach listen in order', async () => {
  const st = await realtime(['status']);
  assert.equal(st.code, 0, st.stderr);
  assert.equal(resultOf(st.stdout).data.mode, 'notify');
  const s = new Streaming(['listen', '--json', ...conn()], cliEnv(), home);
  try {
    await scriptReachesListen(s, 'notify');
  } finally {
    assert.equal((await s.stop()).code, 0, s.stderr);
  }
});

test('logical mode: the same script reaches listen in the same shape, streamed from a temporary slot, and the triggers stay quiet', async () => {
  const use = await realtime(['use', 'logical']);
  assert.equal(use.code, 0, use.stderr);
  assert.deepEqual([resultOf(use.stdout).data.mode, resultOf(use.stdout).data.changed], ['logical', true]);
  // The publication carries the id columns (and the key) only: message content never leaves the server.
  const published = await client.query<{ tablename: string; attnames: string[] }>(
    `select tablename, attnames::text[] from pg_publication_tables where tablename in ('messages', 'reactions', 'channel_members') order by 1`,
  );
  assert.deepEqual(published.rows, [
    { tablename: 'channel_members', attnames: ['channel_id', 'user_id'] },
    { tablename: 'messages', attnames: ['id', 'channel_id', 'user_id'] },
    { tablename: 'reactions', attnames: ['id', 'message_id', 'user_id'] },
  ]);
  // A plain LISTEN sees nothing now: the triggers stand aside in logical mode.
  const spy = await db.client();
  const heard: string[] = [];
  spy.on('notification', (n) => heard.push(n.channel));
  await spy.query('LISTEN chatgenius_messages; LISTEN chatgenius_reactions; LISTEN chatgenius_user_status');
  const s = new Streaming(['listen', '--json', ...conn()], cliEnv(), home);
  try {
    await scriptReachesListen(s, 'logical');
    const ready = s.lines.find((l) => l.event === 'listening')!.data as { slot: string };
    const slots = await client.query('select slot_name, temporary from pg_replication_slots');
    assert.deepEqual(slots.rows, [{ slot_name: ready.slot, temporary: true }], 'one temporary slot while it runs');
    assert.deepEqual(heard, [], 'no NOTIFY in logical mode');
  } finally {
    assert.equal((await s.stop()).code, 0, s.stderr);
    await spy.end();
  }
  assert.deepEqual((await client.query('select slot_name from pg_replication_slots')).rows, [], 'the slot went with listen');
});

test('switching modes back and forth is idempotent and leaves no slot, publication or disabled trigger behind; a running listen follows', async () => {
  await realtime(['use', 'notify']);
  const s = new Streaming(['listen', '--json', ...conn()], cliEnv(), home);
  try {
    await s.waitFor((l) => l.event === 'listening' && (l.data as { mode: string }).mode === 'notify', 'listening (notify)');
    const a = await realtime(['use', 'logical']);
    assert.equal(resultOf(a.stdout).data.changed, true, a.stderr);
    const again = await realtime(['use', 'logical']);
    assert.equal(again.code, 0);
    assert.equal(resultOf(again.stdout).data.changed, false, 'already logical: nothing to do');
    // Logical mode switches the notify triggers off: the writers pay nothing for real-time.
    const states = await client.query<{ tgenabled: string }>(
      `select distinct t.tgenabled from pg_trigger t join pg_proc p on p.oid = t.tgfoid where p.proname = 'chatgenius_notify'`,
    );
    assert.deepEqual(
      states.rows.map((r) => r.tgenabled),
      ['D'],
      'every notify trigger disabled in logical mode',
    );
    await s.waitFor((l) => l.event === 'listening' && (l.data as { mode: string }).mode === 'logical', 'listen switched to logical');
    const from = s.lines.length;
    await client.query("insert into messages (channel_id, user_id, content) values ($1, $2, 'x')", [channelId, userId]);
    await s.waitFor((l) => l.event === 'notification', 'a change in logical mode', from);
    const b = await realtime(['use', 'notify']);
    assert.equal(resultOf(b.stdout).data.changed, true, b.stderr);
    assert.equal(resultOf((await realtime(['use', 'notify'])).stdout).data.changed, false);
    await s.waitFor((l) => l.event === 'listening' && (l.data as { mode: string }).mode === 'notify', 'listen back to notify', from);
    const from2 = s.lines.length;
    await client.query("insert into messages (channel_id, user_id, content) values ($1, $2, 'y')", [channelId, userId]);
    const n = await s.waitFor((l) => l.event === 'notification', 'a NOTIFY again', from2);
    assert.ok((n.data as { senderPid?: number }).senderPid, 'delivered by NOTIFY');
  } finally {
    await s.stop();
  }
  assert.deepEqual((await client.query('select pubname from pg_publication')).rows, []);
  assert.deepEqual((await client.query('select slot_name from pg_replication_slots')).rows, []);
  const triggers = await client.query(
    `select t.tgname, t.tgenabled from pg_trigger t join pg_proc p on p.oid = t.tgfoid where p.proname = 'chatgenius_notify' and t.tgenabled <> 'O'`,
  );
  assert.deepEqual(triggers.rows, [], 'no disabled trigger');
  assert.equal(
    (await client.query(`select count(*)::int as n from pg_trigger t join pg_proc p on p.oid = t.tgfoid where p.proname = 'chatgenius_notify'`)).rows[0].n,
    18,
  );
});

test('a notify trigger turned on by hand in logical mode: status and doctor name it, and use logical turns it off again; a whole-row publication gets its column lists', async () => {
  assert.equal((await realtime(['use', 'logical'])).code, 0);
  try {
    await client.query('alter table messages enable trigger messages_notify');
    const text = await runCli(['realtime', 'status', ...conn()], { env: cliEnv(), cwd: home });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout + text.stderr, /Notify triggers on in logical mode: messages_notify: .*realtime use logical/);
    assert.deepEqual(resultOf((await realtime(['status'])).stdout).data.enabledTriggers, ['messages_notify']);
    const d = await runCli(['doctor', '--json', ...conn()], { env: cliEnv(), cwd: home });
    const line = d.stdout
      .split('\n')
      .filter(Boolean)
      .map((x) => JSON.parse(x) as { data: Record<string, unknown> })
      .find((x) => x.data?.id === 'realtime');
    assert.deepEqual([line?.data.status, line?.data.code], ['warn', 'REALTIME_INCONSISTENT'], d.stdout);
    assert.match(JSON.stringify(line!.data), /Notify triggers are on in logical mode \(messages_notify\)/);
    const again = await realtime(['use', 'logical']);
    assert.deepEqual([resultOf(again.stdout).data.changed, resultOf(again.stdout).data.triggersSwitched], [false, 1], again.stderr);
    const after = resultOf((await realtime(['status'])).stdout).data;
    assert.deepEqual([after.enabledTriggers, after.disabledTriggers], [[], []], 'logical mode as it should be: nothing to report');
    // A publication as an earlier version made it (whole rows) is brought to the id columns.
    await client.query('alter publication chatgenius_realtime_public set table public.messages');
    assert.equal(resultOf((await realtime(['use', 'logical'])).stdout).data.changed, true);
    const cols = await client.query<{ attnames: string[] }>(`select attnames::text[] from pg_publication_tables where tablename = 'messages'`);
    assert.deepEqual(cols.rows[0]!.attnames, ['id', 'channel_id', 'user_id']);
  } finally {
    assert.equal((await realtime(['use', 'notify'])).code, 0);
  }
});

test('listen killed with SIGKILL in logical mode leaves no slot holding WAL', async () => {
  assert.equal((await realtime(['use', 'logical'])).code, 0);
  const s = new Streaming(['listen', '--json', ...conn()], cliEnv(), home);
  const ready = await s.waitFor((l) => l.event === 'listening', 'listening');
  const slot = (ready.data as { slot: string }).slot;
  assert.equal((await client.query('select count(*)::int as n from pg_replication_slots where slot_name = $1', [slot])).rows[0].n, 1);
  s.child.kill('SIGKILL');
  await s.exited;
  const deadline = Date.now() + 15_000;
  let left: unknown[] = [];
  do {
    left = (await client.query('select slot_name from pg_replication_slots')).rows;
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  assert.deepEqual(left, [], 'the temporary slot is gone with its connection');
  assert.equal((await realtime(['use', 'notify'])).code, 0);
});

test('a role without REPLICATION gets the explanation, with its code, from realtime use logical and from listen', async () => {
  await client.query(`create role app_rt login password 'app-pw' nosuperuser noreplication`);
  await client.query(`grant select on all tables in schema public to app_rt; grant create on database ${db.database} to app_rt`);
  const url = db.urlFor(db.database, 'app_rt', 'app-pw');
  const r = await realtime(['use', 'logical'], url);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /This role may not stream changes/);
  assert.match(r.stderr, /ALTER ROLE "app_rt" WITH REPLICATION/);
  assert.match(r.stdout + r.stderr, /REALTIME_NO_REPLICATION/);
  assert.ok(!r.stderr.includes('app-pw'), 'no secret');
  assert.deepEqual((await client.query('select pubname from pg_publication')).rows, [], 'nothing changed');
  // The owner switches; the app role's listen is told the same, and does not retry in vain.
  assert.equal((await realtime(['use', 'logical'])).code, 0);
  const l = await runCli(['listen', '--json', ...conn(url)], { env: cliEnv(), cwd: home, timeoutMs: 30_000 });
  assert.equal(l.code, 1, l.stderr);
  assert.match(l.stderr, /This role may not stream changes/);
  assert.match(l.stdout + l.stderr, /REALTIME_NO_REPLICATION/);
  assert.equal((await realtime(['use', 'notify'])).code, 0);
});

test('realtime status and doctor show a slot nobody reads, the WAL it keeps and how to drop it', async () => {
  await client.query(`select pg_create_logical_replication_slot('forgotten_consumer', 'pgoutput')`);
  try {
    await client.query("insert into messages (channel_id, user_id, content) select $1, $2, repeat('z', 200) from generate_series(1, 500)", [channelId, userId]);
    const st = await realtime(['status']);
    assert.equal(st.code, 0, st.stderr);
    const slots = resultOf(st.stdout).data.slots as Array<{ name: string; active: boolean; retainedBytes: number; dropSql: string }>;
    const f = slots.find((x) => x.name === 'forgotten_consumer')!;
    assert.equal(f.active, false);
    assert.ok(f.retainedBytes > 0, `retains WAL: ${f.retainedBytes}`);
    assert.match(st.stderr, /pg_drop_replication_slot\('forgotten_consumer'\)/);
    const d = await runCli(['doctor', '--json', ...conn()], { env: cliEnv(), cwd: home });
    const line = d.stdout
      .split('\n')
      .filter(Boolean)
      .map((x) => JSON.parse(x) as { event: string; data: Record<string, unknown> })
      .find((x) => x.data?.id === 'realtime');
    assert.ok(line, `doctor has a realtime line: ${d.stdout}`);
    assert.equal(line!.data.status, 'warn');
    assert.equal(line!.data.code, 'REALTIME_SLOT_RETAINING');
    assert.match(String(line!.data.hint), /SELECT pg_drop_replication_slot\('forgotten_consumer'\);/);
  } finally {
    await client.query(`select pg_drop_replication_slot('forgotten_consumer')`);
  }
});

test('prerequisites name the fix of the provider the server looks like (pure)', () => {
  const base: LogicalFacts = {
    walLevel: 'replica',
    maxReplicationSlots: 10,
    slotsUsed: 10,
    maxWalSenders: 10,
    sendersUsed: 0,
    role: 'app',
    superuser: false,
    replication: false,
    providerReplicationRole: null,
    canCreatePublication: true,
    notOwned: [],
    provider: 'rds',
    database: 'chat',
  };
  const p = checkPrerequisites(base);
  assert.deepEqual(
    p.map((x) => [x.id, x.ok]),
    [
      ['wal_level', false],
      ['replication', false],
      ['slots', false],
      ['senders', true],
      ['publication', true],
    ],
  );
  assert.match(explain(p[0]!.problem).hint, /rds\.logical_replication = 1/);
  assert.match(explain(p[1]!.problem).hint, /GRANT rds_replication TO "app"/);
  assert.match(explain(checkPrerequisites({ ...base, provider: 'cloudsql' })[0]!.problem).hint, /cloudsql\.logical_decoding/);
  assert.match(explain(checkPrerequisites({ ...base, provider: 'supabase' })[1]!.problem).hint, /Supabase/);
  assert.match(explain(checkPrerequisites({ ...base, provider: 'self-hosted' })[0]!.problem).hint, /ALTER SYSTEM SET wal_level = 'logical'/);
  assert.match(explain(p[2]!.problem).hint, /max_replication_slots/);
  assert.equal(explain(p[0]!.problem).code, 'REALTIME_WAL_LEVEL');
});

test('a decoded change becomes the notify payload: ids only, DELETE with its key, commit time with microseconds', () => {
  const tables = new Map([['messages', ['id', 'channel_id', 'user_id']]]);
  const rel = { schema: 'public', name: 'messages' };
  const at = isoMicros(1767225600123456n);
  assert.equal(at, '2026-01-01T00:00:00.123456+00:00');
  // The next second, a microsecond before the one after, and one before 1970 (negative: floor, not truncation).
  assert.equal(isoMicros(1767225601000001n), '2026-01-01T00:00:01.000001+00:00');
  assert.equal(isoMicros(1767225601999999n), '2026-01-01T00:00:01.999999+00:00');
  assert.equal(isoMicros(-1n), '1969-12-31T23:59:59.999999+00:00');
  assert.deepEqual(changeToPayload({ tag: 'insert', relation: rel, new: { id: 'A', channel_id: 'C', user_id: 'U', content: 'secret' } }, tables, at), {
    schema: 'public',
    table: 'messages',
    op: 'INSERT',
    ids: { id: 'A', channel_id: 'C', user_id: 'U' },
    at,
  });
  assert.deepEqual(changeToPayload({ tag: 'delete', relation: rel, key: { id: 'A' } }, tables, at)?.ids, { id: 'A' });
  assert.equal(changeToPayload({ tag: 'insert', relation: { schema: 'public', name: 'files' }, new: { id: 'F' } }, tables, at), null);
  assert.equal(changeToPayload({ tag: 'truncate' }, tables, at), null);
});

test('in production a switch needs --confirm-database NAME (exit 2, nothing changed); realtime without an action is a usage error', async () => {
  const prod = (extra: string[]) =>
    runCli(['realtime', 'use', 'logical', '--json', '--env', 'production', '--database-url', db.url, '--no-tunnel', ...extra], { env: cliEnv(), cwd: home });
  const r = await prod([]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stdout + r.stderr, /PRODUCTION_CONFIRMATION_REQUIRED/);
  assert.match(r.stderr, new RegExp(`--confirm-database ${db.database}`));
  assert.deepEqual((await client.query('select pubname from pg_publication')).rows, [], 'nothing changed');
  const ok = await prod(['--confirm-database', db.database]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(resultOf(ok.stdout).data.mode, 'logical');
  assert.equal((await realtime(['use', 'notify'])).code, 0);
  const bad = await runCli(['realtime', 'use', 'kafka', ...conn()], { env: cliEnv(), cwd: home });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /realtime status \| realtime use notify \| realtime use logical/);
});

test('logical mode through an SSH tunnel: the replication connection goes through the tunnel too', async () => {
  const user = makeUserKey();
  const ssh = await startSshServer({ authorizedKeys: [user.public] });
  const keyPath = join(home, 'id_rt');
  writeFileSync(keyPath, user.private, { mode: 0o600 });
  const knownHosts = join(home, 'known_hosts_rt');
  writeFileSync(knownHosts, `[127.0.0.1]:${ssh.port} ${ssh.hostKey.public}\n`, { mode: 0o600 });
  assert.equal((await realtime(['use', 'logical'])).code, 0);
  const s = new Streaming(
    ['listen', 'messages', '--json', '--env', 'development', '--schema', 'public'],
    {
      ...cliEnv(),
      ...db.env(),
      SSH_HOST: '127.0.0.1',
      SSH_PORT: String(ssh.port),
      SSH_USER: 'tunnel',
      SSH_KEY_PATH: keyPath,
      SSH_KNOWN_HOSTS: knownHosts,
    },
    home,
  );
  try {
    const ready = await s.waitFor((l) => l.event === 'listening', 'listening');
    assert.equal((ready.data as { mode: string }).mode, 'logical');
    assert.equal(ssh.openForwards, 2, 'the session and the replication stream both go through the tunnel');
    const from = s.lines.length;
    const m = (await client.query<{ id: string }>("insert into messages (channel_id, user_id, content) values ($1, $2, 'via tunnel') returning id", [channelId, userId]))
      .rows[0]!.id;
    const n = await s.waitFor((l) => l.event === 'notification', 'the change', from);
    assert.deepEqual(payloadOf(n).ids, { id: m, channel_id: channelId, user_id: userId });
  } finally {
    assert.equal((await s.stop()).code, 0, s.stderr);
    await ssh.close();
    assert.equal((await realtime(['use', 'notify'])).code, 0);
  }
});
