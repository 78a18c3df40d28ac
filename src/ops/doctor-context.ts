/**
 * What the doctor's checks share: the resolved config (or why it did not resolve), and the
 * links opened so far (tunnel, client), which later checks use and `closeAll` closes.
 */
import type pg from 'pg';
import type { ConnectionConfig, ResolvedConfig, ConfigFlags } from '../config/types.js';
import type { ChatgeniusEvent, Emit } from '../events.js';
import type { CheckResult } from './checks.js';
import { errorFacts, explain } from '../explain/index.js';

export interface TunnelLike {
  localHost: string;
  localPort: number;
  close(): Promise<void>;
}

export interface DoctorContext {
  flags: ConfigFlags;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The environment name the env-file check looks at (from the config, else --env / CHATGENIUS_ENV). */
  envName: string;
  config: ResolvedConfig | null;
  configError?: unknown;
  emit: Emit;
  signal?: AbortSignal;
  /** Events seen while opening the tunnel (host key status...). */
  tunnelEvents: ChatgeniusEvent[];
  tunnel?: TunnelLike;
  tunnelError?: unknown;
  /** Where PostgreSQL is reached: direct, or the tunnel's local end. */
  connection?: ConnectionConfig;
  client?: pg.Client;
  /** Milliseconds the PostgreSQL protocol probe took. */
  pgProbeMs?: number;
  serverVersionNum?: number;
  schemaExists?: boolean;
  /** Register a secret learned during the checks (the local server's password) with the output's redactor. */
  addSecrets?: (...values: Array<string | undefined>) => void;
  /** Connect one more client to the same target (the pooler check needs two sessions). */
  connectAnother?: () => Promise<pg.Client>;
}

/** A failed check from an error: the explanation's title and hint, the error code. Never a secret. */
export function failWith(err: unknown, status: 'fail' | 'warn' = 'fail', summaryPrefix?: string): CheckResult {
  const x = explain(err);
  const facts = errorFacts(err);
  const cause = x.cause && x.cause !== facts.message ? x.cause : facts.message;
  return {
    status,
    summary: `${summaryPrefix ? `${summaryPrefix}: ` : ''}${x.title}${cause ? ` — ${cause}` : ''}`,
    hint: withoutDoctorAdvice(x.hint),
    code: x.code,
  };
}

/** Doctor never sends you to doctor: drop the sentences of a hint that suggest running it. */
export function withoutDoctorAdvice(hint: string): string {
  const kept = hint
    .split(/(?<=\.)\s+/)
    .filter((s) => !/^Run `chatgenius-db doctor/.test(s))
    .map((s) => s.replace(/,? or `chatgenius-db doctor[^`]*`[^.;]*/g, '').replace(/;?\s*`chatgenius-db doctor[^`]*`[^.;]*/g, ''))
    .filter((s) => !/chatgenius-db doctor/.test(s) && s.trim() !== '' && s.trim() !== '.')
    .join(' ')
    .trim();
  return kept === '' ? 'Run again with --verbose to see the full error.' : kept;
}

export async function closeAll(ctx: DoctorContext): Promise<void> {
  const c = ctx.client;
  ctx.client = undefined;
  if (c) await c.end().catch(() => {});
  const t = ctx.tunnel;
  ctx.tunnel = undefined;
  if (t) await t.close().catch(() => {});
}
