/**
 * One rule, one place: each rule below is used by more than one part of the tool. These tests
 * hold the parts that apply a rule against the one place that states it, so a second copy that
 * drifts from the first fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_NAMES, type EnvName } from '../src/config/types.js';
import { BUNDLED_MIGRATIONS_DIR, defaultSslMode, ENV_DEFAULTS, MIGRATIONS_DIR_NAME } from '../src/config/defaults.js';
import { defaultMigrationsDir as projectMigrationsDir, findProjectRoot } from '../src/config/project-root.js';
import { CONNECTION_PRIMARY_VARS, CONNECTION_VARS, SETTINGS, SSH_PRIMARY_VARS } from '../src/config/settings.js';
import { resolveConfig } from '../src/config/resolve.js';
import { detectEnv } from '../src/config/detect.js';
import { retryPolicyFor } from '../src/db/retry.js';
import { defaultMigrationsDir } from '../src/library/pool.js';
import { stateSql } from '../src/migrate/lock.js';
import { lockHoldersSql } from '../src/ops/lock.js';
import { urlWithoutPassword } from '../src/cli/wizard/answers.js';
import { envVarsFor } from '../src/cli/wizard/save.js';
import { formatExplanation, framedExplanation } from '../src/cli/output/format.js';
import { createColors } from '../src/cli/output/colors.js';
import { explain } from '../src/explain/index.js';
import { ChatgeniusError } from '../src/errors.js';

const cwd = '/nonexistent-project-dir';
function resolveFor(env: EnvName, vars: NodeJS.ProcessEnv = {}) {
  const url = env === 'local' ? {} : { DATABASE_URL: 'postgres://app@db.example.com:5432/chatgenius' };
  return resolveConfig({ flags: { env }, env: { ...url, ...vars }, cwd, interactive: false });
}

test('the retry policy of every env is the one config/defaults.ts states, for the CLI and for the library', () => {
  for (const env of ENV_NAMES) {
    assert.deepEqual(retryPolicyFor(env), ENV_DEFAULTS[env].retry, `retryPolicyFor(${env})`);
    assert.deepEqual(resolveFor(env).retry, ENV_DEFAULTS[env].retry, `resolveConfig env ${env}`);
  }
  // local is 3 x 500 ms (the copy in db/retry.ts once said 3 x 1000 ms).
  assert.deepEqual(retryPolicyFor('local'), { maxRetries: 3, retryDelayMs: 500 });
});

test('"since" of a lock holder means the same in the engine and in doctor', () => {
  const sinceOf = (sql: string) => /(coalesce\([^)]*\))\s+as\s+since/i.exec(sql)?.[1]?.toLowerCase().replace(/\s+/g, '');
  const engine = sinceOf(stateSql('public', { tryLock: true, release: { kind: 'never' } }));
  const doctor = sinceOf(lockHoldersSql('public'));
  assert.ok(engine, 'the engine reads a holder with a since');
  assert.equal(doctor, engine);
});

test('the default sslmode is one rule for config and for the URL the wizard saves', () => {
  for (const host of ['localhost', '127.0.0.1', '::1', '/var/run/postgresql', 'db.example.com', '10.0.0.5']) {
    const expected = defaultSslMode(host);
    if (!host.startsWith('/') && host !== '::1') {
      const config = resolveFor('development', { DATABASE_URL: `postgres://app@${host}:5432/chatgenius` });
      assert.equal(config.connection?.sslMode, expected, `resolveConfig for ${host}`);
    }
    const answers = { host, port: 5432, database: 'chatgenius', user: 'app' };
    assert.doesNotMatch(urlWithoutPassword({ ...answers, sslMode: expected }), /sslmode/, `the default for ${host} is not written`);
    const other = expected === 'disable' ? 'require' : 'disable';
    assert.match(urlWithoutPassword({ ...answers, sslMode: other }), new RegExp(`sslmode=${other}`));
  }
  assert.equal(defaultSslMode('localhost'), 'disable');
  assert.equal(defaultSslMode('db.example.com'), 'prefer');
});

test('the default migrations directory is one rule: config, the library and `new` follow config/project-root.ts', () => {
  // No project sql/: the package's own migrations, for config and for the library.
  assert.equal(resolveFor('development').migrationsDir.replace(/\/$/, ''), BUNDLED_MIGRATIONS_DIR.replace(/\/$/, ''));
  assert.equal(projectMigrationsDir(findProjectRoot(cwd)), BUNDLED_MIGRATIONS_DIR);
  assert.equal(defaultMigrationsDir, BUNDLED_MIGRATIONS_DIR);
  assert.ok(existsSync(BUNDLED_MIGRATIONS_DIR));
  assert.ok(readdirSync(BUNDLED_MIGRATIONS_DIR).some((f) => /^0001_.*\.up\.sql$/.test(f)));
  // A project whose own sql/ holds migrations: that folder, the same for config and the rule.
  const project = mkdtempSync(join(tmpdir(), 'single-source-'));
  try {
    mkdirSync(join(project, '.chatgenius'));
    mkdirSync(join(project, MIGRATIONS_DIR_NAME));
    writeFileSync(join(project, MIGRATIONS_DIR_NAME, '0001_start.up.sql'), 'SELECT 1;\n');
    const own = join(project, MIGRATIONS_DIR_NAME);
    assert.equal(projectMigrationsDir(findProjectRoot(join(project, '.chatgenius'))), own);
    const r = resolveConfig({ flags: { env: 'development' }, env: { DATABASE_URL: 'postgres://app@db.example.com:5432/chatgenius' }, cwd: project, interactive: false });
    assert.equal(r.migrationsDir.replace(/\/$/, ''), own);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test('the connection variables are the ones resolveConfig reads: env detection sees each, the wizard writes only those', () => {
  const read = new Set<string>(Object.values(SETTINGS).flatMap((s) => s.vars));
  for (const v of CONNECTION_VARS) {
    assert.ok(read.has(v), `${v} is read by resolveConfig`);
    const d = detectEnv({ flags: {}, env: { [v]: v === 'DATABASE_URL' ? 'postgres://a@h/d' : 'x' }, cwd });
    assert.equal(d.connectionConfigured, true, `${v} counts as a configured connection`);
  }
  const written = envVarsFor(
    {
      env: 'development',
      connection: { host: 'db.example.com', port: 5432, database: 'chatgenius', user: 'app', password: 'pw' },
      tunnel: { host: 'bastion', port: 22, user: 'deploy', keyPath: '/k' },
    } as Parameters<typeof envVarsFor>[0],
    true,
  );
  const managed = new Set([...CONNECTION_PRIMARY_VARS, ...SSH_PRIMARY_VARS]);
  for (const k of Object.keys(written)) {
    assert.ok(managed.has(k), `the wizard writes ${k}, which it also replaces in an existing file`);
    assert.ok(read.has(k), `the wizard writes ${k}, which resolveConfig reads`);
  }
});

test('an explanation is worded one way, on stderr and inside a wizard box', () => {
  const x = explain(new ChatgeniusError('CONFIG_MISSING_CONNECTION', 'No database connection configured', { env: 'development' }));
  const plain = createColors({ isTTY: false }, {});
  const stderr = formatExplanation(x, plain);
  const framed = framedExplanation(x);
  for (const line of framed.split('\n')) assert.ok(stderr.includes(line), `stderr has "${line}"`);
  assert.match(framed, /^.+ \(CONFIG_MISSING_CONNECTION\)\nWhy: .+\nFix: .+$/);
});

test('sizes read the same everywhere: one formatBytes in src (the schema tour, the lock plan, realtime slots and local status use it)', async () => {
  const { readFileSync } = await import('node:fs');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  const defining = walk(join(import.meta.dirname, '..', 'src')).filter((f) => /function formatBytes\b/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(
    defining.map((f) => f.slice(f.indexOf('src'))),
    [join('src', 'ops', 'units.ts')],
  );
  const { formatBytes } = await import('../src/ops/units.js');
  assert.deepEqual([0, 1023, 16384, 3.5 * 1024 ** 2, 20 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '16 kB', '3.5 MB', '20 GB']);
  assert.equal(formatBytes(null), '?');
});
