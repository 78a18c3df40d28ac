import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { repoRoot, runCli } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';

/** The spec's LogFormat, checked strictly: exactly these keys, these types. */
interface LogLine {
  timestamp: string;
  correlationId: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  event: string;
  data?: Record<string, unknown>;
}
function validateLogLine(text: string): LogLine {
  const v = JSON.parse(text) as Record<string, unknown>;
  assert.ok(v && typeof v === 'object' && !Array.isArray(v), `an object: ${text}`);
  const extra = Object.keys(v).filter((k) => !['timestamp', 'correlationId', 'level', 'event', 'data'].includes(k));
  assert.deepEqual(extra, [], `no keys beyond LogFormat: ${text}`);
  assert.equal(typeof v.timestamp, 'string');
  assert.match(v.timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'ISO 8601 UTC timestamp');
  assert.ok(!Number.isNaN(Date.parse(v.timestamp as string)));
  assert.equal(typeof v.correlationId, 'string');
  assert.ok((v.correlationId as string).length >= 8);
  assert.ok(['debug', 'info', 'warn', 'error'].includes(v.level as string), `level: ${String(v.level)}`);
  assert.equal(typeof v.event, 'string');
  assert.ok((v.event as string).length > 0);
  if ('data' in v) assert.ok(v.data && typeof v.data === 'object' && !Array.isArray(v.data), `data is an object: ${text}`);
  return v as unknown as LogLine;
}
function readLog(path: string): LogLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(validateLogLine);
}
function byRun(lines: LogLine[]): LogLine[][] {
  const runs = new Map<string, LogLine[]>();
  for (const l of lines) runs.set(l.correlationId, [...(runs.get(l.correlationId) ?? []), l]);
  return [...runs.values()];
}

let db: TestPostgres;
let dir: string;
const env = () => ({ HOME: dir, CI: 'true' });

function writeMigrations(name: string, files: Record<string, string>): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [f, sql] of Object.entries(files)) writeFileSync(join(d, f), sql);
  return d;
}

before(async () => {
  db = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'cgdb-logs-'));
});

after(async () => {
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a successful init writes LogFormat lines to --log-file (0600): one schema_migration per migration with version, name and duration', async () => {
  const log = join(dir, 'ok.log');
  const url = await db.createDatabase('logs_ok');
  const r = await runCli(['init', '--env', 'development', '--yes', '--database-url', url, '--log-file', log], { cwd: dir, env: env() });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(statSync(log).mode & 0o777, 0o600);
  const lines = readLog(log);
  assert.equal(new Set(lines.map((l) => l.correlationId)).size, 1, 'one correlationId per run');
  const done = lines.filter((l) => l.event === 'schema_migration' && l.data?.status === 'done');
  const ups = readdirSync(join(repoRoot, 'sql')).filter((f) => f.endsWith('.up.sql')).length;
  assert.equal(done.length, ups, `a line per migration`);
  for (const l of done) {
    assert.match(String(l.data!.version), /^\d{4}$/);
    assert.equal(typeof l.data!.name, 'string');
    assert.equal(typeof l.data!.durationMs, 'number');
  }
  const last = lines.at(-1)!;
  assert.equal(last.event, 'result');
  assert.equal(last.level, 'info');
  assert.equal(last.data!.ok, true);
  assert.ok(!readFileSync(log, 'utf8').includes(db.password), 'never the password');

  // Appended, never truncated: a second run adds its own lines with its own correlationId.
  const again = await runCli(['init', '--env', 'development', '--yes', '--database-url', url, '--log-file', log], { cwd: dir, env: env() });
  assert.equal(again.code, 0, again.stderr);
  const runs = byRun(readLog(log));
  assert.equal(runs.length, 2);
  assert.deepEqual(runs[0], lines);
});

