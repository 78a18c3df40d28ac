import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { applySqlFiles } from './helpers/schema.js';
import { runCli } from './helpers/cli.js';
import { seedDatabase, SEED_CHANNEL, type SeedResult } from '../src/seed/load.js';
import { activityRows, DEFAULT_SIZE, planWorld, TABLE_ORDER } from '../src/seed/generate.js';
import { decodeTime, encodeTime, ULID_PATTERN } from '../src/seed/ulid.js';
import { copyLine } from '../src/seed/copy.js';
import type { ChatgeniusEvent } from '../src/events.js';

const SMALL = { users: 200, channels: 30, messages: 5000 } as const;
/** Each table's key, for a stable order when hashing its rows. */
const KEYS: Record<string, string> = {
  users: 'id',
  user_settings: 'user_id',
  user_status: 'user_id',
  sync_state: 'id',
  channels: 'id',
  channel_members: 'channel_id, user_id',
  messages: 'id',
  files: 'id',
  reactions: 'id',
  message_reads: 'message_id, user_id',
  channel_read_cursors: 'user_id, channel_id',
};

let db: TestPostgres;
let client: pg.Client;

async function applied(schema: string): Promise<void> {
  await applySqlFiles(client, schema, 'up');
}

/** One md5 over every row of every table, in key order (schema-independent). */
async function dataHash(schema: string): Promise<string> {
  const parts: string[] = [];
  for (const [table, key] of Object.entries(KEYS)) {
    const r = await client.query<{ h: string | null; n: string }>(
      `SELECT md5(string_agg(t::text, E'\\n' ORDER BY ${key})) AS h, count(*) AS n FROM "${schema}".${table} t`,
    );
    parts.push(`${table}:${r.rows[0]!.n}:${r.rows[0]!.h}`);
  }
  return parts.join('|');
}

async function count(sql: string): Promise<number> {
  const r = await client.query<{ n: string }>(sql);
  return Number(r.rows[0]!.n);
}

before(async () => {
  db = await startPostgres();
  client = await db.client();
});
after(async () => {
  await db?.stop();
});

describe('the generator', () => {
  test('ULIDs encode their millisecond time the way the ULID spec does', () => {
    assert.equal(encodeTime(1469918176385), '01ARYZ6S41');
    assert.equal(decodeTime('01ARYZ6S41TSV4RRFFQ69G5FAV'), 1469918176385);
  });

  test('the same seed plans the same world; another seed plans another', () => {
    const a = planWorld({ ...SMALL, seed: 'alpha' });
    const b = planWorld({ ...SMALL, seed: 'alpha' });
    const c = planWorld({ ...SMALL, seed: 'beta' });
    assert.deepEqual(a.userIds, b.userIds);
    assert.deepEqual(
      a.channels.map((x) => x.messageCount),
      b.channels.map((x) => x.messageCount),
    );
    assert.notDeepEqual(a.userIds, c.userIds);
    assert.equal(
      a.channels.reduce((s, x) => s + x.messageCount, 0),
      SMALL.messages,
    );
  });

  test('messages come out in time order, each id a ULID of its created_at', () => {
    const world = planWorld({ ...SMALL, seed: 'order' });
    let last = 0;
    let n = 0;
    for (const [table, row] of activityRows(world)) {
      if (table !== 'messages') continue;
      const id = row[0] as string;
      const at = Date.parse(row[4] as string);
      assert.match(id, ULID_PATTERN);
      assert.equal(decodeTime(id), at);
      assert.ok(at >= last, 'time order');
      last = at;
      n++;
    }
    assert.equal(n, SMALL.messages);
  });

  test('tiny and empty sizes still make a consistent world (one user, no messages)', () => {
    for (const size of [
      { users: 1, channels: 1, messages: 10 },
      { users: 1, channels: 3, messages: 0 },
      { users: 2, channels: 5, messages: 50 },
    ]) {
      const world = planWorld({ ...size, seed: 'tiny' });
      const users = new Set(world.userIds);
      let messages = 0;
      for (const [table, row] of activityRows(world)) {
        if (table === 'messages') {
          messages++;
          assert.ok(users.has(row[2] as string));
        }
      }
      assert.equal(messages, size.messages);
      assert.ok(world.channels.every((c) => c.members.length >= 1 && c.roles[0] === 'owner'));
    }
    assert.throws(() => planWorld({ users: 0, channels: 1, messages: 1, seed: 'x' }), RangeError);
  });

  test('COPY text escapes tabs, newlines, backslashes and NULL', () => {
    assert.equal(copyLine(['a\tb', 'x\ny\\z', null, true, 7]), 'a\\tb\tx\\ny\\\\z\t\\N\tt\t7\n');
  });
});

