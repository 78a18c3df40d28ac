/**
 * The command line against a real PostgreSQL: `init --env test`, `--json`, `--log-file`,
 * `--dry-run`, rollback and status. Spawns the built binary: run `npm run build` first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { binPath, runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { snapshotCatalog } from '../src/migrate/catalog.js';

const SPEC_TABLES = ['channel_members', 'channels', 'files', 'message_reads', 'messages', 'reactions', 'sync_state', 'user_settings', 'user_status', 'users'];

let pg: TestPostgres;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgdb-cli-init-'));
  pg = await startPostgres();
});

after(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function tablesIn(db: string, schema: string): Promise<string[]> {
  const r = await pg.query<{ t: string }>(
    "select table_name as t from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' order by 1",
    [schema],
    db,
  );
  return r.rows.map((x) => x.t);
}

interface LogLine {
  timestamp: string;
  correlationId: string;
  level: string;
  event: string;
  data?: Record<string, unknown>;
}

function parseLines(text: string): LogLine[] {
  return text
    .trim()
    .split('\n')
    .map((l, i) => {
      try {
        return JSON.parse(l) as LogLine;
      } catch {
        throw new Error(`line ${i + 1} is not JSON: ${l}`);
      }
    });
}

test('init --env test --yes with DATABASE_URL creates schema test with all tables and none in public', async () => {
  const url = await pg.createDatabase('setup_test');
  const r = await runCli(['init', '--env', 'test', '--yes'], { cwd: dir, env: { DATABASE_URL: url } });
  assert.equal(r.code, 0, r.stderr);
  const tables = await tablesIn('setup_test', 'test');
  for (const t of SPEC_TABLES) assert.ok(tables.includes(t), `table ${t} in schema test (got ${tables.join(', ')})`);
  assert.ok(tables.includes('chatgenius_migrations'), 'the journal lives in schema test');
  assert.deepEqual(await tablesIn('setup_test', 'public'), []);
  assert.match(r.stdout, /Applied \d+ migrations to postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/setup_test \(schema test\) in [\d.]+ m?s/);
  assert.ok(!r.stdout.includes(pg.password), 'password masked');

  // Running it again changes nothing.
  const before = await pg.query<{ n: string }>('select count(*) as n from test.chatgenius_migrations', [], 'setup_test');
  const again = await runCli(['init', '--env', 'test', '--yes'], { cwd: dir, env: { DATABASE_URL: url } });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Nothing to do/);
  const after = await pg.query<{ n: string }>('select count(*) as n from test.chatgenius_migrations', [], 'setup_test');
  assert.equal(after.rows[0]!.n, before.rows[0]!.n);
});

test('--json prints only JSON lines on stdout, one schema_migration per migration, and ends with a result line', async () => {
  const url = await pg.createDatabase('json_run');
  const r = await runCli(['init', '--yes', '--json', '--database-url', url], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const lines = parseLines(r.stdout);
  const ids = new Set(lines.map((l) => l.correlationId));
  assert.equal(ids.size, 1, 'one correlationId per run');
  for (const l of lines) {
    assert.ok(!Number.isNaN(Date.parse(l.timestamp)), 'timestamp is a date');
    assert.ok(['debug', 'info', 'warn', 'error'].includes(l.level));
  }
  const done = lines.filter((l) => l.event === 'schema_migration' && l.data?.status === 'done');
  assert.ok(done.length >= 5, `${done.length} schema_migration lines`);
  for (const d of done) {
    assert.match(String(d.data!.version), /^\d{4}$/);
    assert.equal(d.data!.direction, 'up');
    assert.equal(typeof d.data!.durationMs, 'number');
  }
  const last = lines.at(-1)!;
  assert.equal(last.event, 'result');
  assert.equal(last.data!.ok, true);
  assert.equal(last.data!.exitCode, 0);
  assert.equal((last.data!.applied as unknown[]).length, done.length);
  // Human output went to stderr.
  assert.match(r.stderr, /Applied \d+ migrations/);
  assert.ok(!r.stdout.includes(pg.password) && !r.stderr.includes(pg.password));
});

test('--log-file is created mode 0600 and appended to, never truncated; a failed run ends with an error line', async () => {
  const url = await pg.createDatabase('log_run');
  const logFile = join(dir, 'runs.log');
  const first = await runCli(['init', '--yes', '--database-url', url, '--log-file', logFile], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const st = await stat(logFile);
  assert.equal(st.mode & 0o777, 0o600);
  const text1 = await readFile(logFile, 'utf8');
  const lines1 = parseLines(text1);
  assert.equal(lines1.at(-1)!.event, 'result');

  const second = await runCli(['status', '--yes', '--database-url', url, '--log-file', logFile], { cwd: dir });
  assert.equal(second.code, 0, second.stderr);
  const failed = await runCli(['init', '--yes', '--database-url', pg.urlFor('log_run', 'postgres', 'wrong-password'), '--log-file', logFile], { cwd: dir });
  assert.equal(failed.code, 1);
  const text3 = await readFile(logFile, 'utf8');
  assert.ok(text3.startsWith(text1), 'earlier lines kept');
  const lines3 = parseLines(text3);
  assert.equal(new Set(lines3.map((l) => l.correlationId)).size, 3, 'one correlationId per run');
  const last = lines3.at(-1)!;
  assert.equal(last.event, 'result');
  assert.equal(last.level, 'error');
  const err = lines3.find((l) => l.event === 'error' && l.correlationId === last.correlationId);
  assert.ok(err, 'an error line carries the explanation');
  assert.equal(typeof err.data!.title, 'string');
  assert.equal(typeof err.data!.hint, 'string');
  assert.ok(!text3.includes(pg.password) && !text3.includes('wrong-password'), 'no password in the log');
  assert.equal((await stat(logFile)).mode & 0o777, 0o600);
});

test('--dry-run prints the plan and the SQL, and changes nothing (catalog snapshot unchanged)', async () => {
  const url = await pg.createDatabase('dry_run');
  const client = await pg.client('dry_run');
  const before = await snapshotCatalog(client, 'public');
  const r = await runCli(['init', '--yes', '--dry-run', '--database-url', url], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Dry run: would apply \d+ migrations/);
  assert.match(r.stdout, /0002_tables/);
  assert.match(r.stdout, /CREATE TABLE users/);
  assert.match(r.stdout, /Nothing was changed/);
  const after = await snapshotCatalog(client, 'public');
  assert.deepEqual(after, before);
  assert.deepEqual(await tablesIn('dry_run', 'public'), []);

  // A dry run of a schema that does not exist yet does not create it either.
  const r2 = await runCli(['init', '--yes', '--dry-run', '--schema', 'not_yet', '--database-url', url, '--json'], { cwd: dir });
  assert.equal(r2.code, 0, r2.stderr);
  const last = parseLines(r2.stdout).at(-1)!;
  assert.equal(last.data!.dryRun, true);
  assert.ok((last.data!.pending as unknown[]).length >= 5);
  const s = await pg.query<{ n: string }>("select count(*) as n from information_schema.schemata where schema_name = 'not_yet'", [], 'dry_run');
  assert.equal(s.rows[0]!.n, '0');
});

test('rollback --steps 1 then --all returns the schema to empty, status lists them as pending, init re-applies', async () => {
  const url = await pg.createDatabase('roll');
  const env = { DATABASE_URL: url };
  assert.equal((await runCli(['init', '--env', 'test', '--yes'], { cwd: dir, env })).code, 0);
  const one = await runCli(['rollback', '--env', 'test', '--yes', '--steps', '1'], { cwd: dir, env });
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /Rolled back 1 migration /);

  const st = await runCli(['status', '--env', 'test', '--json'], { cwd: dir, env });
  assert.equal(st.code, 0, st.stderr);
  const res = parseLines(st.stdout).at(-1)!;
  assert.equal((res.data!.pending as unknown[]).length, 1);
  assert.match(st.stderr, /pending/);

  const all = await runCli(['rollback', '--env', 'test', '--yes', '--all'], { cwd: dir, env });
  assert.equal(all.code, 0, all.stderr);
  const left = (await tablesIn('roll', 'test')).filter((t) => t !== 'chatgenius_migrations');
  assert.deepEqual(left, []);

  const again = await runCli(['init', '--env', 'test', '--yes'], { cwd: dir, env });
  assert.equal(again.code, 0, again.stderr);
  for (const t of SPEC_TABLES) assert.ok((await tablesIn('roll', 'test')).includes(t));
});

test('production: --confirm-database equal to the target database lets init apply', async () => {
  const url = await pg.createDatabase('prod_ok');
  const r = await runCli(['init', '--env', 'production', '--yes', '--confirm-database', 'prod_ok', '--database-url', url], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.ok((await tablesIn('prod_ok', 'public')).includes('users'));
  // Up to date: no confirmation needed when nothing would change.
  const again = await runCli(['init', '--env', 'production', '--yes', '--database-url', url], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Nothing to do/);
});

test('Ctrl-C while waiting for the migration lock exits 130, releases everything, and applies nothing', async () => {
  const url = await pg.createDatabase('sigint_db');
  const holder = await pg.client('sigint_db');
  // Another run holds the lock of (sigint_db, public).
  await holder.query("select pg_advisory_lock(hashtext(current_database()), hashtext('chatgenius-db:public'))");
  const logFile = join(dir, 'sigint.log');
  const child = spawn(process.execPath, [binPath, 'init', '--yes', '--database-url', url, '--log-file', logFile], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!/Waiting for another migration run/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /Waiting for another migration run to finish \(lock held by pid \d+/);
  const sessions = () =>
    pg.query<{ n: string }>("select count(*) as n from pg_stat_activity where datname = 'sigint_db' and application_name like 'chatgenius-db%'", [], 'postgres');
  assert.equal((await sessions()).rows[0]!.n, '1', 'the waiting run has its session');
  const t0 = Date.now();
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, out + err);
  assert.ok(Date.now() - t0 < 10_000, 'cancelled promptly');
  assert.match(err, /Cancelling: closing connections and releasing the lock/);
  const log = parseLines(await readFile(logFile, 'utf8'));
  assert.equal(log.at(-1)!.event, 'result');
  assert.equal(log.at(-1)!.data!.exitCode, 130);
  // Nothing applied, and the CLI's session is gone (it held nothing after the cancel).
  const j = await pg.query<{ n: string }>("select count(*) as n from information_schema.tables where table_schema = 'public'", [], 'sigint_db');
  assert.equal(j.rows[0]!.n, '0');
  // A backend ends a moment after its client's goodbye: poll (bounded) instead of expecting it at once.
  let left = (await sessions()).rows[0]!.n;
  for (let i = 0; i < 100 && left !== '0'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = (await sessions()).rows[0]!.n;
  }
  assert.equal(left, '0', 'the cancelled run left no session behind');
  await holder.query('select pg_advisory_unlock_all()');
});

async function migrationsDir(name: string, files: Record<string, string>): Promise<string> {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  for (const [f, body] of Object.entries(files)) await writeFile(join(d, f), body);
  return d;
}

test('a constraint violation and a trigger error in migrations are logged as constraint_violation and trigger_error', async () => {
  const url = await pg.createDatabase('log_events');
  const base = {
    '0001_t.up.sql': `CREATE TABLE t (id int PRIMARY KEY, v text);
CREATE FUNCTION t_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.v = 'forbidden' THEN RAISE EXCEPTION 'value % is not allowed', NEW.v; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER t_guard BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION t_guard();
`,
    '0001_t.down.sql': 'DROP TABLE t;\nDROP FUNCTION t_guard();\n',
  };
  const dup = await migrationsDir('mig-dup', {
    ...base,
    '0002_dup.up.sql': "INSERT INTO t VALUES (1, 'a');\nINSERT INTO t VALUES (1, 'b');\n",
    '0002_dup.down.sql': 'DELETE FROM t;\n',
  });
  const trig = await migrationsDir('mig-trig', {
    ...base,
    '0002_trig.up.sql': "INSERT INTO t VALUES (2, 'forbidden');\n",
    '0002_trig.down.sql': 'DELETE FROM t;\n',
  });
  const a = await runCli(['init', '--yes', '--json', '--schema', 'dup', '--database-url', url, '--migrations-dir', dup], { cwd: dir });
  assert.equal(a.code, 1, a.stderr);
  const la = parseLines(a.stdout);
  const cv = la.find((l) => l.event === 'constraint_violation');
  assert.ok(cv, a.stdout);
  assert.equal(cv.level, 'error');
  assert.equal(cv.data!.code, '23505');
  assert.equal(cv.data!.version, '0002');
  assert.match(a.stderr, /0002_dup\.up\.sql:2/);

  const b = await runCli(['init', '--yes', '--json', '--schema', 'trig', '--database-url', url, '--migrations-dir', trig], { cwd: dir });
  assert.equal(b.code, 1, b.stderr);
  const lb = parseLines(b.stdout);
  const te = lb.find((l) => l.event === 'trigger_error');
  assert.ok(te, b.stdout);
  assert.equal(te.data!.code, 'P0001');
  assert.match(String(te.data!.message), /value forbidden is not allowed/);
  assert.equal(lb.at(-1)!.event, 'result');
  assert.equal(lb.at(-1)!.data!.exitCode, 1);
});

test('Ctrl-C ends listen normally: exit 0, a stop message, no "Cancelling ... lock" line', async () => {
  const url = await pg.createDatabase('listen_stop');
  const child = spawn(process.execPath, [binPath, 'listen', 'messages', '--env', 'development', '--database-url', url], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 20_000;
    while (!/Listening on/.test(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /Listening on/);
    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /Stopping: closing the connection/);
    assert.doesNotMatch(out, /Cancelling|releasing the lock/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
