/**
 * The steps init and rollback share: environment, connection, bastion, then connect and read the
 * journal, looping on "edit the settings" / "retry" until it works, the person quits, or cancels.
 * The answers become a ResolvedConfig through config's resolveConfig (answers as flags + env), so the
 * wizard resolves exactly what the same flags would.
 */
import { resolveConfig } from '../../config/index.js';
import type { ResolvedConfig } from '../../config/types.js';
import { explain } from '../../explain/index.js';
import { framedExplanation } from '../output/format.js';
import { configFlags, type CommandContext } from '../command.js';
import { checkMigrationsDir } from '../output/runner.js';
import { reporterFor } from '../output/reporter.js';
import { answersToEnv, answersToFlags, type Answers } from './answers.js';
import { askConnection } from './connection.js';
import { connectAndProbe, type Probe } from './connect.js';
import { askEnv } from './env.js';
import { prefillFor } from './prefill.js';
import type { Prompter } from './prompts.js';
import { askTunnel, askTunnelWanted } from './tunnel.js';

export interface Target {
  answers: Answers;
  config: ResolvedConfig;
  probe: Probe;
}

/** Pure: the config the answers stand for (throws CONFIG_* like the same flags would). */
export function configFor(ctx: CommandContext, a: Answers): ResolvedConfig {
  return resolveConfig({ flags: configFlags(answersToFlags(ctx.flags, a)), env: answersToEnv(ctx.env, a), cwd: ctx.cwd, interactive: true });
}

async function askAnswers(p: Prompter, ctx: CommandContext, previous: Answers | undefined): Promise<Answers> {
  const env = await askEnv(p, ctx, previous?.env);
  const a: Answers = { env };
  if (env === 'local') return a;
  const pre = prefillFor(ctx, env);
  // Nothing configured yet is the normal first run, not a problem worth a warning.
  const missing = (pre.problem as { code?: string } | undefined)?.code === 'CONFIG_MISSING_VALUE';
  if (pre.problem !== undefined && !previous && !missing) {
    const x = explain(pre.problem);
    p.warn(`The saved settings could not be used: ${x.title}. ${x.hint}`);
  }
  const same = previous && previous.env === env;
  a.connection = await askConnection(p, same && previous.connection ? previous.connection : pre.connection);
  const noTunnelFlag = ctx.flags['no-tunnel'] === true;
  const wantedBefore = same && previous.tunnel !== undefined ? previous.tunnel !== null : pre.tunnelConfigured;
  const wanted = noTunnelFlag ? false : await askTunnelWanted(p, wantedBefore);
  if (wanted) {
    const initial = same && previous.tunnel ? previous.tunnel : pre.tunnel;
    a.tunnel = await askTunnel(p, initial, { cwd: ctx.cwd, env: ctx.env });
  } else {
    a.tunnel = null;
  }
  return a;
}

/** Returns the target, or an exit code when the person quit after a failure. */
/** `keep`: leave the connection (and tunnel) open in `probe.opened` for the next steps; the caller closes it. */
export async function chooseTarget(p: Prompter, ctx: CommandContext, toolVersion?: string, opts: { keep?: boolean } = {}): Promise<Target | { quit: number }> {
  const reporter = reporterFor(ctx);
  let answers: Answers | undefined;
  let ask = true;
  for (;;) {
    if (ask || !answers) answers = await askAnswers(p, ctx, answers);
    ask = true;
    let config: ResolvedConfig;
    try {
      config = configFor(ctx, answers);
      checkMigrationsDir(config.migrationsDir, typeof ctx.flags['migrations-dir'] === 'string');
    } catch (e) {
      const x = reporter.redactor.redactValue(explain(e));
      p.error(framedExplanation(x));
      if ((e as { exitCode?: number }).exitCode === 2 && (e as { code?: string }).code === 'MIGRATIONS_DIR_NOT_FOUND') throw e;
      continue;
    }
    reporter.addSecrets(config.connection?.password, config.tunnel?.passphrase);
    const outcome = await connectAndProbe(p, config, {
      signal: ctx.signal,
      redactor: reporter.redactor,
      ...(toolVersion ? { toolVersion } : {}),
      ...(opts.keep ? { keep: true } : {}),
    });
    if (outcome.ok) return { answers, config, probe: outcome.probe };
    if (outcome.choice === 'quit') {
      p.outro('Nothing changed.');
      return { quit: 1 };
    }
    ask = outcome.choice === 'edit';
  }
}
