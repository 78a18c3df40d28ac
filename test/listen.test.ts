import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { applySqlFiles } from './helpers/schema.js';
import { Streaming } from './helpers/streaming.js';
import { makeUserKey, startSshServer } from './helpers/ssh-server.js';
import { writeFileSync } from 'node:fs';

let db: TestPostgres;
let client: pg.Client;
let home: string;
let userId: string;
let channelId: string;

before(async () => {
  db = await startPostgres();
  client = await db.client();
  await applySqlFiles(client, 'public', 'up');
  const u = await client.query<{ id: string }>("insert into users (auth0_id, email, username) values ('auth0|ada', 'ada@example.com', 'ada') returning id");
  userId = u.rows[0]!.id;
  const c = await client.query<{ id: string }>("insert into channels (name) values ('general') returning id");
  channelId = c.rows[0]!.id;
  await client.query("insert into user_status (user_id, status) values ($1, 'online')", [userId]);
  home = mkdtempSync(join(tmpdir(), 'cgdb-listen-'));
});

after(async () => {
  await db?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

const notifications = (s: Streaming) => s.lines.filter((l) => l.event === 'notification');
const payloadOf = (l: Record<string, unknown>) => (l.data as { payload: { table: string; op: string; schema: string; ids: Record<string, string> } }).payload;

test('listen prints, in order, the notifications of a chat script and survives pg_terminate_backend of its connection', async () => {
  const s = new Streaming(
    ['listen', '--json', '--env', 'development', '--database-url', db.url, '--schema', 'public'],
    { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', CI: 'true', CHATGENIUS_RETRY_DELAY_MS: '100' },
    home,
  );
  try {
    const ready = await s.waitFor((l) => l.event === 'listening', 'the listening line');
    const channels = (ready.data as { channels: string[] }).channels;
    for (const ch of ['chatgenius_messages', 'chatgenius_reactions', 'chatgenius_user_status', 'chatgenius_seed'])
      assert.ok(channels.includes(ch), `listens on ${ch}: ${channels.join(',')}`);
    const pid = (ready.data as { pid: number }).pid;
    assert.ok(pid > 0);

    // The script: a message, a reaction to it, the message soft-deleted, the user's status changed.
    const m = await client.query<{ id: string }>("insert into messages (channel_id, user_id, content) values ($1, $2, 'hello') returning id", [channelId, userId]);
    const messageId = m.rows[0]!.id;
    await client.query("insert into reactions (message_id, user_id, emoji) values ($1, $2, ':wave:')", [messageId, userId]);
    await client.query('update messages set deleted_at = now() where id = $1', [messageId]);
    await client.query("update user_status set status = 'away' where user_id = $1", [userId]);

    await s.waitFor((l) => l.event === 'notification' && payloadOf(l).table === 'user_status', 'the status notification');
    const got = notifications(s).map((l) => `${payloadOf(l).table} ${payloadOf(l).op}`);
    assert.deepEqual(got, ['messages INSERT', 'reactions INSERT', 'messages UPDATE', 'user_status UPDATE']);
    const [ins, react, del, status] = notifications(s).map(payloadOf);
    assert.equal(ins!.ids.id, messageId);
    assert.equal(ins!.ids.channel_id, channelId);
    assert.equal(react!.ids.message_id, messageId);
    assert.equal(del!.ids.id, messageId);
    assert.equal(status!.ids.user_id, userId);
    assert.equal(ins!.schema, 'public');
    assert.ok(!JSON.stringify(s.lines).includes('hello'), 'never message content');
    for (const l of s.lines) {
      assert.equal(typeof l.timestamp, 'string');
      assert.equal(typeof l.correlationId, 'string');
      assert.ok(['debug', 'info', 'warn', 'error'].includes(l.level as string));
    }

    // The server ends the listener's session: listen says so, reconnects, listens again.
    const before = s.lines.length;
    const killed = await client.query<{ ok: boolean }>('select pg_terminate_backend($1) as ok', [pid]);
    assert.equal(killed.rows[0]!.ok, true);
    await s.waitFor((l) => l.event === 'connection_lost', 'the connection_lost line', before);
    const again = await s.waitFor((l) => l.event === 'listening' && (l.data as { reconnect: boolean }).reconnect === true, 'listening again', before);
    assert.notEqual((again.data as { pid: number }).pid, pid, 'a new server session');
    assert.match(s.stderr, /Connection lost/);

    const m2 = await client.query<{ id: string }>("insert into messages (channel_id, user_id, content) values ($1, $2, 'after') returning id", [channelId, userId]);
    const after = await s.waitFor((l) => l.event === 'notification' && payloadOf(l).ids.id === m2.rows[0]!.id, 'a notification after the reconnect', before);
    assert.equal(payloadOf(after).op, 'INSERT');

    s.child.kill('SIGINT');
    const exit = await s.exited;
    assert.equal(exit.code, 0, s.stderr);
    const last = s.lines.at(-1)!;
    assert.equal(last.event, 'result');
    assert.equal((last.data as { received: number }).received, 5);
    assert.equal(new Set(s.lines.map((l) => l.correlationId)).size, 1, 'one correlationId per run');
  } finally {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
  }
});

test('listen without channel arguments also shows the one summary notification of a seed, and nothing per seeded row', async () => {
  const url = await db.createDatabase();
  const { default: pgLib } = await import('pg');
  const fresh = new pgLib.Client({ connectionString: url });
  await fresh.connect();
  await applySqlFiles(fresh, 'public', 'up');
  const s = new Streaming(
    ['listen', '--json', '--env', 'development', '--database-url', url, '--schema', 'public'],
    { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', CI: 'true' },
    home,
  );
  try {
    const ready = await s.waitFor((l) => l.event === 'listening', 'the listening line');
    assert.equal((ready.data as { channels: string[] }).channels.at(-1), 'chatgenius_seed');
    const { seedDatabase } = await import('../src/seed/load.js');
    const seeded = await seedDatabase(fresh, { users: 12, channels: 3, messages: 40, seed: 'listen', schema: 'public', analyze: false });
    const summary = await s.waitFor((l) => l.event === 'notification' && payloadOf(l).op === 'SEED', 'the seed summary');
    assert.equal((summary.data as { channel: string }).channel, 'chatgenius_seed');
    assert.deepEqual((payloadOf(summary) as unknown as { counts: unknown }).counts, seeded.counts);
    // A write after the seed notifies as usual; it arrives after the summary, and nothing came in between.
    const [m] = (await fresh.query<{ id: string }>('select id from messages order by id limit 1')).rows;
    await fresh.query('update messages set content = $1 where id = $2', ['edited', m!.id]);
    await s.waitFor((l) => l.event === 'notification' && payloadOf(l).op === 'UPDATE', 'the update notification');
    assert.deepEqual(
      notifications(s).map((l) => `${(l.data as { channel: string }).channel} ${payloadOf(l).op}`),
      ['chatgenius_seed SEED', 'chatgenius_messages UPDATE'],
    );
    s.child.kill('SIGINT');
    assert.equal((await s.exited).code, 0, s.stderr);
  } finally {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await fresh.end();
  }
});

test('listen with a bad channel name is a usage error (exit 2) before connecting', async () => {
  const s = new Streaming(
    ['listen', 'bad-name;', '--env', 'development', '--database-url', db.url],
    { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', CI: 'true' },
    home,
  );
  const exit = await s.exited;
  assert.equal(exit.code, 2, s.stderr);
  assert.match(s.stderr, /Bad channel name/);
});

test('listen through an SSH tunnel prints pretty lines, and reconnects (new tunnel) after the tunnel drops', async () => {
  const user = makeUserKey();
  const ssh = await startSshServer({ authorizedKeys: [user.public] });
  const keyPath = join(home, 'id_listen');
  writeFileSync(keyPath, user.private, { mode: 0o600 });
  const knownHosts = join(home, 'known_hosts_listen');
  writeFileSync(knownHosts, `[127.0.0.1]:${ssh.port} ${ssh.hostKey.public}\n`, { mode: 0o600 });
  const s = new Streaming(
    ['listen', 'messages', '--env', 'development', '--schema', 'public'],
    {
      PATH: process.env.PATH ?? '',
      HOME: home,
      NO_COLOR: '1',
      CI: 'true',
      CHATGENIUS_RETRY_DELAY_MS: '100',
      SSH_HOST: '127.0.0.1',
      SSH_PORT: String(ssh.port),
      SSH_USER: 'tunnel',
      SSH_KEY_PATH: keyPath,
      SSH_KNOWN_HOSTS: knownHosts,
      POSTGRES_HOST: '127.0.0.1',
      POSTGRES_PORT: String(db.port),
      POSTGRES_DB: db.database,
      POSTGRES_USER: db.user,
      POSTGRES_PASSWORD: db.password,
    },
    home,
    false,
  );
  try {
    await s.until(() => /Listening on chatgenius_messages/.test(s.stderr), 'listening');
    assert.equal(ssh.openForwards, 1, 'the listen connection goes through the tunnel');
    const m = await client.query<{ id: string }>("insert into messages (channel_id, user_id, content) values ($1, $2, 'via tunnel') returning id", [channelId, userId]);
    await s.until(() => s.text.some((l) => l.includes(m.rows[0]!.id)), 'the pretty line');
    const line = s.text.find((l) => l.includes(m.rows[0]!.id))!;
    assert.match(line, /^\d\d:\d\d:\d\d\.\d{3}  messages +INSERT +id=/);
    for (const part of [`id=${m.rows[0]!.id}`, `channel_id=${channelId}`, `user_id=${userId}`]) assert.ok(line.includes(part), line);
    assert.ok(!s.text.join('\n').includes('via tunnel'), 'never message content');

    const connectionsBefore = ssh.connections;
    ssh.dropAll(); // the network drops under the tunnel
    await s.until(() => /Connection lost/.test(s.stderr) && /Reconnected/.test(s.stderr), 'lost + reconnected');
    assert.ok(ssh.connections > connectionsBefore, 'a new SSH connection was opened');
    const m2 = await client.query<{ id: string }>("insert into messages (channel_id, user_id, content) values ($1, $2, 'again') returning id", [channelId, userId]);
    await s.until(() => s.text.some((l) => l.includes(m2.rows[0]!.id)), 'a notification after the reconnect');
    assert.ok(!s.stderr.includes(db.password) && !s.text.join('').includes(db.password));

    s.child.kill('SIGINT');
    const exit = await s.exited;
    assert.equal(exit.code, 0, s.stderr);
    assert.equal(await ssh.waitForNoConnections(5000), true, 'the tunnel is closed on exit');
  } finally {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await ssh.close();
  }
});

test('listen survives a server restart within the retry policy, and gives up with an explanation (exit 1) when the server stays down', async () => {
  const s = new Streaming(
    ['listen', 'user_status', '--json', '--env', 'development', '--database-url', db.url],
    { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', CI: 'true', CHATGENIUS_MAX_RETRIES: '6', CHATGENIUS_RETRY_DELAY_MS: '400' },
    home,
  );
  try {
    await s.waitFor((l) => l.event === 'listening', 'listening');
    await db.pause(); // a server restart: stop...
    await s.waitFor((l) => l.event === 'connection_lost', 'connection_lost');
    await db.start(); // ...and start again, within the retry window (400 + 800 + ... ms)
    const again = await s.waitFor((l) => l.event === 'listening' && (l.data as { reconnect: boolean }).reconnect === true, 'listening again', 0, 30_000);
    assert.ok(again);
    const c = await db.client();
    await c.query("update user_status set status = 'busy' where user_id = $1", [userId]);
    await s.waitFor((l) => l.event === 'notification' && payloadOf(l).op === 'UPDATE', 'a notification after the restart');
    assert.ok(
      s.lines.some((l) => l.event === 'retry'),
      'reconnect attempts are logged as retry lines',
    );

    const before = s.lines.length;
    await db.pause(); // down for good this time: listen gives up after its retries
    const exit = await s.exited;
    assert.equal(exit.code, 1, s.stderr);
    const retries = s.lines.slice(before).filter((l) => l.event === 'retry');
    assert.equal(retries.length, 5, 'the policy: 6 attempts in all, 5 waits');
    assert.deepEqual(
      retries.map((l) => (l.data as { delayMs: number }).delayMs),
      [400, 800, 1200, 1600, 2000],
    );
    const error = s.lines.find((l) => l.event === 'error');
    assert.equal((error?.data as { code?: string } | undefined)?.code, 'LISTEN_CONNECTION_LOST');
    assert.match(s.stderr, /chatgenius-db doctor/);
    assert.equal(s.lines.at(-1)!.event, 'result');
  } finally {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await db.start().catch(() => {}); // the server is back for whatever runs next (a no-op if it is up)
  }
});
