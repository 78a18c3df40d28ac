/**
 * Bad inputs, table-driven: each one exits 1 or 2 as the CLI contract says, explains itself on
 * stderr (title / Why / Fix), shows no stack trace, and never prints a password or passphrase
 * (stdout, stderr, or the --log-file). Spawns the built binary: run `npm run build` first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeUserKey } from './helpers/ssh-server.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { freePort } from './helpers/ports.js';

const SECRET = 'Pa55-w0rd-sekrit';
const PASSPHRASE = 'phrase-sekrit-42';

let pg: TestPostgres;
let root: string;
let closedPort: number;
let noCreateUrl: string;
let appliedUrl: string;
let keyPath: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cgdb-cli-errors-'));
  pg = await startPostgres();
  closedPort = await freePort();
  // A real (unencrypted) key, so the tunnel case gets as far as the TCP connection.
  keyPath = join(root, 'id_ed25519');
  await writeFile(keyPath, makeUserKey().private, { mode: 0o600 });
  // A role that may connect but not CREATE (PostgreSQL 15+: public is not writable by others).
  await pg.query(`CREATE ROLE nocreate LOGIN PASSWORD '${SECRET}'`);
  const db = await pg.createDatabase('nocreate_db');
  void db;
  await pg.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC', [], 'nocreate_db');
  await pg.query('REVOKE CREATE ON DATABASE nocreate_db FROM PUBLIC', [], 'postgres');
  noCreateUrl = pg.urlFor('nocreate_db', 'nocreate', SECRET);
  // A database with the schema applied, for rollback/production cases.
  appliedUrl = await pg.createDatabase('applied_db');
  const r = await runCli(['init', '--env', 'test', '--yes', '--database-url', appliedUrl], { cwd: root });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await pg?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** Files written into the case's own project directory. */
  files?: Record<string, string>;
  code: 1 | 2;
  /** Something specific stderr must say (besides the generic Why/Fix). */
  says?: RegExp;
  /** Add --log-file (default true). */
  log?: boolean;
}

const dbUrl = () => pg.urlFor('chatgenius_test');
const fastRetry = { CHATGENIUS_MAX_RETRIES: '1', CHATGENIUS_RETRY_DELAY_MS: '10' };

