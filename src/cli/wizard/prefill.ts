/**
 * What the wizard suggests before anyone types: the configuration as flags, the process
 * environment and the env files already describe it (config's resolveConfig), else the defaults.
 */
import { resolveConfig } from '../../config/index.js';
import { DEFAULT_PG_DATABASE, DEFAULT_PG_HOST, DEFAULT_PG_PORT, DEFAULT_PG_USER, DEFAULT_SSH_PORT, ENV_DEFAULTS } from '../../config/defaults.js';
import type { EnvName, ResolvedConfig } from '../../config/types.js';
import { configFlags, type CommandContext } from '../command.js';
import type { ConnectionAnswers, TunnelAnswers } from './answers.js';

export interface Prefill {
  connection: ConnectionAnswers;
  /** A tunnel is configured (SSH_HOST...). */
  tunnelConfigured: boolean;
  tunnel: Omit<TunnelAnswers, 'passphrase'> & { passphrase?: string };
  /** Why the existing configuration could not be used (shown as a warning), if so. */
  problem?: unknown;
}

export function prefillFor(ctx: CommandContext, env: EnvName): Prefill {
  let config: ResolvedConfig | null = null;
  let problem: unknown;
  try {
    config = resolveConfig({ flags: { ...configFlags(ctx.flags), env }, env: ctx.env, cwd: ctx.cwd, interactive: true });
  } catch (e) {
    problem = e;
  }
  const c = config?.connection;
  const t = config?.tunnel;
  const connection: ConnectionAnswers = {
    host: c?.host ?? DEFAULT_PG_HOST,
    port: c?.port ?? DEFAULT_PG_PORT,
    database: c?.database ?? DEFAULT_PG_DATABASE,
    user: c?.user ?? DEFAULT_PG_USER,
  };
  if (c?.password !== undefined) connection.password = c.password;
  if (c?.sslMode !== undefined) connection.sslMode = c.sslMode;
  const tunnel: Prefill['tunnel'] = {
    host: t?.host ?? '',
    port: t?.port ?? DEFAULT_SSH_PORT,
    user: t?.username ?? '',
    keyPath: t?.keyPath ?? ENV_DEFAULTS[env].sshKeyPath ?? '',
  };
  if (t?.passphrase) tunnel.passphrase = t.passphrase;
  const out: Prefill = { connection, tunnelConfigured: Boolean(t), tunnel };
  if (problem !== undefined) out.problem = problem;
  return out;
}
