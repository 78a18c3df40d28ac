/**
 * `doctor`: check each link of the chain, in order, one result per link.
 *   env files -> configuration -> SSH key -> SSH reachable -> host key -> SSH auth -> forwarding
 *   -> PostgreSQL reachable -> authentication -> version -> extensions -> CREATE privilege
 *   -> journal -> pooler -> migration lock
 * A failed link skips the links that need it. Never prints: returns reports (and streams them
 * to `onResult`); src/cli/commands/doctor.ts shows them.
 */
import type { ConfigFlags } from '../config/types.js';
import type { EnvName, ResolvedConfig } from '../config/types.js';
import { noEmit, type Emit } from '../events.js';
import { runChecks, totals, type Check, type CheckReport, type DoctorTotals } from './checks.js';
import { closeAll, failWith, type DoctorContext } from './doctor-context.js';
import { processEnvVariables, scanEnvFiles } from './envfiles.js';
import { sshChecks } from './doctor-ssh.js';
import { createPrivilegeCheck, extensionsCheck, lockCheck, pgAuthCheck, pgReachableCheck, pgVersionCheck, poolerCheck } from './doctor-pg.js';
import { journalCheck } from './doctor-journal.js';
import { detectEnv, resolveConfig } from '../config/index.js';
import { realtimeCheck } from './doctor-realtime.js';

export const envFilesCheck: Check<DoctorContext> = {
  id: 'env-files',
  title: 'Env files',
  async run(ctx) {
    let files: ReturnType<typeof scanEnvFiles>;
    try {
      files = scanEnvFiles(ctx.config?.projectDir ?? ctx.cwd, ctx.envName as EnvName);
    } catch (err) {
      return failWith(err);
    }
    const details = files.map((f) => `${f.name}: ${f.shown.length > 0 ? f.shown.join(', ') : '(no variables the tool reads)'}`);
    const fromEnv = processEnvVariables(ctx.env);
    if (fromEnv.length > 0) details.push(`process environment: ${fromEnv.join(', ')}`);
    const summary =
      files.length > 0
        ? `${files.length} found for env ${ctx.envName}: ${files.map((f) => f.name).join(', ')}`
        : `none for env ${ctx.envName}${fromEnv.length > 0 ? '; using the process environment' : ''}`;
    const loose = files.filter((f) => f.looseSecrets);
    if (loose.length > 0) {
      return {
        status: 'warn',
        summary: `${summary}; ${loose.map((f) => `${f.name} (mode ${f.mode})`).join(', ')} holds a secret and other users can read it`,
        hint: `chmod 600 ${loose.map((f) => f.name).join(' ')}`,
        details,
      };
    }
    return { status: 'pass', summary, details };
  },
};

export const configCheck: Check<DoctorContext> = {
  id: 'config',
  title: 'Configuration',
  async run(ctx) {
    if (!ctx.config) return failWith(ctx.configError ?? new Error('configuration did not resolve'));
    const c = ctx.config;
    const target = c.connection ? `${c.connection.user}@${c.connection.host}:${c.connection.port}/${c.connection.database}` : 'embedded PostgreSQL (.chatgenius/)';
    const via = c.tunnel ? ` via SSH ${c.tunnel.username}@${c.tunnel.host}:${c.tunnel.port}` : '';
    return { status: 'pass', summary: `env ${c.env}, schema ${c.schema}, ${target}${via}` };
  },
};

/** The doctor's checks, in the order of the chain. */
export const DOCTOR_CHECKS: ReadonlyArray<Check<DoctorContext>> = [
  envFilesCheck,
  configCheck,
  ...sshChecks,
  pgReachableCheck,
  pgAuthCheck,
  pgVersionCheck,
  extensionsCheck,
  createPrivilegeCheck,
  journalCheck,
  poolerCheck,
  lockCheck,
  realtimeCheck,
];

export interface DoctorInput {
  flags: ConfigFlags;
  env: NodeJS.ProcessEnv;
  cwd: string;
  emit?: Emit;
  signal?: AbortSignal;
  onResult?: (r: CheckReport) => void;
  /** Called once the config is resolved, before any check prints (to register its secrets). */
  onConfig?: (c: ResolvedConfig) => void;
  /** Secrets learned later (the local server's password), for the output's redactor. */
  addSecrets?: (...values: Array<string | undefined>) => void;
}

export interface DoctorOutcome {
  reports: CheckReport[];
  totals: DoctorTotals;
  config: ResolvedConfig | null;
}

export async function runDoctor(input: DoctorInput): Promise<DoctorOutcome> {
  let config: ResolvedConfig | null = null;
  let configError: unknown;
  try {
    config = resolveConfig({ flags: input.flags, env: input.env, cwd: input.cwd, interactive: false });
  } catch (err) {
    configError = err;
  }
  if (config) input.onConfig?.(config);
  let envName: string = config?.env ?? 'development';
  if (!config) {
    try {
      envName = detectEnv({ flags: input.flags, env: input.env, cwd: input.cwd }).env;
    } catch {
      /* keep the default */
    }
  }
  const ctx: DoctorContext = {
    flags: input.flags,
    env: input.env,
    cwd: input.cwd,
    envName,
    config,
    configError,
    emit: input.emit ?? noEmit,
    tunnelEvents: [],
  };
  if (input.signal) ctx.signal = input.signal;
  if (input.addSecrets) ctx.addSecrets = input.addSecrets;
  try {
    const reports = await runChecks(DOCTOR_CHECKS, ctx, input.onResult);
    return { reports, totals: totals(reports), config };
  } finally {
    await closeAll(ctx);
  }
}
