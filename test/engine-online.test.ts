/**
 * Online adoption. A database made by the spec's plain script holding 200,000 messages is
 * adopted (`baseline --to 0002`, then `init`) while the app inserts and reads: no client error,
 * and the online statements (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT) are seen running
 * while the app's writes complete. The catalog it ends with is the fresh install's. A fresh
 * database runs the same files plainly in one batch. And databases of 0.1.0, which applied the
 * old texts of 0003-0005, are accepted: the superseded checksums, kept in one place, are
 * exactly those texts', and the old texts end in the same catalog.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { runCli } from './helpers/cli.js';
import { SPEC_SCRIPT } from './helpers/catalog.js';
import { sqlDir } from './helpers/schema.js';
import { startWriters, ulid } from './helpers/app-traffic.js';
import { checksumOf, readMigrations } from '../src/migrate/files.js';
import { SUPERSEDED_CHECKSUMS } from '../src/migrate/superseded.js';
import { migrate } from '../src/migrate/index.js';
import { snapshotCatalog } from '../src/migrate/catalog.js';
import { diffCatalog } from '../src/migrate/catalog-diff.js';
import { concurrentIndexName } from '../src/migrate/concurrent-index.js';
import { plainText } from '../src/migrate/files.js';
import { stepsOf } from '../src/migrate/steps.js';

const FIXTURES = new URL('./fixtures/sql-0.1.0/', import.meta.url).pathname;

let db: TestPostgres;
let dir: string;
before(async () => {
  db = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'cgdb-online-'));
});
after(async () => {
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (url: string, args: string[]) =>
  runCli([...args, '--env', 'development', '--yes', '--database-url', url], { cwd: dir, env: { HOME: dir, CI: 'true' }, timeoutMs: 170_000 });

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const engineOpts = (migrationsDir: string) => ({ schema: 'public', migrationsDir, lockTimeoutMs: 3000, statementTimeoutMs: 600_000 });

test('the files: 0003 and 0004 are online, and a fresh database runs them plainly in the batch', async () => {
  const files = await readMigrations(sqlDir);
  const byV = new Map(files.map((f) => [f.version, f]));
  assert.equal(byV.get('0003')!.upOnline, true);
  assert.equal(byV.get('0004')!.upOnline, true);
  assert.equal(byV.get('0005')!.upOnline, false);
  const fresh = stepsOf(files, 'up', 180000, { fresh: true });
  assert.ok(
    fresh.every((s) => s.transactional),
    'fresh: every step in the batch',
  );
  const adopted = stepsOf(
    files.filter((f) => f.version > '0002'),
    'up',
    180000,
    { fresh: false },
  );
  assert.deepEqual(
    adopted.filter((s) => !s.transactional).map((s) => s.file.version),
    ['0003', '0004'],
    'populated: online files statement by statement',
  );
  const plain = plainText(byV.get('0004')!.up);
  assert.equal(plain.length, byV.get('0004')!.up.length, 'same length: error positions still map');
  assert.doesNotMatch(plain.replace(/--[^\n]*/g, ''), /CONCURRENTLY/);
  assert.equal(concurrentIndexName('CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_user_id_idx ON messages (user_id)'), 'messages_user_id_idx');
  assert.equal(concurrentIndexName('create unique index concurrently "Odd ""x""" on t (a)'), 'Odd "x"');
});

test('databases of 0.1.0 (old 0003-0005 texts applied) are accepted: one list of superseded checksums, the same catalog', async () => {
  // The list holds exactly the old texts' checksums.
  for (const f of readdirSync(FIXTURES)) {
    const v = f.slice(0, 4);
    assert.deepEqual(SUPERSEDED_CHECKSUMS[v], [checksumOf(readFileSync(join(FIXTURES, f), 'utf8'))], `${f}: its checksum is the listed one`);
  }
  const oldDir = join(dir, 'sql-0.1.0');
  cpSync(sqlDir, oldDir, { recursive: true });
  for (const f of readdirSync(FIXTURES)) cpSync(join(FIXTURES, f), join(oldDir, f));

  const oldUrl = await db.createDatabase();
  const newUrl = await db.createDatabase();
  await withClient(oldUrl, async (c) => {
    const r = await migrate(c, engineOpts(oldDir));
    assert.equal(r.ok, true);
  });
  await withClient(newUrl, async (c) => {
    assert.equal((await migrate(c, engineOpts(sqlDir))).ok, true);
  });
  // Today's files against the 0.1.0 database: no drift, nothing to do.
  const st = await cli(oldUrl, ['init']);
  assert.equal(st.code, 0, st.stdout + st.stderr);
  assert.doesNotMatch(st.stdout + st.stderr, /drift|changed/i);
  const v = await cli(oldUrl, ['verify']);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const [a, b] = [await withClient(oldUrl, (c) => snapshotCatalog(c, 'public')), await withClient(newUrl, (c) => snapshotCatalog(c, 'public'))];
  assert.deepEqual(diffCatalog(a, b), [], 'old and new texts end in the same catalog');
});

