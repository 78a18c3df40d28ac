/**
 * What a run of steps needs to know (client, schema, timeouts, who runs it, whether it holds the
 * lock) and what it returns.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { DEFAULT_LOCK_WAIT_MS } from '../config/defaults.js';
import type { Emit } from '../events.js';
import type { RunIdentity } from './journal.js';
import type { MigrationFailure, MigrationResult } from './types.js';

export interface RunContext {
  client: pg.Client;
  schema: string;
  emit: Emit;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  who: RunIdentity;
  /** Create the journal in the first batch (it did not exist when the run started). */
  createJournal: boolean;
  serverVersionNum: number;
  /** This run holds the advisory lock: the last trip releases it. */
  holdsLock: boolean;
  /** A lock race lost (55P03 lock_timeout, 40P01 deadlock) is retried until this much time has passed. */
  lockBudgetMs: number;
  signal?: AbortSignal;
  /** Name of this run's prepared journal INSERT (unique per run, so a leftover never collides). */
  journalStatement: string;
  /** Versions that already have a journal row (a failed run's): deleted before the new row goes in. */
  journalRows?: ReadonlySet<string>;
}

/** A RunContext from the engine options and what the lock + journal read found. */
export function runContext(
  client: pg.Client,
  opts: { lockTimeoutMs: number; statementTimeoutMs: number; lockWaitTimeoutMs?: number; signal?: AbortSignal },
  run: Pick<RunContext, 'schema' | 'emit' | 'who' | 'createJournal' | 'serverVersionNum' | 'holdsLock' | 'journalRows'>,
): RunContext {
  return {
    client,
    ...run,
    journalStatement: `cgdb_${randomBytes(4).toString('hex')}`,
    lockTimeoutMs: opts.lockTimeoutMs,
    lockBudgetMs: opts.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_MS,
    statementTimeoutMs: opts.statementTimeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
}

export interface RunOutcome {
  results: MigrationResult[];
  failure?: MigrationFailure;
  /** The SQL sent (batches and single statements), for --verbose / dry-run. */
  sql: string;
  cancelled?: boolean;
}

/** A library caller's words for a cancelled run: what committed, and that running again finishes. */
export function cancelledMessage(results: MigrationResult[]): string {
  const done = results.filter((r) => r.status === 'applied' || r.status === 'rolled-back');
  const what = done.length ? `Cancelled after ${done.map((r) => `${r.version}_${r.name}`).join(', ')} committed` : 'Cancelled before any migration committed';
  return `${what}; the database is at a migration boundary: run the same command again to finish.`;
}