describe('seed into a real PostgreSQL', () => {
  let first: SeedResult;
  const events: ChatgeniusEvent[] = [];

  before(async () => {
    await applied('seed_a');
    await applied('seed_b');
    await applied('seed_c');
    first = await seedDatabase(client, { ...SMALL, seed: 'alpha', schema: 'seed_a', emit: (e) => events.push(e) });
  });

  test('the same seed gives the same rows in two fresh schemas; another seed gives other rows', async () => {
    await seedDatabase(client, { ...SMALL, seed: 'alpha', schema: 'seed_b' });
    await seedDatabase(client, { ...SMALL, seed: 'beta', schema: 'seed_c' });
    const [a, b, c] = [await dataHash('seed_a'), await dataHash('seed_b'), await dataHash('seed_c')];
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.equal(first.counts.messages, SMALL.messages);
    assert.equal(first.counts.users, SMALL.users);
    for (const t of TABLE_ORDER) assert.ok(first.counts[t] > 0, `${t} has rows`);
  });

  test('every foreign key of the schema is satisfied (the load skipped the per-row checks)', async () => {
    const fks = await client.query<{ child: string; cols: string[]; parent: string; pcols: string[] }>(
      `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
              array(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY i)::text[] AS cols,
              array(SELECT attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY i)::text[] AS pcols
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE c.contype = 'f' AND n.nspname = 'seed_a'`,
    );
    assert.ok(fks.rows.length >= 12, `found ${fks.rows.length} foreign keys`);
    await client.query('SET search_path TO seed_a, public');
    for (const fk of fks.rows) {
      const on = fk.cols.map((c, i) => `p.${fk.pcols[i]} = x.${c}`).join(' AND ');
      const notNull = fk.cols.map((c) => `x.${c} IS NOT NULL`).join(' AND ');
      const orphans = await count(`SELECT count(*) AS n FROM ${fk.child} x WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE ${on})`);
      assert.equal(orphans, 0, `${fk.child}(${fk.cols.join(',')}) -> ${fk.parent}`);
    }
  });

  test('authors, reactors and readers are members of the channel, and authors had joined and were not deleted', async () => {
    const s = 'seed_a';
    assert.equal(
      await count(
        `SELECT count(*) AS n FROM ${s}.messages m LEFT JOIN ${s}.channel_members cm ON cm.channel_id = m.channel_id AND cm.user_id = m.user_id WHERE cm.user_id IS NULL`,
      ),
      0,
    );
    assert.equal(await count(`SELECT count(*) AS n FROM ${s}.messages m JOIN ${s}.channel_members cm USING (channel_id, user_id) WHERE cm.joined_at > m.created_at`), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM ${s}.messages m JOIN ${s}.users u ON u.id = m.user_id WHERE u.deleted_at < m.created_at`), 0);
    assert.equal(
      await count(`SELECT count(*) AS n FROM ${s}.message_reads r JOIN ${s}.messages m ON m.id = r.message_id
                    LEFT JOIN ${s}.channel_members cm ON cm.channel_id = m.channel_id AND cm.user_id = r.user_id WHERE cm.user_id IS NULL`),
      0,
    );
    assert.equal(await count(`SELECT count(*) AS n FROM ${s}.message_reads r JOIN ${s}.messages m ON m.id = r.message_id WHERE r.read_at < m.created_at`), 0);
    assert.equal(
      await count(`SELECT count(*) AS n FROM ${s}.reactions x JOIN ${s}.messages m ON m.id = x.message_id
                    LEFT JOIN ${s}.channel_members cm ON cm.channel_id = m.channel_id AND cm.user_id = x.user_id WHERE cm.user_id IS NULL`),
      0,
    );
    // Exactly one owner per channel.
    assert.equal(
      await count(`SELECT count(*) AS n FROM ${s}.channels c WHERE (SELECT count(*) FROM ${s}.channel_members cm WHERE cm.channel_id = c.id AND cm.role = 'owner') <> 1`),
      0,
    );
  });

  test('every id is a ULID whose time part is the row created_at', async () => {
    for (const [table, col] of [
      ['users', 'created_at'],
      ['channels', 'created_at'],
      ['messages', 'created_at'],
      ['reactions', 'created_at'],
      ['files', 'created_at'],
      ['sync_state', 'last_sync'],
    ] as const) {
      const r = await client.query<{ id: string; ms: string }>(`SELECT id, (extract(epoch FROM ${col}) * 1000)::bigint AS ms FROM seed_a.${table}`);
      assert.ok(r.rows.length > 0, table);
      for (const row of r.rows) {
        assert.match(row.id, ULID_PATTERN, table);
        assert.equal(decodeTime(row.id), Number(row.ms), `${table} ${row.id}`);
      }
    }
  });

  test('soft-deleted users, channels and messages exist, and channels differ wildly in size', async () => {
    for (const t of ['users', 'channels', 'messages']) {
      assert.ok((await count(`SELECT count(*) AS n FROM seed_a.${t} WHERE deleted_at IS NOT NULL`)) > 0, `${t} has soft-deleted rows`);
    }
    const sizes = (await client.query<{ n: string }>(`SELECT count(*) AS n FROM seed_a.messages GROUP BY channel_id ORDER BY 1 DESC`)).rows.map((r) => Number(r.n));
    const median = sizes[Math.floor(sizes.length / 2)]!;
    assert.ok(sizes[0]! >= 5 * median, `largest channel ${sizes[0]} vs median ${median}`);
    const members = (await client.query<{ n: string }>(`SELECT count(*) AS n FROM seed_a.channel_members GROUP BY channel_id ORDER BY 1 DESC`)).rows.map((r) =>
      Number(r.n),
    );
    assert.equal(members[0], SMALL.users, 'general has everyone');
    assert.ok(members[members.length - 1]! < SMALL.users / 5);
  });

  test('message text with newlines and tabs survives COPY', async () => {
    const r = await client.query<{ content: string }>(`SELECT content FROM seed_a.messages WHERE content LIKE '%SELECT id%' LIMIT 1`);
    assert.ok(r.rows[0], 'a multi-line message exists');
    assert.ok(r.rows[0].content.includes('\n\tFROM messages\n'));
  });

  test('the read cursors the trigger would keep are filled, one per member who read something', async () => {
    const s = 'seed_a';
    const n = await count(`SELECT count(*) AS n FROM ${s}.channel_read_cursors`);
    assert.ok(n > 0);
    const wrong = await count(`
      SELECT count(*) AS n FROM ${s}.channel_read_cursors c
       WHERE (c.last_read_at, c.last_read_message_id) IS DISTINCT FROM (
         SELECT (m.created_at, m.id) FROM ${s}.message_reads r JOIN ${s}.messages m ON m.id = r.message_id
          WHERE r.user_id = c.user_id AND m.channel_id = c.channel_id ORDER BY m.created_at DESC, m.id DESC LIMIT 1)`);
    assert.equal(wrong, 0);
    assert.equal(n, await count(`SELECT count(DISTINCT (r.user_id, m.channel_id)) AS n FROM ${s}.message_reads r JOIN ${s}.messages m ON m.id = r.message_id`));
  });

  test('progress is reported as seed:progress events up to 100%', () => {
    const p = events.filter((e): e is Extract<ChatgeniusEvent, { type: 'seed:progress' }> => e.type === 'seed:progress');
    assert.ok(p.length >= 5);
    assert.equal(p.at(-1)!.percent, 100);
    assert.ok(p.some((e) => e.table === 'messages'));
  });

  test('a second seed into the same schema is refused and changes nothing', async () => {
    const before = await count('SELECT count(*) AS n FROM seed_a.messages');
    await assert.rejects(seedDatabase(client, { ...SMALL, seed: 'again', schema: 'seed_a' }), { code: 'SEED_NOT_EMPTY' });
    assert.equal(await count('SELECT count(*) AS n FROM seed_a.messages'), before);
  });

  test('a library caller passing a hostile schema name is refused before any SQL runs', async () => {
    const statements: string[] = [];
    const spy = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === 'query')
          return (q: unknown, ...rest: unknown[]) => {
            statements.push(String(q));
            return target.query(q as string, ...(rest as []));
          };
        return Reflect.get(target, prop, receiver);
      },
    });
    await assert.rejects(seedDatabase(spy, { ...SMALL, seed: 'x', schema: 'seed_a"; DROP TABLE seed_a.users; --' }), { code: 'MIGRATION_BAD_SCHEMA' });
    assert.deepEqual(statements, []);
    assert.ok((await count('SELECT count(*) AS n FROM seed_a.users')) > 0);
  });

  test('seeding a schema without the tables says to run init first', async () => {
    await assert.rejects(seedDatabase(client, { ...SMALL, seed: 'x', schema: 'nothing_here' }), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'SEED_SCHEMA_MISSING');
      assert.match(e.message ?? '', /init/);
      return true;
    });
  });
});

describe('notifications during the bulk load', () => {
  const CHANNELS = ['messages', 'reactions', 'channel_members', 'channels', 'user_status', 'message_reads'].map((t) => `chatgenius_${t}`);

  async function listener(): Promise<{ got: Array<{ channel: string; payload?: string }>; close(): Promise<void> }> {
    const l = await db.client();
    const got: Array<{ channel: string; payload?: string }> = [];
    l.on('notification', (n) => got.push({ channel: n.channel, ...(n.payload !== undefined ? { payload: n.payload } : {}) }));
    for (const ch of [...CHANNELS, SEED_CHANNEL]) await l.query(`LISTEN ${ch}`);
    return { got, close: () => l.end() };
  }
  /** Wait (polling, up to 10 s) until `n` notifications arrived, then 300 ms more for any extra one. */
  const settle = async (got: unknown[], n: number) => {
    for (let i = 0; i < 500 && got.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
  };

  test('a superuser seed sends one summary NOTIFY, not one per row; the triggers work again after', async () => {
    await applied('quiet_su');
    const l = await listener();
    try {
      const res = await seedDatabase(client, { users: 50, channels: 8, messages: 2000, seed: 'n', schema: 'quiet_su' });
      await settle(l.got, 1);
      assert.equal(res.triggerMode, 'replica');
      assert.deepEqual(
        l.got.map((g) => g.channel),
        [SEED_CHANNEL],
      );
      assert.equal(JSON.parse(l.got[0]!.payload!).counts.messages, 2000);
      // The session is back to normal: an ordinary insert notifies.
      const ch = await client.query<{ id: string; user_id: string }>(`SELECT channel_id AS id, user_id FROM quiet_su.channel_members LIMIT 1`);
      await client.query(`INSERT INTO quiet_su.messages (channel_id, user_id, content) VALUES ($1, $2, 'hello')`, [ch.rows[0]!.id, ch.rows[0]!.user_id]);
      await settle(l.got, 2);
      assert.deepEqual(
        l.got.map((g) => g.channel),
        [SEED_CHANNEL, 'chatgenius_messages'],
      );
    } finally {
      await l.close();
    }
  });

  test("the tables' owner without superuser disables the triggers by name for the load and re-enables them", async () => {
    await applied('quiet_owner');
    await client.query(`CREATE ROLE seed_owner LOGIN PASSWORD 'owner-pw'`);
    await client.query(`GRANT USAGE ON SCHEMA public TO seed_owner; ALTER SCHEMA quiet_owner OWNER TO seed_owner`);
    const tables = await client.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'quiet_owner'`);
    for (const { t } of tables.rows) await client.query(`ALTER TABLE quiet_owner.${t} OWNER TO seed_owner`);
    const before = await client.query<{ name: string; enabled: string }>(
      `SELECT tgname AS name, tgenabled AS enabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'quiet_owner' AND NOT tgisinternal ORDER BY 1`,
    );
    const { default: pgLib } = await import('pg');
    const owner = new pgLib.Client({ connectionString: db.urlFor(db.database, 'seed_owner', 'owner-pw') });
    await owner.connect();
    const l = await listener();
    try {
      const res = await seedDatabase(owner, { users: 50, channels: 8, messages: 2000, seed: 'n', schema: 'quiet_owner' });
      await settle(l.got, 1);
      assert.equal(res.triggerMode, 'disabled');
      assert.ok(res.triggersDisabled.includes('messages.messages_notify'), res.triggersDisabled.join(','));
      assert.deepEqual(
        l.got.map((g) => g.channel),
        [SEED_CHANNEL],
      );
      assert.ok(res.derived.includes('channel_read_cursors'));
      const afterRows = await client.query<{ name: string; enabled: string }>(
        `SELECT tgname AS name, tgenabled AS enabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'quiet_owner' AND NOT tgisinternal ORDER BY 1`,
      );
      assert.deepEqual(afterRows.rows, before.rows);
      assert.ok(before.rows.length >= 6 && before.rows.every((r) => r.enabled === 'O'));
      // Foreign keys were checked by the database on this path, and hold.
      assert.equal(await count(`SELECT count(*) AS n FROM quiet_owner.messages`), 2000);
    } finally {
      await l.close();
      await owner.end();
    }
  });
});

