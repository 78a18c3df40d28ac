/**
 * The guided `init` (and, exported from here because the commands load this one module, the
 * guided rollback). A face, not a second path: the steps fill in and confirm a ResolvedConfig,
 * then the same runInit as `--yes` does the work.
 *
 *   env -> connection -> bastion -> connect (spinner, host key) -> plan -> confirm -> run
 *       -> save (.env.<env>.local) -> outro (the equivalent command)
 *
 * Ctrl-C or Esc at any prompt or during the spinner: "Cancelled, nothing changed", exit 130.
 */
import type { CommandContext } from '../command.js';
import { confirmChange } from './confirm.js';
import { showOutro } from './outro.js';
import { showPlan } from './plan.js';
import { createPrompter, guarded, WizardCancelled } from './prompts.js';
import { runInitStep } from './run.js';
import { offerSave } from './save.js';
import { homedir } from 'node:os';
import { chooseTarget } from './target.js';
import { unsafeFindings } from '../../lint/index.js';
import { allowUnsafeOf } from '../output/unsafe.js';
import { unsafeLine } from '../output/lock-plan.js';
import { readVersion } from '../version.js';

export { rollbackWizard } from './rollback.js';

const homeOf = (env: NodeJS.ProcessEnv): string => (env.HOME && env.HOME !== '' ? env.HOME : homedir());

export async function initWizard(ctx: CommandContext): Promise<number> {
  const p = createPrompter(ctx.io, ctx.env);
  p.intro('chatgenius-db: set up the ChatGenius database');
  return guarded(p, async () => {
    const target = await chooseTarget(p, ctx, readVersion());
    if ('quit' in target) return target.quit;
    const { answers, config, probe } = target;
    showPlan(p, { label: probe.label, env: config.env, schema: config.schema, status: probe.status, ...(probe.lockPlan ? { lockPlan: probe.lockPlan } : {}) });
    const extra = {
      ...(config.schema !== (config.env === 'test' ? 'test' : 'public') ? { schema: config.schema } : {}),
      ...(typeof ctx.flags['migrations-dir'] === 'string' ? { migrationsDir: ctx.flags['migrations-dir'] } : {}),
      ...(config.logFile ? { logFile: config.logFile } : {}),
    };
    const database = config.connection?.database ?? 'chatgenius';
    if (probe.status.pending.length === 0) {
      const saved = await offerSave(p, answers, config.projectDir, homeOf(ctx.env));
      showOutro(p, {
        ...(saved.passwordFile ? { passwordFile: saved.passwordFile } : {}),
        command: 'init',
        answers,
        done: `Nothing to do: ${probe.label} is up to date.`,
        next: 'start the app; `npx chatgenius-db schema` shows the tables, `npx chatgenius-db status` the journal',
        extra: { ...extra, confirmDatabase: database },
      });
      return 0;
    }
    const n = probe.status.pending.length;
    if (config.dryRun) {
      // --dry-run: show the SQL it would run; nothing to confirm, nothing changes.
      p.step('Dry run');
      const code = await runInitStep(config, ctx, p);
      if (code !== 0) return code;
      p.outro('Dry run: nothing was changed.');
      return 0;
    }
    // Production: each unsafe finding on a table that holds rows is asked about on its own (default No).
    if (config.env === 'production' && probe.lockPlan) {
      const plan = probe.lockPlan;
      const unsafe = unsafeFindings(
        plan.migrations.map((m) => ({ version: m.version, findings: m.findings })),
        plan.tables ?? new Map(),
        allowUnsafeOf(ctx),
      );
      for (const u of unsafe) {
        p.warn(`Unsafe on a live table: ${unsafeLine(u)}\nFix: ${u.finding.fix}`);
        const go = await p.confirm({ message: `Run ${u.finding.rule} on ${u.finding.table} anyway?`, initialValue: false });
        if (!go) throw new WizardCancelled('Not confirmed: cancelled, nothing changed');
      }
    }
    const ok = await confirmChange(p, { env: config.env, database, action: `apply ${n} migration${n === 1 ? '' : 's'}` });
    if (!ok) throw new WizardCancelled();
    p.step('Applying');
    const code = await runInitStep(config, ctx, p);
    if (code !== 0) return code;
    const saved = await offerSave(p, answers, config.projectDir, homeOf(ctx.env));
    showOutro(p, {
      ...(saved.passwordFile ? { passwordFile: saved.passwordFile } : {}),
      command: 'init',
      answers,
      done: `Applied ${n} migration${n === 1 ? '' : 's'} to ${probe.label} (schema ${config.schema}).`,
      next:
        config.env === 'local'
          ? '`npx chatgenius-db schema` for a tour of the tables, `npx chatgenius-db seed --env local` for sample data, `npx chatgenius-db local status` for the URL'
          : '`npx chatgenius-db schema` for a tour of the tables, `npx chatgenius-db status` for the journal, `npx chatgenius-db verify` to check the schema',
      extra: { ...extra, confirmDatabase: database },
    });
    return 0;
  });
}
