/**
 * Step: run. The very same functions `--yes` runs (the commands' runInit / runRollback), with the run's
 * reporter: progress per migration comes from the engine's events through the CLI's human listener.
 * `confirmed`: the person confirmed (typed the production name) in the wizard. The host key was
 * accepted while connecting (and saved); should the bastion show a new one now, it is asked again.
 */
import type { ResolvedConfig } from '../../config/types.js';
import type { OpenedTarget } from '../../run.js';
import type { CommandContext } from '../command.js';
import type { RollbackTarget } from '../commands/rollback.js';
import { reporterFor } from '../output/reporter.js';
import { hostKeyConfirmer } from './connect.js';
import type { Prompter } from './prompts.js';
import { runInit } from '../commands/init.js';
import { runRollback } from '../commands/rollback.js';

export async function runInitStep(config: ResolvedConfig, ctx: CommandContext, p?: Prompter): Promise<number> {
  return runInit(config, ctx, reporterFor(ctx), {
    confirmed: true,
    unsafeConfirmed: true,
    ...(p ? { confirmHostKey: hostKeyConfirmer(p, () => undefined) } : {}),
  });
}

/** `opened`: the wizard's connection, kept open since its check (one tunnel for the whole wizard). */
export async function runRollbackStep(config: ResolvedConfig, target: RollbackTarget, ctx: CommandContext, p?: Prompter, opened?: OpenedTarget): Promise<number> {
  return runRollback(config, target, ctx, reporterFor(ctx), {
    confirmed: true,
    ...(p ? { confirmHostKey: hostKeyConfirmer(p, () => undefined) } : {}),
    ...(opened ? { opened } : {}),
  });
}
