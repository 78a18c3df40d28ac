/**
 * explain() for every code of the db domain: real errors from a real PostgreSQL where they are
 * cheap to provoke, synthetic facts (shaped like pg's / Node's) otherwise. Each must give a
 * title, a cause and a hint, never the password, and not fall through to the generic row.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type pgTypes from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { freePort } from './helpers/ports.js';
import { connectClient } from '../src/db/index.js';
import { executeSchemaFile, closePool } from '../src/library/index.js';
import { explain, knownCodes } from '../src/explain/index.js';
import { codeFrame, codeFrameIn, positionToLineColumn } from '../src/code-frame.js';
import { ChatgeniusError } from '../src/errors.js';
import type { ConnectionConfig } from '../src/config/types.js';

let pg: TestPostgres;
let conn: ConnectionConfig;
let a: pgTypes.Client;
let b: pgTypes.Client;
const WRONG_PASSWORD = 'Wr0ng-pass-phrase';

before(async () => {
  pg = await startPostgres();
  conn = { host: pg.host, port: pg.port, database: pg.database, user: pg.user, password: pg.password, sslMode: 'disable' };
  a = await connectClient(conn);
  b = await connectClient(conn);
  await a.query(`
    CREATE TABLE parent (id int primary key);
    CREATE TABLE child (id int primary key, parent_id int not null references parent(id), size int check (size >= 0));
    CREATE TABLE lockme (id int primary key, v int);
    INSERT INTO lockme VALUES (1, 0), (2, 0);
    CREATE TABLE ser (v int);
    CREATE TABLE ex (r int4range, EXCLUDE USING gist (r WITH &&));
    CREATE ROLE weak LOGIN PASSWORD 'weakpw';
    CREATE ROLE limited LOGIN PASSWORD 'limitedpw' CONNECTION LIMIT 0;
    CREATE ROLE nologin NOLOGIN PASSWORD 'nologinpw';
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  `);
});
after(async () => {
  await closePool();
  await a?.end().catch(() => {});
  await b?.end().catch(() => {});
  await pg.stop();
});

async function fails(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}
const q = (c: pgTypes.Client, sql: string) => fails(c.query(sql));
const once = { retry: { maxRetries: 1, retryDelayMs: 0 } };
const sys = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`connect ${code} 10.0.0.5:5432`), { code, syscall: 'connect', address: '10.0.0.5', port: 5432, ...extra });
const pgLike = (code: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, severity: 'ERROR', ...extra });

/**
 * code -> how to get such an error (real where a server can produce it), and what its explanation
 * must mean: `title` names the thing the code means, `hint` names the fix (the setting, command or
 * SQL a person would reach for). A plausible but wrong row (28P01 explained as a missing database)
 * fails here, not only a missing one.
 */
