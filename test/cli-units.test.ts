/** The command line's pure decisions, without a process or a database. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConsent } from '../src/run.js';
import { rollbackTarget } from '../src/cli/commands/rollback.js';
import { nextVersion, validateName } from '../src/cli/commands/new.js';
import { didYouMean, describeConnection, formatDuration } from '../src/cli/output/format.js';
import { lineDiff } from '../src/cli/output/engine-results.js';
import { JsonLogger, toLogEntry } from '../src/log/logger.js';
import { Redactor } from '../src/log/redact.js';
import { seedSecrets } from '../src/cli/output/reporter.js';
import { ChatgeniusError } from '../src/errors.js';
import { commandFirst } from '../src/cli/main.js';
import { configFlags } from '../src/cli/command.js';
import { explain } from '../src/explain/index.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as ChatgeniusError).code + ':' + (e as ChatgeniusError).exitCode;
  }
};

test('consent: rollback needs --yes; production needs --confirm-database equal to the database', () => {
  const dev = { env: 'development' as const, yes: false, confirmDatabase: undefined };
  assert.equal(
    code(() => checkConsent(dev, 'rollback', 'db', { interactive: false, destructive: true })),
    'CONSENT_REQUIRED:2',
  );
  assert.equal(
    code(() => checkConsent({ ...dev, yes: true }, 'rollback', 'db', { interactive: false, destructive: true })),
    undefined,
  );
  assert.equal(
    code(() => checkConsent(dev, 'init', 'db', { interactive: false })),
    undefined,
  );
  const prod = { env: 'production' as const, yes: true, confirmDatabase: undefined };
  assert.equal(
    code(() => checkConsent(prod, 'init', 'chat', { interactive: false })),
    'PRODUCTION_CONFIRMATION_REQUIRED:2',
  );
  assert.equal(
    code(() => checkConsent({ ...prod, confirmDatabase: 'chatx' }, 'init', 'chat', { interactive: false })),
    'PRODUCTION_CONFIRMATION_MISMATCH:2',
  );
  assert.equal(
    code(() => checkConsent({ ...prod, confirmDatabase: 'chat' }, 'init', 'chat', { interactive: false })),
    undefined,
  );
});

test('rollback flags: default one step, exclusive choices, whole positive steps', () => {
  assert.deepEqual(rollbackTarget({}), { steps: 1 });
  assert.deepEqual(rollbackTarget({ steps: '3' }), { steps: 3 });
  assert.deepEqual(rollbackTarget({ to: '0002' }), { to: '0002' });
  assert.deepEqual(rollbackTarget({ all: true }), { all: true });
  assert.equal(
    code(() => rollbackTarget({ steps: '0' })),
    'USAGE_BAD_STEPS:2',
  );
  assert.equal(
    code(() => rollbackTarget({ steps: '1.5' })),
    'USAGE_BAD_STEPS:2',
  );
  assert.equal(
    code(() => rollbackTarget({ all: true, to: '1' })),
    'USAGE_CONFLICTING_FLAGS:2',
  );
  assert.equal(
    code(() => rollbackTarget({ to: 'latest' })),
    'MIGRATION_UNKNOWN_VERSION:2',
  );
});

test('new: next version after the highest, names validated', () => {
  assert.equal(nextVersion([]), '0001');
  assert.equal(nextVersion(['0001_a.up.sql', '0009_b.down.sql', 'README.md']), '0010');
  assert.equal(nextVersion(['00042_x.up.sql']), '00043');
  assert.equal(validateName('add_pins'), 'add_pins');
  assert.equal(
    code(() => validateName('Add-Pins')),
    'NEW_BAD_NAME:2',
  );
  assert.equal(
    code(() => validateName(undefined)),
    'USAGE_MISSING_ARGUMENT:2',
  );
});

test('formatting: durations, masked targets, did-you-mean', () => {
  assert.equal(formatDuration(12.4), '12 ms');
  assert.equal(formatDuration(1440), '1.4 s');
  assert.equal(formatDuration(125_000), '2 min 5 s');
  assert.equal(describeConnection({ host: 'db', port: 5432, database: 'chat', user: 'me', password: 'x' }), 'postgres://me:****@db:5432/chat');
  assert.equal(describeConnection({ host: '::1', port: 5432, database: 'chat', user: 'me' }), 'postgres://me@[::1]:5432/chat');
  assert.equal(didYouMean('dry-rnu', ['dry-run', 'yes', 'json']), 'dry-run');
  assert.equal(didYouMean('zzzzzz', ['dry-run', 'yes', 'json']), undefined);
});

test('lineDiff shows added and removed lines with context', () => {
  const d = lineDiff('a\nb\nc\nd\ne\nf\ng', 'a\nb\nc\nD\ne\nf\ng\nh');
  assert.match(d, /^- d$/m);
  assert.match(d, /^\+ D$/m);
  assert.match(d, /^\+ h$/m);
  assert.doesNotMatch(d, /^ {2}a$/m, 'far context elided');
});

test('log entries: class 23 is constraint_violation, P0 trigger_error, others schema_migration', () => {
  const f = (c?: string) => toLogEntry({ type: 'migration:failed', version: '1', name: 'x', direction: 'up', message: 'm', ...(c ? { code: c } : {}) });
  assert.equal(f('23505').event, 'constraint_violation');
  assert.equal(f('P0001').event, 'trigger_error');
  assert.equal(f('42601').event, 'schema_migration');
  assert.equal(f().level, 'error');
  const done = toLogEntry({ type: 'migration:done', version: '0001', name: 'x', direction: 'up', durationMs: 5 });
  assert.deepEqual(done, { level: 'info', event: 'schema_migration', data: { status: 'done', version: '0001', name: 'x', direction: 'up', durationMs: 5 } });
  assert.equal(toLogEntry({ type: 'lock:wait', holder: null }).event, 'lock_wait');
  assert.equal(toLogEntry({ type: 'tunnel:open', host: 'h', localPort: 1, remote: 'r', ms: 1 }).event, 'tunnel_open');
});

test('the JSON logger masks secrets seeded from the environment and URL flags', () => {
  const r = new Redactor();
  seedSecrets(r, { POSTGRES_PASSWORD: 'env-secret', DATABASE_URL: 'postgres://u:p%40ss-word@h/db' }, { 'database-url': 'postgres://u:flag-secret@h/db' });
  const lines: string[] = [];
  const log = new JsonLogger({ correlationId: 'c', redactor: r, sinks: [(l) => lines.push(l)] });
  log.write('error', 'error', { message: 'failed for env-secret with p@ss-word and flag-secret', password: 'whatever', url: 'postgres://x:y@h/db' });
  const text = lines.join('\n');
  for (const s of ['env-secret', 'p@ss-word', 'p%40ss-word', 'flag-secret', 'whatever', ':y@']) assert.ok(!text.includes(s), `${s} masked in ${text}`);
  const parsed = JSON.parse(lines[0]!) as { correlationId: string; level: string; event: string; timestamp: string };
  assert.equal(parsed.correlationId, 'c');
  assert.equal(parsed.event, 'error');
});

test('every CLI and engine code has its own explanation (not the generic fallback)', () => {
  for (const c of [
    'USAGE_UNKNOWN_FLAG',
    'USAGE_UNKNOWN_COMMAND',
    'USAGE_UNEXPECTED_ARGUMENT',
    'USAGE_BAD_FLAG_VALUE',
    'USAGE_MISSING_ARGUMENT',
    'USAGE_CONFLICTING_FLAGS',
    'USAGE_BAD_STEPS',
    'CONSENT_REQUIRED',
    'PRODUCTION_CONFIRMATION_REQUIRED',
    'PRODUCTION_CONFIRMATION_MISMATCH',
    'LOG_FILE_UNWRITABLE',
    'NEW_BAD_NAME',
    'NEW_FILE_EXISTS',
    'MIGRATIONS_DIR_NOT_FOUND',
    'MIGRATION_DRIFT',
    'VERIFY_DRIFT',
    'MIGRATION_SQL_ERROR',
    'MIGRATION_MISSING_FILE',
    'MIGRATION_MISSING_DOWN',
    'MIGRATION_FAILED_BEFORE',
    'MIGRATION_UNKNOWN_VERSION',
    'MIGRATION_BAD_FILE',
    'BASELINE_MISMATCH',
    'BASELINE_NOT_EMPTY',
    'COMMAND_UNAVAILABLE',
    'CANCELLED',
  ]) {
    const x = explain(new ChatgeniusError(c, 'm', {}));
    assert.notEqual(x.title, 'Something went wrong', c);
    assert.ok(x.cause.length > 0 && x.hint.length > 0, c);
  }
  const sql = explain(
    new ChatgeniusError('MIGRATION_SQL_ERROR', 'm', {
      file: '0002_x.up.sql',
      line: 3,
      column: 5,
      sqlstate: '42601',
      pgMessage: 'syntax error at or near "SELEC"',
      phase: 'syntax',
      frame: '> 3 | SELEC 1\n    | ^',
    }),
  );
  assert.match(sql.title, /0002_x\.up\.sql:3:5/);
  assert.match(sql.cause, /42601/);
  assert.equal(sql.detail, '> 3 | SELEC 1\n    | ^');
});

test('a failed earlier run is explained as retried by the next run, repair only to clear the record', () => {
  const x = explain(new ChatgeniusError('MIGRATION_FAILED_BEFORE', 'm', { version: '0003', name: 'reactions' }));
  assert.match(x.cause, /0003/);
  assert.match(x.hint, /run the same command again/i);
  assert.match(x.hint, /retries the failed migration/);
  assert.match(x.hint, /repair[^.]*only[^.]*without retrying/);
  assert.doesNotMatch(x.hint, /clear the record with `chatgenius-db repair --yes` and run again/);
});

test('the library API exposes the spec names and the engine', async () => {
  const lib = await import('../src/index.js');
  for (const name of [
    'setupDatabase',
    'initializePool',
    'executeSchemaFile',
    'executeWithRetry',
    'SSHTunnel',
    'SSHTunnelError',
    'migrate',
    'rollback',
    'status',
    'verify',
    'baseline',
    'repair',
    'resolveConfig',
    'explain',
    'ChatgeniusError',
    'openTarget',
  ]) {
    assert.equal(typeof (lib as Record<string, unknown>)[name], 'function', name);
  }
});

test('a command after leading flags is found; flag values are not mistaken for commands', () => {
  assert.deepEqual(commandFirst(['--env', 'test', 'status']), ['status', '--env', 'test']);
  assert.deepEqual(commandFirst(['--env', 'local', '--yes']), ['--env', 'local', '--yes']);
  assert.deepEqual(commandFirst(['--yes', 'rollback', '--steps', '2']), ['rollback', '--yes', '--steps', '2']);
  assert.deepEqual(commandFirst(['status', '--env', 'test']), ['status', '--env', 'test']);
  assert.deepEqual(commandFirst(['--schema', 'verify']), ['--schema', 'verify']);
});

test('the command line hands config typed settings only: known flags, last value of a repeat, nothing else', () => {
  const typed = configFlags({
    env: ['test', 'production'],
    'database-url': 'postgres://a@h/d',
    yes: true,
    steps: '2',
    metrics: true,
    'ssh-port': 22 as unknown as string,
  });
  assert.deepEqual(typed, { env: 'production', 'database-url': 'postgres://a@h/d', yes: true });
});
