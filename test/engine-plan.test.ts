/**
 * The engine's pure parts, no database: reading and validating migration files, splitting SQL
 * into statements, detecting files that cannot run in a transaction, and planning.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseSql, codeFrame, planDown, planUp, readMigrations, splitStatements } from '../src/migrate/index.js';
import type { JournalRow, MigrationFile } from '../src/migrate/index.js';
import { ChatgeniusError } from '../src/errors.js';

const temp: string[] = [];
after(() => {
  for (const d of temp) rmSync(d, { recursive: true, force: true });
});

function dirWith(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'cgdb-plan-'));
  temp.push(d);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

test('splitting SQL respects quotes, dollar quotes, comments, E-strings and BEGIN ATOMIC bodies', () => {
  const sql = `-- a comment; not a statement end
CREATE TABLE a (t text DEFAULT 'x;y''z');
/* block ; /* nested ; */ still comment */
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;
SELECT E'it\\'s; fine', "odd;name" FROM a;
CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END; SELECT 2; END;
SELECT $1$$ ;
`;
  const s = splitStatements(sql);
  assert.equal(s.length, 5);
  assert.deepEqual(
    s.map((x) => x.keywords[0]),
    ['CREATE', 'CREATE', 'SELECT', 'CREATE', 'SELECT'],
  );
  assert.match(s[0]!.text, /'x;y''z'\)$/);
  assert.equal(s[1]!.line, 4);
  assert.equal(s[1]!.column, 1);
  assert.match(s[3]!.text, /SELECT 2; END$/);
});

test('a file that cannot run in a transaction is detected; a directive forces it; BEGIN/COMMIT inside a file is refused', () => {
  assert.equal(analyseSql('CREATE TABLE x (id int);', 'a.sql').transactional, true);
  assert.equal(analyseSql('CREATE UNIQUE INDEX CONCURRENTLY i ON x (id);', 'a.sql').transactional, false);
  assert.equal(analyseSql('DROP INDEX CONCURRENTLY IF EXISTS i;', 'a.sql').transactional, false);
  assert.equal(analyseSql('VACUUM ANALYZE x;', 'a.sql').transactional, false);
  assert.equal(analyseSql('REINDEX TABLE CONCURRENTLY x;', 'a.sql').transactional, false);
  assert.equal(analyseSql('-- chatgenius:no-transaction\nUPDATE x SET id = 1;', 'a.sql').transactional, false);
  assert.equal(analyseSql("COMMENT ON TABLE x IS 'CREATE INDEX CONCURRENTLY';", 'a.sql').transactional, true);
  assert.equal(analyseSql("ALTER TYPE mood ADD VALUE 'meh';", 'a.sql').addsEnumValue, true);
  assert.equal(analyseSql('DO $$ BEGIN PERFORM 1; END $$;', 'a.sql').transactional, true);
  assert.throws(
    () => analyseSql('CREATE TABLE x (id int);\nCOMMIT;', '0001_x.up.sql'),
    (e: unknown) => {
      assert.ok(e instanceof ChatgeniusError && e.code === 'MIGRATION_BAD_FILE');
      assert.match(e.message, /0001_x\.up\.sql:2:1 contains its own COMMIT/);
      return true;
    },
  );
});

test('reading migrations: sorted by number, checksummed, bad names, duplicate versions and missing down files refused', async () => {
  const d = dirWith({ '0010_b.up.sql': 'SELECT 10;', '0010_b.down.sql': '', '0002_a.up.sql': 'SELECT 2;\r\n', '0002_a.down.sql': '', 'README.md': 'x' });
  const files = await readMigrations(d);
  assert.deepEqual(
    files.map((f) => f.version),
    ['0002', '0010'],
  );
  const lf = await readMigrations(dirWith({ '0002_a.up.sql': 'SELECT 2;\n', '0002_a.down.sql': '' }));
  assert.equal(files[0]!.checksum, lf[0]!.checksum, 'CRLF and LF checkouts have the same checksum');
  await assert.rejects(readMigrations(dirWith({ '0001-bad.up.sql': '' })), { code: 'MIGRATION_BAD_FILE' });
  await assert.rejects(readMigrations(dirWith({ '0001_a.up.sql': '', '0001_a.down.sql': '', '0001_b.up.sql': '', '0001_b.down.sql': '' })), {
    code: 'MIGRATION_BAD_FILE',
  });
  await assert.rejects(readMigrations(dirWith({ '1_a.up.sql': '', '1_a.down.sql': '', '0001_a.up.sql': '', '0001_a.down.sql': '' })), /Duplicate migration version/);
  await assert.rejects(readMigrations(dirWith({ '0001_a.up.sql': '' })), { code: 'MIGRATION_MISSING_DOWN' });
  await assert.rejects(readMigrations(join(tmpdir(), 'does-not-exist-cgdb')), { code: 'MIGRATIONS_DIR_NOT_FOUND' });
});

const file = (v: string, checksum = `c${v}`): MigrationFile => ({
  version: v,
  name: `n${v}`,
  file: `${v}_n${v}.up.sql`,
  downFile: `${v}_n${v}.down.sql`,
  path: '',
  downPath: '',
  up: '',
  down: '',
  checksum,
  upTransactional: true,
  downTransactional: true,
  upAddsEnumValue: false,
  downAddsEnumValue: false,
});
const row = (v: string, status: 'applied' | 'failed' = 'applied', checksum = `c${v}`): JournalRow => ({
  version: v,
  name: `n${v}`,
  checksum,
  status,
  appliedAt: `2026-01-0${(Number(v) % 9) + 1}T00:00:00Z`,
  durationMs: 1,
  dbUser: null,
  osUser: null,
  clientHost: null,
  toolVersion: null,
  errorCode: status === 'failed' ? '22012' : null,
  errorMessage: null,
  errorStatement: null,
  errorLine: null,
  errorColumn: null,
});

test('planUp is a pure function of files and journal: pending, drift, missing, out of order, last failure', () => {
  const files = [file('0001'), file('0002', 'changed'), file('0003'), file('0004')];
  const p = planUp(files, [row('0001'), row('0002'), row('0004'), row('0003', 'failed'), row('0009')]);
  assert.deepEqual(
    p.pending.map((f) => f.version),
    ['0003'],
  );
  assert.deepEqual(
    p.drift.map((d) => d.file),
    ['0002_n0002.up.sql'],
  );
  assert.deepEqual(
    p.missing.map((r) => r.version),
    ['0009'],
  );
  assert.deepEqual(
    p.outOfOrder.map((f) => f.version),
    ['0003'],
  );
  assert.equal(p.lastFailure?.version, '0003');
  const fresh = planUp(files, []);
  assert.deepEqual(fresh.pending.length, 4);
  assert.equal(fresh.lastFailure, null);
});

test('planDown: default one step, --steps, --to (kept), --to 0 and --all, newest first; conflicting options refused', () => {
  const files = ['0001', '0002', '0003', '0004'].map((v) => file(v));
  const j = ['0001', '0002', '0003'].map((v) => row(v));
  assert.deepEqual(
    planDown(files, j).steps.map((f) => f.version),
    ['0003'],
  );
  assert.deepEqual(
    planDown(files, j, { steps: 2 }).steps.map((f) => f.version),
    ['0003', '0002'],
  );
  assert.deepEqual(
    planDown(files, j, { to: '0001' }).steps.map((f) => f.version),
    ['0003', '0002'],
  );
  assert.deepEqual(
    planDown(files, j, { to: '0' }).steps.map((f) => f.version),
    ['0003', '0002', '0001'],
  );
  assert.deepEqual(
    planDown(files, j, { all: true }).steps.map((f) => f.version),
    ['0003', '0002', '0001'],
  );
  assert.throws(() => planDown(files, j, { to: '0004' }), { code: 'MIGRATION_UNKNOWN_VERSION' });
  assert.throws(() => planDown(files, j, { steps: 0 }), { code: 'USAGE_BAD_STEPS' });
  assert.throws(() => planDown(files, j, { steps: 1, all: true }), { code: 'USAGE_CONFLICTING_FLAGS' });
  assert.deepEqual(
    planDown(files.slice(1), j, { all: true }).missing.map((r) => r.version),
    ['0001'],
  );
});

test('the code frame shows the offending line and a caret under the column', () => {
  assert.equal(codeFrame('SELECT 1;\nSELECT 1/0;\n', 2, 9), '  1 | SELECT 1;\n> 2 | SELECT 1/0;\n    |         ^');
});