function cases(): Case[] {
  const url = dbUrl();
  const badPwUrl = pg.urlFor('chatgenius_test', 'postgres', SECRET);
  const sshBase = { DATABASE_URL: url, SSH_HOST: '127.0.0.1', SSH_PORT: String(closedPort), SSH_USER: 'tunnel', SSH_PASSPHRASE: PASSPHRASE };
  return [
    { name: 'unknown flag', args: ['init', '--yes', '--databse-url', url], code: 2, says: /--database-url/ },
    { name: 'unknown command', args: ['migrate-all', '--yes'], code: 2, says: /Unknown command/ },
    { name: 'bad --env', args: ['init', '--env', 'staging', '--yes', '--database-url', url], code: 2, says: /staging/ },
    { name: 'CHATGENIUS_ENV=bogus', args: ['init', '--yes'], env: { CHATGENIUS_ENV: 'bogus', DATABASE_URL: url }, code: 1, says: /bogus/ },
    {
      name: 'port abc in an env file',
      args: ['init', '--env', 'development', '--yes'],
      files: { '.env': `POSTGRES_HOST=127.0.0.1\nPOSTGRES_PORT=abc\nPOSTGRES_USER=postgres\nPOSTGRES_PASSWORD=${SECRET}\nPOSTGRES_DB=x\n` },
      code: 1,
      says: /POSTGRES_PORT/,
    },
    {
      name: 'port out of range in the environment',
      args: ['status', '--yes'],
      env: { POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: '70000', POSTGRES_PASSWORD: SECRET },
      code: 1,
      says: /POSTGRES_PORT/,
    },
    { name: 'bad URL flag', args: ['init', '--yes', '--database-url', `notaurl:${SECRET}`], code: 2, says: /database-url/ },
    { name: 'bad DATABASE_URL', args: ['init', '--env', 'development', '--yes'], env: { DATABASE_URL: `http://u:${SECRET}@host/db` }, code: 1, says: /DATABASE_URL/ },
    { name: 'bad schema name', args: ['init', '--yes', '--database-url', url, '--schema', 'x;drop table users'], code: 2, says: /schema/ },
    { name: 'negative retries', args: ['init', '--yes', '--database-url', url], env: { CHATGENIUS_MAX_RETRIES: '-1' }, code: 1, says: /CHATGENIUS_MAX_RETRIES/ },
    { name: 'bad PGSSLMODE', args: ['status', '--yes', '--database-url', url], env: { PGSSLMODE: 'sometimes' }, code: 1, says: /PGSSLMODE/ },
    { name: 'missing SSH user', args: ['init', '--env', 'development', '--yes'], env: { DATABASE_URL: url, SSH_HOST: 'bastion.example' }, code: 1, says: /SSH_USER/ },
    {
      name: 'bad --ssh-port',
      args: ['init', '--yes', '--database-url', url, '--ssh-host', 'b.example', '--ssh-user', 'u', '--ssh-port', 'twenty-two'],
      code: 2,
      says: /ssh-port/,
    },
    {
      name: 'bad fingerprint',
      args: ['init', '--env', 'development', '--yes'],
      env: { ...sshBase, SSH_HOST_FINGERPRINT: 'not-a-fingerprint' },
      code: 1,
      says: /SSH_HOST_FINGERPRINT/,
    },
    {
      name: 'unreadable key file',
      args: ['init', '--env', 'development', '--yes'],
      env: { ...sshBase, SSH_KEY_PATH: '/nonexistent/dir/id_ed25519' },
      code: 1,
      says: /id_ed25519|key/i,
    },
    {
      name: 'unreachable SSH host (closed port)',
      args: ['status', '--env', 'development', '--yes', '--accept-new-host-key'],
      env: { ...sshBase, ...fastRetry, SSH_KEY_PATH: keyPath },
      code: 1,
      says: new RegExp(String(closedPort)),
    },
    {
      name: 'unreachable database (closed port)',
      args: ['init', '--yes', '--database-url', `postgres://postgres:${SECRET}@127.0.0.1:${closedPort}/db`],
      env: fastRetry,
      code: 1,
      says: /refused/i,
    },
    {
      name: 'unknown host name',
      args: ['init', '--yes', '--database-url', `postgres://postgres:${SECRET}@no-such-host.invalid:5432/db`],
      env: fastRetry,
      code: 1,
      says: /no-such-host\.invalid/,
    },
    { name: 'wrong password', args: ['init', '--yes', '--database-url', badPwUrl], code: 1, says: /password|authentication/i },
    { name: 'role without CREATE', args: ['init', '--yes', '--database-url', noCreateUrl], code: 1, says: /privilege|permission|CREATE/i },
    { name: 'database that does not exist', args: ['init', '--yes', '--database-url', pg.urlFor('no_such_db')], code: 1, says: /no_such_db|does not exist/i },
    { name: 'TLS required by us, server without TLS', args: ['status', '--yes', '--database-url', `${url}?sslmode=require`], code: 1, says: /TLS|SSL/i },
    { name: 'rollback without --yes', args: ['rollback', '--env', 'test', '--database-url', appliedUrl], code: 2, says: /--yes/ },
    {
      name: 'production without --confirm-database',
      args: ['init', '--env', 'production', '--yes', '--schema', 'prod_a', '--database-url', appliedUrl],
      code: 2,
      says: /--confirm-database applied_db/,
    },
    {
      name: 'wrong --confirm-database',
      args: ['rollback', '--env', 'production', '--schema', 'test', '--yes', '--database-url', appliedUrl, '--confirm-database', 'chatgenius'],
      code: 2,
      says: /applied_db/,
    },
    {
      name: '--steps -1',
      args: ['rollback', '--env', 'test', '--yes', '--database-url', appliedUrl, '--steps', '-1'],
      code: 2,
      says: /--steps must be a whole number of at least 1 \(got "-1"\)/,
    },
    { name: '--steps two', args: ['rollback', '--env', 'test', '--yes', '--database-url', appliedUrl, '--steps', 'two'], code: 2, says: /--steps/ },
    {
      name: '--to and --steps together',
      args: ['rollback', '--env', 'test', '--yes', '--database-url', appliedUrl, '--to', '0001', '--steps', '1'],
      code: 2,
      says: /together/,
    },
    { name: '--to unknown version', args: ['rollback', '--env', 'test', '--yes', '--database-url', appliedUrl, '--to', '9999'], code: 2, says: /9999/ },
    { name: 'bad migrations dir', args: ['init', '--yes', '--database-url', url, '--migrations-dir', '/nonexistent/sql'], code: 2, says: /nonexistent/ },
    {
      name: 'SQL file with a syntax error',
      args: ['init', '--yes', '--database-url', url, '--schema', 'syntax_case', '--migrations-dir', 'mig'],
      files: {
        'mig/0001_ok.up.sql': 'CREATE TABLE a (id int);\n',
        'mig/0001_ok.down.sql': 'DROP TABLE a;\n',
        'mig/0002_bad.up.sql': 'CREATE TABLE b (\n  id int,\n  name txet NOT NULL\n);\nSELEC 1;\n',
        'mig/0002_bad.down.sql': 'DROP TABLE b;\n',
      },
      code: 1,
      says: /0002_bad\.up\.sql:\d+/,
    },
    {
      name: 'missing down file',
      args: ['init', '--yes', '--database-url', url, '--schema', 'nodown_case', '--migrations-dir', 'mig'],
      files: { 'mig/0001_only_up.up.sql': 'CREATE TABLE a (id int);\n' },
      code: 1,
      says: /down/,
    },
    { name: 'baseline without --to', args: ['baseline', '--yes', '--database-url', url], code: 2, says: /--to/ },
    {
      name: 'log file in a missing directory',
      args: ['status', '--yes', '--database-url', url, '--log-file', '/nonexistent/dir/x.log'],
      code: 2,
      says: /log file/i,
      log: false,
    },
    { name: 'stray positional argument', args: ['status', 'now', '--database-url', url], code: 2, says: /now/ },
    { name: 'bad --lock-timeout', args: ['init', '--yes', '--database-url', url, '--lock-timeout', 'soon'], code: 2, says: /lock-timeout/ },
    { name: 'new with a bad name', args: ['new', '../../etc/passwd'], code: 2, says: /name/ },
  ];
}

