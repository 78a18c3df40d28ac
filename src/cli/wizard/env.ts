/** Step: which environment. The suggestion is config's detectEnv (env files and variables present). */
import { detectEnv, ENV_NAMES, isEnvName } from '../../config/index.js';
import type { EnvName } from '../../config/types.js';
import { configFlags, type CommandContext } from '../command.js';
import type { Prompter, SelectOption } from './prompts.js';

const LABELS: Record<EnvName, string> = {
  local: 'local: an embedded PostgreSQL on this machine, nothing to install',
  development: 'development: the shared development database',
  test: 'test: schema "test" for the test suite',
  production: 'production: the live database (typed confirmation)',
};

/**
 * Pure: the options, always in the same order (local, development, test, production) so a person
 * finds each in its place every time; the detected one is marked (and preselected by askEnv).
 */
export function envOptions(detected: EnvName): SelectOption<EnvName>[] {
  return ENV_NAMES.map((e) => ({ value: e, label: LABELS[e], ...(e === detected ? { hint: 'detected' } : {}) }));
}

/** --env given: no question. Otherwise suggest the detected environment. */
export async function askEnv(p: Prompter, ctx: CommandContext, previous?: EnvName): Promise<EnvName> {
  const flag = typeof ctx.flags.env === 'string' ? ctx.flags.env.trim().toLowerCase() : undefined;
  if (flag !== undefined && previous === undefined) {
    if (isEnvName(flag)) return flag;
    detectEnv({ flags: configFlags(ctx.flags), env: ctx.env, cwd: ctx.cwd }); // throws the usage error (exit 2)
  }
  const d = detectEnv({ flags: { ...configFlags(ctx.flags), env: undefined }, env: ctx.env, cwd: ctx.cwd });
  if (previous === undefined) p.info(`Suggested: ${d.env} (${d.reason})`);
  return p.select<EnvName>({
    message: 'Which environment?',
    options: envOptions(d.env),
    initialValue: previous ?? d.env,
  });
}
