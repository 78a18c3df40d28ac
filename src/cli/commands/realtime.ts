/** `chatgenius-db realtime status | use notify | use logical`: how real-time changes reach listeners. */
import { usageError } from '../../errors.js';
import { connectionOptions, type CommandContext, type OptionSpec } from '../command.js';
import { reporterFor } from '../output/reporter.js';
import { loadConfig, withTarget, targetLabel } from '../output/runner.js';
import { checkConsent } from '../../run.js';
import { explain } from '../../explain/index.js';
import * as rt from '../../ops/realtime.js';
import { formatBytes } from '../../ops/units.js';

export const summary = 'Real-time mode: status | use notify | use logical (logical decoding)';

export const help = `Usage: chatgenius-db realtime status | use notify | use logical [options]

How changes to the real-time tables (messages, reactions, channel_members, channels,
user_status, message_reads) reach listeners. The mode is recorded in the database as the
publication chatgenius_realtime_<schema>, so every tool and app sees the same answer.

  notify   (default) the triggers send pg_notify per changed row. Simple; but every
           notifying commit takes one database-wide lock, so many writers queue behind it,
           and a listener that is disconnected misses what happened meanwhile.
  logical  the notify triggers are disabled; the changes are read from the write-ahead log
           (logical decoding, publication chatgenius_realtime_<schema>, pgoutput). Costs the
           writers nothing beyond the WAL they write anyway. Needs wal_level=logical, a role
           with REPLICATION, a free replication slot and WAL sender: checked first, each
           with its fix (RDS, Cloud SQL, Supabase, Azure, self-hosted).

  status         the mode, the tables, every logical slot of the database with its lag and
                 the WAL it retains (and how to drop it), the prerequisites of logical mode
  use logical    create the publication (idempotent; adds new real-time tables)
  use notify     drop the publication: the triggers notify again from the next statement

listen follows the mode by itself, also while it runs. Switching takes a catalog update,
not a table lock that blocks the app. In production a switch needs --confirm-database NAME.

Options:
  --env local|development|test|production
  --database-url URL, --schema NAME, --no-tunnel, --ssh-host ... (as for init)
  --confirm-database NAME   production: the database's name (the typed confirmation)
  --json              JSON lines on stdout, last line event "result"

Examples:
  chatgenius-db realtime status
  chatgenius-db realtime use logical --env production --confirm-database chatgenius
  chatgenius-db realtime status --json | jq '.data.slots'
`;

export const options = connectionOptions satisfies OptionSpec;
export const allowPositionals = true;

type Action = 'status' | 'use notify' | 'use logical';

/** Pure: the positionals -> the action; anything else is a usage error (exit 2). */
export function parseAction(positionals: string[]): Action {
  const a = positionals.join(' ');
  if (a === 'status' || a === 'use notify' || a === 'use logical') return a;
  throw usageError(
    'REALTIME_BAD_ACTION',
    positionals.length === 0 ? 'realtime needs an action: status, use notify or use logical' : `realtime takes status, use notify or use logical; got ${a}`,
    {
      command: 'realtime',
      argument: a,
      expected: ['status', 'use notify', 'use logical'],
    },
  );
}

