/**
 * The guided rollback (the wizard through clack's streams, a real PostgreSQL): pick how far back,
 * see the down files and the tables dropped with their row counts, confirm, run. Plus the
 * guided init of env local by pressing Enter on every default (in-process, temp state dir).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { KEY, streamTerminal, type StreamTerminal } from './helpers/pty.js';
import type { CommandContext, Flags } from '../src/cli/command.js';
import { reporterFor } from '../src/cli/output/reporter.js';
import { droppedTables } from '../src/cli/wizard/rollback.js';
import { SQL_MIGRATION_COUNT } from './helpers/schema.js';

let db: TestPostgres;
let root: string;
let migrations: string;

before(async () => {
  db = await startPostgres();
  root = await mkdtemp(join(tmpdir(), 'cgdb-wizard-rb-'));
  migrations = join(root, 'sql');
  await mkdir(migrations);
  const files: Record<string, string> = {
    '0001_teams.up.sql': 'CREATE TABLE teams (id int PRIMARY KEY);',
    '0001_teams.down.sql': 'DROP TABLE teams;',
    '0002_rooms.up.sql': 'CREATE TABLE rooms (id int PRIMARY KEY, team int REFERENCES teams);',
    '0002_rooms.down.sql': '-- the rooms go\nDROP TABLE IF EXISTS rooms CASCADE;',
    '0003_posts.up.sql': 'CREATE TABLE posts (id int PRIMARY KEY);\nCREATE TABLE "Likes" (id int);',
    '0003_posts.down.sql': 'DROP TABLE posts, "Likes";',
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(migrations, name), text);
});

after(async () => {
  await db?.stop();
  await rm(root, { recursive: true, force: true });
});

async function startWizard(kind: 'init' | 'rollback', o: { env?: Record<string, string | undefined>; flags?: Flags; cwd: string }) {
  const term: StreamTerminal = streamTerminal();
  const env: NodeJS.ProcessEnv = { HOME: o.cwd, PATH: process.env.PATH, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(o.env ?? {})) if (v !== undefined) env[k] = v;
  const ctx: CommandContext = {
    flags: o.flags ?? {},
    positionals: [],
    env,
    cwd: o.cwd,
    io: { stdin: term.stdin, stdout: term.stdout, stderr: term.stdout },
    interactive: true,
    signal: new AbortController().signal,
  };
  const mod = await import('../src/cli/wizard/init.js');
  const done = (kind === 'init' ? mod.initWizard(ctx) : mod.rollbackWizard(ctx)).catch((e: unknown) => reporterFor(ctx).fail(e));
  return { term, done };
}

describe('guided rollback', () => {
  test('droppedTables reads DROP TABLE lists, IF EXISTS, quoted names and comments', () => {
    assert.deepEqual(droppedTables('-- DROP TABLE nope;\nDROP TABLE IF EXISTS a, s.b CASCADE;\nDROP TABLE "Mixed""Q";'), ['a', 'b', 'Mixed"Q']);
    assert.deepEqual(droppedTables('DROP INDEX x; DROP FUNCTION f();'), []);
  });

  test('rolling back two steps shows the down files and the rows that will be lost, then runs them', { timeout: 60_000 }, async () => {
    const url = await db.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const cwd = await mkdtemp(join(root, 'cwd-'));
    const env = { DATABASE_URL: url, CHATGENIUS_MAX_RETRIES: '1' };
    // Apply the three migrations with the non-interactive path, then add data.
    const init = await startWizard('init', { cwd, env, flags: { env: 'development', 'migrations-dir': migrations } });
    for (const prompt of ['PostgreSQL host', 'PostgreSQL port', 'Database name', 'User', 'Password', 'behind an SSH bastion']) {
      await init.term.waitFor(prompt);
      init.term.send(KEY.enter);
    }
    await init.term.waitFor('Apply 3 migrations?');
    init.term.send(KEY.enter);
    await init.term.waitFor('Save these settings');
    init.term.send('n');
    assert.equal(await init.done, 0, init.term.text());
    await db.query(
      'INSERT INTO teams VALUES (1), (2); INSERT INTO rooms VALUES (1, 1), (2, 1); INSERT INTO posts SELECT g FROM generate_series(1, 3) g; INSERT INTO "Likes" VALUES (1);',
      [],
      database,
    );

    const w = await startWizard('rollback', { cwd, env, flags: { env: 'development', 'migrations-dir': migrations } });
    const { term } = w;
    for (const prompt of ['PostgreSQL host', 'PostgreSQL port', 'Database name', 'User', 'Password', 'behind an SSH bastion']) {
      await term.waitFor(prompt);
      term.send(KEY.enter);
    }
    await term.waitFor(/Roll back down to and including which migration\?[\s\S]*0003_posts[\s\S]*0002_rooms[\s\S]*0001_teams/);
    term.send(KEY.down);
    term.send(KEY.enter);
    const preview = await term.waitFor(/Down files, in this order:[\s\S]*Tables dropped[\s\S]*rows in all\):[\s\S]*rooms\s+2 rows/, 30_000);
    assert.match(preview, /0003_posts\.down\.sql[\s\S]*0002_rooms\.down\.sql/);
    assert.match(preview, /posts\s+3 rows/);
    assert.match(preview, /Likes\s+1 row\b/);
    assert.match(preview, /6 rows in all/);
    assert.doesNotMatch(preview, /teams/, 'teams stays');
    await term.waitFor('Roll back 2 migrations?');
    term.send('y');
    const code = await w.done;
    const screen = term.text();
    assert.equal(code, 0, screen);
    const left = await db.query<{ t: string | null }>(
      `SELECT to_regclass('public.teams')::text AS t UNION ALL SELECT to_regclass('public.rooms')::text UNION ALL SELECT to_regclass('public.posts')::text`,
      [],
      database,
    );
    assert.deepEqual(
      left.rows.map((r) => r.t),
      ['teams', null, null],
    );
    assert.match(
      screen,
      new RegExp(
        `npx chatgenius-db rollback --steps 2 --env development --database-url postgres://postgres@127\\.0\\.0\\.1:${db.port}/${database} --no-tunnel --migrations-dir ${migrations.replace(/[.]/g, '\\.')} --yes`,
      ),
    );
    await rm(cwd, { recursive: true, force: true });
  });

  test('answering No at the rollback confirmation changes nothing (exit 130)', { timeout: 60_000 }, async () => {
    const url = await db.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const cwd = await mkdtemp(join(root, 'cwd-'));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { migrate } = await import('../src/migrate/index.js');
    const r = await migrate(client, { schema: 'public', migrationsDir: migrations, lockTimeoutMs: 0, statementTimeoutMs: 0 });
    await client.end();
    assert.equal(r.ok, true);
    const w = await startWizard('rollback', { cwd, env: { DATABASE_URL: url }, flags: { env: 'development', 'migrations-dir': migrations } });
    for (const prompt of ['PostgreSQL host', 'PostgreSQL port', 'Database name', 'User', 'Password', 'behind an SSH bastion', 'which migration?']) {
      await w.term.waitFor(prompt);
      w.term.send(KEY.enter);
    }
    await w.term.waitFor(/posts\s+0 rows/);
    await w.term.waitFor('Roll back 1 migration?');
    w.term.send(KEY.enter); // the default is No for a destructive change
    assert.equal(await w.done, 130, w.term.text());
    const t = await db.query<{ t: string | null }>(`SELECT to_regclass('public.posts')::text AS t`, [], database);
    assert.equal(t.rows[0]!.t, 'posts');
    await rm(cwd, { recursive: true, force: true });
  });
});

describe('guided init, env local', () => {
  test('init local by pressing Enter on every default starts the embedded server and applies every migration', { timeout: 100_000 }, async () => {
    const cwd = await mkdtemp(join(root, 'local-'));
    const { stopLocalServer, ensureLocalServer } = await import('../src/local/index.js');
    try {
      const w = await startWizard('init', { cwd });
      await w.term.waitFor(/Which environment\?[\s\S]*local[^\n]*detected/);
      w.term.send(KEY.enter);
      await w.term.waitFor(/Apply \d+ migrations\?/, 90_000);
      w.term.send(KEY.enter);
      const code = await w.done;
      const screen = w.term.text();
      assert.equal(code, 0, screen);
      assert.doesNotMatch(screen, /Save these settings/, 'nothing to save for local');
      assert.match(screen, /npx chatgenius-db init --env local --yes/);
      const conn = await ensureLocalServer(join(cwd, '.chatgenius'));
      const client = new pg.Client({ host: conn.host, port: conn.port, user: conn.user, password: conn.password, database: conn.database });
      await client.connect();
      const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM public.chatgenius_migrations WHERE status = 'applied'`);
      await client.end();
      assert.equal(Number(r.rows[0]!.n), SQL_MIGRATION_COUNT);
    } finally {
      await stopLocalServer(join(cwd, '.chatgenius')).catch(() => {});
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
