/**
 * Step: run. The very same functions `--yes` runs (E's runInit / runRollback), with the run's
 * reporter: progress per migration comes from the engine's events through E's human listener.
 * `confirmed`: the person confirmed (typed the production name) in the wizard.
 */
import type { ResolvedConfig } from '../../config/types.js';
import type { CommandContext } from '../command.js';
import type { RollbackTarget } from '../commands/rollback.js';
import { reporterFor } from '../output/reporter.js';

export async function runInitStep(config: ResolvedConfig, ctx: CommandContext): Promise<number> {
  const { runInit } = await import('../commands/init.js');
  return runInit(config, ctx, reporterFor(ctx), { confirmed: true });
}

export async function runRollbackStep(config: ResolvedConfig, target: RollbackTarget, ctx: CommandContext): Promise<number> {
  const { runRollback } = await import('../commands/rollback.js');
  return runRollback(config, target, ctx, reporterFor(ctx), { confirmed: true });
}
