/**
 * A new user's first hour, part one: a server (SCRAM, as PostgreSQL 14+ sets up by default) that
 * wants a password and gets none. Passwords come from POSTGRES_PASSWORD, the URL, or the libpq
 * password file (~/.pgpass, PGPASSFILE) as psql reads it; without one, the message says so and
 * names where one may come from, never pg's "SASL: ... client password must be a string", and
 * doctor never sends you to doctor. Drives the built binary (`npm run build` first).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { matchPgpass, parsePgpass, parsePgpassLine, pgpassLineFor } from '../src/config/pgpass.js';

// A password with the two characters the file format escapes.
const PASSWORD = 'se:cr\\et-42';
const ESCAPED = 'se\\:cr\\\\et-42';
let pg: TestPostgres;
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cgdb-pgpass-'));
  pg = await startPostgres();
  await pg.query(`CREATE ROLE app_user LOGIN PASSWORD '${PASSWORD.replace(/'/g, "''")}'`);
  await pg.query(`GRANT ALL ON DATABASE ${pg.database} TO app_user`, [], 'postgres');
  const enc = await pg.query<{ rolpassword: string }>(`SELECT rolpassword FROM pg_authid WHERE rolname = 'app_user'`);
  assert.match(enc.rows[0]!.rolpassword, /^SCRAM-SHA-256\$/, 'the server stores a SCRAM verifier');
});

after(async () => {
  await pg?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** A project and a HOME of its own (so the real ~/.pgpass never counts). */
async function project(name: string, pgpass?: { text: string; mode: number; at?: string }) {
  const dir = join(root, name);
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  if (pgpass) {
    const path = pgpass.at ?? join(home, '.pgpass');
    await writeFile(path, pgpass.text);
    await chmod(path, pgpass.mode);
  }
  const env = {
    HOME: home,
    POSTGRES_HOST: '127.0.0.1',
    POSTGRES_PORT: String(pg.port),
    POSTGRES_DB: pg.database,
    POSTGRES_USER: 'app_user',
  };
  return { dir, home, env };
}

test("no password anywhere: a plain explanation naming POSTGRES_PASSWORD, the URL and .pgpass, never the driver's message", async () => {
  const p = await project('none');
  const started = Date.now();
  const r = await runCli(['status', '--env', 'development'], { cwd: p.dir, env: p.env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /wants a password/);
  assert.match(r.stderr, /POSTGRES_PASSWORD/);
  assert.match(r.stderr, /DATABASE_URL with the password after "app_user:"/);
  assert.ok(Date.now() - started < 5000, 'no retries, no connect timeout: a missing password is not transient');
  assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${pg.port}:${pg.database}:app_user:PASSWORD`));
  assert.match(r.stderr, /\.pgpass/);
  assert.doesNotMatch(r.stderr, /SASL|must be a string|SCRAM/);
  assert.doesNotMatch(r.stderr, /Something went wrong/);
});

test('doctor without a password explains it and never sends you to doctor', async () => {
  const p = await project('doctor');
  const r = await runCli(['doctor', '--env', 'development'], { cwd: p.dir, env: p.env });
  const out = r.stdout + r.stderr;
  assert.notEqual(r.code, 0);
  assert.match(out, /wants a password/);
  assert.doesNotMatch(out, /SASL|must be a string/);
  assert.doesNotMatch(out, /chatgenius-db doctor/);
});

test('~/.pgpass (mode 0600) supplies the password: wildcards, escaped colon and backslash, first match wins', async () => {
  const text = ['# comment line', `otherhost:*:*:app_user:wrong`, `127.0.0.1:${pg.port}:*:app_user:${ESCAPED}`, `*:*:*:*:also-wrong`].join('\n');
  const p = await project('pgpass', { text, mode: 0o600 });
  const r = await runCli(['status', '--env', 'development'], { cwd: p.dir, env: p.env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /pending/);
});

test('PGPASSFILE names another password file', async () => {
  const p = await project('pgpassfile');
  const file = join(p.dir, 'my-pgpass');
  await writeFile(file, `*:${pg.port}:${pg.database}:app_user:${ESCAPED}\n`, { mode: 0o600 });
  const r = await runCli(['status', '--env', 'development'], { cwd: p.dir, env: { ...p.env, PGPASSFILE: file } });
  assert.equal(r.code, 0, r.stderr);
});

test('a password file others may read is ignored, as libpq does, and the message says why', async () => {
  const p = await project('loose', { text: `*:*:*:app_user:${ESCAPED}\n`, mode: 0o644 });
  const r = await runCli(['status', '--env', 'development'], { cwd: p.dir, env: p.env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /chmod 600/);
  assert.match(r.stderr, /0644/);
});

test('a password in the environment still wins over the file', async () => {
  const p = await project('envwins', { text: `*:*:*:app_user:wrong\n`, mode: 0o600 });
  const r = await runCli(['status', '--env', 'development'], { cwd: p.dir, env: { ...p.env, POSTGRES_PASSWORD: PASSWORD } });
  assert.equal(r.code, 0, r.stderr);
});

test('the password file format: fields, escapes, wildcards, comments, short lines', () => {
  assert.deepEqual(parsePgpassLine('h:5432:db:u:pa\\:ss\\\\w:rd'), { host: 'h', port: '5432', database: 'db', user: 'u', password: 'pa:ss\\w:rd' });
  assert.equal(parsePgpassLine('h:5432:db:u'), null);
  const entries = parsePgpass('# c\n\nlocalhost:*:*:bob:one\n*:5433:*:*:two\n');
  assert.equal(matchPgpass(entries, { host: '/var/run/postgresql', port: 5432, database: 'x', user: 'bob' }), 'one');
  assert.equal(matchPgpass(entries, { host: 'db.example', port: 5433, database: 'x', user: 'amy' }), 'two');
  assert.equal(matchPgpass(entries, { host: 'db.example', port: 5432, database: 'x', user: 'amy' }), undefined);
  assert.equal(pgpassLineFor({ host: 'h', port: 1, database: 'd:b', user: 'u' }), 'h:1:d\\:b:u:PASSWORD');
});

test('the wizard\'s "keep it in ~/.pgpass" writes a line psql and we both find, mode 0600, replacing an older one', async () => {
  const { writePgpassLine } = await import('../src/cli/wizard/save.js');
  const { readPgpass } = await import('../src/config/pgpass.js');
  const { stat, readFile } = await import('node:fs/promises');
  const home = join(root, 'wizard-home');
  const file = join(home, '.pgpass');
  const target = { host: '127.0.0.1', port: pg.port, database: pg.database, user: 'app_user' };
  writePgpassLine(file, { ...target, password: 'old' });
  writePgpassLine(file, { ...target, password: PASSWORD });
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const text = await readFile(file, 'utf8');
  assert.equal(text.trim().split('\n').length, 1, 'the older line was replaced');
  assert.equal(readPgpass(file, target).password, PASSWORD);
  const r = await runCli(['status', '--env', 'development'], {
    cwd: home,
    env: { HOME: home, POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(pg.port), POSTGRES_DB: pg.database, POSTGRES_USER: 'app_user' },
  });
  assert.equal(r.code, 0, r.stderr);
});
