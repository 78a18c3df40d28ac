/**
 * A new user's first hour, part two: the project root. Commands run from a subdirectory find the
 * project as git and prisma do (the nearest folder with .chatgenius/ or a package.json that
 * depends on chatgenius-db): its .env files, its local database, its sql/. A read-only command
 * never creates or starts a local database. `new` and `init` agree on where migrations live.
 * Drives the built binary (`npm run build` first).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { findProjectRoot, isOurPackageJson } from '../src/config/project-root.js';

let pg: TestPostgres;
let root: string;
const localProjects: string[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cgdb-project-'));
  pg = await startPostgres();
});

after(async () => {
  for (const p of localProjects) await runCli(['local', 'stop'], { cwd: p, timeoutMs: 30_000 });
  await pg?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** An app that installed chatgenius-db: a package.json that depends on it, and a nested source tree. */
async function app(name: string): Promise<{ dir: string; sub: string }> {
  const dir = join(root, name);
  const sub = join(dir, 'src', 'components');
  await mkdir(sub, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, dependencies: { 'chatgenius-db': '^0.1.0' } }));
  return { dir, sub };
}

test('the project root: nearest .chatgenius/ or package.json that depends on chatgenius-db', async () => {
  const { dir, sub } = await app('rootrule');
  assert.equal(findProjectRoot(sub), dir);
  assert.ok(isOurPackageJson('{"name":"chatgenius-db"}'));
  assert.ok(isOurPackageJson('{"devDependencies":{"chatgenius-db":"1"}}'));
  assert.ok(!isOurPackageJson('{"dependencies":{"pg":"8"}}'));
  assert.ok(!isOurPackageJson('not json'));
  // A nested package that does not use us is walked through.
  const nested = join(dir, 'packages', 'ui');
  await mkdir(nested, { recursive: true });
  await writeFile(join(nested, 'package.json'), '{"name":"ui"}');
  assert.equal(findProjectRoot(nested), dir);
  // No project anywhere above: the working directory itself.
  const lone = await mkdtemp(join(tmpdir(), 'cgdb-lone-'));
  assert.equal(findProjectRoot(lone), lone);
  await rm(lone, { recursive: true });
});

test('from a subdirectory, status reads the .env files at the project root', async () => {
  const { dir, sub } = await app('envfiles');
  const database = new URL(await pg.createDatabase()).pathname.slice(1);
  await writeFile(join(dir, '.env.development.local'), `DATABASE_URL=${pg.urlFor(database)}\n`, { mode: 0o600 });
  const r = await runCli(['status', '--env', 'development'], { cwd: sub });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`127\\.0\\.0\\.1:${pg.port}/${database}`));
});

test('a read-only command never creates a local database: it says there is none and how to make one', async () => {
  const { dir, sub } = await app('nolocal');
  for (const cmd of ['status', 'verify', 'schema']) {
    const r = await runCli([cmd, '--env', 'local'], { cwd: sub, timeoutMs: 30_000 });
    assert.equal(r.code, 1, `${cmd}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /No local database here/);
    assert.match(r.stderr, /init --env local/);
    assert.doesNotMatch(r.stdout + r.stderr, /pending/);
  }
  assert.ok(!existsSync(join(sub, '.chatgenius')), 'nothing created in the subdirectory');
  assert.ok(!existsSync(join(dir, '.chatgenius')), 'nothing created at the root');
});

test("from a subdirectory, status --env local finds the project's local database (and reports it as applied)", async () => {
  const { dir, sub } = await app('withlocal');
  localProjects.push(dir);
  const init = await runCli(['init', '--env', 'local', '--yes'], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(init.code, 0, init.stderr + init.stdout);
  const stopped = await runCli(['local', 'stop'], { cwd: dir, timeoutMs: 30_000 });
  assert.equal(stopped.code, 0, stopped.stderr);
  const down = await runCli(['status', '--env', 'local'], { cwd: sub, timeoutMs: 30_000 });
  assert.equal(down.code, 1, down.stdout + down.stderr);
  assert.match(down.stderr, /not running/);
  assert.match(down.stderr, /local start/);
  const start = await runCli(['local', 'start'], { cwd: sub, timeoutMs: 60_000 });
  assert.equal(start.code, 0, start.stderr);
  const r = await runCli(['status', '--env', 'local'], { cwd: sub, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\b0 pending\b|up to date|nothing pending/i);
  assert.ok(!existsSync(join(sub, '.chatgenius')), 'no second database in the subdirectory');
});

test('`new` and `init` agree in an installed project: the new migration is applied and verify sees no drift', async () => {
  const { dir, sub } = await app('newinit');
  const database = new URL(await pg.createDatabase()).pathname.slice(1);
  await writeFile(join(dir, '.env.development.local'), `DATABASE_URL=${pg.urlFor(database)}\n`, { mode: 0o600 });
  const first = await runCli(['init', '--env', 'development', '--yes'], { cwd: sub });
  assert.equal(first.code, 0, first.stderr);

  const made = await runCli(['new', 'add_pins'], { cwd: sub });
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout + made.stderr, /Copied the package's \d+ migrations/);
  const files = await readdir(join(dir, 'sql'));
  const up = files.find((f) => /^\d+_add_pins\.up\.sql$/.test(f))!;
  assert.ok(up, files.join(' '));
  assert.ok(
    files.some((f) => f.startsWith('0001_')),
    'the shipped history came along',
  );
  await writeFile(join(dir, 'sql', up), 'CREATE TABLE pins (id bigint PRIMARY KEY);\n');
  await writeFile(join(dir, 'sql', up.replace('.up.', '.down.')), 'DROP TABLE pins;\n');

  const second = await runCli(['init', '--env', 'development', '--yes'], { cwd: sub });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /Applied 1 migration/);
  const verify = await runCli(['verify', '--env', 'development'], { cwd: sub });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const explicit = await runCli(['verify', '--env', 'development', '--migrations-dir', 'sql'], { cwd: dir });
  assert.equal(explicit.code, 0, explicit.stdout + explicit.stderr);
  const t = await pg.query(`SELECT to_regclass('public.pins')::text AS t`, [], database);
  assert.equal(t.rows[0]!.t, 'pins');
});
