/**
 * Runs that overlap or die: two runs at once (separate processes), a run waiting for the lock and
 * saying who holds it, and a run killed with SIGKILL in the middle of a migration.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { migrationDirs, upSql } from './helpers/engine-fixtures.js';
import { migrate } from '../src/migrate/index.js';
import type { ChatgeniusEvent } from '../src/events.js';

const childScript = fileURLToPath(new URL('./helpers/engine-child.ts', import.meta.url));
let server: TestPostgres;
let client: pg.Client;
const { gen, cleanup: cleanupDirs } = migrationDirs();
const children = new Set<ChildProcess>();

before(async () => {
  server = await startPostgres();
  client = await server.client();
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  cleanupDirs();
  await server.stop();
});

interface ChildRun {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  waitFor(pred: (e: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runChild(dir: string, schema: string, mode = 'up'): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, server.url, dir, schema, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }> = [];
  let buf = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const e = JSON.parse(line) as Record<string, unknown>;
      events.push(e);
      for (const w of [...waiters]) if (w.pred(e)) waiters.splice(waiters.indexOf(w), 1), w.resolve(e);
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      if (code) process.stderr.write(stderr);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    events,
    exit,
    waitFor(pred, ms = 20_000) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for an event; got ${JSON.stringify(events)}; stderr ${stderr}`)), ms);
        waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
      });
    },
  };
}

async function advisoryLocks(): Promise<number> {
  return (await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).rows[0].n;
}

async function versions(schema: string): Promise<string[]> {
  return (await client.query(`SELECT version FROM "${schema}".chatgenius_migrations WHERE status = 'applied' ORDER BY version`)).rows.map((r) => r.version);
}

async function tables(schema: string): Promise<string[]> {
  const r = await client.query(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname LIKE 't\\_%' ORDER BY 1`,
    [schema],
  );
  return r.rows.map((x) => x.relname);
}

test('two runs started at once (two processes): both succeed, each migration is applied once, the second says it waited', async () => {
  // migration 1 takes 2 s, so whichever run is second finds the lock held
  const m = gen(4, { append: { 1: 'SELECT pg_sleep(2);\n' } });
  const a = runChild(m.dir, 'race');
  const b = runChild(m.dir, 'race');
  const [ea, eb] = await Promise.all([a.exit, b.exit]);
  assert.deepEqual([ea.code, eb.code], [0, 0]);
  const ra = a.events.find((e) => e.type === 'result')!;
  const rb = b.events.find((e) => e.type === 'result')!;
  assert.equal(ra.ok, true);
  assert.equal(rb.ok, true);
  const applied = [ra, rb].map((r) => (r.results as Array<{ status: string }>).filter((x) => x.status === 'applied').length).sort();
  assert.deepEqual(applied, [0, 4], 'one run applied all four, the other none');
  const waited = [a, b].filter((r) => r.events.some((e) => e.type === 'lock:wait'));
  assert.equal(waited.length, 1, 'exactly one run waited');
  assert.equal(waited[0], (ra.results as unknown[]).length === 0 ? a : b, 'the run that waited is the one that found nothing to do');
  const wait = waited[0]!.events.find((e) => e.type === 'lock:wait') as { holder: { applicationName: string; pid: number } };
  const other = waited[0] === a ? b : a;
  assert.equal(wait.holder.applicationName, `engine-child-${other.child.pid}`, 'it says who holds the lock');
  assert.deepEqual(await versions('race'), ['0001', '0002', '0003', '0004']);
  assert.deepEqual(await tables('race'), ['t_0001', 't_0002', 't_0003', 't_0004']);
  assert.equal(await advisoryLocks(), 0);
});

test('a run that finds the lock held waits (lock:wait names the holder), then finds nothing left to do', async () => {
  const m = gen(2);
  const holder = new pg.Client({ connectionString: server.url, application_name: 'holder-app' });
  await holder.connect();
  try {
    await holder.query(`SELECT pg_advisory_lock(hashtext(current_database()), hashtext('chatgenius-db:waiting'))`);
    const events: ChatgeniusEvent[] = [];
    const t0 = Date.now();
    const running = migrate(client, {
      schema: 'waiting',
      migrationsDir: m.dir,
      lockTimeoutMs: 1000,
      statementTimeoutMs: 10_000,
      lockPollMs: 50,
      emit: (e) => events.push(e),
    });
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(events.filter((e) => e.type === 'lock:wait').length, 1, 'lock:wait is emitted once');
    assert.equal(
      events.some((e) => e.type === 'migration:start'),
      false,
      'nothing ran while waiting',
    );
    await holder.query(`SELECT pg_advisory_unlock(hashtext(current_database()), hashtext('chatgenius-db:waiting'))`);
    const r = await running;
    assert.equal(r.ok, true);
    assert.ok(Date.now() - t0 >= 600);
    assert.ok(r.lock.waitedMs >= 500, `waited ${r.lock.waitedMs} ms`);
    assert.equal(r.lock.holder?.applicationName, 'holder-app');
    assert.equal(r.lock.holder?.user, 'postgres');
    assert.ok(r.lock.holder?.since && !Number.isNaN(Date.parse(r.lock.holder.since)));
    const wait = events.find((e) => e.type === 'lock:wait');
    assert.ok(wait?.type === 'lock:wait' && wait.holder?.applicationName === 'holder-app');
    assert.ok(events.findIndex((e) => e.type === 'lock:acquired') > events.findIndex((e) => e.type === 'lock:wait'));
    assert.deepEqual(await versions('waiting'), ['0001', '0002']);
  } finally {
    await holder.end();
  }
});

test('a waiting run can be given up on: MIGRATION_LOCK_WAIT_TIMEOUT, nothing applied', async () => {
  const m = gen(1);
  const holder = new pg.Client({ connectionString: server.url, application_name: 'slow-holder' });
  await holder.connect();
  try {
    await holder.query(`SELECT pg_advisory_lock(hashtext(current_database()), hashtext('chatgenius-db:gaveup'))`);
    await assert.rejects(
      migrate(client, { schema: 'gaveup', migrationsDir: m.dir, lockTimeoutMs: 1000, statementTimeoutMs: 10_000, lockPollMs: 50, lockWaitTimeoutMs: 300 }),
      (err: { code?: string; details?: { holder?: { applicationName?: string } } }) =>
        err.code === 'MIGRATION_LOCK_WAIT_TIMEOUT' && err.details?.holder?.applicationName === 'slow-holder',
    );
    assert.equal((await client.query(`SELECT to_regclass('gaveup.chatgenius_migrations') AS r`)).rows[0].r, null);
  } finally {
    await holder.end();
  }
});

test('a run killed with SIGKILL in the middle of a migration leaves the database at a migration boundary; the next run finishes', async () => {
  const m = gen(5, { append: { 3: 'SELECT pg_sleep(60);\n' } });
  const run = runChild(m.dir, 'killed');
  // progress is live: the start of 0003 arrives while the batch is still running
  await run.waitFor((e) => e.type === 'migration:start' && e.version === '0003');
  const pid = run.child.pid;
  const backend = async () =>
    (await client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`, [`engine-child-${pid}`])).rows[0].n as number;
  assert.equal(await backend(), 1);
  assert.equal(await advisoryLocks(), 1, 'the run holds its lock while migrating');
  run.child.kill('SIGKILL');
  const ex = await run.exit;
  assert.equal(ex.signal, 'SIGKILL');
  // The orphaned backend notices (the product's client_connection_check_interval, 1 s) and lets
  // go of the lock long before its 60 s sleep would end.
  const t0 = Date.now();
  while ((await advisoryLocks()) > 0 || (await backend()) > 0) {
    assert.ok(Date.now() - t0 < 15_000, 'the killed run still holds the lock after 15 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  // a migration boundary: 0001 and 0002 committed with their journal rows, 0003 left no trace
  assert.deepEqual(await versions('killed'), ['0001', '0002']);
  assert.deepEqual(await tables('killed'), ['t_0001', 't_0002']);
  m.write(3, upSql(3));
  const r = await migrate(client, { schema: 'killed', migrationsDir: m.dir, lockTimeoutMs: 1000, statementTimeoutMs: 10_000 });
  assert.equal(r.ok, true, JSON.stringify(r.failure));
  assert.deepEqual(
    r.results.map((x) => x.version),
    ['0003', '0004', '0005'],
  );
  assert.deepEqual(await versions('killed'), ['0001', '0002', '0003', '0004', '0005']);
  assert.deepEqual(await tables('killed'), ['t_0001', 't_0002', 't_0003', 't_0004', 't_0005']);
});

test('a run waiting for the lock does not deadlock against the holder running CREATE INDEX CONCURRENTLY', async () => {
  const m = gen(3, {
    append: { 1: 'SELECT pg_sleep(1);\n' },
    override: { 2: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_0001_cic ON t_0001 (label);\n' },
  });
  m.write(2, 'DROP INDEX CONCURRENTLY IF EXISTS t_0001_cic;\n', 'down');
  const second = await server.client();
  const o = { schema: 'cic', migrationsDir: m.dir, lockTimeoutMs: 5_000, statementTimeoutMs: 20_000, lockPollMs: 20 };
  const waits: ChatgeniusEvent[] = [];
  // The second run starts once the first holds the lock (an observed state, not a head start).
  let locked!: () => void;
  const firstLocked = new Promise<void>((r) => (locked = r));
  const first = migrate(client, { ...o, emit: (e) => e.type === 'lock:acquired' && locked() });
  await Promise.race([firstLocked, first]);
  const other = migrate(second, { ...o, emit: (e) => waits.push(e) });
  const [ra, rb] = await Promise.all([first, other]);
  assert.equal(ra.ok, true, JSON.stringify(ra.failure));
  assert.deepEqual(
    ra.results.map((r) => r.status),
    ['applied', 'applied', 'applied'],
  );
  assert.equal(rb.ok, true);
  assert.equal(rb.results.length, 0);
  assert.ok(
    waits.some((e) => e.type === 'lock:wait'),
    'the second run waited while the index was built',
  );
  const valid = await client.query(`SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 't_0001_cic'`);
  assert.deepEqual(valid.rows, [{ indisvalid: true }]);
});
