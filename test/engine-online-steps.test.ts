/**
 * Online steps on a populated database (0003 runs one statement at a time).
 *
 * Short lock waits: readers whose queries hold `messages` for 2.5 s each, back to back, while
 * 0003's ALTERs need ACCESS EXCLUSIVE on it. With one 3 s lock_timeout the ALTER would wait out
 * a reader's query and every writer would queue behind it for as long; each attempt now waits at
 * most 800 ms and is retried, so the writers never stall near that long, and the run finishes.
 *
 * A crash between two online steps resumes where it stopped. On an adopted database (rows in it,
 * so 0003 runs one statement at a time) an app transaction holds sync_state: 0003's first
 * statement on sync_state (its 8th) cannot have its lock, and is retried with short attempts.
 * Meanwhile the CLI process is killed (SIGKILL: no cleanup of any kind). The journal then says
 * exactly how far 0003 got (7 of its statements, each recorded in its own transaction); the next
 * run says it resumes at statement 8, and the statements before it did not run again (the
 * constraints they made are the same objects), and it ends with 0003 applied.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { binPath, runCli } from './helpers/cli.js';
import { SPEC_SCRIPT } from './helpers/catalog.js';
import { sqlDir } from './helpers/schema.js';
import { startWriters, ulid } from './helpers/app-traffic.js';
import { splitStatements } from '../src/migrate/sql-text.js';
import { stepAttempts } from '../src/migrate/online-steps.js';

let db: TestPostgres;
let dir: string;
before(async () => {
  db = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'cgdb-resume-'));
});
after(async () => {
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const args = (url: string, more: string[]) => [...more, '--env', 'development', '--yes', '--database-url', url];
const env = () => ({ PATH: process.env.PATH, HOME: dir, CI: 'true', NO_COLOR: '1' });

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ULID_CHECKS = ['users_id_ulid_check', 'channels_id_ulid_check', 'messages_id_ulid_check', 'reactions_id_ulid_check', 'files_id_ulid_check'];
const constraintOids = (c: pg.Client) =>
  c
    .query<{ conname: string; oid: number }>(`SELECT conname, oid::int AS oid FROM pg_constraint WHERE conname = ANY($1) ORDER BY conname`, [ULID_CHECKS])
    .then((r) => r.rows);

test('a run of 0003 killed between two statements on a populated database resumes at the next statement, and ran the earlier ones once', async () => {
  const url = await db.createDatabase();
  await withClient(url, async (c) => {
    await c.query(SPEC_SCRIPT);
    const users = Array.from({ length: 20 }, () => ulid());
    await c.query(`INSERT INTO users (id, auth0_id, email, username) SELECT u, 'auth0|' || u, lower(u) || '@x.io', 'user ' || u FROM unnest($1::text[]) u`, [users]);
  });
  const b = await runCli(args(url, ['baseline', '--to', '0002']), { cwd: dir, env: env() });
  assert.equal(b.code, 0, b.stdout + b.stderr);

  const statements = splitStatements(readFileSync(join(sqlDir, '0003_integrity.up.sql'), 'utf8'));
  const blocked = statements.findIndex((s) => /ALTER TABLE sync_state/.test(s.text));
  assert.equal(blocked, 7, "0003's 8th statement is its first on sync_state");

  // The app holds sync_state (a long transaction that read it).
  const holder = new pg.Client({ connectionString: url, application_name: 'app-report' });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT count(*) FROM sync_state');

  const child = spawn(process.execPath, [binPath, ...args(url, ['init', '--lock-wait', '60s'])], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_code, signal) => r(signal)));
  try {
    // 0003 recorded its 7 statements and retries the 8th: kill the process there.
    await until('0003 to record 7 statements and retry the 8th', async () => {
      const r = await withClient(url, (c) =>
        c.query(`SELECT steps_done FROM chatgenius_migrations WHERE version = '0003'`).catch(() => ({ rows: [] as Array<{ steps_done: number }> })),
      );
      return r.rows[0]?.steps_done === blocked && /Retrying in/.test(out) ? true : undefined;
    });
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    // The server goes on with a statement it received until it next talks to the client: the
    // killed run's session ends when its lock wait does (its attempt fails, the reply finds no
    // one). Released before that, the lock would let the 8th statement commit, with its progress.
    await until('the killed run to leave no session behind', async () => {
      const r = await withClient(url, (c) => c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'chatgenius-db'`));
      return r.rows[0].n === 0 ? true : undefined;
    });
  } finally {
    child.kill('SIGKILL');
    await holder.query('ROLLBACK');
    await holder.end();
  }

  // The journal says exactly how far it got.
  const row = await withClient(url, (c) => c.query(`SELECT status, steps_done, error_message FROM chatgenius_migrations WHERE version = '0003'`));
  assert.equal(row.rows[0].status, 'failed', '0003 is not applied');
  assert.equal(row.rows[0].steps_done, 7);
  assert.match(row.rows[0].error_message, new RegExp(`7 of ${statements.length} statements done.*resumes at statement 8`));
  const before = await withClient(url, constraintOids);
  assert.equal(before.length, ULID_CHECKS.length, 'statements 3-7 made their constraints');

  // Again: it resumes at statement 8, and ends applied.
  const again = await runCli(args(url, ['init']), { cwd: dir, env: env(), timeoutMs: 120_000 });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout + again.stderr, new RegExp(`A previous run stopped in 0003_integrity \\(not finished: 7 of ${statements.length} statements done`));
  assert.match(again.stdout + again.stderr, new RegExp(`0003_integrity\\.up\\.sql: resuming at statement 8 of ${statements.length} \\(line ${statements[7]!.line}\\)`));
  const after = await withClient(url, constraintOids);
  assert.deepEqual(after, before, 'the constraints of statements 3-7 were not dropped and made again');
  const done = await withClient(url, (c) => c.query(`SELECT version, status, steps_done FROM chatgenius_migrations ORDER BY version`));
  assert.ok(
    done.rows.every((r) => r.status === 'applied' && r.steps_done === null),
    'every migration applied; no progress left behind',
  );
  const notValid = await withClient(url, (c) => c.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE NOT convalidated AND connamespace = 'public'::regnamespace`));
  assert.equal(notValid.rows[0].n, 0, 'every constraint validated');
});

test('a strong lock is tried with short waits, doubling to a cap, within the budget; the online forms keep the run lock_timeout', () => {
  const [alter, validate, cic] = splitStatements(
    'ALTER TABLE messages ADD CONSTRAINT c CHECK (true) NOT VALID;\nALTER TABLE messages VALIDATE CONSTRAINT c;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON messages (id);',
  );
  const runDelays = (t: number, budget: number) => (budget >= t + 250 + t ? [250] : []);
  const short = stepAttempts(alter!, 3000, 10_000, runDelays, () => 0.5);
  assert.deepEqual(short.timeoutsMs.slice(0, 5), [200, 400, 800, 800, 800], 'short first, doubling, capped below the run lock_timeout');
  assert.equal(short.timeoutsMs.length, short.delaysMs.length + 1);
  const spent = short.timeoutsMs.reduce((a, b) => a + b, 0) + short.delaysMs.reduce((a, b) => a + b, 0);
  assert.ok(spent <= 10_000, `attempts and pauses fit the budget (${spent} ms)`);
  assert.ok(short.delaysMs.every((d) => d <= 2000));
  assert.deepEqual(stepAttempts(alter!, 150, 10_000, runDelays).timeoutsMs.slice(0, 2), [150, 150], 'never more than --lock-timeout');
  for (const s of [validate!, cic!]) assert.deepEqual(stepAttempts(s, 3000, 10_000, runDelays), { timeoutsMs: [3000, 3000], delaysMs: [250] });
  assert.deepEqual(stepAttempts(alter!, 0, 10_000, runDelays).timeoutsMs[0], 0, '--lock-timeout 0 (no limit) is kept');
});

test('readers holding messages 2.5 s at a time: 0003 takes its locks in short, retried attempts; writers never stall 1.5 s; the run finishes', async () => {
  const url = await db.createDatabase();
  const users = Array.from({ length: 20 }, () => ulid());
  const channels = Array.from({ length: 5 }, () => ulid());
  await withClient(url, async (c) => {
    await c.query(SPEC_SCRIPT);
    await c.query(`INSERT INTO users (id, auth0_id, email, username) SELECT u, 'auth0|' || u, lower(u) || '@x.io', 'user ' || u FROM unnest($1::text[]) u`, [users]);
    await c.query(`INSERT INTO channels (id, name) SELECT ch, 'channel ' || ch FROM unnest($1::text[]) ch`, [channels]);
  });
  const b = await runCli(args(url, ['baseline', '--to', '0002']), { cwd: dir, env: env() });
  assert.equal(b.code, 0, b.stdout + b.stderr);

  // Four readers, each query holding messages (ACCESS SHARE) for 2.5 s, back to back.
  let reading = true;
  const readers = await Promise.all(
    Array.from({ length: 4 }, async (_, i) => {
      const c = new pg.Client({ connectionString: url, application_name: `slow-reader-${i}` });
      await c.connect();
      return c;
    }),
  );
  const readerErrors: string[] = [];
  const loops = readers.map(async (c, i) => {
    await new Promise((r) => setTimeout(r, i * 600));
    while (reading) await c.query('SELECT pg_sleep(2.5), (SELECT count(*) FROM messages)').catch((e: Error) => readerErrors.push(e.message));
  });
  const writers = await startWriters(url, 10, users, channels);
  let init: Awaited<ReturnType<typeof runCli>>;
  let during: number[];
  try {
    await new Promise((r) => setTimeout(r, 3000));
    writers.period();
    init = await runCli(args(url, ['init']), { cwd: dir, env: env(), timeoutMs: 150_000 });
    during = writers.period();
  } finally {
    reading = false;
    await Promise.all(loops);
    await Promise.all(readers.map((c) => c.end()));
  }
  const res = await writers.stop();
  const out = init.stdout + init.stderr;
  console.log(`# writers' longest operation during init: ${Math.max(...during)} ms; ${(out.match(/Retrying in/g) ?? []).length} retries; ${res.writes} writes`);
  assert.equal(init.code, 0, out);
  assert.deepEqual(res.errors, [], 'no writer error');
  assert.deepEqual(readerErrors, [], 'no reader error');
  assert.match(out, /0003_integrity\.up\.sql: a table lock was not granted within lock_timeout \(200 ms\) failed \(55P03\): rolled back/, 'a short attempt, retried');
  assert.doesNotMatch(
    out,
    /0003_integrity\.up\.sql: a table lock was not granted within lock_timeout \((?!200 ms|400 ms|800 ms)/,
    'no attempt of 0003 waited longer than 800 ms',
  );
  assert.ok(Math.max(...during) < 1500, `writers' longest operation during init ${Math.max(...during)} ms, not a reader's 2.5 s`);
});
