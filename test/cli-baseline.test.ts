/**
 * Adopting and repairing through the command line: baseline on a database made by the spec's
 * plain script, refusal on one that differs, and verify / repair after an applied file was
 * edited. Spawns the built binary: run `npm run build` first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { SPEC_SCRIPT } from './helpers/catalog.js'; // the spec's plain script (DB-F-001), verbatim

let pg: TestPostgres;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgdb-cli-baseline-'));
  pg = await startPostgres();
});

after(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Result {
  event: string;
  data: Record<string, unknown>;
}
const lastLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Result;

test('baseline --to 0002 adopts a database made by the spec script; then init leaves nothing pending', async () => {
  const url = await pg.createDatabase('spec_db');
  await pg.query(SPEC_SCRIPT, [], 'spec_db');
  const env = { DATABASE_URL: url };

  const b = await runCli(['baseline', '--to', '0002', '--yes'], { cwd: dir, env });
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /recorded 2 migrations as applied \(0001_extensions, 0002_tables\)/);

  const i = await runCli(['init', '--yes'], { cwd: dir, env });
  assert.equal(i.code, 0, i.stderr);
  assert.match(i.stdout, /Applied \d+ migrations/);
  assert.doesNotMatch(i.stdout, /0002_tables/, 'baselined migrations are not run');

  const s = await runCli(['status', '--json'], { cwd: dir, env });
  assert.equal(s.code, 0, s.stderr);
  const res = lastLine(s.stdout);
  assert.deepEqual(res.data.pending, []);
  assert.ok((res.data.applied as unknown[]).length >= 5);
});

test('baseline refuses a database that differs, lists the differences and records nothing', async () => {
  const url = await pg.createDatabase('spec_diff');
  const changed = SPEC_SCRIPT.replace('username VARCHAR(255) NOT NULL,', 'username VARCHAR(100),').replace(/CREATE TABLE sync_state \([^;]+\);/, '');
  assert.notEqual(changed, SPEC_SCRIPT);
  await pg.query(changed, [], 'spec_diff');
  const env = { DATABASE_URL: url };

  const b = await runCli(['baseline', '--to', '0002', '--yes'], { cwd: dir, env });
  assert.equal(b.code, 1);
  assert.match(b.stderr, /BASELINE_MISMATCH/);
  assert.match(b.stderr, /username/);
  assert.match(b.stderr, /sync_state/);
  assert.doesNotMatch(b.stderr, /^\s+at /m);

  const s = await runCli(['status', '--json'], { cwd: dir, env });
  assert.equal(s.code, 0, s.stderr);
  const res = lastLine(s.stdout);
  assert.deepEqual(res.data.applied, []);
});

test('after an applied file is edited, verify fails; repair without --yes changes nothing; repair --yes makes verify pass', async () => {
  const url = await pg.createDatabase('repair_db');
  const mig = join(dir, 'sql-copy');
  await cp(join(repoRoot, 'sql'), mig, { recursive: true });
  const env = { DATABASE_URL: url };
  const args = ['--yes', '--migrations-dir', mig];

  assert.equal((await runCli(['init', ...args], { cwd: dir, env })).code, 0);
  const ok = await runCli(['verify', ...args], { cwd: dir, env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Verified/);

  const file = join(mig, '0004_indexes.up.sql');
  await writeFile(file, `${await readFile(file, 'utf8')}\n-- reviewed by the DBA\n`);

  const drift = await runCli(['verify', ...args], { cwd: dir, env });
  assert.equal(drift.code, 1);
  assert.match(drift.stderr, /0004_indexes/);

  const refused = await runCli(['init', ...args], { cwd: dir, env });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /MIGRATION_DRIFT/);
  assert.match(refused.stderr, /repair/);

  const noConsent = await runCli(['repair', '--migrations-dir', mig], { cwd: dir, env });
  assert.equal(noConsent.code, 2);
  assert.match(noConsent.stdout, /\+ -- reviewed by the DBA/, 'the diff is shown');
  assert.match(noConsent.stderr, /--yes/);
  assert.equal((await runCli(['verify', ...args], { cwd: dir, env })).code, 1, 'verify still fails: nothing was repaired');

  const repaired = await runCli(['repair', ...args], { cwd: dir, env });
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.match(repaired.stdout, /1 checksum re-recorded/);

  const verified = await runCli(['verify', ...args], { cwd: dir, env });
  assert.equal(verified.code, 0, verified.stderr);
  const again = await runCli(['init', ...args], { cwd: dir, env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Nothing to do/);
});

test('verify fails when the live schema was changed by hand, naming the difference', async () => {
  const url = await pg.createDatabase('hand_db');
  const env = { DATABASE_URL: url };
  assert.equal((await runCli(['init', '--yes'], { cwd: dir, env })).code, 0);
  await pg.query('ALTER TABLE users ADD COLUMN nickname TEXT', [], 'hand_db');
  const v = await runCli(['verify', '--json'], { cwd: dir, env });
  assert.equal(v.code, 1);
  const res = lastLine(v.stdout);
  assert.equal(res.data.verified, false);
  assert.match(JSON.stringify(res.data.problems), /nickname/);
  assert.match(v.stderr, /nickname/);
});
