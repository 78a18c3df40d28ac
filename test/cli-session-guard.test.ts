/**
 * Commands that need a server session of their own (init, rollback, repair, baseline, seed,
 * listen) through a real transaction-mode pooler (test/helpers/tx-pooler.ts, which behaves like
 * PgBouncer pool_mode=transaction): each refuses before taking any lock, explains why and names
 * the fix, changes nothing, and leaves no advisory lock behind on any pooled server session.
 * And the lock wait has an upper bound (--lock-wait) that names the holder and says it is idle.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { runCli } from './helpers/cli.js';
import { startTxPooler, type TxPooler } from './helpers/tx-pooler.js';

let db: TestPostgres;
let dir: string;
let pooler: TxPooler;

before(async () => {
  db = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'cgdb-guard-'));
});
after(async () => {
  await pooler?.close();
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], timeoutMs = 60_000) => runCli(args, { cwd: dir, env: { HOME: dir, CI: 'true' }, timeoutMs });

async function advisoryLocks(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).rows[0].n);
  } finally {
    await c.end();
  }
}

async function journal(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const t = await c.query(`SELECT to_regclass('public.chatgenius_migrations') AS t`);
    if (!t.rows[0].t) return [];
    return (await c.query(`SELECT version FROM public.chatgenius_migrations WHERE status = 'applied' ORDER BY version`)).rows.map((r) => r.version);
  } finally {
    await c.end();
  }
}

function assertRefused(r: { code: number | null; stdout: string; stderr: string }, what: string): void {
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 1, `${what}: exit 1\n${out}`);
  assert.match(out, /transaction-mode (connection )?pooler/i, `${what}: says why\n${out}`);
  assert.match(out, /direct connection|session-mode/i, `${what}: names the fix\n${out}`);
  assert.doesNotMatch(out, /\n\s+at .*\.js:\d+/, `${what}: no stack trace\n${out}`);
}

test('every command that needs a session refuses a transaction-mode pooler before taking the lock, and leaves no lock behind', async () => {
  const url = await db.createDatabase();
  const name = new URL(url).pathname.slice(1);
  pooler = await startTxPooler(url, 2);
  const pooled = `postgres://postgres@127.0.0.1:${pooler.port}/${name}?sslmode=disable`;
  const conn = ['--env', 'development', '--yes', '--database-url'];

  // A fresh database: two inits at once through the pooler, both refused, nothing created.
  const [a, b] = await Promise.all([cli(['init', ...conn, pooled]), cli(['init', ...conn, pooled])]);
  assertRefused(a, 'init');
  assertRefused(b, 'init (the second at once)');
  assert.match(a.stdout + a.stderr, /no lock was taken/);
  assert.deepEqual(await journal(url), [], 'nothing applied through the pooler');
  assert.equal(await advisoryLocks(url), 0, 'no advisory lock on any server session');

  // Directly: applied.
  const direct = await cli(['init', ...conn, url]);
  assert.equal(direct.code, 0, direct.stdout + direct.stderr);
  const applied = await journal(url);
  assert.ok(applied.length >= 6);

  for (const args of [
    ['rollback', '--steps', '1'],
    ['repair'],
    ['baseline', '--to', '0002'],
    ['seed', '--users', '3', '--channels', '2', '--messages', '10'],
    ['listen'],
  ]) {
    const r = await cli([...args, ...conn, pooled], 30_000);
    assertRefused(r, args[0]!);
    assert.deepEqual(await journal(url), applied, `${args[0]}: nothing changed`);
    assert.equal(await advisoryLocks(url), 0, `${args[0]}: no advisory lock left behind`);
  }
});

test('a run waits for the migration lock at most --lock-wait, then names the holder, says it is idle and how to end it', async () => {
  const url = await db.createDatabase();
  const holder = new pg.Client({ connectionString: url, application_name: 'stuck-deploy' });
  await holder.connect();
  try {
    const pid = Number(
      (await holder.query(`SELECT pg_backend_pid() AS pid, pg_advisory_lock(hashtext(current_database()), hashtext('chatgenius-db:public'))`)).rows[0].pid,
    );
    const t0 = Date.now();
    const r = await cli(['init', '--env', 'development', '--yes', '--database-url', url, '--lock-wait', '2s']);
    const took = Date.now() - t0;
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 1, out);
    assert.ok(took < 15_000, `gave up after the bound (${took} ms)`);
    assert.match(out, new RegExp(`pid ${pid}`));
    assert.match(out, /stuck-deploy/);
    assert.match(out, /idle/);
    assert.match(out, new RegExp(`pg_terminate_backend\\(${pid}\\)`));
    assert.deepEqual(await journal(url), [], 'nothing applied while the lock was held');
  } finally {
    await holder.end();
  }
  const again = await cli(['init', '--env', 'development', '--yes', '--database-url', url, '--lock-wait', '2s']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
});