interface Meaning {
  title: RegExp;
  hint: RegExp;
  cause?: RegExp;
}
const cases: Array<[string, () => Promise<unknown> | unknown, Meaning]> = [
  ['42P04', () => q(a, `CREATE DATABASE ${pg.database}`), { title: /database.*already exists/i, hint: /POSTGRES_DB|DATABASE_URL/ }],
  ['42P06', () => q(a, 'CREATE SCHEMA public'), { title: /schema.*already exists/i, hint: /IF NOT EXISTS/ }],
  ['42P07', () => q(a, 'CREATE TABLE parent (id int)'), { title: /table.*already exists/i, hint: /baseline|IF NOT EXISTS/ }],
  [
    '42501',
    async () => {
      const c = await connectClient({ ...conn, user: 'weak', password: 'weakpw' });
      try {
        return await q(c, 'CREATE TABLE public.nope (id int)');
      } finally {
        await c.end();
      }
    },
    { title: /privilege/i, hint: /GRANT/ },
  ],
  [
    '3D000',
    () => fails(connectClient({ ...conn, database: 'missing_db' }, once)),
    { title: /database does not exist/i, hint: /createdb missing_db|CREATE DATABASE/, cause: /missing_db/ },
  ],
  ['23505', () => fails(a.query('INSERT INTO parent VALUES (1), (1)')), { title: /unique/i, hint: /ON CONFLICT|existing row/ }],
  ['23503', () => q(a, 'INSERT INTO child VALUES (1, 999, 1)'), { title: /foreign key/i, hint: /parent/i }],
  [
    '23514',
    async () => {
      await a.query('INSERT INTO parent VALUES (7) ON CONFLICT DO NOTHING');
      return q(a, 'INSERT INTO child VALUES (2, 7, -1)');
    },
    { title: /check constraint/i, hint: /allowed values/i },
  ],
  ['23502', () => q(a, 'INSERT INTO child (id) VALUES (3)'), { title: /NOT NULL|required value/i, hint: /value/i }],
  [
    '28P01',
    () => fails(connectClient({ ...conn, password: WRONG_PASSWORD }, once)),
    { title: /password|authentication/i, hint: /POSTGRES_PASSWORD/, cause: /password/i },
  ],
  // A real role that exists but may not log in: the server says 28000 "not permitted to log in".
  [
    '28000',
    () => fails(connectClient({ ...conn, user: 'nologin', password: 'nologinpw' }, once)),
    { title: /not authorized/i, hint: /LOGIN/, cause: /not permitted to log in/ },
  ],
  ['42601', () => q(a, 'SELEC 1'), { title: /syntax error/i, hint: /statement|typo/i }],
  ['42883', () => q(a, 'SELECT uuid_generate_v4()'), { title: /function.*does not exist/i, hint: /extension|search_path|cast/i }],
  ['42P01', () => q(a, 'SELECT * FROM users'), { title: /table does not exist/i, hint: /chatgenius-db init/ }],
  ['58P01', () => q(a, `SELECT pg_read_file('/nonexistent/file')`), { title: /file.*missing/i, hint: /contrib|extension/i }],
  ['53300', () => fails(connectClient({ ...conn, user: 'limited', password: 'limitedpw' }, once)), { title: /too many connections/i, hint: /max_connections|pool/i }],
  // Not producible on demand (a server that is still starting): facts shaped like pg's.
  ['57P03', () => pgLike('57P03', 'the database system is starting up', { severity: 'FATAL' }), { title: /starting up/i, hint: /wait|retried/i }],
  [
    '57P01',
    async () => {
      const c = await connectClient(conn);
      const pid = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      const sleeping = fails(c.query('select pg_sleep(10)'));
      // Wait until the query is really running, so the backend is terminated mid-query.
      for (let i = 0; i < 100; i++) {
        const s = await a.query(`select 1 from pg_stat_activity where pid = $1 and state = 'active'`, [pid]);
        if (s.rowCount) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await a.query('select pg_terminate_backend($1)', [pid]);
      const err = await sleeping;
      await c.end().catch(() => {});
      return err;
    },
    { title: /closed the session|terminated/i, hint: /run the command again|again/i },
  ],
  [
    '55P03',
    async () => {
      await a.query('BEGIN; LOCK TABLE lockme');
      try {
        return await q(b, `SET lock_timeout = '50ms'; LOCK TABLE lockme`);
      } finally {
        await a.query('ROLLBACK');
        await b.query('RESET lock_timeout');
      }
    },
    { title: /lock not available|lock_timeout/i, hint: /--lock-(timeout|wait)/ },
  ],
  [
    '57014',
    async () => {
      try {
        return await q(b, `SET statement_timeout = '50ms'; SELECT pg_sleep(2)`);
      } finally {
        await b.query('RESET statement_timeout');
      }
    },
    { title: /statement timeout/i, hint: /--statement-timeout/ },
  ],
  [
    '40001',
    async () => {
      await a.query('BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT count(*) FROM ser; INSERT INTO ser VALUES (1)');
      await b.query('BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT count(*) FROM ser; INSERT INTO ser VALUES (2)');
      await a.query('COMMIT');
      const err = await q(b, 'COMMIT');
      await b.query('ROLLBACK').catch(() => {});
      return err;
    },
    { title: /serializ/i, hint: /retried|repeated/i },
  ],
  [
    '40P01',
    async () => {
      await a.query(`BEGIN; SET LOCAL deadlock_timeout = '50ms'; UPDATE lockme SET v = 1 WHERE id = 1`);
      await b.query(`BEGIN; SET LOCAL deadlock_timeout = '50ms'; UPDATE lockme SET v = 1 WHERE id = 2`);
      const first = a.query('UPDATE lockme SET v = 2 WHERE id = 2').then(
        () => undefined,
        (e: unknown) => e,
      );
      // b's conflicting update is sent once a is really waiting for b's row lock.
      for (let i = 0; i < 200; i++) {
        const w = await pg.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like 'UPDATE lockme SET v = 2%'`,
        );
        if (w.rows[0]!.n > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const second = b.query('UPDATE lockme SET v = 2 WHERE id = 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      const [e1, e2] = await Promise.all([first, second]);
      await a.query('ROLLBACK');
      await b.query('ROLLBACK');
      return e1 ?? e2;
    },
    { title: /deadlock/i, hint: /order|retried/i },
  ],
  ['0A000', () => q(a, 'SELECT count(*) FROM parent FOR UPDATE'), { title: /not supported/i, hint: /transaction|rewrite/i }],
  [
    '25P02',
    async () => {
      await a.query('BEGIN');
      await a.query('SELECT 1/0').catch(() => {});
      const err = await q(a, 'SELECT 1');
      await a.query('ROLLBACK');
      return err;
    },
    { title: /aborted/i, hint: /first error/i },
  ],
  ['08xxx', () => pgLike('08P01', 'invalid frontend message type 0', { severity: 'FATAL' }), { title: /connection/i, hint: /network|tunnel|doctor/i }],
  // Integer overflow is class 22 (data exception) without a row of its own (22012 has one).
  ['22xxx', () => q(a, 'SELECT 2147483647::int + 1'), { title: /invalid data/i, hint: /value/i, cause: /out of range/ }],
  ['22012', () => q(a, 'SELECT 1/0'), { title: /division by zero/i, hint: /divisor|zero|nullif/i, cause: /division by zero/i }],
  ['23xxx', () => q(a, `INSERT INTO ex VALUES ('[1,5)'), ('[3,8)')`), { title: /integrity/i, hint: /constraint/i, cause: /exclusion|conflicting/i }],
  // An undefined column is class 42 without a row of its own.
  ['42xxx', () => q(a, 'SELECT no_such_column FROM parent'), { title: /SQL error/i, hint: /statement/i, cause: /no_such_column/ }],
  ['53xxx', () => pgLike('53100', 'could not extend file: No space left on device'), { title: /out of resources/i, hint: /disk|memory/i }],
  ['57xxx', () => pgLike('57000', 'operator intervention'), { title: /operator/i, hint: /again/i }],
  ['XXxxx', () => pgLike('XX001', 'invalid page in block 7 of relation base/1/2'), { title: /internal/i, hint: /server log/i }],
  ['ECONNREFUSED', async () => fails(connectClient({ ...conn, port: await freePort() }, once)), { title: /refused/i, hint: /POSTGRES_PORT|Start PostgreSQL/ }],
  [
    'ENOTFOUND',
    () => fails(connectClient({ ...conn, host: 'no-such-host.invalid' }, once)),
    { title: /host not found/i, hint: /POSTGRES_HOST/, cause: /no-such-host\.invalid/ },
  ],
  // Network failures a test cannot cause on a loopback interface: facts shaped like Node's.
  ['ETIMEDOUT', () => sys('ETIMEDOUT'), { title: /timed out/i, hint: /firewall|POSTGRES_HOST/i }],
  ['ECONNRESET', () => sys('ECONNRESET'), { title: /reset/i, hint: /retried/i }],
  ['EHOSTUNREACH', () => sys('EHOSTUNREACH'), { title: /unreachable/i, hint: /network|VPN/i }],
  [
    'ENOENT',
    () => fails(executeSchemaFile('/nonexistent/0001.sql', { connection: conn })),
    { title: /file not found/i, hint: /path|--migrations-dir/i, cause: /\/nonexistent\/0001\.sql/ },
  ],
  [
    'EACCES',
    () => Object.assign(new Error("EACCES: permission denied, open '/etc/ca.pem'"), { code: 'EACCES', syscall: 'open', path: '/etc/ca.pem' }),
    { title: /permission denied/i, hint: /chmod|owner/i },
  ],
  ['DB_SSL_NOT_SUPPORTED', () => fails(connectClient({ ...conn, sslMode: 'require' }, once)), { title: /does not support TLS/i, hint: /PGSSLMODE=disable/ }],
  [
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    () => Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
    { title: /certificate.*not trusted/i, hint: /PGSSLROOTCERT/ },
  ],
  [
    'SELF_SIGNED_CERT_IN_CHAIN',
    () => Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
    { title: /certificate.*not trusted/i, hint: /PGSSLROOTCERT/ },
  ],
  [
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    () => Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
    { title: /certificate.*not trusted/i, hint: /PGSSLROOTCERT/ },
  ],
];

for (const [code, provoke, meaning] of cases) {
  test(`explain ${code}: a title and hint that name what ${code} means, a cause, never the password`, async () => {
    const err = await provoke();
    const actual = (err as { code?: string }).code!;
    if (code.endsWith('xxx')) assert.equal(actual.slice(0, 2), code.slice(0, 2), `class of ${actual}`);
    else assert.equal(actual, code, `provoked ${actual}: ${(err as Error).message}`);
    const x = explain(err);
    assert.equal(x.code, actual);
    for (const k of ['title', 'cause', 'hint'] as const) {
      assert.ok(typeof x[k] === 'string' && x[k].trim().length > (k === 'title' ? 3 : 15), `${k}: ${x[k]}`);
      assert.doesNotMatch(x[k], /undefined|\[object Object\]/, `${k}: ${x[k]}`);
    }
    assert.notEqual(x.title, 'Something went wrong', 'not the generic fallback');
    assert.match(x.title, meaning.title, `the title of ${code} says what it means`);
    assert.match(x.hint, meaning.hint, `the hint of ${code} names the fix`);
    if (meaning.cause) assert.match(x.cause, meaning.cause, `the cause of ${code} names the facts`);
    const text = JSON.stringify(x);
    assert.ok(!text.includes(pg.password) && !text.includes(WRONG_PASSWORD) && !text.includes('weakpw') && !text.includes('nologinpw'), 'no password');
  });
}

test('no two rows of different meaning share a title (a row copied onto another code is caught)', () => {
  // Each expected title pattern matches its own row's title only (the three untrusted-certificate
  // codes share one row; class rows are left out, their codes are the fallbacks of many).
  const tls = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
  const clashes: string[] = [];
  for (const [code, , meaning] of cases) {
    for (const [other] of cases) {
      if (other === code || (tls.has(code) && tls.has(other)) || code.endsWith('xxx') || other.endsWith('xxx')) continue;
      const t = explain(Object.assign(new Error('x'), { code: other })).title;
      if (meaning.title.test(t)) clashes.push(`${other}'s title "${t}" would also pass as ${code}'s meaning`);
    }
  }
  assert.deepEqual(clashes, []);
});

test('every code of the brief has its own row or a class row', () => {
  const known = new Set(knownCodes());
  for (const [code] of cases) assert.ok(known.has(code), code);
  for (const code of ['55P03', '57014', '57P01', '57P02', 'EAI_AGAIN', 'EPIPE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'DB_CONNECT_TIMEOUT', 'DB_CONNECTION_LOST']) {
    assert.ok(known.has(code), code);
  }
});

test('42601 with file, line, column and source line in the facts renders a code frame with a caret', () => {
  const err = new ChatgeniusError('42601', 'syntax error at or near ","', {
    file: 'sql/0002_core.up.sql',
    line: 12,
    column: 9,
    sourceLine: '\tid int,, name text',
  });
  const x = explain(err);
  assert.equal(x.title, 'SQL syntax error in sql/0002_core.up.sql:12:9');
  assert.equal(x.detail, 'sql/0002_core.up.sql:12:9\n> 12 | \tid int,, name text\n     | \t       ^');
});

test('positionToLineColumn counts characters as PostgreSQL does (multi-byte text before the error)', () => {
  const sql = "-- café ☕ 🚀\nSELECT 'ü';\nSELEC 1;";
  // Line 1 is 11 characters (but 17 UTF-16 units); 'ü' is character 21 (1-based).
  assert.deepEqual(positionToLineColumn(sql, 21), { line: 2, column: 9, sourceLine: "SELECT 'ü';" });
  assert.deepEqual(positionToLineColumn(sql, Array.from(sql).length - 7), { line: 3, column: 1, sourceLine: 'SELEC 1;' });
  assert.equal(codeFrame({ line: 3, column: 4, sourceLine: 'abcdef' }), '> 3 | abcdef\n    |    ^');
  // the engine's form: a whole file's text, the line before for context, columns in characters
  assert.equal(codeFrameIn("SELECT 'é🚀';\nSELECT 'ü' FRM x;\n", 2, 16), "  1 | SELECT 'é🚀';\n> 2 | SELECT 'ü' FRM x;\n    |                ^");
  const long = `${'x'.repeat(200)}ERR${'y'.repeat(200)}`;
  const cut = codeFrame({ line: 1, column: 201, sourceLine: long }, 40).split('\n');
  assert.equal(cut[0]!.length, '> 1 | '.length + 41, 'a long line is cut around the column');
  assert.equal(cut[1]!.indexOf('^'), cut[0]!.indexOf('ERR'), 'the caret stays under the column');
});

test('a real syntax error position maps to the right line and column', async () => {
  const sql = 'SELECT 1;\n\n  SELECT * FRM parent;';
  const err = (await q(a, sql)) as { position: string };
  const loc = positionToLineColumn(sql, Number(err.position));
  assert.deepEqual(loc, { line: 3, column: 12, sourceLine: '  SELECT * FRM parent;' });
  const utf8 = "SELECT 'é🚀', 'ü' AS x;\nSELECT 'ö' FRM parent;";
  // 'FRM' is taken as a column alias, so the error is at `parent` (column 16 in characters; 17 in UTF-16 units).
  const err2 = (await q(a, utf8)) as { position: string };
  assert.deepEqual(positionToLineColumn(utf8, Number(err2.position)), { line: 2, column: 16, sourceLine: "SELECT 'ö' FRM parent;" });
});
