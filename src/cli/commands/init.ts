/** `chatgenius-db init`: apply the pending migrations (the default command). */
import type { ResolvedConfig } from '../../config/types.js';
import { connectionOptions, type CommandContext, type OptionSpec } from '../command.js';
import type { Reporter } from '../output/reporter.js';
import type { OpenedTarget, TargetHooks } from '../../run.js';
import { reporterFor } from '../output/reporter.js';
import { loadConfig, registerSecrets, targetLabel, withTarget } from '../output/runner.js';
import { checkConsent, engineOptions } from '../../run.js';
import { appliedSummary, failureError } from '../output/engine-results.js';
import { formatDuration, plural } from '../output/format.js';
import { migrate, type MigrateResult } from '../../migrate/index.js';
import { checkUnsafe, allowUnsafeOf, warnUnsafe } from '../output/unsafe.js';
import { RULE_BY_ID } from '../../lint/rules.js';
import { usageError } from '../../errors.js';
import { lockPlan } from '../../lint/index.js';
import { lockPlanLines, lockPlanJson } from '../output/lock-plan.js';
import { checkedFiles } from '../syntax-check.js';
import { readVersion } from '../version.js';

export const summary = 'Apply pending migrations';

export const help = `Usage: chatgenius-db [init] [options]

Applies every pending migration of sql/ to the target database, each in its own transaction
with its journal row, under an advisory lock. Re-running on an up-to-date database changes
nothing. Run by a person (a TTY, no --yes), a wizard asks for what is missing.

Options:
  --env local|development|test|production   which environment (else CHATGENIUS_ENV; without a
                         person: development when a connection is configured, else local)
  --yes, -y              never prompt (CI); missing values are errors naming flag and variable
  --dry-run              print the plan (per pending migration: the tables it locks, the lock
                         mode traced on a scratch schema, their rows and size; lint findings)
                         and the SQL it would run; change nothing
  --allow-unsafe RULE[,RULE...]|all   production without a person: run pending migrations
                         whose lint errors lock tables that hold rows (else refused, exit 2)
  --json                 JSON lines on stdout (LogFormat), last line event "result"
  --log-file PATH        append the JSON lines to PATH (created mode 0600)
  --database-url URL     postgres://user:password@host:port/db (else DATABASE_URL, POSTGRES_*)
  --schema NAME          target schema (default public; test: test)
  --migrations-dir DIR   the migration files (default: the package's sql/)
  --confirm-database NAME   required to change a production database without a prompt
  --ssh-host HOST --ssh-port N --ssh-user USER --ssh-key PATH   the SSH tunnel (else SSH_*)
  --accept-new-host-key  trust an SSH host key seen for the first time
  --no-tunnel            connect directly even when SSH_HOST is set
  --lock-timeout 3s      how long one DDL statement may wait for a table lock (the app's
                         queries queue behind it that long at most); then it backs off, retries
  --lock-wait 2m         the most the run waits for locks in all (another run's migration lock,
                         table locks), then it stops and names the session in the way
  --statement-timeout 10m   how long one migration statement may run
  --verbose, -v          more detail, stack traces on failure

Examples:
  chatgenius-db init --env local --yes
  chatgenius-db init --env test --yes --database-url postgres://me@localhost/chatgenius
  chatgenius-db init --env production --yes --confirm-database chatgenius --json
  chatgenius-db init --dry-run
`;

export const options = { ...connectionOptions, 'allow-unsafe': { type: 'string' } } as const satisfies OptionSpec;

export async function run(ctx: CommandContext): Promise<number> {
  const reporter = reporterFor(ctx);
  const config = await loadConfig(ctx, reporter);
  return runInit(config, ctx, reporter);
}

/** A dry run's report: up to date, or what would run, the locks it would take, and the SQL. */
async function printDryRun(r: Reporter, client: OpenedTarget['client'], config: ResolvedConfig, label: string, result: MigrateResult): Promise<void> {
  if (result.plan.pending.length === 0) {
    r.out.success(`Nothing to apply: ${label} (schema ${config.schema}) is up to date.`);
  } else {
    r.out.info(`Dry run: would apply ${plural(result.plan.pending.length, 'migration')} to ${label} (schema ${config.schema}):`);
    const plan = await lockPlan(client, {
      schema: config.schema,
      applied: result.plan.applied.map((a) => a.file),
      pending: result.plan.pending,
      all: [...result.plan.applied.map((a) => a.file), ...result.plan.pending],
    });
    for (const l of lockPlanLines(plan)) r.out.line(`  ${l}`);
    r.setResult({ lockPlan: lockPlanJson(plan), ...(plan.traceError ? { lockTraceError: plan.traceError } : {}) });
    if (result.sql) {
      r.out.line('');
      r.out.line(r.out.colors.dim('-- The SQL it would run:'));
      r.out.block(result.sql);
    }
    r.out.info('Nothing was changed (--dry-run).');
  }
}

