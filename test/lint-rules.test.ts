/**
 * The migration safety rules, as a reviewer meets them: every rule fires on a minimal bad file
 * and stays quiet on its safe rewrite (one table of cases, both directions); a directive silences
 * exactly the rule it names; our own sql/ is clean at error level.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { lintDirectory, lintPairs, pairFiles, RULES, type PairInput } from '../src/lint/index.js';
import { analyseSql } from '../src/migrate/files.js';

const up = (text: string, name = '0002_change'): PairInput => ({
  version: name.slice(0, 4),
  up: { file: `${name}.up.sql`, text, direction: 'up' },
  down: { file: `${name}.down.sql`, text: 'SELECT 1;\n', direction: 'down' },
});
const rulesOf = async (pairs: PairInput[]) => (await lintPairs(pairs)).findings.map((f) => f.rule);

// Statement rules: the doc row's own bad/good examples, plus cases the examples do not cover.
const CASES: Array<{ rule: string; bad: string; good: string }> = [
  ...RULES.filter((r) => r.example).map((r) => ({ rule: r.id, bad: r.example!.bad, good: r.example!.good })),
  { rule: 'require-concurrent-index-creation', bad: 'CREATE UNIQUE INDEX u ON users (email);', good: 'CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);' },
  {
    rule: 'constraint-missing-not-valid',
    bad: 'ALTER TABLE files ADD CONSTRAINT f_fk FOREIGN KEY (message_id) REFERENCES messages(id);',
    good: 'ALTER TABLE files ADD CONSTRAINT f_fk FOREIGN KEY (message_id) REFERENCES messages(id) NOT VALID;',
  },
  {
    rule: 'adding-field-with-volatile-default',
    bad: 'ALTER TABLE users ADD COLUMN n bigserial;',
    good: 'ALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT now();',
  },
  {
    rule: 'adding-field-with-volatile-default',
    bad: 'ALTER TABLE users ADD COLUMN d int GENERATED ALWAYS AS (1) STORED;',
    good: "ALTER TABLE users ADD COLUMN d text DEFAULT 'x';",
  },
  { rule: 'backfill-without-where', bad: 'DELETE FROM sync_state;', good: "DELETE FROM sync_state WHERE sync_type = 'full';" },
  { rule: 'ban-lock-table', bad: 'LOCK TABLE users IN SHARE MODE;', good: 'SELECT 1;' },
  { rule: 'concurrently-in-transaction', bad: 'DROP INDEX CONCURRENTLY IF EXISTS i;', good: '-- chatgenius:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS i;' },
  { rule: 'syntax-error', bad: 'CREATE TABLE t (a int;', good: 'CREATE TABLE t (a int);' },
  {
    rule: 'invalid-directive',
    bad: '-- chatgenius:allow ban-drop-table\nDROP TABLE t;',
    good: '-- chatgenius:allow ban-drop-table nobody reads it since release 9\nDROP TABLE t;',
  },
  { rule: 'invalid-directive', bad: '-- chatgenius:allow no-such-rule because\nSELECT 1;', good: 'SELECT 1;' },
];

for (const c of CASES) {
  test(`${c.rule}: fires on "${c.bad.split('\n').at(-1)!.slice(0, 60)}" and is quiet on its safe rewrite`, async () => {
    const bad = await rulesOf([up(c.bad)]);
    assert.ok(bad.includes(c.rule), `expected ${c.rule} on:\n${c.bad}\ngot ${bad.join(', ') || 'nothing'}`);
    const good = await rulesOf([up(c.good)]);
    assert.ok(!good.includes(c.rule), `expected no ${c.rule} on:\n${c.good}\ngot ${good.join(', ')}`);
  });
}

test('VALIDATE in the same transaction as its ADD ... NOT VALID fires exactly when the engine runs the file as one transaction', async () => {
  const text = 'ALTER TABLE files ADD CONSTRAINT c CHECK (size >= 0) NOT VALID;\nALTER TABLE files VALIDATE CONSTRAINT c;';
  // The engine's own analysis decides (a file written in online forms runs statement by statement).
  const oneTransaction = (analyseSql(text, 'x.up.sql') as { online?: boolean }).online !== true;
  const fired = (await rulesOf([up(text)])).includes('constraint-missing-not-valid');
  assert.equal(fired, oneTransaction);
  // With the no-transaction line each statement is its own transaction: quiet either way.
  assert.ok(!(await rulesOf([up(`-- chatgenius:no-transaction\n${text}`)])).includes('constraint-missing-not-valid'));
  // Mixed with a statement that keeps it transactional (an enum value), it fires either way.
  assert.ok((await rulesOf([up(`${text}\nALTER TYPE e ADD VALUE 'x';`)])).includes('constraint-missing-not-valid'));
});

test('every rule of the table has a test case or a pair case below', () => {
  const covered = new Set([...CASES.map((c) => c.rule), 'missing-down-file', 'down-does-not-undo-up']);
  assert.deepEqual(
    RULES.map((r) => r.id).filter((id) => !covered.has(id)),
    [],
  );
});

test('missing-down-file: an up file alone is an error at its line 1; with its down it is quiet', async () => {
  const alone = await lintPairs([{ version: '0002', up: { file: '0002_x.up.sql', text: 'SELECT 1;', direction: 'up' } }]);
  assert.deepEqual(
    alone.findings.map((f) => [f.rule, f.file, f.line, f.severity]),
    [['missing-down-file', '0002_x.up.sql', 1, 'error']],
  );
  assert.deepEqual(await rulesOf([up('SELECT 1;')]), []);
});

test('down-does-not-undo-up: names each object the down leaves behind; quiet when it drops them (or their table)', async () => {
  const upText =
    'CREATE TABLE pins (id int);\nCREATE INDEX pins_id ON pins (id);\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nALTER TABLE users ADD COLUMN pinned boolean;';
  const pair = (down: string): PairInput => ({
    version: '0002',
    up: { file: '0002_p.up.sql', text: upText, direction: 'up' },
    down: { file: '0002_p.down.sql', text: down, direction: 'down' },
  });
  const bad = (await lintPairs([pair('DROP FUNCTION f();')])).findings.filter((f) => f.rule === 'down-does-not-undo-up');
  assert.deepEqual(bad.map((f) => f.message).sort(), [
    '0002_p.down.sql does not drop column users.pinned (created by 0002_p.up.sql:4)',
    '0002_p.down.sql does not drop table pins (created by 0002_p.up.sql:1)',
  ]);
  assert.equal(bad[0]!.file, '0002_p.down.sql');
  const good = await lintPairs([pair('ALTER TABLE users DROP COLUMN pinned;\nDROP FUNCTION f();\nDROP TABLE pins;')]);
  assert.deepEqual(
    good.findings.map((f) => f.rule),
    [],
  );
});

test('a finding carries rule, severity, file:line:column, the lock and its table, why and the fix', async () => {
  const r = await lintPairs([up('-- add an index\nSELECT 1;\nCREATE INDEX messages_user_idx ON messages (user_id);')]);
  r.findings = r.findings.filter((f) => f.file.endsWith('.up.sql'));
  assert.equal(r.findings.length, 1);
  const f = r.findings[0]!;
  assert.deepEqual(
    [f.rule, f.severity, f.file, f.line, f.column, f.lock, f.table],
    ['require-concurrent-index-creation', 'error', '0002_change.up.sql', 3, 35, 'ShareLock on messages', 'messages'],
  );
  assert.match(f.why, /INSERT, UPDATE and DELETE/);
  assert.match(f.fix, /CONCURRENTLY/);
  assert.equal(r.findings.filter((f) => f.severity === 'error').length, 1);
});

test('a directive silences exactly the rule it names, in its file, and keeps the reason', async () => {
  const text = [
    '-- chatgenius:allow require-concurrent-index-creation messages is tiny here (fixture)',
    'CREATE INDEX m_idx ON messages (user_id);',
    'ALTER TABLE messages ALTER COLUMN content TYPE text;',
  ].join('\n');
  const r = await lintPairs([up(text), up('CREATE INDEX u_idx ON users (email);', '0003_other')]);
  assert.deepEqual(
    r.findings.filter((f) => f.file.endsWith('.up.sql')).map((f) => `${f.file} ${f.rule}`),
    ['0002_change.up.sql changing-column-type', '0003_other.up.sql require-concurrent-index-creation'],
  );
  assert.deepEqual(
    r.acknowledged.map((f) => [f.rule, f.acknowledged]),
    [['require-concurrent-index-creation', 'messages is tiny here (fixture)']],
  );
});

test('SET NOT NULL is safe after a CHECK (col IS NOT NULL) validated in an earlier migration', async () => {
  const r = await lintPairs([
    up('ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;', '0002_a'),
    up('ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;', '0003_b'),
    up('ALTER TABLE users ALTER COLUMN email SET NOT NULL;\nALTER TABLE users ALTER COLUMN username SET NOT NULL;', '0004_c'),
  ]);
  assert.deepEqual(
    r.findings.filter((f) => f.file.endsWith('.up.sql')).map((f) => `${f.file}:${f.line} ${f.rule}`),
    ['0004_c.up.sql:2 set-not-null-without-check'],
  );
});

test('down files: dropping is their job, lock findings are warnings', async () => {
  const r = await lintPairs([
    {
      version: '0002',
      up: { file: '0002_t.up.sql', text: 'CREATE TABLE t (a int);', direction: 'up' },
      down: { file: '0002_t.down.sql', text: 'DROP INDEX t_a;\nDROP TABLE t;', direction: 'down' },
    },
  ]);
  assert.deepEqual(
    r.findings.map((f) => [f.rule, f.severity]),
    [['require-concurrent-index-deletion', 'warning']],
  );
});

/** The standard safe forms, as issue "Safe on a live production database" writes 0003/0004. */
const SAFE_FORMS: Array<{ name: string; text: string }> = [
  {
    name: '0001_tables.up.sql',
    text: 'CREATE TABLE users (id text PRIMARY KEY, email text);\nCREATE TABLE messages (id text PRIMARY KEY, user_id text, body text);\nCREATE INDEX messages_user_idx ON messages (user_id);\n',
  },
  { name: '0001_tables.down.sql', text: 'DROP TABLE messages;\nDROP TABLE users;\n' },
  {
    name: '0002_integrity.up.sql',
    text: [
      '-- chatgenius:no-transaction',
      "ALTER TABLE users ADD CONSTRAINT users_id_check CHECK (id ~ '^[0-9A-Z]{26}$') NOT VALID;",
      'ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_user_id_fkey, ADD CONSTRAINT messages_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE NOT VALID;',
      'ALTER TABLE users VALIDATE CONSTRAINT users_id_check;',
      'ALTER TABLE messages VALIDATE CONSTRAINT messages_user_id_fkey;',
      '',
    ].join('\n'),
  },
  { name: '0002_integrity.down.sql', text: 'ALTER TABLE messages DROP CONSTRAINT messages_user_id_fkey;\nALTER TABLE users DROP CONSTRAINT users_id_check;\n' },
  {
    name: '0003_indexes.up.sql',
    text: '-- chatgenius:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (lower(email));\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS messages_body_idx ON messages (body);\n',
  },
  {
    name: '0003_indexes.down.sql',
    text: '-- chatgenius:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS messages_body_idx;\nDROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\n',
  },
  {
    name: '0004_cursors.up.sql',
    text: 'CREATE TABLE cursors (user_id text NOT NULL REFERENCES users(id), at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX cursors_user_idx ON cursors (user_id);\nLOCK TABLE messages, users IN SHARE ROW EXCLUSIVE MODE;\nCREATE TRIGGER messages_t AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION f();\nCREATE TRIGGER users_t AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION f();\n',
  },
  { name: '0004_cursors.down.sql', text: 'DROP TRIGGER users_t ON users;\nDROP TRIGGER messages_t ON messages;\nDROP TABLE cursors;\n' },
];

test('the standard safe forms lint clean: NOT VALID + VALIDATE, CONCURRENTLY, an index on a table of the same file, LOCK up front in the mode needed', async () => {
  const r = await lintPairs(pairFiles(SAFE_FORMS));
  assert.deepEqual(
    r.findings.map((f) => `${f.file}:${f.line} ${f.rule}: ${f.message}`),
    [],
  );
});

test('our own sql/ lints clean at error level (holds once 0003/0004 take the online forms)', async () => {
  const r = await lintDirectory(join(import.meta.dirname, '..', 'sql'));
  assert.deepEqual(
    r.findings.filter((f) => f.severity === 'error').map((f) => `${f.file}:${f.line} ${f.rule}`),
    [],
  );
});
