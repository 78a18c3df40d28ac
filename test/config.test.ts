import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChatgeniusError } from '../src/errors.js';
import { explain } from '../src/explain/index.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../src/config/defaults.js';
import type { Flags } from '../src/cli/command.js';
import { detectEnv, findMalformedLine, parseDuration, resolveConfig, type ResolvedConfig } from '../src/config/index.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A temp project dir holding the given files (name -> content; a value of null makes a directory). */
function project(files: Record<string, string | null> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'cgdb-config-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    if (content === null) mkdirSync(join(dir, name), { recursive: true });
    else writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** An empty HOME so the developer's own ~/.ssh never leaks into a test. */
function home(withKey = false): string {
  const h = mkdtempSync(join(tmpdir(), 'cgdb-home-'));
  dirs.push(h);
  if (withKey) {
    mkdirSync(join(h, '.ssh'));
    writeFileSync(join(h, '.ssh', 'id_rsa'), 'not a real key\n', { mode: 0o600 });
  }
  return h;
}

function resolve(flags: Flags, env: NodeJS.ProcessEnv, cwd: string): ResolvedConfig {
  return resolveConfig({ flags, env: { HOME: home(), ...env }, cwd });
}

function failure(fn: () => unknown): ChatgeniusError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ChatgeniusError, `expected a ChatgeniusError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('precedence of flags, environment and .env files', () => {
  test('a variable comes from the strongest layer that sets it: env > .env.<env>.local > .env.local > .env.<env> > .env', () => {
    const files: Record<string, string> = {
      '.env': 'POSTGRES_DB=from_dotenv\nPOSTGRES_HOST=db.example.com\n',
      '.env.development': 'POSTGRES_DB=from_env_development\n',
      '.env.local': 'POSTGRES_DB=from_env_local\n',
      '.env.development.local': 'POSTGRES_DB=from_env_development_local\n',
    };
    const cwd = project(files);
    const flags = { env: 'development' };
    assert.equal(resolve(flags, { POSTGRES_DB: 'from_process' }, cwd).connection?.database, 'from_process');
    assert.equal(resolve(flags, {}, cwd).connection?.database, 'from_env_development_local');
    rmSync(join(cwd, '.env.development.local'));
    assert.equal(resolve(flags, {}, cwd).connection?.database, 'from_env_local');
    rmSync(join(cwd, '.env.local'));
    assert.equal(resolve(flags, {}, cwd).connection?.database, 'from_env_development');
    rmSync(join(cwd, '.env.development'));
    assert.equal(resolve(flags, {}, cwd).connection?.database, 'from_dotenv');
  });

  test('a flag beats the process environment and every file', () => {
    const cwd = project({ '.env': 'SSH_HOST=bastion\nSSH_USER=deploy\nSSH_PORT=2200\nDATABASE_URL=postgres://a@file-host/filedb\n' });
    const c = resolve({ 'ssh-port': '2300', 'database-url': 'postgres://b@flag-host/flagdb' }, { SSH_PORT: '2222' }, cwd);
    assert.equal(c.tunnel?.port, 2300);
    assert.equal(c.connection?.host, 'flag-host');
    assert.equal(c.connection?.database, 'flagdb');
    assert.equal(resolve({}, { SSH_PORT: '2222' }, cwd).tunnel?.port, 2222);
  });

  test('a broken file of another environment does not stop a run that does not read it', () => {
    const cwd = project({ '.env.development': 'this is not an env file\n', '.env.production': 'POSTGRES_HOST=prod-db\n' });
    assert.equal(resolve({ env: 'production' }, {}, cwd).connection?.host, 'prod-db');
    assert.equal(resolve({}, { CHATGENIUS_ENV: 'production' }, cwd).connection?.host, 'prod-db');
    assert.equal(failure(() => resolve({}, {}, cwd)).code, 'CONFIG_ENV_FILE');
  });

  test('env test does not read .env.local (shared test settings stay reproducible)', () => {
    const cwd = project({
      '.env': 'POSTGRES_HOST=shared\n',
      '.env.local': 'POSTGRES_HOST=my-laptop\n',
      '.env.test': 'POSTGRES_DB=chatgenius_test\n',
    });
    const t = resolve({ env: 'test' }, {}, cwd);
    assert.equal(t.connection?.host, 'shared');
    assert.deepEqual(t.envFiles, ['.env.test', '.env']);
    const d = resolve({ env: 'development' }, {}, cwd);
    assert.equal(d.connection?.host, 'my-laptop');
  });

  test('POSTGRES_* win over the libpq PG* variables, which are still read', () => {
    const cwd = project({ '.env': 'PGHOST=pg-host\nPGPORT=6000\nPGUSER=pguser\nPGDATABASE=pgdb\nPGPASSWORD=pgpass\n' });
    const c = resolve({ env: 'development' }, {}, cwd);
    assert.deepEqual(
      { host: c.connection?.host, port: c.connection?.port, user: c.connection?.user, db: c.connection?.database, pw: c.connection?.password },
      { host: 'pg-host', port: 6000, user: 'pguser', db: 'pgdb', pw: 'pgpass' },
    );
    const c2 = resolve({ env: 'development' }, { POSTGRES_HOST: 'pg-main', POSTGRES_PASSWORD: 'main-pass' }, cwd);
    assert.equal(c2.connection?.host, 'pg-main');
    assert.equal(c2.connection?.password, 'main-pass');
    assert.equal(c2.connection?.port, 6000);
  });

  test('sources record which file, variable or flag supplied each setting, never a value', () => {
    const cwd = project({ '.env.development': 'POSTGRES_HOST=db.internal\nPOSTGRES_PASSWORD=hunter22-secret\n' });
    const c = resolve({ env: 'development', schema: 'app' }, { POSTGRES_PORT: '5433' }, cwd);
    assert.equal(c.sources.CHATGENIUS_ENV, '--env');
    assert.equal(c.sources.POSTGRES_HOST, '.env.development');
    assert.equal(c.sources.POSTGRES_PORT, 'environment');
    assert.equal(c.sources.POSTGRES_PASSWORD, '.env.development');
    assert.equal(c.sources.CHATGENIUS_SCHEMA, '--schema');
    const text = JSON.stringify(c.sources);
    assert.ok(!text.includes('hunter22-secret'));
    assert.ok(!text.includes('db.internal'));
  });

  test('resolving reads .env files without touching process.env', () => {
    const cwd = project({ '.env': 'CHATGENIUS_TEST_MARKER_XYZ=1\nPOSTGRES_HOST=h\n' });
    resolveConfig({ flags: {}, env: { HOME: home() }, cwd });
    assert.equal(process.env.CHATGENIUS_TEST_MARKER_XYZ, undefined);
  });
});

describe('which environment', () => {
  test('nothing configured: local (a bare machine gets the embedded PostgreSQL)', () => {
    const d = detectEnv({ flags: {}, env: {}, cwd: project() });
    assert.equal(d.env, 'local');
    assert.equal(d.connectionConfigured, false);
  });

  test('DATABASE_URL in the environment, POSTGRES_* or PG* in a file: development', () => {
    assert.equal(detectEnv({ flags: {}, env: { DATABASE_URL: 'postgres://x@h/db' }, cwd: project() }).env, 'development');
    assert.equal(detectEnv({ flags: {}, env: {}, cwd: project({ '.env': 'POSTGRES_HOST=db\n' }) }).env, 'development');
    assert.equal(detectEnv({ flags: {}, env: {}, cwd: project({ '.env.local': 'PGHOST=db\n' }) }).env, 'development');
    assert.equal(detectEnv({ flags: { 'database-url': 'postgres://x@h/db' }, env: {}, cwd: project() }).env, 'development');
  });

  test('an SSH_HOST alone selects development, with the database defaults as seen from the SSH host', () => {
    const cwd = project({ '.env.local': 'SSH_HOST=bastion\nSSH_USER=deploy\n' });
    const c = resolve({}, {}, cwd);
    assert.equal(c.env, 'development');
    assert.equal(c.tunnel?.host, 'bastion');
    assert.deepEqual([c.connection?.host, c.connection?.port, c.connection?.database], ['localhost', 5432, 'chatgenius']);
    assert.equal(failure(() => resolve({ 'no-tunnel': true, env: 'development' }, {}, cwd)).code, 'CONFIG_MISSING_VALUE');
  });

  test('a connection only in .env.production does not select development', () => {
    assert.equal(detectEnv({ flags: {}, env: {}, cwd: project({ '.env.production': 'POSTGRES_HOST=prod\n' }) }).env, 'local');
  });

  test('CHATGENIUS_ENV (environment or .env) beats detection, and --env beats CHATGENIUS_ENV', () => {
    const cwd = project({ '.env': 'CHATGENIUS_ENV=test\nPOSTGRES_HOST=db\n' });
    assert.equal(detectEnv({ flags: {}, env: {}, cwd }).env, 'test');
    assert.equal(detectEnv({ flags: {}, env: { CHATGENIUS_ENV: 'production' }, cwd }).env, 'production');
    assert.equal(detectEnv({ flags: { env: 'local' }, env: { CHATGENIUS_ENV: 'production' }, cwd }).env, 'local');
    assert.equal(resolve({}, {}, cwd).env, 'test');
  });
});

describe('environment defaults', () => {
  const cwd = project({ '.env': 'POSTGRES_HOST=db.example.com\n' });

  test('local: no connection (the embedded server supplies it), no tunnel, state under .chatgenius/', () => {
    const c = resolve({ env: 'local' }, { SSH_HOST: 'bastion', SSH_USER: 'u', DATABASE_URL: 'postgres://x@h/db' }, cwd);
    assert.equal(c.connection, null);
    assert.equal(c.tunnel, null);
    assert.equal(c.stateDir, join(cwd, '.chatgenius'));
    assert.equal(c.schema, 'public');
  });

  test('development: 3 attempts 1000 ms apart; production: 5 attempts 2000 ms and its confirmation flag', () => {
    const d = resolve({ env: 'development' }, {}, cwd);
    assert.deepEqual(d.retry, { maxRetries: 3, retryDelayMs: 1000 });
    const p = resolve({ env: 'production', 'confirm-database': 'chatgenius' }, {}, cwd);
    assert.deepEqual(p.retry, { maxRetries: 5, retryDelayMs: 2000 });
    assert.equal(p.confirmDatabase, 'chatgenius');
  });

  test('test: schema test with search_path test, public', () => {
    const t = resolve({ env: 'test' }, {}, cwd);
    assert.equal(t.schema, 'test');
    assert.deepEqual(t.searchPath, ['test', 'public']);
    assert.equal(resolve({ env: 'test', schema: 'other' }, {}, cwd).schema, 'other');
  });

  test('connection defaults fill what is not set; TLS is off for localhost and preferred elsewhere', () => {
    const c = resolve({ env: 'development' }, {}, cwd).connection!;
    assert.deepEqual(
      { host: c.host, port: c.port, db: c.database, user: c.user, ssl: c.sslMode },
      { host: 'db.example.com', port: 5432, db: 'chatgenius', user: 'postgres', ssl: 'prefer' },
    );
    const l = resolve({ env: 'development' }, { POSTGRES_HOST: 'localhost' }, cwd).connection!;
    assert.equal(l.sslMode, 'disable');
  });

  test('timeouts and retries: defaults, flags with units, and the CHATGENIUS_* overrides', () => {
    const d = resolve({ env: 'development' }, {}, cwd);
    assert.equal(d.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS, 'the one default (short: the app queues behind a DDL at most this long)');
    assert.ok(DEFAULT_LOCK_TIMEOUT_MS <= 5_000, 'a few seconds at most');
    assert.equal(d.statementTimeoutMs, 600_000);
    const o = resolve({ env: 'development', 'lock-timeout': '500ms', 'statement-timeout': '5m' }, { CHATGENIUS_MAX_RETRIES: '7', CHATGENIUS_RETRY_DELAY_MS: '0' }, cwd);
    assert.equal(o.lockTimeoutMs, 500);
    assert.equal(o.statementTimeoutMs, 300_000);
    assert.deepEqual(o.retry, { maxRetries: 7, retryDelayMs: 0 });
    assert.deepEqual(parseDuration('1h'), { ok: true, value: 3_600_000 });
    assert.deepEqual(parseDuration('250'), { ok: true, value: 250 });
  });

  test('migrations come from the package sql/ unless --migrations-dir says otherwise (relative to the project)', () => {
    const repoSql = fileURLToPath(new URL('../sql', import.meta.url));
    assert.equal(resolve({ env: 'development' }, {}, cwd).migrationsDir, repoSql);
    assert.equal(resolve({ env: 'development', 'migrations-dir': 'db/migrations' }, {}, cwd).migrationsDir, join(cwd, 'db/migrations'));
  });

  test('a URL supplies everything, decoding the password; sslmode and sslrootcert come from its query', () => {
    const c = resolve({ 'database-url': 'postgresql://app%40corp:p%40ss%3Aw0rd@db.example.com:6543/prod_db?sslmode=verify-full&sslrootcert=certs/ca.pem' }, {}, cwd)
      .connection!;
    assert.deepEqual(
      { host: c.host, port: c.port, db: c.database, user: c.user, pw: c.password, ssl: c.sslMode, ca: c.sslRootCert },
      { host: 'db.example.com', port: 6543, db: 'prod_db', user: 'app@corp', pw: 'p@ss:w0rd', ssl: 'verify-full', ca: join(cwd, 'certs/ca.pem') },
    );
    const pg = resolve({ 'database-url': 'postgres://u@db.example.com/x' }, { PGSSLMODE: 'require', POSTGRES_PASSWORD: 'from-env' }, cwd).connection!;
    assert.equal(pg.sslMode, 'require');
    assert.equal(pg.password, 'from-env');
  });
});

describe('SSH tunnel settings', () => {
  const cwd = project({ '.env': 'POSTGRES_HOST=10.0.0.5\n' });

  test('SSH_HOST turns the tunnel on (port 22, known_hosts in ~/.ssh, accepted keys in .chatgenius/); --no-tunnel turns it off', () => {
    const h = home();
    const t = resolveConfig({ flags: {}, env: { HOME: h, SSH_HOST: 'bastion.example.com', SSH_USER: 'deploy' }, cwd }).tunnel!;
    assert.equal(t.host, 'bastion.example.com');
    assert.equal(t.port, 22);
    assert.equal(t.username, 'deploy');
    assert.equal(t.knownHostsPath, join(h, '.ssh/known_hosts'));
    assert.equal(t.projectKnownHostsPath, join(cwd, '.chatgenius/known_hosts'));
    assert.equal(t.keepaliveIntervalMs, 10_000);
    assert.equal(t.acceptNewHostKey, false);
    const off = resolveConfig({ flags: { 'no-tunnel': true }, env: { HOME: h, SSH_HOST: 'bastion', SSH_USER: 'deploy' }, cwd });
    assert.equal(off.tunnel, null);
  });

  test('--ssh-host user@host:port supplies the user and port', () => {
    const t = resolve({ 'ssh-host': 'ops@bastion.example.com:2201', 'accept-new-host-key': true }, {}, cwd).tunnel!;
    assert.deepEqual({ u: t.username, h: t.host, p: t.port, a: t.acceptNewHostKey }, { u: 'ops', h: 'bastion.example.com', p: 2201, a: true });
  });

  test('~ in SSH_KEY_PATH and SSH_KNOWN_HOSTS expands to HOME; relative paths are from the project', () => {
    const h = home();
    const t = resolveConfig({
      flags: {},
      env: { HOME: h, SSH_HOST: 'b', SSH_USER: 'u', SSH_KEY_PATH: '~/.ssh/deploy_ed25519', SSH_KNOWN_HOSTS: '~/kh' },
      cwd,
    }).tunnel!;
    assert.equal(t.keyPath, join(h, '.ssh/deploy_ed25519'));
    assert.equal(t.knownHostsPath, join(h, 'kh'));
    const rel = resolve({ 'ssh-key': 'keys/id' }, { SSH_HOST: 'b', SSH_USER: 'u' }, cwd).tunnel!;
    assert.equal(rel.keyPath, join(cwd, 'keys/id'));
  });

  test('no explicit key: the environment default ~/.ssh/id_rsa when it exists, else ssh-agent', () => {
    const withKey = home(true);
    const t1 = resolveConfig({ flags: {}, env: { HOME: withKey, SSH_HOST: 'b', SSH_USER: 'u', SSH_AUTH_SOCK: '/tmp/agent.sock' }, cwd }).tunnel!;
    assert.equal(t1.keyPath, join(withKey, '.ssh/id_rsa'));
    assert.equal(t1.agentSocket, undefined);
    const without = home(false);
    const t2 = resolveConfig({ flags: {}, env: { HOME: without, SSH_HOST: 'b', SSH_USER: 'u', SSH_AUTH_SOCK: '/tmp/agent.sock' }, cwd }).tunnel!;
    assert.equal(t2.keyPath, undefined);
    assert.equal(t2.agentSocket, '/tmp/agent.sock');
  });

  test('a pinned fingerprint and the passphrase are carried; the passphrase never lands in sources', () => {
    const fp = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
    const c = resolve({}, { SSH_HOST: 'b', SSH_USER: 'u', SSH_HOST_FINGERPRINT: fp, SSH_PASSPHRASE: 'correct horse' }, cwd);
    assert.equal(c.tunnel?.hostFingerprint, fp);
    assert.equal(c.tunnel?.passphrase, 'correct horse');
    assert.equal(c.sources.SSH_PASSPHRASE, 'environment');
    assert.ok(!JSON.stringify(c.sources).includes('correct horse'));
  });
});

describe('bad input gives a coded error naming the flag, the variable and the source, without the password', () => {
  const SECRET = 'Sup3r-Secret-pw';
  const longName = 'x'.repeat(64);
  const base = { POSTGRES_PASSWORD: SECRET };
  const dev = { POSTGRES_HOST: 'db.example.com', ...base };
  type Case = {
    name: string;
    flags?: Flags;
    env?: NodeJS.ProcessEnv;
    files?: Record<string, string | null>;
    code: string;
    exit: 1 | 2;
    mentions: string[];
  };
  const cases: Case[] = [
    { name: '--env bogus', flags: { env: 'bogus' }, code: 'CONFIG_BAD_ENV', exit: 2, mentions: ['--env', 'bogus'] },
    { name: 'CHATGENIUS_ENV=prod', env: { CHATGENIUS_ENV: 'prod', ...base }, code: 'CONFIG_BAD_ENV', exit: 1, mentions: ['CHATGENIUS_ENV', '--env', 'environment'] },
    { name: 'CHATGENIUS_ENV in .env', files: { '.env': 'CHATGENIUS_ENV=staging\n' }, code: 'CONFIG_BAD_ENV', exit: 1, mentions: ['CHATGENIUS_ENV', '.env'] },
    {
      name: 'POSTGRES_PORT=abc in .env.development',
      files: { '.env.development': `POSTGRES_HOST=db\nPOSTGRES_PORT=abc\nPOSTGRES_PASSWORD=${SECRET}\n` },
      code: 'CONFIG_BAD_PORT',
      exit: 1,
      mentions: ['POSTGRES_PORT="abc"', '.env.development', '1-65535', 'DATABASE_URL'],
    },
    {
      name: 'POSTGRES_PORT=70000',
      flags: { env: 'development' },
      env: { ...dev, POSTGRES_PORT: '70000' },
      code: 'CONFIG_BAD_PORT',
      exit: 1,
      mentions: ['POSTGRES_PORT', 'environment'],
    },
    { name: 'PGPORT=0', flags: { env: 'development' }, env: { ...dev, PGPORT: '0' }, code: 'CONFIG_BAD_PORT', exit: 1, mentions: ['PGPORT'] },
    {
      name: '--ssh-port abc',
      flags: { env: 'development', 'ssh-host': 'b', 'ssh-user': 'u', 'ssh-port': 'abc' },
      env: dev,
      code: 'CONFIG_BAD_PORT',
      exit: 2,
      mentions: ['--ssh-port', 'SSH_PORT'],
    },
    {
      name: 'SSH_PORT=-1',
      flags: { env: 'development' },
      env: { ...dev, SSH_HOST: 'b', SSH_USER: 'u', SSH_PORT: '-1' },
      code: 'CONFIG_BAD_PORT',
      exit: 1,
      mentions: ['SSH_PORT', '--ssh-port'],
    },
    {
      name: '--database-url not-a-url',
      flags: { 'database-url': 'not-a-url' },
      env: base,
      code: 'CONFIG_BAD_URL',
      exit: 2,
      mentions: ['--database-url', 'DATABASE_URL'],
    },
    { name: 'DATABASE_URL=mysql://', env: { DATABASE_URL: `mysql://root:${SECRET}@h/db` }, code: 'CONFIG_BAD_URL', exit: 1, mentions: ['DATABASE_URL', 'environment'] },
    {
      name: 'DATABASE_URL port out of range',
      env: { DATABASE_URL: `postgres://u:${SECRET}@h:99999/db` },
      code: 'CONFIG_BAD_URL',
      exit: 1,
      mentions: ['DATABASE_URL', 'port'],
    },
    {
      name: 'DATABASE_URL without host in .env.local',
      files: { '.env.local': `DATABASE_URL=postgres://u:${SECRET}@/db\n` },
      code: 'CONFIG_BAD_URL',
      exit: 1,
      mentions: ['DATABASE_URL', '.env.local', 'no host'],
    },
    { name: 'DATABASE_URL with a raw space', env: { DATABASE_URL: `postgres://u:${SECRET} x@h:5432:1/db` }, code: 'CONFIG_BAD_URL', exit: 1, mentions: ['DATABASE_URL'] },
    {
      name: '--schema bad-name',
      flags: { env: 'development', schema: 'bad-name' },
      env: dev,
      code: 'CONFIG_BAD_SCHEMA',
      exit: 2,
      mentions: ['--schema', 'CHATGENIUS_SCHEMA'],
    },
    {
      name: '--schema MySchema (upper case: the engine would refuse it later)',
      flags: { env: 'development', schema: 'MySchema' },
      env: dev,
      code: 'CONFIG_BAD_SCHEMA',
      exit: 2,
      mentions: ['--schema', 'lower-case'],
    },
    { name: '--schema pg_catalog', flags: { env: 'development', schema: 'pg_catalog' }, env: dev, code: 'CONFIG_BAD_SCHEMA', exit: 2, mentions: ['reserved'] },
    { name: '--schema of 64 characters', flags: { env: 'development', schema: longName }, env: dev, code: 'CONFIG_BAD_SCHEMA', exit: 2, mentions: ['63'] },
    {
      name: 'CHATGENIUS_SCHEMA=1abc',
      flags: { env: 'development' },
      env: { ...dev, CHATGENIUS_SCHEMA: '1abc' },
      code: 'CONFIG_BAD_SCHEMA',
      exit: 1,
      mentions: ['CHATGENIUS_SCHEMA'],
    },
    {
      name: 'schema with a quote (injection attempt)',
      flags: { env: 'local', schema: 'x"; DROP SCHEMA public; --' },
      code: 'CONFIG_BAD_SCHEMA',
      exit: 2,
      mentions: ['--schema'],
    },
    {
      name: 'CHATGENIUS_MAX_RETRIES=-1',
      flags: { env: 'development' },
      env: { ...dev, CHATGENIUS_MAX_RETRIES: '-1' },
      code: 'CONFIG_BAD_RETRY',
      exit: 1,
      mentions: ['CHATGENIUS_MAX_RETRIES', '1-100'],
    },
    {
      name: 'CHATGENIUS_MAX_RETRIES=2.5',
      flags: { env: 'development' },
      env: { ...dev, CHATGENIUS_MAX_RETRIES: '2.5' },
      code: 'CONFIG_BAD_RETRY',
      exit: 1,
      mentions: ['whole number'],
    },
    {
      name: 'CHATGENIUS_RETRY_DELAY_MS=soon in .env',
      files: { '.env': 'CHATGENIUS_RETRY_DELAY_MS=soon\n' },
      code: 'CONFIG_BAD_RETRY',
      exit: 1,
      mentions: ['CHATGENIUS_RETRY_DELAY_MS', '.env'],
    },
    {
      name: '--lock-timeout 10x',
      flags: { env: 'local', 'lock-timeout': '10x' },
      code: 'CONFIG_BAD_DURATION',
      exit: 2,
      mentions: ['--lock-timeout', 'CHATGENIUS_LOCK_TIMEOUT'],
    },
    {
      name: 'CHATGENIUS_STATEMENT_TIMEOUT=forever',
      flags: { env: 'local' },
      env: { CHATGENIUS_STATEMENT_TIMEOUT: 'forever' },
      code: 'CONFIG_BAD_DURATION',
      exit: 1,
      mentions: ['CHATGENIUS_STATEMENT_TIMEOUT', '--statement-timeout'],
    },
    {
      name: 'PGSSLMODE=sometimes',
      flags: { env: 'development' },
      env: { ...dev, PGSSLMODE: 'sometimes' },
      code: 'CONFIG_BAD_SSLMODE',
      exit: 1,
      mentions: ['PGSSLMODE', 'verify-full'],
    },
    {
      name: 'sslmode=maybe in --database-url',
      flags: { 'database-url': `postgres://u:${SECRET}@h/db?sslmode=maybe` },
      code: 'CONFIG_BAD_SSLMODE',
      exit: 2,
      mentions: ['sslmode', '--database-url', 'PGSSLMODE'],
    },
    {
      name: 'SSH_HOST_FINGERPRINT=MD5:..',
      flags: { env: 'development' },
      env: { ...dev, SSH_HOST: 'b', SSH_USER: 'u', SSH_HOST_FINGERPRINT: 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48' },
      code: 'CONFIG_BAD_FINGERPRINT',
      exit: 1,
      mentions: ['SSH_HOST_FINGERPRINT', 'SHA256'],
    },
    {
      name: 'SHA256 fingerprint too short',
      flags: { env: 'development' },
      env: { ...dev, SSH_HOST: 'b', SSH_USER: 'u', SSH_HOST_FINGERPRINT: 'SHA256:abc' },
      code: 'CONFIG_BAD_FINGERPRINT',
      exit: 1,
      mentions: ['SSH_HOST_FINGERPRINT'],
    },
    {
      name: '--ssh-host without a user',
      flags: { env: 'development', 'ssh-host': 'bastion' },
      env: dev,
      code: 'CONFIG_MISSING_VALUE',
      exit: 2,
      mentions: ['--ssh-user', 'SSH_USER'],
    },
    {
      name: 'SSH_HOST in .env without a user',
      files: { '.env': `POSTGRES_HOST=db\nSSH_HOST=bastion\nPOSTGRES_PASSWORD=${SECRET}\n` },
      code: 'CONFIG_MISSING_VALUE',
      exit: 1,
      mentions: ['--ssh-user', 'SSH_USER', '.env'],
    },
    {
      name: '--env development with no database configured',
      flags: { env: 'development' },
      code: 'CONFIG_MISSING_VALUE',
      exit: 1,
      mentions: ['--database-url', 'DATABASE_URL', '--env local'],
    },
    {
      name: 'a line that is not KEY=value',
      files: { '.env': `POSTGRES_HOST=db\nPOSTGRES_PASSWORD ${SECRET}\n` },
      code: 'CONFIG_ENV_FILE',
      exit: 1,
      mentions: ['.env', 'line 2'],
    },
    {
      name: 'an unclosed quote',
      files: { '.env.local': `POSTGRES_PASSWORD="${SECRET}\nPOSTGRES_HOST=db\n` },
      code: 'CONFIG_ENV_FILE',
      exit: 1,
      mentions: ['.env.local', 'line 1', 'never closed'],
    },
    {
      name: '.env.development is a directory',
      flags: { env: 'development' },
      files: { '.env.development': null },
      env: dev,
      code: 'CONFIG_ENV_FILE',
      exit: 1,
      mentions: ['.env.development', 'directory'],
    },
    {
      name: '--env local with --database-url',
      flags: { env: 'local', 'database-url': `postgres://u:${SECRET}@h/db` },
      code: 'CONFIG_CONFLICTING_FLAGS',
      exit: 2,
      mentions: ['--database-url', 'env local'],
    },
    {
      name: 'CHATGENIUS_ENV=local with --ssh-host',
      flags: { 'ssh-host': 'bastion' },
      env: { CHATGENIUS_ENV: 'local' },
      code: 'CONFIG_CONFLICTING_FLAGS',
      exit: 2,
      mentions: ['--ssh-host', 'CHATGENIUS_ENV'],
    },
    {
      name: 'a bad flag is reported (exit 2) before a bad env file',
      flags: { env: 'development', schema: 'no-good' },
      files: { '.env': 'POSTGRES_PORT=abc\n' },
      code: 'CONFIG_BAD_SCHEMA',
      exit: 2,
      mentions: ['--schema'],
    },
    {
      name: 'POSTGRES_HOST with a space',
      flags: { env: 'development' },
      env: { ...base, POSTGRES_HOST: 'db example.com' },
      code: 'CONFIG_BAD_VALUE',
      exit: 1,
      mentions: ['POSTGRES_HOST'],
    },
  ];

  test('the table has more than 20 cases', () => assert.ok(cases.length > 20));

  for (const c of cases) {
    test(`${c.name} -> ${c.code}, exit ${c.exit}`, () => {
      const cwd = project(c.files ?? {});
      const err = failure(() => resolve(c.flags ?? {}, c.env ?? {}, cwd));
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.exitCode, c.exit, err.message);
      for (const m of c.mentions) assert.ok(err.message.includes(m), `"${err.message}" should mention ${m}`);
      const x = explain(err);
      assert.equal(x.code, c.code);
      assert.notEqual(x.title, 'Something went wrong', 'every config code has its own explain() row');
      const everything = `${err.message} ${JSON.stringify(err.details)} ${x.title} ${x.cause} ${x.hint}`;
      assert.ok(!everything.includes(SECRET), `the password leaked: ${everything}`);
    });
  }
});

describe('.env syntax check', () => {
  test('comments, export, quotes spanning lines and blank lines are fine; a bare word is not', () => {
    assert.equal(findMalformedLine('# c\n\nexport A=1\nB="multi\nline"\nC=\'x\' # tail\nD: colon\n'), null);
    assert.deepEqual(findMalformedLine('A=1\njust words\n'), { line: 2 });
  });
});
