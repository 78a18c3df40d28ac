/**
 * The guided rollback: connect (the same steps as init), list the applied migrations, pick how
 * far back, show the down files that will run and the tables they drop with their row counts
 * (the data that will be lost), confirm (typed in production), then the same runRollback as
 * `rollback --steps N --yes`.
 */
import type { ResolvedConfig } from '../../config/types.js';
import type { OpenedTarget } from '../../run.js';
import { noEmit } from '../../events.js';
import type { StatusResult } from '../../migrate/types.js';
import type { CommandContext } from '../command.js';
import { confirmChange } from './confirm.js';
import { hostKeyConfirmer } from './connect.js';
import { showOutro } from './outro.js';
import { createPrompter, guarded, WizardCancelled, type Prompter, type SelectOption } from './prompts.js';
import { runRollbackStep } from './run.js';
import { chooseTarget, type Target } from './target.js';
import { engineOptions, openTarget } from '../../run.js';
import { quoteIdent, rollback } from '../../migrate/index.js';
import { readVersion } from '../version.js';

/** Pure: the tables a down file drops (`DROP TABLE [IF EXISTS] a, s.b CASCADE;`), unqualified. */
export function droppedTables(sql: string): string[] {
  const out: string[] = [];
  const noComments = sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const re = /\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([^;]+?)(?:\s+(?:CASCADE|RESTRICT))?\s*(?:;|$)/gi;
  for (const m of noComments.matchAll(re)) {
    for (const raw of m[1]!.split(',')) {
      const parts = raw.trim().split('.');
      const last = parts[parts.length - 1]!.trim();
      const name = last.startsWith('"') ? last.slice(1, -1).replace(/""/g, '"') : last.toLowerCase();
      if (name && !out.includes(name)) out.push(name);
    }
  }
  return out;
}

type Applied = StatusResult['applied'][number];

/** Pure: applied migrations newest first, as choices of "how many steps". */
export function stepOptions(applied: Applied[]): SelectOption<number>[] {
  const newestFirst = [...applied].filter((a) => a.status === 'applied').reverse();
  return newestFirst.map((a, i) => ({
    value: i + 1,
    label: `${a.version}_${a.name}`,
    hint: i === 0 ? 'roll back this one (1 step)' : `and the ${i} newer: ${i + 1} steps`,
  }));
}

/** Pure: the preselected number of steps: --steps N, --all, or 1. */
export function initialSteps(flags: Record<string, unknown>, applied: number): number {
  if (flags.all === true) return applied;
  const n = typeof flags.steps === 'string' && /^\d+$/.test(flags.steps) ? Number(flags.steps) : 1;
  return Math.min(Math.max(n, 1), applied);
}

export interface LossRow {
  table: string;
  rows: number;
}

export interface RollbackPreview {
  downFiles: string[];
  losses: LossRow[];
}

/**
 * Reads the down files of the last `steps` migrations and counts the rows of the tables they drop,
 * on the connection the wizard opened to check the target (`opened`), else on a new one.
 */
async function previewRollback(p: Prompter, config: ResolvedConfig, steps: number, ctx: CommandContext, opened?: OpenedTarget): Promise<RollbackPreview> {
  return p.spin(
    'Reading what the rollback drops',
    async (s, signal) => {
      const t = opened ?? (await openTarget(config, { emit: noEmit, signal, confirmHostKey: hostKeyConfirmer(p, () => s) }));
      try {
        const plan = await rollback(t.client, { ...engineOptions(config, noEmit, signal), dryRun: true, emit: noEmit, steps });
        const downFiles = plan.plan.steps.map((st) => st.downFile);
        const tables: string[] = [];
        for (const st of plan.plan.steps) for (const name of droppedTables(st.down)) if (!tables.includes(name)) tables.push(name);
        const losses: LossRow[] = [];
        for (const table of tables) {
          const exists = await t.client.query<{ r: string | null }>('SELECT to_regclass($1) AS r', [`${quoteIdent(config.schema)}.${quoteIdent(table)}`]);
          if (!exists.rows[0]?.r) continue;
          const c = await t.client.query<{ n: string }>(`SELECT count(*)::bigint AS n FROM ${quoteIdent(config.schema)}.${quoteIdent(table)}`);
          losses.push({ table, rows: Number(c.rows[0]?.n ?? 0) });
        }
        s.stop(`${downFiles.length} down file${downFiles.length === 1 ? '' : 's'} to run`);
        return { downFiles, losses };
      } finally {
        if (!opened) await t.close();
      }
    },
    ctx.signal,
  );
}

