/** `chatgenius-db repair [--version V]`: accept a deliberate change to an applied file; clear failed-run rows. */
import { usageError } from '../../errors.js';
import { connectionOptions, type CommandContext, type OptionSpec } from '../command.js';
import { reporterFor } from '../output/reporter.js';
import { loadConfig, targetLabel, withTarget } from '../output/runner.js';
import { checkConsent, engineOptions } from '../../run.js';
import { lineDiff } from '../output/engine-results.js';
import { plural } from '../output/format.js';
import { repair } from '../../migrate/index.js';
import { readVersion } from '../version.js';

export const summary = 'Re-record an applied file deliberately changed; clear a failed-run record';

export const help = `Usage: chatgenius-db repair [--version VERSION] [options]

When an applied migration file was changed on purpose (a comment, a fix already made by hand),
shows the difference between what ran and the file now, and re-records the file's checksum so
init and verify accept it. Also clears the record of a failed run. It never runs migration SQL.
Without a person at the keyboard it needs --yes (it shows the diff and changes nothing
otherwise); on production also --confirm-database NAME.

  --version VERSION   only this migration (default: every drifted one)

Options: as for init (--env, --yes, --dry-run, --json, --database-url, --schema,
--migrations-dir, --confirm-database, --ssh-*, --log-file, --verbose).

Examples:
  chatgenius-db repair --dry-run
  chatgenius-db repair --yes
  chatgenius-db repair --version 0003 --yes
`;

export const options = { ...connectionOptions, version: { type: 'string' } } as const satisfies OptionSpec;

export async function run(ctx: CommandContext): Promise<number> {
  const version = typeof ctx.flags.version === 'string' ? ctx.flags.version : undefined;
  if (version !== undefined && !/^\d+$/.test(version)) {
    throw usageError('MIGRATION_UNKNOWN_VERSION', `--version ${version} is not a migration version`, { version, flag: '--version' });
  }
  const r = reporterFor(ctx);
  const config = await loadConfig(ctx, r);
  const apply = !config.dryRun && config.yes;
  // Production: a wrong or missing name is refused before anything connects.
  if (apply) checkConsent(config, 'repair', config.connection?.database, { interactive: ctx.interactive });
  return withTarget(ctx, config, r, async (t) => {
    const label = targetLabel(config, t);
    const res = await repair(t.client, {
      ...engineOptions(config, r.emit, ctx.signal, readVersion()),
      dryRun: !apply,
      ...(version ? { version } : {}),
    });
    for (const e of res.repaired) {
      r.out.line(r.out.colors.bold(`${e.file}: changed since it was applied`));
      if (e.oldSql !== null) r.out.block(lineDiff(e.oldSql, e.newSql));
      else r.out.line(`  (the journal kept no copy of the applied text; checksum ${e.oldChecksum.slice(0, 12)} -> ${e.newChecksum.slice(0, 12)})`);
    }
    for (const c of res.clearedFailures) r.out.line(`${c.version}_${c.name}: record of a failed run`);
    r.setResult({
      env: config.env,
      target: label,
      schema: config.schema,
      dryRun: !apply,
      repaired: res.repaired.map((e) => ({ version: e.version, name: e.name, oldChecksum: e.oldChecksum, newChecksum: e.newChecksum })),
      clearedFailures: res.clearedFailures,
    });
    const n = res.repaired.length + res.clearedFailures.length;
    if (n === 0) {
      r.out.success(`Nothing to repair on ${label} (schema ${config.schema}).`);
      return 0;
    }
    if (!apply) {
      if (config.dryRun) {
        r.out.info('Dry run: nothing was changed.');
        return 0;
      }
      throw usageError('CONSENT_REQUIRED', 'repair needs --yes', {
        command: 'repair',
        action: `repair would re-record ${plural(res.repaired.length, 'checksum')} and clear ${plural(res.clearedFailures.length, 'failed-run record')}`,
      });
    }
    r.out.success(
      `Repaired ${label} (schema ${config.schema}): ${plural(res.repaired.length, 'checksum')} re-recorded, ${plural(res.clearedFailures.length, 'failed-run record')} cleared.`,
    );
    return 0;
  });
}