async function runCase(c: Case, i: number): Promise<{ r: CliResult; log: string }> {
  const dir = join(root, `case-${i}`);
  await mkdir(dir, { recursive: true });
  for (const [rel, body] of Object.entries(c.files ?? {})) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), body);
  }
  const logFile = join(dir, 'run.log');
  const args = c.log === false ? c.args : [...c.args, '--log-file', logFile];
  const r = await runCli(args, { cwd: dir, env: { POSTGRES_PASSWORD: SECRET, ...c.env }, timeoutMs: 30_000 });
  const log = existsSync(logFile) ? await readFile(logFile, 'utf8') : '';
  return { r, log };
}

test('at least 30 bad inputs each exit 1 or 2 with an explanation, no stack trace, no secret', async () => {
  const all = cases();
  assert.ok(all.length >= 30, `${all.length} cases`);
  const results: Array<{ c: Case; r: CliResult; log: string }> = new Array(all.length);
  // Three at a time: the machine is shared.
  let next = 0;
  await Promise.all(
    [0, 1, 2].map(async () => {
      for (let i = next++; i < all.length; i = next++) {
        const { r, log } = await runCase(all[i]!, i);
        results[i] = { c: all[i]!, r, log };
      }
    }),
  );
  const failures: string[] = [];
  for (const { c, r, log } of results) {
    if (process.env.SHOW_CASES) console.log(`--- ${c.name} (exit ${r.code})\n${r.stderr}`);
    const where = `[${c.name}] exit ${r.code}\n${r.stderr}`;
    if (r.code !== c.code) failures.push(`expected exit ${c.code}: ${where}`);
    if (!/^✖ .+\(\S+\)$/m.test(r.stderr) || !/^ {2}Why: /m.test(r.stderr) || !/^ {2}Fix: /m.test(r.stderr)) failures.push(`no title/Why/Fix: ${where}`);
    if (/^\s+at /m.test(r.stderr)) failures.push(`stack trace: ${where}`);
    if (/Something went wrong/.test(r.stderr)) failures.push(`generic explanation: ${where}`);
    if (c.says && !c.says.test(r.stderr)) failures.push(`stderr does not match ${c.says}: ${where}`);
    for (const secret of [SECRET, PASSPHRASE, pg.password]) {
      if (r.stdout.includes(secret) || r.stderr.includes(secret)) failures.push(`secret in output: ${where}`);
      if (log.includes(secret)) failures.push(`secret in log file: [${c.name}]`);
    }
    if (c.log !== false) {
      // Every case ran with --log-file: the file must exist and tell the same story as stderr.
      const entries =
        log.trim() === ''
          ? []
          : log
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as { event: string; level: string; data: { exitCode?: number; title?: string } });
      const last = entries.at(-1);
      if (!last) failures.push(`no log written to --log-file: [${c.name}]`);
      else if (last.event !== 'result' || last.level !== 'error' || last.data.exitCode !== c.code)
        failures.push(`log does not end with an error result: [${c.name}] ${log}`);
      const title = /^✖ (.+) \(\S+\)$/m.exec(r.stderr)?.[1];
      const logged = entries.find((e) => e.event === 'error');
      if (last && (!logged || !title || logged.data.title !== title)) failures.push(`log has no error line titled "${title}": [${c.name}] ${log}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('a failed production guard changed nothing: the schema is still fully applied', async () => {
  // The guarded commands target the schema that HAS migrations (test), so a guard that let them
  // through would roll back or touch real work.
  const journal = async () =>
    (await pg.query<{ version: string }>("select version from test.chatgenius_migrations where status = 'applied' order by version", [], 'applied_db')).rows.map(
      (r) => r.version,
    );
  const before = await journal();
  assert.ok(before.length >= 2, `the schema has migrations to lose: ${before.join(', ')}`);
  const env = { POSTGRES_PASSWORD: SECRET };
  const wrong = await runCli(['rollback', '--env', 'production', '--schema', 'test', '--yes', '--database-url', appliedUrl, '--confirm-database', 'chatgenius'], {
    cwd: root,
    env,
  });
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /PRODUCTION_CONFIRMATION_MISMATCH/);
  const none = await runCli(['rollback', '--env', 'production', '--schema', 'test', '--yes', '--database-url', appliedUrl], { cwd: root, env });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /PRODUCTION_CONFIRMATION_REQUIRED/);
  const init = await runCli(['init', '--env', 'production', '--yes', '--schema', 'prod_a', '--database-url', appliedUrl], { cwd: root, env });
  assert.equal(init.code, 2, init.stderr);
  assert.deepEqual(await journal(), before, 'no migration was rolled back');
  const r = await pg.query<{ n: string }>("select count(*) as n from information_schema.tables where table_schema = 'test' and table_name = 'users'", [], 'applied_db');
  assert.equal(r.rows[0]!.n, '1');
  const p = await pg.query<{ n: string }>("select count(*) as n from information_schema.schemata where schema_name = 'prod_a'", [], 'applied_db');
  assert.equal(p.rows[0]!.n, '0');
});