/** Pure: the data-loss note. */
export function previewLines(label: string, schema: string, pv: RollbackPreview): string[] {
  const lines = [`Target:  ${label}`, `Schema:  ${schema}`, '', 'Down files, in this order:'];
  for (const f of pv.downFiles) lines.push(`  ${f}`);
  lines.push('');
  if (pv.losses.length === 0) lines.push('No table is dropped.');
  else {
    const total = pv.losses.reduce((n, l) => n + l.rows, 0);
    lines.push(`Tables dropped, with the data that will be lost (${total} row${total === 1 ? '' : 's'} in all):`);
    const w = Math.max(...pv.losses.map((l) => l.table.length));
    for (const l of pv.losses) lines.push(`  ${l.table.padEnd(w)}  ${l.rows} row${l.rows === 1 ? '' : 's'}`);
  }
  return lines;
}

export async function rollbackWizard(ctx: CommandContext): Promise<number> {
  const p = createPrompter(ctx.io, ctx.env);
  p.intro('chatgenius-db: roll back migrations');
  return guarded(p, async () => {
    // One connection (one tunnel) for the whole wizard: checked, previewed, rolled back, closed.
    const target = await chooseTarget(p, ctx, readVersion(), { keep: true });
    if ('quit' in target) return target.quit;
    try {
      return await rollbackSteps(p, ctx, target, target.probe.opened);
    } finally {
      await target.probe.opened?.close();
    }
  });
}

/** Pick how far back, preview the loss, confirm, roll back: on the wizard's open connection. */
async function rollbackSteps(p: Prompter, ctx: CommandContext, target: Target, opened: OpenedTarget | undefined): Promise<number> {
  const { answers, config, probe } = target;
  const options = stepOptions(probe.status.applied);
  if (options.length === 0) {
    p.outro(`Nothing to roll back: no migration is applied on ${probe.label} (schema ${config.schema}).`);
    return 0;
  }
  const steps = await p.select<number>({
    message: 'Roll back down to and including which migration?',
    options,
    initialValue: initialSteps(ctx.flags, options.length),
  });
  const pv = await previewRollback(p, config, steps, ctx, opened);
  p.note(previewLines(probe.label, config.schema, pv).join('\n'), 'The rollback');
  const database = config.connection?.database ?? 'chatgenius';
  if (config.dryRun) {
    p.step('Dry run');
    const code = await runRollbackStep(config, { steps }, ctx, p, opened);
    if (code === 0) p.outro('Dry run: nothing was changed.');
    return code;
  }
  const ok = await confirmChange(p, {
    env: config.env,
    database,
    action: `roll back ${steps} migration${steps === 1 ? '' : 's'}`,
    destructive: true,
  });
  if (!ok) throw new WizardCancelled();
  p.step('Rolling back');
  const code = await runRollbackStep(config, { steps }, ctx, p, opened);
  if (code !== 0) return code;
  showOutro(p, {
    command: 'rollback',
    answers,
    done: `Rolled back ${steps} migration${steps === 1 ? '' : 's'} on ${probe.label} (schema ${config.schema}).`,
    next: '`npx chatgenius-db init` applies them again; `npx chatgenius-db status` shows the journal',
    extra: {
      steps,
      confirmDatabase: database,
      ...(typeof ctx.flags['migrations-dir'] === 'string' ? { migrationsDir: ctx.flags['migrations-dir'] } : {}),
      ...(config.schema !== (config.env === 'test' ? 'test' : 'public') ? { schema: config.schema } : {}),
    },
  });
  return 0;
}
