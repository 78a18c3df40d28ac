/**
 * Progress you can trust, driving the built binary against a real PostgreSQL: each migration is
 * printed and logged the moment its COMMIT is through (a run killed mid-batch has already said
 * what committed), Ctrl-C says exactly what committed and what was rolled back, and a syntax
 * error in the last file is found before anything connects.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';

let pg: TestPostgres;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgdb-progress-'));
  pg = await startPostgres();
});

after(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };

/** 0001 and 0002 are quick, 0003 sleeps (the window to kill or cancel in), 0004 is quick. */
async function slowSet(name: string): Promise<string> {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  const files: Record<string, string> = {
    '0001_alpha.up.sql': 'CREATE TABLE alpha (id int PRIMARY KEY);\n',
    '0001_alpha.down.sql': 'DROP TABLE alpha;\n',
    '0002_beta.up.sql': 'CREATE TABLE beta (id int PRIMARY KEY);\n',
    '0002_beta.down.sql': 'DROP TABLE beta;\n',
    '0003_slow.up.sql': 'CREATE TABLE slow (id int PRIMARY KEY);\nSELECT pg_sleep(30);\n',
    '0003_slow.down.sql': 'DROP TABLE slow;\n',
    '0004_delta.up.sql': 'CREATE TABLE delta (id int PRIMARY KEY);\n',
    '0004_delta.down.sql': 'DROP TABLE delta;\n',
  };
  for (const [f, body] of Object.entries(files)) await writeFile(join(d, f), body);
  return d;
}