describe('the default size', () => {
  test('loads in a few seconds', async () => {
    await applied('default_size');
    const res = await seedDatabase(client, { ...DEFAULT_SIZE, seed: 'chatgenius', schema: 'default_size' });
    console.log(`# default size: ${res.totalRows} rows in ${res.loadMs} ms (${res.rowsPerSec} rows/s), VACUUM ANALYZE ${res.analyzeMs} ms`);
    assert.equal(res.counts.messages, DEFAULT_SIZE.messages);
    assert.ok(res.loadMs < 20_000, `took ${res.loadMs} ms`);
  });
});

describe('the seed command', () => {
  const env = () => ({ DATABASE_URL: db.url, CHATGENIUS_ENV: undefined });
  const usersIn = (schema: string) => count(`SELECT count(*) AS n FROM ${schema}.users`);

  test('production is refused without --force, and without the matching --confirm-database; nothing is written', async () => {
    await applied('prod');
    const base = ['seed', '--env', 'production', '--schema', 'prod', '--users', '20', '--channels', '3', '--messages', '200', '--no-tunnel'];
    const noForce = await runCli([...base, '--yes'], { env: env() });
    assert.equal(noForce.code, 2, noForce.stderr);
    assert.match(noForce.stderr, /SEED_PRODUCTION_REFUSED/);
    assert.match(noForce.stderr, /--force/);
    const noConfirm = await runCli([...base, '--yes', '--force'], { env: env() });
    assert.equal(noConfirm.code, 2, noConfirm.stderr);
    assert.match(noConfirm.stderr, /--confirm-database/);
    const wrong = await runCli([...base, '--yes', '--force', '--confirm-database', 'not_it'], { env: env() });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.equal(await usersIn('prod'), 0);
    const ok = await runCli([...base, '--yes', '--force', '--confirm-database', db.database], { env: env() });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(await usersIn('prod'), 20);
  });

  test('seed --json prints the rows loaded and their rate, and refuses a schema that init never touched', async () => {
    await applied('cli_dev');
    const r = await runCli(['seed', '--env', 'development', '--schema', 'cli_dev', '--users', '30', '--channels', '4', '--messages', '500', '--seed', 's1', '--json'], {
      env: env(),
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((x) => JSON.parse(x) as { event: string; data?: Record<string, unknown> });
    const result = lines.at(-1)!;
    assert.equal(result.event, 'result');
    assert.equal((result.data!.counts as Record<string, number>).messages, 500);
    assert.ok(Number(result.data!.rowsPerSec) > 0);
    assert.ok(
      lines.some((l) => l.event === 'seed_progress'),
      'progress lines in the log',
    );
    assert.match(r.stderr, /rows\/s/);

    const missing = await runCli(['seed', '--env', 'development', '--schema', 'never_applied', '--messages', '10'], { env: env() });
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /SEED_SCHEMA_MISSING/);
    assert.match(missing.stderr, /chatgenius-db init/);
  });

  test('Ctrl-C during a seed rolls everything back and exits 130', async () => {
    await applied('cancel_me');
    const { spawn } = await import('node:child_process');
    const { binPath, repoRoot } = await import('./helpers/cli.js');
    const child = spawn(process.execPath, [binPath, 'seed', '--env', 'development', '--schema', 'cancel_me', '--messages', '400000'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Wait until the load is under way: a COPY into cancel_me.messages has rows in flight on the
    // server (users are copied first, messages stream for seconds). Only then Ctrl-C.
    const copying = async () =>
      count(`SELECT coalesce(max(p.tuples_processed), 0) AS n FROM pg_stat_progress_copy p JOIN pg_class c ON c.oid = p.relid
             JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'cancel_me' AND c.relname = 'messages'`);
    let inFlight = 0;
    for (let i = 0; i < 600 && inFlight === 0 && child.exitCode === null; i++) {
      inFlight = await copying();
      if (inFlight === 0) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(inFlight > 0, `the seed was copying messages before Ctrl-C: ${out}`);
    assert.match(out, /Seeding/);
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, out);
    assert.equal(await usersIn('cancel_me'), 0);
    assert.equal(await count('SELECT count(*) AS n FROM cancel_me.messages'), 0);
    assert.doesNotMatch(out, /Seeded/);
    // Nothing half-done is left holding locks: the next seed goes through.
    const again = await runCli(['seed', '--env', 'development', '--schema', 'cancel_me', '--users', '10', '--channels', '2', '--messages', '50'], { env: env() });
    assert.equal(again.code, 0, again.stderr);
  });

  test('a bad --messages is a usage error', async () => {
    const r = await runCli(['seed', '--messages', 'lots'], { env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--messages/);
  });
});
