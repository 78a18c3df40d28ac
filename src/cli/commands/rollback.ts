/** `chatgenius-db rollback [--to VERSION | --steps N | --all]`: run down migrations, newest first. */
import type { ResolvedConfig } from '../../config/types.js';
import { usageError } from '../../errors.js';
import { connectionOptions, type CommandContext, type Flags, type OptionSpec } from '../command.js';
import type { Reporter } from '../output/reporter.js';
import type { OpenedTarget, TargetHooks } from '../../run.js';
import { reporterFor } from '../output/reporter.js';
import { asUsageError, loadConfig, registerSecrets, targetLabel, withTarget } from '../output/runner.js';
import { checkConsent, engineOptions } from '../../run.js';
import { appliedSummary, failureError } from '../output/engine-results.js';
import { formatDuration, plural } from '../output/format.js';
import { rollback } from '../../migrate/index.js';
import { checkedFiles } from '../syntax-check.js';
import { readVersion } from '../version.js';

export const summary = 'Roll back migrations';

export const help = `Usage: chatgenius-db rollback [--steps N | --to VERSION | --all] [options]

Runs the .down.sql files of applied migrations, newest first, each in its own transaction with
its journal row. Without a person at the keyboard it needs --yes; on production also
--confirm-database NAME.

Which migrations:
  --steps N        the last N applied (default 1)
  --to VERSION     every migration newer than VERSION (VERSION itself stays applied)
  --all            every applied migration (extensions the tool created are dropped too,
                   unless another schema still uses them)

Options: the same as init (--env, --yes, --dry-run, --json, --log-file, --database-url,
--schema, --migrations-dir, --confirm-database, --ssh-*, --no-tunnel, --lock-timeout, --lock-wait,
--verbose).

Examples:
  chatgenius-db rollback --yes
  chatgenius-db rollback --steps 2 --env test --yes
  chatgenius-db rollback --to 0002 --yes --dry-run
  chatgenius-db rollback --all --env production --yes --confirm-database chatgenius
`;

export const options = {
  ...connectionOptions,
  to: { type: 'string' },
  steps: { type: 'string' },
  all: { type: 'boolean' },
} as const satisfies OptionSpec;

export interface RollbackTarget {
  to?: string;
  steps?: number;
  all?: boolean;
}

/** Pure: which migrations to roll back, from the flags (usage errors exit 2). */
export function rollbackTarget(flags: Flags): RollbackTarget {
  const to = typeof flags.to === 'string' ? flags.to : undefined;
  const stepsRaw = typeof flags.steps === 'string' ? flags.steps : undefined;
  const all = flags.all === true;
  const given = [to !== undefined && '--to', stepsRaw !== undefined && '--steps', all && '--all'].filter(Boolean) as string[];
  if (given.length > 1) {
    throw usageError('USAGE_CONFLICTING_FLAGS', `${given.join(' and ')} cannot be used together`, { flags: given });
  }
  if (to !== undefined) {
    if (!/^\d+$/.test(to)) throw usageError('MIGRATION_UNKNOWN_VERSION', `--to ${to} is not a migration version`, { version: to, flag: '--to' });
    return { to };
  }
  if (all) return { all: true };
  if (stepsRaw !== undefined) {
    if (!/^\d+$/.test(stepsRaw.trim()) || Number(stepsRaw) < 1) throw usageError('USAGE_BAD_STEPS', `--steps ${stepsRaw}`, { value: stepsRaw });
    return { steps: Number(stepsRaw) };
  }
  return { steps: 1 };
}

export async function run(ctx: CommandContext): Promise<number> {
  const target = rollbackTarget(ctx.flags);
  const reporter = reporterFor(ctx);
  const config = await loadConfig(ctx, reporter);
  return runRollback(config, target, ctx, reporter);
}

/** The non-interactive rollback (the wizard calls it with `confirmed` after its own prompts). */
export async function runRollback(
  config: ResolvedConfig,
  target: RollbackTarget,
  ctx: CommandContext,
  reporter?: Reporter,
  opts: { confirmed?: boolean; confirmHostKey?: TargetHooks['confirmHostKey']; opened?: OpenedTarget } = {},
): Promise<number> {
  const r = reporter ?? reporterFor(ctx);
  registerSecrets(config, r);

  // Consent first: nothing connects, nothing changes without it.
  if (!config.dryRun && !opts.confirmed) {
    checkConsent(config, 'rollback', config.connection?.database, { interactive: ctx.interactive, destructive: true });
  }
  const started = Date.now();
  const files = await checkedFiles(config.migrationsDir, 'down', readVersion());
  return withTarget(
    ctx,
    config,
    r,
    async (t) => {
      const label = targetLabel(config, t);
      r.setResult({ env: config.env, target: label, schema: config.schema, dryRun: config.dryRun, ...target });
      const result = await rollback(t.client, { ...engineOptions(config, r.emit, ctx.signal, readVersion()), ...target, files }).catch((e: unknown) => {
        throw asUsageError(e);
      });
      for (const w of result.warnings) r.out.warn(w);
      const done = appliedSummary(result.results);
      r.setResult({ rolledBack: done, planned: result.plan.steps.map((s) => ({ version: s.version, name: s.name })) });

      if (config.dryRun) {
        if (result.plan.steps.length === 0) r.out.success('Nothing to roll back.');
        else {
          r.out.info(`Dry run: would roll back ${plural(result.plan.steps.length, 'migration')} on ${label} (schema ${config.schema}):`);
          for (const s of result.plan.steps) r.out.line(`  ${s.version}_${s.name}`);
          if (result.sql) {
            r.out.line('');
            r.out.line(r.out.colors.dim('-- The SQL it would run:'));
            r.out.block(result.sql);
            r.setResult({ sql: result.sql });
          }
          r.out.info('Nothing was changed (--dry-run).');
        }
        return 0;
      }
      if (!result.ok) {
        if (done.length > 0) r.out.info(`${plural(done.length, 'migration')} rolled back before the failure (committed).`);
        throw result.failure ? failureError(result.failure, 'down') : new Error('rollback failed');
      }
      if (done.length === 0) r.out.success(`Nothing to roll back on ${label} (schema ${config.schema}).`);
      else r.out.success(`Rolled back ${plural(done.length, 'migration')} on ${label} (schema ${config.schema}) in ${formatDuration(Date.now() - started)}`);
      return 0;
    },
    opts,
  );
}