/**
 * The non-interactive run (the wizard calls it after filling in and confirming the config):
 * consent rules, open the target, migrate, print. Returns the exit code; throws errors to explain.
 * `confirmed`: a person already typed the production database name (the wizard).
 */
export async function runInit(
  config: ResolvedConfig,
  ctx: CommandContext,
  reporter?: Reporter,
  opts: { confirmed?: boolean; confirmHostKey?: TargetHooks['confirmHostKey']; unsafeConfirmed?: boolean } = {},
): Promise<number> {
  const r = reporter ?? reporterFor(ctx);
  registerSecrets(config, r);
  const allowUnsafe = allowUnsafeOf(ctx);
  if (allowUnsafe.rules.size > 0) {
    const unknown = [...allowUnsafe.rules].filter((x) => !RULE_BY_ID.has(x));
    if (unknown.length) {
      throw usageError('USAGE_UNKNOWN_RULE', `--allow-unsafe: unknown rule ${unknown.join(', ')}`, { flag: '--allow-unsafe', unknown: unknown.join(', ') });
    }
  }

  const needsConfirm = config.env === 'production' && !config.dryRun && !opts.confirmed;
  // A wrong --confirm-database is refused before anything connects.
  if (needsConfirm && config.confirmDatabase) {
    checkConsent(config, 'init', config.connection?.database, { interactive: ctx.interactive });
  }

  const started = Date.now();
  // Files read, hashed and parsed before anything connects (a broken file: nothing is sent).
  const files = await checkedFiles(config.migrationsDir, 'up', readVersion());
  // Development and test: the pending files' lint errors are warned about before they run.
  const warnedSoon = config.env !== 'production' && !config.dryRun ? warnUnsafe(files, r) : Promise.resolve(undefined);
  return withTarget(
    ctx,
    config,
    r,
    async (t) => {
      const label = targetLabel(config, t);
      const engine = { ...engineOptions(config, r.emit, ctx.signal, readVersion()), files };
      r.setResult({ env: config.env, target: label, schema: config.schema, dryRun: config.dryRun });

      if (config.env === 'production' && !config.dryRun) {
        // Production: allowed without a confirmation only when there is nothing to change; and a
        // pending migration whose lint errors lock tables holding rows needs consent (nothing runs).
        const preview = await migrate(t.client, { ...engine, dryRun: true, emit: undefined });
        if (needsConfirm && !config.confirmDatabase && preview.plan.pending.length > 0) checkConsent(config, 'init', t.target.database, { interactive: ctx.interactive });
        if (!opts.unsafeConfirmed && preview.plan.pending.length > 0) {
          await checkUnsafe(t.client, config.schema, [...preview.plan.applied.map((a) => a.file), ...preview.plan.pending], preview.plan.pending, allowUnsafe);
        }
      }

      const warned = await warnedSoon;
      const result = await migrate(t.client, warned ? { ...engine, emit: warned } : engine);
      // A real run emitted its warnings as notices already (printed once); a dry run did not.
      if (result.dryRun) for (const w of result.warnings) r.out.warn(w);
      const applied = appliedSummary(result.results);
      r.setResult({
        applied,
        pending: result.plan.pending.map((p) => ({ version: p.version, name: p.name })),
        alreadyApplied: result.plan.applied.length,
      });

      if (config.dryRun) {
        await printDryRun(r, t.client, config, label, result);
        if (result.sql) r.setResult({ sql: result.sql });
        return 0;
      }

      if (!result.ok) {
        if (applied.length > 0) r.out.info(`${plural(applied.length, 'migration')} applied before the failure (committed).`);
        throw result.failure ? failureError(result.failure, 'up') : new Error('migration failed');
      }
      const took = formatDuration(Date.now() - started);
      if (applied.length === 0) {
        r.out.success(`Nothing to do: ${label} (schema ${config.schema}) is up to date (${plural(result.plan.applied.length, 'migration')} applied).`);
      } else {
        r.out.success(`Applied ${plural(applied.length, 'migration')} to ${label} (schema ${config.schema}) in ${took}`);
      }
      if (!config.dryRun) r.out.info(`Next: \`chatgenius-db schema --env ${config.env}\` shows the tables, their keys and indexes.`);
      return 0;
    },
    opts,
  );
}
