/**
 * The plumbing every database command shares: resolve the config (registering its secrets with
 * the run's Redactor), open the target, run, close always. Also the lazy loader for the wizard.
 */
import { statSync } from 'node:fs';
import type { ResolvedConfig } from '../../config/types.js';
import { CancelledError, ChatgeniusError } from '../../errors.js';
import type { OpenedTarget, TargetHooks } from '../../run.js';
import { configFlags, type CommandContext } from '../command.js';
import type { Reporter } from './reporter.js';
import { describeBastion, describeConnection } from './format.js';
import { resolveConfig } from '../../config/index.js';
import { openTarget } from '../../run.js';

export async function loadConfig(ctx: CommandContext, reporter: Reporter): Promise<ResolvedConfig> {
  const config = await resolveConfig({ flags: configFlags(ctx.flags), env: ctx.env, cwd: ctx.cwd, interactive: ctx.interactive });
  registerSecrets(config, reporter);
  if (config.logFile && typeof ctx.flags['log-file'] !== 'string') reporter.attachLogFile(config.logFile);
  checkMigrationsDir(config.migrationsDir, typeof ctx.flags['migrations-dir'] === 'string');
  return config;
}

export function registerSecrets(config: ResolvedConfig, reporter: Reporter): void {
  reporter.addSecrets(config.connection?.password, config.tunnel?.passphrase);
}

/**
 * Open the target, run fn, close (client then tunnel) whatever happens. `hooks.opened`: a target
 * the caller already opened (the wizard's, kept from its connection check) is used instead, and
 * closed here all the same.
 */
export async function withTarget<T>(
  ctx: CommandContext,
  config: ResolvedConfig,
  reporter: Reporter,
  fn: (t: OpenedTarget) => Promise<T>,
  hooks: { confirmHostKey?: TargetHooks['confirmHostKey']; opened?: OpenedTarget; startLocal?: boolean } = {},
): Promise<T> {
  const t =
    hooks.opened ??
    (await openTarget(config, {
      emit: reporter.emit,
      signal: ctx.signal,
      ...(hooks.confirmHostKey ? { confirmHostKey: hooks.confirmHostKey } : {}),
      ...(hooks.startLocal === false ? { startLocal: false } : {}),
    }));
  reporter.addSecrets(t.connection.password);
  try {
    const out = await fn(t);
    if (ctx.signal.aborted) throw new CancelledError('Cancelled: the database is left at a migration boundary; run again to finish');
    return out;
  } catch (e) {
    if (ctx.signal.aborted) throw new CancelledError('Cancelled: the database is left at a migration boundary; run again to finish');
    const dropped = t.dropError();
    if (dropped && failedOnLostConnection(e)) throw tunnelDroppedError(dropped, e);
    if (isMigrationCutOff(e)) throw connectionLostError(e);
    throw e;
  } finally {
    await t.close();
  }
}

/**
 * Did the command fail because its connection went away (rather than on a real SQL error)?
 * A migration failure carries the pg error's SQLSTATE; a lost connection has none, or a Node
 * code, or a connection-class SQLSTATE (08xxx, 57P0x).
 */
export function failedOnLostConnection(err: unknown): boolean {
  const sqlstate =
    err instanceof ChatgeniusError && err.code === 'MIGRATION_SQL_ERROR'
      ? err.details.sqlstate
      : err instanceof ChatgeniusError
        ? err.code
        : (err as { code?: unknown } | null)?.code;
  if (typeof sqlstate !== 'string' || !/^[0-9A-Z]{5}$/.test(sqlstate)) return true;
  return sqlstate.startsWith('08') || sqlstate.startsWith('57P');
}

/** A migration that "failed" on the connection going away (no SQLSTATE, a Node code, 08xxx / 57P0x). */
function isMigrationCutOff(e: unknown): e is ChatgeniusError {
  return e instanceof ChatgeniusError && e.code === 'MIGRATION_SQL_ERROR' && failedOnLostConnection(e);
}

/** DB_CONNECTION_LOST naming the migration that was cut off (rolled back by the server). */
function connectionLostError(e: ChatgeniusError): ChatgeniusError {
  const d = e.details;
  const migration = typeof d.version === 'string' ? `${d.version}${typeof d.name === 'string' ? `_${d.name}` : ''}` : undefined;
  return new ChatgeniusError(
    'DB_CONNECTION_LOST',
    `The connection was lost${migration ? ` while running ${migration}, which was rolled back` : ''}; the database is at a migration boundary: run the same command again to finish`,
    { ...(migration ? { migration } : {}), direction: d.direction, driverMessage: d.pgMessage },
    { cause: e },
  );
}

/** SSH_TUNNEL_DROPPED for the user, naming the migration that was cut off (it was rolled back). */
export function tunnelDroppedError(drop: Error, failure: unknown): ChatgeniusError {
  const base = drop instanceof ChatgeniusError ? drop.details : { sshMessage: drop.message };
  const d = failure instanceof ChatgeniusError ? failure.details : {};
  const migration = typeof d.version === 'string' ? `${d.version}${typeof d.name === 'string' ? `_${d.name}` : ''}` : undefined;
  return new ChatgeniusError(
    'SSH_TUNNEL_DROPPED',
    `${drop.message}${migration ? ` (while running ${migration}, which was rolled back)` : ''}; the database is at a migration boundary: run the same command again to finish`,
    { ...base, ...(migration ? { migration } : {}) },
    { cause: drop },
  );
}

/** How the target is shown: postgres://u:****@host:port/db, plus the bastion when tunnelled. */
export function targetLabel(config: ResolvedConfig, t: OpenedTarget): string {
  return describeConnection(t.target) + describeBastion(config.tunnel);
}

/** An unknown version given with --to / --version is fixed on the command line: exit 2. */
export function asUsageError(err: unknown, codes: string[] = ['MIGRATION_UNKNOWN_VERSION']): unknown {
  if (err instanceof ChatgeniusError && codes.includes(err.code) && err.exitCode !== 2) {
    return new ChatgeniusError(err.code, err.message, err.details, { exitCode: 2, cause: err });
  }
  return err;
}

/** Refuse a migrations directory that is not there before anything connects (a flag: exit 2). */
export function checkMigrationsDir(dir: string, fromFlag: boolean): void {
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new ChatgeniusError(
      'MIGRATIONS_DIR_NOT_FOUND',
      `Migrations directory not found: ${dir}`,
      { path: dir, flag: '--migrations-dir', variable: 'CHATGENIUS_MIGRATIONS_DIR' },
      { exitCode: fromFlag ? 2 : 1 },
    );
  }
}
