/**
 * Production is live: the app keeps writing while migrations run. Real writers (20 pg clients in
 * this process, each inserting messages and read receipts in a loop, as the app does) and the
 * real CLI binary:
 *  - rollback and re-apply of every migration that touches a written table: no writer error
 *    (no deadlock: the down files lock children before parents), and the writers kept writing;
 *  - a session that holds `messages` past the run's lock budget: the run fails once, says it
 *    retried, names that session and how to end it; meanwhile the writers never stalled longer
 *    than about one lock_timeout at a time; no advisory lock is left behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { runCli } from './helpers/cli.js';
import { startWriters, ulid, type Writers } from './helpers/app-traffic.js';

let db: TestPostgres;
let dir: string;
before(async () => {
  db = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'cgdb-live-'));
});
after(async () => {
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (url: string, args: string[]) =>
  runCli([...args, '--env', 'development', '--yes', '--database-url', url], { cwd: dir, env: { HOME: dir, CI: 'true' }, timeoutMs: 120_000 });

async function prepare(url: string): Promise<{ users: string[]; channels: string[] }> {
  const r = await cli(url, ['init']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const users = Array.from({ length: 5 }, () => ulid());
  const channels = Array.from({ length: 3 }, () => ulid());
  for (const [i, u] of users.entries()) await c.query(`INSERT INTO users (id, auth0_id, email, username) VALUES ($1, $2, $3, 'u')`, [u, `auth0|${i}`, `u${i}@x.io`]);
  for (const ch of channels) await c.query(`INSERT INTO channels (id, name) VALUES ($1, 'general')`, [ch]);
  await c.end();
  return { users, channels };
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(sql)).rows;
  } finally {
    await c.end();
  }
}

test('20 writers insert messages during rollback and re-apply of every migration that touches their tables: no writer error', async () => {
  const url = await db.createDatabase();
  const { users, channels } = await prepare(url);
  const writers = await startWriters(url, 20, users, channels);
  const log: string[] = [];
  try {
    await new Promise((r) => setTimeout(r, 300));
    // One migration at a time, back to the spec's tables, each re-applied at once; then all of them.
    for (const to of ['0005', '0004', '0003', '0002']) {
      const before = writers.writes();
      const down = await cli(url, ['rollback', '--to', to]);
      assert.equal(down.code, 0, `rollback --to ${to}\n${down.stdout}${down.stderr}`);
      const up = await cli(url, ['init']);
      assert.equal(up.code, 0, `init after rollback --to ${to}\n${up.stdout}${up.stderr}`);
      log.push(`rollback --to ${to} + init: ${writers.writes() - before} writes meanwhile`);
    }
    const before = writers.writes();
    const down = await cli(url, ['rollback', '--to', '0002']);
    assert.equal(down.code, 0, down.stdout + down.stderr);
    const up = await cli(url, ['init']);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    log.push(`rollback --to 0002 + init (all at once): ${writers.writes() - before} writes meanwhile`);
  } finally {
    const res = await writers.stop();
    console.log(`# ${log.join('; ')}; ${res.writes} writes in all, longest stall ${res.longestStallMs} ms, ${res.errors.length} errors`);
    assert.deepEqual(res.errors.slice(0, 5), [], `writer errors: ${res.errors.length}`);
    assert.ok(res.writes > 100, `the writers really wrote (${res.writes})`);
  }
  const locks = await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
  assert.equal(locks[0]!.n, 0);
});

test('a session holding messages past the lock budget: the run fails once, says it retried, names the holder; writers stall at most about one lock_timeout', async () => {
  const url = await db.createDatabase();
  const { users, channels } = await prepare(url);
  const r0 = await cli(url, ['rollback', '--to', '0004']);
  assert.equal(r0.code, 0, r0.stdout + r0.stderr);

  // The app's long transaction: it inserted a message and sits idle in its transaction.
  const holder = new pg.Client({ connectionString: url, application_name: 'slow-report' });
  await holder.connect();
  const pid = Number((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  await holder.query('BEGIN');
  await holder.query('INSERT INTO messages (id, channel_id, user_id, content) VALUES ($1, $2, $3, $4)', [ulid(), channels[0], users[0], 'long transaction']);

  const writers = await startWriters(url, 20, users, channels);
  let res: Awaited<ReturnType<Writers['stop']>>;
  const lockTimeoutMs = 1000;
  const t0 = Date.now();
  let r: Awaited<ReturnType<typeof cli>>;
  try {
    await new Promise((res2) => setTimeout(res2, 300));
    r = await cli(url, ['init', '--lock-timeout', `${lockTimeoutMs}ms`, '--lock-wait', '6s']);
  } finally {
    res = await writers.stop();
    await holder.query('ROLLBACK').catch(() => {});
    await holder.end();
  }
  const took = Date.now() - t0;
  const out = r.stdout + r.stderr;
  console.log(
    `# budget 6 s, lock_timeout ${lockTimeoutMs} ms: run gave up after ${took} ms; writers: ${res.writes} writes, longest stall ${res.longestStallMs} ms, ${res.errors.length} errors`,
  );
  assert.equal(r.code, 1, out);
  assert.match(out, /lock_timeout|Lock not available/i, out);
  assert.match(out, /Retried \d+ times?/, out);
  assert.match(out, new RegExp(`pid ${pid}`), out);
  assert.match(out, /slow-report/, out);
  assert.match(out, /idle in transaction/, out);
  assert.match(out, new RegExp(`pg_terminate_backend\\(${pid}\\)`), out);
  assert.equal((out.match(/Lock not available/g) ?? []).length, 1, `one failure, reported once\n${out}`);
  assert.ok(took < 20_000, `stopped near the budget (${took} ms)`);
  assert.deepEqual(res.errors, []);
  assert.ok(res.longestStallMs < lockTimeoutMs + 700, `writers stalled at most about one lock_timeout (${res.longestStallMs} ms)`);
  const journal = await query<{ version: string }>(url, `SELECT version FROM chatgenius_migrations WHERE status = 'applied' ORDER BY version`);
  assert.deepEqual(
    journal.map((j) => j.version),
    ['0001', '0002', '0003', '0004'],
    'nothing half-applied',
  );
  const locks = await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
  assert.equal(locks[0]!.n, 0, 'no advisory lock left behind');
  // Once the holder is gone, the same command finishes the job.
  const again = await cli(url, ['init']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
});
