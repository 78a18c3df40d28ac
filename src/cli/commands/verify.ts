/** `chatgenius-db verify`: journal checksums and the live schema against sql/; exit 1 on drift. */
import { ChatgeniusError } from '../../errors.js';
import { connectionOptions, type CommandContext, type OptionSpec } from '../command.js';
import { reporterFor } from '../output/reporter.js';
import { loadConfig, targetLabel, withTarget } from '../output/runner.js';
import { engineOptions } from '../../run.js';
import { plural } from '../output/format.js';
import { verify } from '../../migrate/index.js';

export const summary = 'Compare the journal and the live schema with sql/';

export const help = `Usage: chatgenius-db verify [options]

Checks that every applied migration file still has the checksum recorded when it ran, that no
applied file is missing, and that the live schema matches what the applied files create
(a catalog comparison). Exit 0 when everything matches, 1 on drift (each difference listed).
Changes nothing.

Options: --env, --database-url, --schema, --migrations-dir, --json, --log-file, --ssh-*,
--no-tunnel, --verbose (as for init).

Examples:
  chatgenius-db verify --env test
  chatgenius-db verify --json
`;

export const options = { ...connectionOptions } as const satisfies OptionSpec;

export async function run(ctx: CommandContext): Promise<number> {
  const r = reporterFor(ctx);
  const config = await loadConfig(ctx, r);
  return withTarget(
    ctx,
    config,
    r,
    async (t) => {
      const v = await verify(t.client, engineOptions(config, r.emit, ctx.signal));
      const label = targetLabel(config, t);
      r.setResult({
        env: config.env,
        target: label,
        schema: config.schema,
        verified: v.ok,
        problems: v.problems,
        drift: v.drift.map((d) => d.file),
        missing: v.missing.map((m) => m.version),
        pending: v.pending,
        catalogDiff: v.catalogDiff,
      });
      if (v.pending.length > 0) r.out.info(`${plural(v.pending.length, 'migration')} pending (not drift): run \`chatgenius-db init\`.`);
      if (!v.ok) {
        throw new ChatgeniusError('VERIFY_DRIFT', `${label} (schema ${config.schema}) does not match ${config.migrationsDir}`, {
          drift: v.problems,
          ...(v.catalogError ? { catalogError: v.catalogError } : {}),
        });
      }
      r.out.success(`Verified ${label} (schema ${config.schema}): the journal and the live schema match the migration files.`);
      return 0;
    },
    { startLocal: false },
  );
}