export async function run(ctx: CommandContext): Promise<number> {
  const action = parseAction(ctx.positionals);
  const r = reporterFor(ctx);
  const config = await loadConfig(ctx, r);
  if (action !== 'status') checkConsent(config, 'realtime', config.connection?.database, { interactive: ctx.interactive });
  const c = r.out.colors;
  return withTarget(ctx, config, r, async (t) => {
    const label = targetLabel(config, t);
    if (action === 'status') {
      const s = await rt.realtimeStatus(t.client, config.schema);
      r.out.line(`${c.bold('Target:')} ${label} (schema ${config.schema})`);
      r.out.line(`${c.bold('Mode:')} ${s.mode === 'logical' ? `logical (publication ${s.publication})` : 'notify (pg_notify triggers)'}`);
      if (s.since) r.out.line(c.dim(s.since));
      r.out.line(`${c.bold('Tables:')} ${s.tables.join(', ') || '(none)'}`);
      if (s.missing.length > 0) r.out.warn(`Not in the publication: ${s.missing.join(', ')}: run \`chatgenius-db realtime use logical\` again to add them.`);
      if (s.disabledTriggers.length > 0)
        r.out.warn(`Disabled notify triggers: ${s.disabledTriggers.join(', ')}: those tables do not notify; \`chatgenius-db realtime use notify\` enables them.`);
      if (s.enabledTriggers.length > 0)
        r.out.warn(
          `Notify triggers on in logical mode: ${s.enabledTriggers.join(', ')}: their writers pay for NOTIFY and the stream both; \`chatgenius-db realtime use logical\` disables them.`,
        );
      r.out.line(c.bold('Logical decoding prerequisites:'));
      for (const p of s.prerequisites) r.out.line(`  ${p.ok ? c.green('✔') : c.red('✖')} ${p.found}`);
      const unmet = s.prerequisites.find((p) => !p.ok);
      if (unmet?.problem) {
        r.out.line(`  ${c.dim(`fix: ${explain(unmet.problem).hint}`)}`);
      }
      r.out.line(c.bold(`Logical replication slots in this database: ${s.slots.length}`));
      for (const sl of s.slots) {
        const state = sl.active ? `active (pid ${sl.activePid ?? '?'})` : c.yellow('INACTIVE');
        r.out.line(
          `  ${sl.name}  ${sl.plugin ?? '?'}${sl.temporary ? ' temporary' : ''}  ${state}  lag ${formatBytes(sl.lagBytes)}  retains ${formatBytes(sl.retainedBytes)} of WAL`,
        );
        if (!sl.active && !sl.temporary) r.out.warn(`Slot ${sl.name} is not being read and keeps WAL on disk; if nothing will read it again: ${sl.dropSql}`);
      }
      r.setResult({
        target: label,
        ...s,
        prerequisites: s.prerequisites.map((p) => ({ id: p.id, ok: p.ok, found: p.found, ...(p.problem ? { code: p.problem.code } : {}) })),
      });
      return 0;
    }
    const who = `${t.connection.user}@${ctx.env.HOSTNAME ?? 'chatgenius-db'}`;
    const res = action === 'use logical' ? await rt.useLogical(t.client, config.schema, who) : await rt.useNotify(t.client, config.schema);
    if (!res.changed && res.triggersSwitched > 0)
      r.out.success(
        `Schema ${config.schema} already is in ${res.mode} mode; ${res.triggersSwitched} notify trigger(s) were ${res.mode === 'logical' ? 'enabled' : 'disabled'} by hand and are ${res.mode === 'logical' ? 'disabled' : 'enabled'} again.`,
      );
    else if (!res.changed) r.out.info(`Schema ${config.schema} already is in ${res.mode} mode: nothing to do.`);
    else if (res.mode === 'logical') {
      r.out.success(`Logical mode on for schema ${config.schema}: publication ${res.publication} (${res.tables.join(', ')}); the notify triggers are disabled.`);
      r.out.info('listen now streams from a temporary replication slot; a broker (Debezium, any pgoutput consumer) can use the same publication with its own slot.');
    } else {
      r.out.success(`Notify mode on for schema ${config.schema}: publication ${res.publication} dropped; the triggers notify again.`);
    }
    for (const sl of res.otherSlots)
      r.out.warn(
        `Slot ${sl.name} (${sl.active ? 'active' : 'inactive'}) may have read ${res.publication}: its consumer will get an error; drop it if unused: ${sl.dropSql}`,
      );
    r.setResult({
      target: label,
      schema: res.schema,
      mode: res.mode,
      changed: res.changed,
      triggersSwitched: res.triggersSwitched,
      publication: res.publication,
      tables: res.tables,
      otherSlots: res.otherSlots.map((s) => s.name),
    });
    return 0;
  });
}

export default { summary, help, options, allowPositionals, run };
