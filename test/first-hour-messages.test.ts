/**
 * Messages that say something untrue, each fixed and shown on a real PostgreSQL: a division by
 * zero is called one, with the caret at the `/`; "A previous run failed... retried now" is
 * printed once; "Lock acquired after" only when someone held the lock; the holder is named by
 * its pid; a bad port is shown with its value. CLI cases drive the built binary.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { acquireAndRead, lockKeysSql, releaseLock } from '../src/migrate/lock.js';
import { eventLine } from '../src/cli/output/human.js';
import type { ChatgeniusEvent } from '../src/events.js';
import { operatorLocations } from '../src/migrate/runtime-location.js';

let db: TestPostgres;
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cgdb-messages-'));
  db = await startPostgres();
});

after(async () => {
  await db?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

const DIVIDE = ['CREATE TABLE ratios (a int, b int);', 'INSERT INTO ratios VALUES (1, 0);', '-- every a over its b', 'UPDATE ratios', '   SET a = a / b;', ''].join('\n');

async function migrationsDir(name: string, up: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, '0001_ratios.up.sql'), up);
  await writeFile(join(dir, '0001_ratios.down.sql'), 'DROP TABLE ratios;\n');
  return dir;
}

test('division by zero is called one, with the caret under the `/`, not at the start of the statement; the rerun says "retried" once', async () => {
  const dir = await migrationsDir('divide', DIVIDE);
  const url = await db.createDatabase();
  const r = await runCli(['init', '--env', 'development', '--yes', '--database-url', url, '--migrations-dir', dir], { cwd: root });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Division by zero in 0001_ratios\.up\.sql:5:14/);
  assert.doesNotMatch(r.stderr, /does not fit its column type/);
  assert.match(r.stderr, /NULLIF/);
  // The frame: the line, then a caret under its `/`.
  const lines = r.stderr.split('\n');
  const src = lines.findIndex((l) => l.includes('SET a = a / b'));
  assert.ok(src >= 0, r.stderr);
  assert.equal(lines[src + 1]!.indexOf('^'), lines[src]!.indexOf('/'), `${lines[src]}\n${lines[src + 1]}`);

  // Run again (still failing): the previous failure is announced once, not twice.
  const again = await runCli(['init', '--env', 'development', '--yes', '--database-url', url, '--migrations-dir', dir], { cwd: root });
  const said = (again.stdout + again.stderr).match(/A previous run failed/g) ?? [];
  assert.equal(said.length, 1, again.stdout + again.stderr);
});

test('the operator is found in the parse tree: the first of several, and div()/mod() calls', async () => {
  const { parseSql } = await import('../src/lint/parser.js');
  const text = 'SELECT 1 + 2, x % y, 4 / z FROM t';
  const [stmt] = await parseSql(text);
  const at = operatorLocations(stmt!.node, { operators: ['/', '%'], functions: ['div'] });
  assert.deepEqual(at, [text.indexOf('%'), text.indexOf('/')]);
  const [call] = await parseSql('SELECT div(a, b) FROM t');
  assert.deepEqual(operatorLocations(call!.node, { operators: ['/'], functions: ['div'] }), [7]);
});

test('"Lock acquired after" only when someone held the lock: a slow first round trip is not a wait', async () => {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    // A slow link: every round trip takes 150 ms more (the real client, delayed).
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    (client as unknown as { query: (...a: unknown[]) => Promise<unknown> }).query = async (...a: unknown[]) => {
      await new Promise((r) => setTimeout(r, 150));
      return query(...a);
    };
    const events: ChatgeniusEvent[] = [];
    const got = await acquireAndRead(client, 'public', { release: { kind: 'never' }, emit: (e) => events.push(e) });
    await releaseLock(client, 'public');
    assert.equal(got.waitedMs, 0);
    const acquired = events.find((e) => e.type === 'lock:acquired')!;
    assert.ok(acquired && acquired.type === 'lock:acquired' && acquired.waitedMs === 0);
    assert.equal(eventLine(acquired, { dim: (t: string) => t } as never), null, 'nothing printed');
    assert.ok(!events.some((e) => e.type === 'lock:wait'));
  } finally {
    await client.end();
  }
});

test('the holder of the lock is named by its pid, every time (10 runs)', async () => {
  const [k1, k2] = lockKeysSql('public');
  for (let i = 0; i < 10; i++) {
    const holder = new pg.Client({ connectionString: db.url, application_name: 'holder-app' });
    const waiter = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await waiter.connect();
    try {
      const pid = (await holder.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid, pg_advisory_lock(${k1}, ${k2})`)).rows[0]!.pid;
      const events: ChatgeniusEvent[] = [];
      const got = acquireAndRead(waiter, 'public', {
        release: { kind: 'never' },
        pollMs: 20,
        emit: (e) => {
          events.push(e);
          if (e.type === 'lock:wait') void holder.query(`SELECT pg_advisory_unlock(${k1}, ${k2})`);
        },
      });
      const r = await got;
      await releaseLock(waiter, 'public');
      const wait = events.find((e) => e.type === 'lock:wait');
      assert.ok(wait && wait.type === 'lock:wait' && wait.holder, `run ${i}: a holder was seen`);
      assert.equal(wait.holder.pid, pid);
      const line = eventLine(wait, { dim: (t: string) => t } as never)!;
      assert.match(line.text, new RegExp(`lock held by pid ${pid}, holder-app`));
      assert.equal(r.holder?.pid, pid);
    } finally {
      await holder.end();
      await waiter.end();
    }
  }
});

test('a bad port is shown with its value (never another part of the URL)', async () => {
  const url = await runCli(['status', '--env', 'development', '--database-url', 'postgres://u:secret-pw@db.example:54x2/app'], { cwd: root });
  assert.equal(url.code, 2, url.stderr);
  assert.match(url.stderr, /bad port "54x2"/);
  assert.ok(!url.stderr.includes('secret-pw'));
  const misread = await runCli(['status', '--env', 'development', '--database-url', 'postgres://u:se/cret@db.example:5432/app'], { cwd: root });
  assert.ok(!misread.stderr.includes('se/cret') && !misread.stderr.includes('"se"'), misread.stderr);
  const ssh = await runCli(['status', '--env', 'development', '--database-url', 'postgres://u@db.example/app', '--ssh-host', 'me@bastion:22x'], { cwd: root });
  assert.equal(ssh.code, 2, ssh.stderr);
  assert.match(ssh.stderr, /bad port "22x"/);
  const env = await runCli(['status', '--env', 'development'], { cwd: root, env: { DATABASE_URL: 'postgres://u@db.example:99999/app' } });
  assert.equal(env.code, 1, env.stderr);
  assert.match(env.stderr, /bad port "99999"/);
});