test('adopting a spec-made database with 200,000 messages while the app writes and reads: no client error, online statements run alongside the writes', async () => {
  const url = await db.createDatabase();
  const freshUrl = await db.createDatabase();
  const users: string[] = [];
  const channels: string[] = [];
  await withClient(url, async (c) => {
    await c.query(SPEC_SCRIPT);
    for (let i = 0; i < 200; i++) users.push(ulid());
    for (let i = 0; i < 20; i++) channels.push(ulid());
    await c.query(`INSERT INTO users (id, auth0_id, email, username) SELECT u, 'auth0|' || u, lower(u) || '@x.io', 'user ' || u FROM unnest($1::text[]) u`, [users]);
    await c.query(`INSERT INTO channels (id, name) SELECT ch, 'channel ' || ch FROM unnest($1::text[]) ch`, [channels]);
    await c.query(
      `INSERT INTO messages (id, channel_id, user_id, content, created_at)
      SELECT '0' || upper(substr(md5(i::text), 1, 25)), ($1::text[])[1 + i % 20], ($2::text[])[1 + i % 200], 'message ' || i, now() - (i || ' s')::interval
        FROM generate_series(1, 200000) i`,
      [channels, users],
    );
    await c.query(
      `INSERT INTO message_reads (message_id, user_id) SELECT '0' || upper(substr(md5(i::text), 1, 25)), ($1::text[])[1 + i % 200] FROM generate_series(1, 200000, 10) i`,
      [users],
    );
    await c.query('ANALYZE');
  });
  const b = await cli(url, ['baseline', '--to', '0002']);
  assert.equal(b.code, 0, b.stdout + b.stderr);

  // Watch the migration's own session: which statement runs when.
  const seen: Array<{ at: number; query: string }> = [];
  const monitor = new pg.Client({ connectionString: url });
  await monitor.connect();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const r = await monitor.query<{ query: string }>(
        `SELECT query FROM pg_stat_activity WHERE application_name = 'chatgenius-db' AND state = 'active' AND pid <> pg_backend_pid()`,
      );
      const now = Date.now();
      for (const row of r.rows) seen.push({ at: now, query: row.query });
      await new Promise((res) => setTimeout(res, 10));
    }
  })();

  const traffic = await startWriters(url, 10, users, channels, { readers: 5 });
  let init: Awaited<ReturnType<typeof cli>>;
  const t0 = Date.now();
  try {
    await new Promise((res) => setTimeout(res, 500));
    init = await cli(url, ['init']);
    await new Promise((res) => setTimeout(res, 300));
  } finally {
    watching = false;
    await watch;
    await monitor.end();
  }
  const res = await traffic.stop();
  const took = Date.now() - t0;
  assert.equal(init.code, 0, init.stdout + init.stderr);

  const online = seen.filter((s) => /CONCURRENTLY|VALIDATE CONSTRAINT/i.test(s.query));
  const cic = online.filter((s) => /CONCURRENTLY/i.test(s.query));
  const validate = online.filter((s) => /VALIDATE CONSTRAINT/i.test(s.query));
  // Writes that completed while an online statement was seen running (within one poll of it).
  const during = res.writeTimes.filter((t) => online.some((s) => Math.abs(s.at - t) <= 15)).length;
  console.log(
    `# 200k adoption under load: init ${took} ms; ${cic.length} samples of CREATE INDEX CONCURRENTLY, ${validate.length} of VALIDATE; ` +
      `${res.writes} writes (${during} completed while an online statement ran), ${res.reads} reads, longest stall ${res.longestStallMs} ms, ${res.errors.length} errors`,
  );
  assert.deepEqual(res.errors, [], 'no client error');
  assert.ok(cic.length > 0, 'CREATE INDEX CONCURRENTLY observed running');
  assert.ok(validate.length > 0, 'VALIDATE CONSTRAINT observed running');
  assert.ok(during > 0, 'the app wrote while online statements ran');

  // The same catalog as a fresh install.
  await withClient(freshUrl, async (c) => assert.equal((await migrate(c, engineOpts(sqlDir))).ok, true));
  const [a, f] = [await withClient(url, (c) => snapshotCatalog(c, 'public')), await withClient(freshUrl, (c) => snapshotCatalog(c, 'public'))];
  const diff = diffCatalog(a, f).filter((d) => !/chatgenius_extensions/.test(JSON.stringify(d)));
  assert.deepEqual(diff, [], 'adopted online = installed fresh');
  const invalid = await withClient(url, (c) => c.query(`SELECT count(*)::int AS n FROM pg_index WHERE NOT indisvalid`));
  assert.equal(invalid.rows[0].n, 0, 'no INVALID index');
  const notValid = await withClient(url, (c) => c.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE NOT convalidated AND connamespace = 'public'::regnamespace`));
  assert.equal(notValid.rows[0].n, 0, 'every constraint validated');
});

test('an interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index; the next run drops it and builds it clean', async () => {
  const url = await db.createDatabase();
  await withClient(url, async (c) => {
    await c.query(SPEC_SCRIPT);
  });
  const b = await cli(url, ['baseline', '--to', '0002']);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  // A half-built index of the same name, as a failed build leaves it: marked invalid.
  await withClient(url, async (c) => {
    await c.query(`CREATE INDEX messages_user_id_idx ON messages (user_id)`);
    await c.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'messages_user_id_idx'::regclass`);
  });
  const r = await cli(url, ['init']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const v = await withClient(url, (c) => c.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'messages_user_id_idx'::regclass`));
  assert.equal(v.rows[0].indisvalid, true);
});
