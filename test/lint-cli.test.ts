/**
 * `chatgenius-db lint` as CI and a developer use it: exit codes, the human report, --json
 * findings, GitHub annotations, a directive, and `new NAME` writing files that lint clean.
 * Spawns the built binary: run `npm run build` first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgdb-lint-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function project(files: Record<string, string>): Promise<string> {
  const d = await mkdtemp(join(dir, 'p-'));
  for (const [n, t] of Object.entries(files)) await writeFile(join(d, n), t);
  return d;
}

const UNSAFE = {
  '0001_users.up.sql': 'CREATE TABLE users (id int PRIMARY KEY, email text);\n',
  '0001_users.down.sql': 'DROP TABLE users;\n',
  '0002_email_idx.up.sql': '-- index e-mails\nCREATE INDEX users_email_idx ON users (email);\n',
  '0002_email_idx.down.sql': 'DROP INDEX users_email_idx;\n',
};

test('an unsafe file: exit 1, the finding at file:line:column with its lock, why and fix', async () => {
  const d = await project(UNSAFE);
  const r = await runCli(['lint', '--migrations-dir', d], { cwd: d });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /0002_email_idx\.up\.sql:2:33 {2}error {2}require-concurrent-index-creation/);
  assert.match(r.stdout, /lock: ShareLock on users/);
  assert.match(r.stdout, /fix: {2}CREATE INDEX CONCURRENTLY IF NOT EXISTS/);
  assert.match(r.stdout, /0002_email_idx\.down\.sql:1:1 {2}warning {2}require-concurrent-index-deletion/);
  assert.match(r.stdout, /1 error, 1 warning in 4 files/);
});

test('--json: one lint:finding line per finding with file, line, column, rule, severity, message, fix; the result lists them', async () => {
  const d = await project(UNSAFE);
  const r = await runCli(['lint', '--json', '--migrations-dir', d], { cwd: d });
  assert.equal(r.code, 1);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> });
  const findings = lines.filter((l) => l.event === 'lint:finding').map((l) => l.data);
  assert.equal(findings.length, 2);
  for (const k of ['file', 'line', 'column', 'rule', 'severity', 'message', 'fix']) assert.ok(k in findings[0]!, k);
  assert.deepEqual([findings[0]!.file, findings[0]!.line, findings[0]!.column, findings[0]!.rule], ['0002_email_idx.up.sql', 2, 33, 'require-concurrent-index-creation']);
  const result = lines.at(-1)!;
  assert.equal(result.event, 'result');
  assert.equal(result.data.errors, 1);
  assert.equal((result.data.findings as unknown[]).length, 2);
});

test('--format github prints workflow annotations, escaped', async () => {
  const d = await project(UNSAFE);
  const r = await runCli(['lint', '--format', 'github', '--migrations-dir', d], { cwd: d });
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n');
  assert.match(
    lines[0]!,
    /^::error file=0002_email_idx\.up\.sql,line=2,col=33,title=require-concurrent-index-creation \(chatgenius-db lint\)::CREATE INDEX users_email_idx on users .*%0AFix: /,
  );
  assert.match(lines[1]!, /^::warning file=0002_email_idx\.down\.sql,line=1,col=1,/);
});

test('a directive with a reason acknowledges the rule: exit 0, listed under --verbose', async () => {
  const d = await project({
    ...UNSAFE,
    '0002_email_idx.up.sql': '-- chatgenius:allow require-concurrent-index-creation users is empty until launch\nCREATE INDEX users_email_idx ON users (email);\n',
  });
  const r = await runCli(['lint', '--verbose', '--migrations-dir', d], { cwd: d });
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /acknowledged {2}require-concurrent-index-creation: users is empty until launch/);
  assert.match(r.stdout, /0 errors, 1 warning in 4 files \(1 acknowledged\)/);
});

test('new NAME writes a pair that lints clean, its template showing the safe patterns', async () => {
  const d = await project(UNSAFE);
  const n = await runCli(['new', 'add_pins', '--migrations-dir', d], { cwd: d });
  assert.equal(n.code, 0, n.stderr);
  const up = await readFile(join(d, '0003_add_pins.up.sql'), 'utf8');
  for (const p of ['NOT VALID', 'VALIDATE CONSTRAINT', 'CREATE INDEX CONCURRENTLY', '-- chatgenius:no-transaction']) assert.ok(up.includes(p), p);
  await rm(join(d, '0002_email_idx.up.sql'));
  await rm(join(d, '0002_email_idx.down.sql'));
  const r = await runCli(['lint', '--migrations-dir', d], { cwd: d });
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /0 errors, 0 warnings in 4 files/);
});

test('a bad --format and a missing directory are explained', async () => {
  const bad = await runCli(['lint', '--format', 'xml', '--migrations-dir', dir]);
  assert.equal(bad.code, 2);
  const missing = await runCli(['lint', '--migrations-dir', join(dir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope/);
});
