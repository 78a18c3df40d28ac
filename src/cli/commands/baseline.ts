/** `chatgenius-db baseline --to VERSION`: adopt a database whose tables already exist. */
import { ChatgeniusError, usageError } from '../../errors.js';
import { connectionOptions, type CommandContext, type OptionSpec } from '../command.js';
import { reporterFor } from '../output/reporter.js';
import { asUsageError, loadConfig, targetLabel, withTarget } from '../output/runner.js';
import { checkConsent, engineOptions } from '../../run.js';
import { plural } from '../output/format.js';
import { baseline } from '../../migrate/index.js';
import { readVersion } from '../version.js';

export const summary = 'Adopt a database whose tables already exist';

export const help = `Usage: chatgenius-db baseline --to VERSION [options]

For a database set up before chatgenius-db (say, by the spec's plain SQL script): compares the
live tables (columns, types, nullability) with what the migrations up to VERSION create, and
when they match records those migrations as applied without running them. When they differ it
refuses, lists the differences, and records nothing. Later migrations then run with init.

  --to VERSION     the last migration the existing schema corresponds to (e.g. 0002)

Options: as for init (--env, --yes, --dry-run, --json, --database-url, --schema,
--migrations-dir, --confirm-database, --ssh-*, --log-file, --verbose).

Examples:
  chatgenius-db baseline --to 0002 --env development --yes
  chatgenius-db init --yes          (then applies what comes after 0002)
`;

export const options = { ...connectionOptions, to: { type: 'string' } } as const satisfies OptionSpec;

export async function run(ctx: CommandContext): Promise<number> {
  const to = typeof ctx.flags.to === 'string' ? ctx.flags.to : undefined;
  if (!to) throw usageError('USAGE_MISSING_ARGUMENT', 'baseline needs --to VERSION', { argument: '--to VERSION', example: 'chatgenius-db baseline --to 0002 --yes' });
  if (!/^\d+$/.test(to)) throw usageError('MIGRATION_UNKNOWN_VERSION', `--to ${to} is not a migration version`, { version: to, flag: '--to' });
  const r = reporterFor(ctx);
  const config = await loadConfig(ctx, r);
  if (!config.dryRun) checkConsent(config, 'baseline', config.connection?.database, { interactive: ctx.interactive });
  return withTarget(ctx, config, r, async (t) => {
    const label = targetLabel(config, t);
    const b = await baseline(t.client, { ...engineOptions(config, r.emit, ctx.signal, readVersion()), to }).catch((e: unknown) => {
      throw asUsageError(e);
    });
    r.setResult({ env: config.env, target: label, schema: config.schema, dryRun: b.dryRun, recorded: b.recorded, differences: b.differences });
    if (!b.ok) {
      throw new ChatgeniusError('BASELINE_MISMATCH', `${label} (schema ${config.schema}) does not match migrations up to ${to}`, {
        to,
        differences: b.differences,
      });
    }
    const list = b.recorded.map((x) => `${x.version}_${x.name}`).join(', ');
    if (b.dryRun) r.out.info(`Dry run: the live schema matches; would record ${plural(b.recorded.length, 'migration')} as applied (${list}). Nothing was changed.`);
    else r.out.success(`Adopted ${label} (schema ${config.schema}): recorded ${plural(b.recorded.length, 'migration')} as applied (${list}).`);
    return 0;
  });
}
