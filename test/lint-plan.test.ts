/**
 * The lock-aware plan against a real PostgreSQL: a seeded table, pending migrations that index it
 * (plain and CONCURRENTLY) and change a column type. `init --dry-run --json` reports the lock
 * modes PostgreSQL really takes with row counts near the real ones, and changes nothing; in
 * production the unsafe ones are refused (exit 2) unless --allow-unsafe names their rules.
 * Spawns the built binary: run `npm run build` first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';

const ROWS = 20_000;
let pg: TestPostgres;
let dir: string;

const FILES: Record<string, string> = {
  '0001_messages.up.sql':
    'CREATE TABLE messages (id bigint PRIMARY KEY, user_id int NOT NULL, score int NOT NULL, body text);\nCREATE TABLE users (id int PRIMARY KEY);\n',
  '0001_messages.down.sql': 'DROP TABLE users;\nDROP TABLE messages;\n',
  '0002_plain_index.up.sql': 'CREATE INDEX messages_user_idx ON messages (user_id);\n',
  '0002_plain_index.down.sql': 'DROP INDEX messages_user_idx;\n',
  '0003_concurrent_index.up.sql': '-- chatgenius:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS messages_score_idx ON messages (score);\n',
  '0003_concurrent_index.down.sql': '-- chatgenius:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS messages_score_idx;\n',
  '0004_widen.up.sql': 'ALTER TABLE messages ALTER COLUMN score TYPE bigint;\nCREATE TABLE pins (id int);\nCREATE INDEX pins_id ON pins (id);\n',
  '0004_widen.down.sql': 'DROP TABLE pins;\nALTER TABLE messages ALTER COLUMN score TYPE int;\n',
};

async function writeFiles(names: string[]): Promise<void> {
  for (const n of names) await writeFile(join(dir, n), FILES[n]!);
}

interface Lock {
  table: string;
  mode: string;
  rows: number | null;
  source: string;
  created?: boolean;
}
interface Planned {
  version: string;
  locks: Lock[];
  findings: Array<{ rule: string; severity: string }>;
}

function resultOf(stdout: string): Record<string, unknown> {
  const last = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> })
    .filter((l) => l.event === 'result')
    .at(-1);
  assert.ok(last, `no result line in:\n${stdout}`);
  return last.data;
}

async function journalCount(db: string): Promise<number> {
  const r = await pg.query<{ n: string }>('SELECT count(*) AS n FROM test.chatgenius_migrations', [], db);
  return Number(r.rows[0]!.n);
}

let url: string;
before(async () => {
  pg = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'cgdb-lint-plan-'));
  url = await pg.createDatabase('lint_plan');
  await writeFiles(['0001_messages.up.sql', '0001_messages.down.sql']);
  const r = await runCli(['init', '--env', 'test', '--yes', '--database-url', url, '--migrations-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  await pg.query(`INSERT INTO test.messages SELECT g, g % 100, g % 7, 'hello' FROM generate_series(1, ${ROWS}) g`, [], 'lint_plan');
  await pg.query('ANALYZE test.messages', [], 'lint_plan');
  await writeFiles(Object.keys(FILES).filter((n) => !n.startsWith('0001')));
});

after(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('init --dry-run --json: traced lock modes per pending migration, with the table rows on the target; nothing changes', async () => {
  const r = await runCli(['init', '--env', 'test', '--yes', '--dry-run', '--json', '--database-url', url, '--migrations-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  const plan = resultOf(r.stdout).lockPlan as Planned[];
  const lock = (v: string, table: string, mode: string) => plan.find((p) => p.version === v)?.locks.find((l) => l.table === table && l.mode === mode);

  const share = lock('0002', 'messages', 'ShareLock');
  assert.ok(share, JSON.stringify(plan, null, 1));
  assert.equal(share.source, 'traced');
  assert.ok(share.rows! > ROWS * 0.9 && share.rows! < ROWS * 1.1, `rows ${share.rows}`);

  const sue = lock('0003', 'messages', 'ShareUpdateExclusiveLock');
  assert.ok(sue, JSON.stringify(plan[1]));
  assert.equal(sue.source, 'derived');
  assert.ok(!plan[1]!.locks.some((l) => l.mode === 'ShareLock'), 'the CONCURRENTLY build must not be reported as ShareLock');

  const ae = lock('0004', 'messages', 'AccessExclusiveLock');
  assert.ok(ae && ae.source === 'traced', JSON.stringify(plan[2]));
  assert.ok(ae.rows! > ROWS * 0.9);
  const pins = plan[2]!.locks.find((l) => l.table === 'pins');
  assert.ok(pins?.created && pins.rows === 0, 'a table the migration creates is new and empty');

  assert.deepEqual(
    plan.find((p) => p.version === '0002')!.findings.map((f) => f.rule),
    ['require-concurrent-index-creation'],
  );
  assert.ok(plan.find((p) => p.version === '0004')!.findings.some((f) => f.rule === 'changing-column-type'));

  // Nothing changed: the journal, the index list and no scratch schema left behind.
  assert.equal(await journalCount('lint_plan'), 1);
  const left = await pg.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'chatgenius_scratch_%'", [], 'lint_plan');
  assert.equal(left.rowCount, 0);
  const idx = await pg.query("SELECT 1 FROM pg_indexes WHERE schemaname = 'test' AND indexname LIKE 'messages_%_idx'", [], 'lint_plan');
  assert.equal(idx.rowCount, 0);
  // The human lines name the table, the mode and the rows.
  assert.match(r.stderr, /messages: ShareLock \(blocks writes\) on 20k rows/);
});

test('production without a person: an unsafe finding on a table with rows is refused (exit 2, nothing changed); --allow-unsafe RULE,RULE lets it run', async () => {
  const base = ['init', '--env', 'production', '--yes', '--schema', 'test', '--confirm-database', 'lint_plan', '--database-url', url, '--migrations-dir', dir];
  const refused = await runCli(base);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /require-concurrent-index-creation/);
  assert.match(refused.stderr, /changing-column-type/);
  assert.match(refused.stderr, /--allow-unsafe/);
  assert.equal(await journalCount('lint_plan'), 1);

  const partly = await runCli([...base, '--allow-unsafe', 'require-concurrent-index-creation']);
  assert.equal(partly.code, 2, partly.stderr);
  assert.match(partly.stderr, /changing-column-type/);
  assert.equal(await journalCount('lint_plan'), 1);

  const bad = await runCli([...base, '--allow-unsafe', 'no-such-rule']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no-such-rule/);

  const ok = await runCli([...base, '--allow-unsafe', 'require-concurrent-index-creation,changing-column-type']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(await journalCount('lint_plan'), 4);
});

test('development and test only warn: the unsafe migration runs, with the finding and what production would need', async () => {
  const warnUrl = await pg.createDatabase('lint_warn');
  const d = await mkdtemp(join(tmpdir(), 'cgdb-lint-warn-'));
  for (const n of ['0001_messages.up.sql', '0001_messages.down.sql', '0002_plain_index.up.sql', '0002_plain_index.down.sql']) await writeFile(join(d, n), FILES[n]!);
  const r = await runCli(['init', '--env', 'test', '--yes', '--database-url', warnUrl, '--migrations-dir', d]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout + r.stderr,
    /0002_plain_index\.up\.sql:1:35 require-concurrent-index-creation: .*in production this needs --allow-unsafe require-concurrent-index-creation/,
  );
  assert.equal(await journalCount('lint_warn'), 2);
  await rm(d, { recursive: true, force: true });
});

test('our own sql/: the plan replays 0001-0002 and traces 0003-0005 (DO blocks, functions, triggers) without falling back', async () => {
  const ownUrl = await pg.createDatabase('lint_own');
  const d = await mkdtemp(join(tmpdir(), 'cgdb-lint-own-'));
  const sql = join(import.meta.dirname, '..', 'sql');
  const { readdir, copyFile } = await import('node:fs/promises');
  for (const n of await readdir(sql)) if (/^000[12]_/.test(n)) await copyFile(join(sql, n), join(d, n));
  const first = await runCli(['init', '--env', 'test', '--yes', '--database-url', ownUrl, '--migrations-dir', d]);
  assert.equal(first.code, 0, first.stderr);
  const r = await runCli(['init', '--env', 'test', '--yes', '--dry-run', '--json', '--database-url', ownUrl, '--migrations-dir', sql]);
  assert.equal(r.code, 0, r.stderr);
  const result = resultOf(r.stdout);
  assert.equal(result.lockTraceError, undefined, String(result.lockTraceError));
  const plan = result.lockPlan as Planned[];
  assert.ok(plan.length >= 3);
  assert.ok(
    plan.filter((m) => m.version <= '0005').every((m) => m.locks.length > 0),
    JSON.stringify(plan.map((m) => [m.version, m.locks.length])),
  );
  assert.ok(
    plan[0]!.locks.some((l) => l.table === 'users' && l.source === 'traced' && l.rows === 0 && !l.created),
    JSON.stringify(plan[0]!.locks),
  );
  const left = await pg.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'chatgenius_scratch_%'", [], 'lint_own');
  assert.equal(left.rowCount, 0);
  await rm(d, { recursive: true, force: true });
});
