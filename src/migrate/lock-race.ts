/**
 * A lost race for a table lock: 55P03 (lock_timeout: the app held the table longer than we may
 * make it queue behind us) and 40P01 (deadlock, PostgreSQL cancelled us). The transaction was
 * rolled back and released everything, so the app runs on while we back off, then retry; when the
 * budget is spent, the failure names the session most likely in the way.
 */
import type pg from 'pg';
import { sleep } from '../sleep.js';
import type { RunContext } from './run-context.js';
import { quoteLiteral } from './sql-text.js';
import type { MigrationFailure } from './types.js';

export const LOCK_RACE_CODES: ReadonlySet<string> = new Set(['55P03', '40P01']);

/**
 * Pure: the pauses between attempts that fit in the budget (each attempt may itself wait one
 * lock_timeout): 250 ms doubling to at most 5 s, so the app gets ever longer windows.
 */
export function lockRetryDelays(lockTimeoutMs: number, budgetMs: number): number[] {
  const out: number[] = [];
  const attempt = Math.max(0, lockTimeoutMs);
  let spent = attempt;
  for (let k = 0; k < 1000; k++) {
    const d = Math.min(250 * 2 ** k, 5000);
    if (spent + d + attempt > budgetMs) break;
    spent += d + attempt;
    out.push(d);
  }
  return out;
}

/** An error the server sent (it has a SQLSTATE), as opposed to a connection or driver failure. */
export function isDatabaseError(err: unknown): err is pg.DatabaseError {
  return !!err && typeof err === 'object' && 'severity' in err && typeof (err as { code?: unknown }).code === 'string';
}

export function lockRace(err: unknown): err is pg.DatabaseError {
  return isDatabaseError(err) && LOCK_RACE_CODES.has(err.code!);
}

export function raceLabel(ctx: RunContext, err: pg.DatabaseError): string {
  return err.code === '40P01' ? 'deadlock with another session' : `a table lock was not granted within lock_timeout (${ctx.lockTimeoutMs} ms)`;
}

/**
 * After a lost lock race (rolled back, nothing held): say so as a `retry` event, then pause
 * before attempt `attempt + 1`. One place for the batch path and the statement-by-statement path.
 */
export async function backOffAfterRace(ctx: RunContext, err: pg.DatabaseError, operation: string, attempt: number, delays: number[]): Promise<void> {
  const delayMs = delays[attempt - 1]!;
  // maxRetries counts attempts in all, as executeWithRetry's does: the first try and one per pause.
  ctx.emit({ type: 'retry', operation, attempt, maxRetries: delays.length + 1, delayMs, code: err.code!, message: 'rolled back, the app is not kept waiting' });
  await sleep(delayMs, ctx.signal).catch(() => undefined);
}

/**
 * For a lost lock race: how often it was retried, and the session most likely in the way: the
 * oldest transaction holding a lock on a table of the schema (pid, application, client, state,
 * since when, which table in which mode).
 */
export async function raceFacts(
  ctx: RunContext,
  err: unknown,
  retries: number,
  query: (t: string) => Promise<pg.QueryResult[]>,
): Promise<Pick<MigrationFailure, 'retries' | 'holder'>> {
  if (!lockRace(err)) return {};
  let holder: MigrationFailure['holder'];
  try {
    const res = await query(`ROLLBACK;
SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.state, coalesce(a.xact_start, a.state_change, a.backend_start) AS since,
       a.usename, c.relname, l.mode
  FROM pg_catalog.pg_locks l
  JOIN pg_catalog.pg_class c ON c.oid = l.relation
  JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
 WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid() AND c.relnamespace = ${quoteLiteral(ctx.schema)}::regnamespace
 ORDER BY a.xact_start NULLS LAST, a.pid
 LIMIT 1`);
    const row = res.at(-1)?.rows?.[0] as Record<string, unknown> | undefined;
    if (row) {
      holder = {
        pid: Number(row.pid),
        applicationName: row.application_name == null ? null : String(row.application_name),
        clientAddr: row.client_addr == null ? null : String(row.client_addr),
        state: row.state == null ? null : String(row.state),
        since: row.since == null ? null : new Date(String(row.since)).toISOString(),
        user: row.usename == null ? null : String(row.usename),
        table: String(row.relname),
        mode: String(row.mode),
      };
    }
  } catch {
    /* the facts are a courtesy: the failure stands without them */
  }
  return { retries, ...(holder ? { holder } : {}) };
}
