/**
 * executeWithRetry keeps the spec's signature: `maxRetries` counts attempts in all, and attempt n
 * waits `delayMs * n` before attempt n + 1. A deliberate fix over the spec: only transient
 * failures (see transient.ts) are retried; anything else is thrown at once, unchanged.
 */
import { CancelledError, errorCode } from '../errors.js';
import type { Emit } from '../events.js';
import { ENV_NAMES, type RetryPolicy } from '../config/types.js';
import { ENV_DEFAULTS } from '../config/defaults.js';
import { isTransient as defaultIsTransient } from './transient.js';
import { sleep } from '../sleep.js';

export interface RetryOptions {
  /** Base delay in ms; attempt n waits delayMs * n. Default: the environment's policy (config/defaults.ts). */
  delayMs?: number;
  emit?: Emit;
  /** Name for the `retry` event (e.g. 'connect', 'migrate'). */
  operation?: string;
  signal?: AbortSignal;
  /** Override the transient-error test. */
  isTransient?: (err: unknown) => boolean;
  /** Environment used for the default policy (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The environment's policy from config/defaults.ts (an unknown or missing name: development's). */
export function retryPolicyFor(envName: string | undefined): RetryPolicy {
  const known = ENV_NAMES.find((n) => n === envName);
  return { ...ENV_DEFAULTS[known ?? 'development'].retry };
}

/** The policy of the environment named by CHATGENIUS_ENV (the spec's defaults). */
export function retryPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  return retryPolicyFor(env.CHATGENIUS_ENV);
}

/**
 * Run `operation` up to `maxRetries` times in all. Returns its value; throws the last error, or
 * the first non-transient one at once, or CancelledError when `signal` aborts.
 *
 * ```ts
 * await executeWithRetry(() => pool.query('select 1'), 5, { delayMs: 500, emit: (event) => logger.write(event) });
 * ```
 */
export async function executeWithRetry<T>(operation: (attempt: number) => Promise<T>, maxRetries?: number, opts: RetryOptions = {}): Promise<T> {
  const policy = retryPolicyFromEnv(opts.env ?? process.env);
  const attempts = Math.max(1, Math.floor(maxRetries ?? policy.maxRetries));
  const delayMs = Math.max(0, opts.delayMs ?? policy.retryDelayMs);
  const transient = opts.isTransient ?? ((e: unknown) => defaultIsTransient(e));
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw new CancelledError();
    try {
      return await operation(attempt);
    } catch (err) {
      if (err instanceof CancelledError || opts.signal?.aborted) throw err;
      if (attempt >= attempts || !transient(err)) throw err;
      const wait = delayMs * attempt;
      opts.emit?.({
        type: 'retry',
        operation: opts.operation ?? 'operation',
        attempt,
        maxRetries: attempts,
        delayMs: wait,
        code: errorCode(err) ?? firstInnerCode(err),
        message: err instanceof Error ? err.message : String(err),
      });
      await sleep(wait, opts.signal);
    }
  }
}

function firstInnerCode(err: unknown): string | undefined {
  const inner = (err as { errors?: unknown } | null)?.errors;
  return Array.isArray(inner) && inner.length > 0 ? errorCode(inner[0]) : undefined;
}