test('a migration that inserts a duplicate logs constraint_violation, and the run ends with an error-level line carrying the explanation', async () => {
  const log = join(dir, 'dup.log');
  const url = await db.createDatabase('logs_dup');
  const migrations = writeMigrations('dup', {
    '0001_things.up.sql': 'CREATE TABLE things (name text PRIMARY KEY);\n',
    '0001_things.down.sql': 'DROP TABLE things;\n',
    '0002_seed.up.sql': "INSERT INTO things (name) VALUES ('a');\nINSERT INTO things (name) VALUES ('a');\n",
    '0002_seed.down.sql': 'DELETE FROM things;\n',
  });
  const r = await runCli(['init', '--env', 'development', '--yes', '--database-url', url, '--migrations-dir', migrations, '--log-file', log], { cwd: dir, env: env() });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = readLog(log);
  assert.equal(new Set(lines.map((l) => l.correlationId)).size, 1);
  assert.ok(
    lines.some((l) => l.event === 'schema_migration' && l.data?.status === 'done' && l.data.version === '0001'),
    'the first migration is logged as done',
  );
  const violation = lines.find((l) => l.event === 'constraint_violation');
  assert.ok(violation, JSON.stringify(lines, null, 1));
  assert.equal(violation.level, 'error');
  assert.equal(violation.data!.code, '23505');
  assert.equal(violation.data!.version, '0002');
  const last = lines.at(-1)!;
  assert.equal(last.level, 'error');
  const explanation = (last.data!.error ?? last.data) as { title?: string; hint?: string; code?: string };
  assert.equal(typeof explanation.title, 'string');
  assert.equal(typeof explanation.hint, 'string');
  assert.ok(
    lines.some((l) => l.event === 'error' && l.level === 'error' && typeof l.data?.hint === 'string'),
    'an error line with the explanation',
  );
});

test('a trigger that raises logs trigger_error (SQLSTATE class P0)', async () => {
  const log = join(dir, 'trg.log');
  const url = await db.createDatabase('logs_trg');
  const migrations = writeMigrations('trg', {
    '0001_guarded.up.sql': `CREATE TABLE guarded (n int);
CREATE FUNCTION guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'guarded rows are read-only'; END $$;
CREATE TRIGGER guarded_guard BEFORE INSERT ON guarded FOR EACH ROW EXECUTE FUNCTION guard();
INSERT INTO guarded VALUES (1);
`,
    '0001_guarded.down.sql': 'DROP TABLE guarded; DROP FUNCTION guard();\n',
  });
  const r = await runCli(['init', '--env', 'development', '--yes', '--database-url', url, '--migrations-dir', migrations, '--log-file', log], { cwd: dir, env: env() });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = readLog(log);
  const t = lines.find((l) => l.event === 'trigger_error');
  assert.ok(t, JSON.stringify(lines, null, 1));
  assert.equal(t.data!.code, 'P0001');
  assert.equal(lines.at(-1)!.level, 'error');
});

test('a connection that is refused logs retry lines with attempt and delay before the final error', async () => {
  const log = join(dir, 'retry.log');
  const port = await freePort();
  const r = await runCli(['status', '--env', 'development', '--database-url', `postgres://u:secret-pw@127.0.0.1:${port}/x`, '--log-file', log], {
    cwd: dir,
    env: { ...env(), CHATGENIUS_MAX_RETRIES: '3', CHATGENIUS_RETRY_DELAY_MS: '20' },
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = readLog(log);
  const retries = lines.filter((l) => l.event === 'retry');
  assert.equal(retries.length, 2, JSON.stringify(lines, null, 1));
  assert.deepEqual(
    retries.map((l) => l.data!.attempt),
    [1, 2],
  );
  assert.deepEqual(
    retries.map((l) => l.data!.delayMs),
    [20, 40],
  );
  for (const l of retries) assert.equal(l.level, 'warn');
  assert.equal(lines.at(-1)!.level, 'error');
  assert.ok(!readFileSync(log, 'utf8').includes('secret-pw'), 'never the password');
});
