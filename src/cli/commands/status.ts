/** `chatgenius-db status`: applied and pending migrations (`--metrics`: Prometheus text). */
import { connectionOptions, type CommandContext, type OptionSpec } from '../command.js';
import { runMetrics } from './status-metrics.js';
import { reporterFor } from '../output/reporter.js';
import { loadConfig, targetLabel, withTarget } from '../output/runner.js';
import { engineOptions } from '../../run.js';
import { statusTable } from '../output/engine-results.js';
import { plural } from '../output/format.js';
import { status } from '../../migrate/index.js';

export const summary = 'List applied and pending migrations';

export const help = `Usage: chatgenius-db status [--metrics] [options]

Lists the applied migrations (version, name, when, how long, by whom) and the pending ones,
and warns about drift (an applied file changed), missing files and a failed previous run.
Changes nothing.

  --metrics        print Prometheus text instead: query durations (histogram), index usage
                   (pg_stat_user_indexes), trigger executions (pg_stat_user_functions)

Options: --env, --database-url, --schema, --migrations-dir, --json, --log-file, --ssh-*,
--no-tunnel, --verbose (as for init).

Examples:
  chatgenius-db status --env test
  chatgenius-db status --json | jq 'select(.event=="result") | .data.pending'
  chatgenius-db status --metrics
`;

export const options = { ...connectionOptions, metrics: { type: 'boolean' } } as const satisfies OptionSpec;

export async function run(ctx: CommandContext): Promise<number> {
  if (ctx.flags.metrics === true) {
    return runMetrics(ctx);
  }
  const r = reporterFor(ctx);
  const config = await loadConfig(ctx, r);
  return withTarget(
    ctx,
    config,
    r,
    async (t) => {
      const s = await status(t.client, engineOptions(config, r.emit, ctx.signal));
      const label = targetLabel(config, t);
      r.out.line(`${r.out.colors.bold('Target:')} ${label} (schema ${config.schema}, env ${config.env})`);
      if (!s.journalExists) r.out.info('No journal yet: nothing has been applied to this schema.');
      if (s.applied.length + s.pending.length > 0) r.out.block(statusTable(s));
      const applied = s.applied.filter((a) => a.status === 'applied').length;
      r.out.line(`${plural(applied, 'migration')} applied, ${s.pending.length} pending.`);
      for (const d of s.drift) r.out.warn(`Drift: ${d.file} changed since it was applied (run \`chatgenius-db verify\`, then \`repair\` if deliberate).`);
      for (const m of s.missing) r.out.warn(`Missing file: ${m.version}_${m.name} is applied but not in ${config.migrationsDir}.`);
      if (s.lastFailure) {
        r.out.warn(
          `The last run failed in ${s.lastFailure.version}_${s.lastFailure.name}${s.lastFailure.errorCode ? ` (${s.lastFailure.errorCode})` : ''}: ${s.lastFailure.errorMessage ?? ''}`,
        );
      }
      r.setResult({
        env: config.env,
        target: label,
        schema: config.schema,
        journalExists: s.journalExists,
        applied: s.applied.map((a) => ({ version: a.version, name: a.name, status: a.status, appliedAt: a.appliedAt, durationMs: a.durationMs })),
        pending: s.pending.map((p) => ({ version: p.version, name: p.name, outOfOrder: p.outOfOrder })),
        drift: s.drift.map((d) => d.file),
        missing: s.missing.map((m) => m.version),
        lastFailure: s.lastFailure ? { version: s.lastFailure.version, code: s.lastFailure.errorCode } : null,
      });
      return 0;
    },
    { startLocal: false },
  );
}