interface Running {
  child: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Running {
  const child = spawn(process.execPath, [binPath, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, exited };
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function applied(db: string): Promise<string[]> {
  const r = await pg.query<{ version: string }>("SELECT version FROM public.chatgenius_migrations WHERE status = 'applied' ORDER BY version", [], db);
  return r.rows.map((x) => x.version);
}

/** 0003's pg_sleep is running on the server (so 0001 and 0002 have committed, in the same batch). */
async function sleeping(db: string): Promise<boolean> {
  const r = await pg.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()",
    [db],
    'postgres',
  );
  return r.rows[0]!.n !== '0';
}

interface LogLine {
  level: string;
  event: string;
  data?: Record<string, unknown>;
}
const logLines = async (f: string): Promise<LogLine[]> =>
  (await readFile(f, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LogLine);
const doneInLog = (lines: LogLine[]) => lines.filter((l) => l.event === 'schema_migration' && l.data?.status === 'done').map((l) => l.data!.version);

test('a run killed with SIGKILL mid-batch has already printed and logged every migration that committed', async () => {
  const url = await pg.createDatabase('progress_kill');
  const d = await slowSet('kill');
  const logFile = join(dir, 'kill.log');
  const run = start(['init', '--env', 'development', '--yes', '--database-url', url, '--migrations-dir', d, '--log-file', logFile]);
  await until('0003 sleeping on the server', () => sleeping('progress_kill'));
  // The batch is still running on the server: nothing has returned to the client yet.
  run.child.kill('SIGKILL');
  const ex = await run.exited;
  assert.equal(ex.signal, 'SIGKILL');
  const committed = await applied('progress_kill');
  assert.deepEqual(committed, ['0001', '0002'], 'the database: 0001 and 0002 committed, 0003 not');
  // Every committed migration was already on the terminal and in the log file when the kill came.
  for (const v of committed) assert.match(run.out(), new RegExp(`${v}_\\w+ \\d+ ms`), run.out());
  assert.doesNotMatch(run.out(), /0003_slow \d+ ms/);
  assert.deepEqual(doneInLog(await logLines(logFile)), committed);
});

test('Ctrl-C after some commits reports exactly those, says 0003 was rolled back, exits 130; running again finishes', async () => {
  const url = await pg.createDatabase('progress_int');
  const d = await slowSet('int');
  const logFile = join(dir, 'int.log');
  const args = ['init', '--env', 'development', '--yes', '--database-url', url, '--migrations-dir', d, '--log-file', logFile];
  const run = start(args);
  await until('0003 sleeping on the server', () => sleeping('progress_int'));
  const t0 = Date.now();
  run.child.kill('SIGINT');
  const ex = await run.exited;
  assert.equal(ex.code, 130, run.out());
  assert.ok(Date.now() - t0 < 5000, `stopped ${Date.now() - t0} ms after Ctrl-C (0003 sleeps 30 s)`);
  assert.deepEqual(await applied('progress_int'), ['0001', '0002']);
  const out = run.out();
  assert.match(out, /Cancelled after applying 0001_alpha, 0002_beta \(committed\)/, out);
  assert.match(out, /0003_slow was rolled back: nothing of it is applied/, out);
  assert.match(out, /run the same command again to finish/, out);
  assert.doesNotMatch(out, /nothing changed/i);
  const lines = await logLines(logFile);
  assert.deepEqual(doneInLog(lines), ['0001', '0002']);
  const cancelled = lines.find((l) => l.event === 'cancelled')!;
  assert.deepEqual(cancelled.data!.committed, ['0001', '0002']);
  assert.equal(cancelled.data!.rolledBack, '0003');
  assert.equal(lines.at(-1)!.event, 'result');
  assert.equal(lines.at(-1)!.data!.exitCode, 130);
  // The lock was released and the session is gone: the same command finishes the job at once.
  await writeFile(join(d, '0003_slow.up.sql'), 'CREATE TABLE slow (id int PRIMARY KEY);\n');
  const again = await runCli(args, { cwd: dir, env });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual(await applied('progress_int'), ['0001', '0002', '0003', '0004']);
});

test('a connection lost mid-batch: the committed ones were printed, the cut-off one is named as rolled back, run again to finish', async () => {
  const url = await pg.createDatabase('progress_lost');
  const d = await slowSet('lost');
  const run = start(['init', '--env', 'development', '--yes', '--database-url', url, '--migrations-dir', d]);
  await until('0003 sleeping on the server', () => sleeping('progress_lost'));
  await pg.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'progress_lost' AND wait_event = 'PgSleep'", [], 'postgres');
  const ex = await run.exited;
  assert.equal(ex.code, 1, run.out());
  const out = run.out();
  assert.match(out, /0001_alpha \d+ ms[\s\S]*0002_beta \d+ ms/, out);
  assert.match(out, /2 migrations applied before the failure \(committed\)/, out);
  assert.match(out, /Connection lost during a migration \(DB_CONNECTION_LOST\)/, out);
  assert.match(out, /nothing of 0003_slow is applied/, out);
  assert.match(out, /run the same command again to finish/, out);
  assert.doesNotMatch(out, /Fix the statement/);
  assert.deepEqual(await applied('progress_lost'), ['0001', '0002']);
});

test('a syntax error in the last pending file is reported with file:line:column before any connection is made', async () => {
  const d = join(dir, 'broken');
  await mkdir(d, { recursive: true });
  await writeFile(join(d, '0001_ok.up.sql'), 'CREATE TABLE ok (id int PRIMARY KEY);\n');
  await writeFile(join(d, '0001_ok.down.sql'), 'DROP TABLE ok;\n');
  await writeFile(join(d, '0002_broken.up.sql'), '-- the last file\nCREATE TABLE broken (\n  id int PRIMARY KEY,,\n  name text\n);\n');
  await writeFile(join(d, '0002_broken.down.sql'), 'DROP TABLE broken;\n');
  // A "database" that counts who connects to it.
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const r = await runCli(['init', '--env', 'development', '--yes', '--database-url', `postgres://me:secret@127.0.0.1:${port}/app`, '--migrations-dir', d], {
      cwd: dir,
      env,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /0002_broken\.up\.sql:3:22/);
    assert.match(r.stderr, /syntax error at or near ","/);
    assert.match(r.stderr, /> 3 \|   id int PRIMARY KEY,,\n\s+\|\s+\^/);
    assert.match(r.stderr, /before connecting: nothing was sent/);
    assert.equal(connections, 0, 'nothing connected to the database');
  } finally {
    await new Promise((r) => server.close(r));
  }
  // Against a real database: the valid 0001 is not applied either (all or nothing, on purpose).
  const url = await pg.createDatabase('progress_syntax');
  const real = await runCli(['init', '--env', 'development', '--yes', '--database-url', url, '--migrations-dir', d], { cwd: dir, env });
  assert.equal(real.code, 1);
  const t = await pg.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'", [], 'progress_syntax');
  assert.equal(t.rows[0]!.n, '0', 'no table, not even the journal');
});
