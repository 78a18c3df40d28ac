/**
 * Online steps: a migration run one statement at a time on a database that holds rows (an
 * online file such as 0003/0004 on an adopted database, or a file that cannot run in a
 * transaction). Two jobs:
 *
 * - Progress in the journal. While such an up migration runs, its journal row is a 'failed' row
 *   (not applied) that says how many of the file's statements are done (`steps_done`, for the
 *   file's checksum `steps_checksum`). A statement that can run in a transaction writes its
 *   progress in the same transaction as itself; one that cannot (CREATE INDEX CONCURRENTLY)
 *   right after it. A run that crashed between two statements leaves the row behind: the next
 *   run of the same file starts at the first statement not done (and a half-built INVALID index
 *   is still dropped before its build starts again). The applied row replaces it at the end
 *   (recordAppliedSql deletes the version's row), and a down deletes it, so progress never
 *   outlives the run it belongs to. Journals made before these columns get them here, on the
 *   first online run; a fresh database never runs this path (its round trips are unchanged).
 *
 * - Short lock waits for strong locks. A statement that takes a lock the app's reads or writes
 *   would queue behind (ALTER TABLE, CREATE TRIGGER, LOCK ...) waits at most a short
 *   lock_timeout per attempt: while it waits in the lock queue every new query on the table
 *   waits behind it, so the app stalls at most that long; then it is rolled back and tried
 *   again after a jittered pause, within the run's --lock-wait budget. Statements whose lock
 *   conflicts with none of the app's (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT: SHARE
 *   UPDATE EXCLUSIVE) keep the run's lock_timeout: their waits (for old snapshots, or for
 *   autovacuum to yield, which takes deadlock_timeout) block no one.
 */
import type pg from 'pg';
import type { MigrationFile } from './types.js';
import { isConcurrentIndex, isValidateConstraint, nonTransactionalReason, isAddEnumValue } from './files.js';
import { journalName, type RunIdentity } from './journal.js';
import { quoteLiteral, sqlValue, type SqlStatement } from './sql-text.js';
import { ONLINE_STEP_LOCK_TIMEOUT_MAX_MS, ONLINE_STEP_LOCK_TIMEOUT_MS } from '../config/defaults.js';
import type { Emit } from '../events.js';

/** What the steps need of the run (a part of the runner's RunContext). */
export interface StepRun {
  schema: string;
  emit: Emit;
  who: RunIdentity;
  /** The session's lock_timeout (set by the run's prefix). */
  lockTimeoutMs: number;
}
type Step = { file: MigrationFile };

/**
 * Pure: the attempts at statement `s` within the budget: each attempt's lock_timeout (ms; 0 = no
 * limit, as the run's own 0 means) and the pauses between them (one fewer). A statement that
 * takes a lock the app queues behind starts short and doubles up to a cap; the others wait the
 * run's lock_timeout each time, with the pauses `runDelays` gives (the batch path's).
 */
export function stepAttempts(
  s: SqlStatement,
  runLockTimeoutMs: number,
  budgetMs: number,
  runDelays: (lockTimeoutMs: number, budgetMs: number) => number[],
  random: () => number = Math.random,
): { timeoutsMs: number[]; delaysMs: number[] } {
  if (runLockTimeoutMs <= 0 || !takesAppLock(s)) {
    const delaysMs = runDelays(runLockTimeoutMs, budgetMs);
    return { timeoutsMs: [runLockTimeoutMs, ...delaysMs.map(() => runLockTimeoutMs)], delaysMs };
  }
  const cap = Math.min(runLockTimeoutMs, ONLINE_STEP_LOCK_TIMEOUT_MAX_MS);
  const timeoutOf = (k: number) => Math.min(ONLINE_STEP_LOCK_TIMEOUT_MS * 2 ** k, cap);
  const timeoutsMs = [timeoutOf(0)];
  const delaysMs: number[] = [];
  let spent = timeoutsMs[0]!;
  for (let k = 0; k < 10_000; k++) {
    // Short pauses (the lock is free only between the app's queries), growing from 100 ms to at
    // most 2 s, each scaled by a jitter in [0.5, 1.5) so the attempts do not fall into step with
    // the app's own rhythm.
    const d = Math.round(Math.min(100 * 1.5 ** k, 2000) * (0.5 + random()));
    const next = timeoutOf(k + 1);
    if (spent + d + next > budgetMs) break;
    spent += d + next;
    delaysMs.push(d);
    timeoutsMs.push(next);
  }
  return { timeoutsMs, delaysMs };
}

/** Pure: whether `s` may take a lock the app's reads or writes queue behind (anything but the online forms and the statements that cannot run in a transaction). */
export function takesAppLock(s: SqlStatement): boolean {
  return !isConcurrentIndex(s) && !isValidateConstraint(s) && nonTransactionalReason(s) === null && !isAddEnumValue(s);
}

/** Pure: whether `s` can share a transaction with its progress row. */
export function canShareTransaction(s: SqlStatement): boolean {
  return nonTransactionalReason(s) === null && !isAddEnumValue(s);
}

/** Adds the progress columns to a journal made before them (a check first: no lock when they exist). */
function ensureColumnsSql(schema: string): string {
  const name = journalName(schema);
  return `DO $chatgenius_db$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = ${quoteLiteral(name)}::regclass AND attname = 'steps_checksum' AND NOT attisdropped) THEN ALTER TABLE ${name} ADD COLUMN IF NOT EXISTS steps_done integer, ADD COLUMN IF NOT EXISTS steps_checksum text; END IF; END$chatgenius_db$`;
}

/** How the journal row of a migration part done begins (its error_code is null). */
export const PROGRESS_PREFIX = 'not finished:';

/** The journal row's words for a migration part done. */
export function progressMessage(done: number, total: number): string {
  return `${PROGRESS_PREFIX} ${done} of ${total} statements done (a run in progress, or one that stopped); running again resumes at statement ${Math.min(done + 1, total)}`;
}

/**
 * One trip before the first statement: the columns, and the version's progress row (a row of an
 * earlier run of the same file keeps its count; of another text, starts at 0). Returns the SQL;
 * its last result is one row `steps_done` (none when the version is applied: then 0).
 */
export function startStepsSql(schema: string, f: MigrationFile, who: RunIdentity, total: number): string {
  const j = journalName(schema);
  return `${ensureColumnsSql(schema)};
INSERT INTO ${j} AS j (version, name, checksum, status, applied_at, db_user, os_user, client_host, tool_version, up_sql, error_message, steps_done, steps_checksum)
VALUES (${quoteLiteral(f.version)}, ${quoteLiteral(f.name)}, ${quoteLiteral(f.checksum)}, 'failed', now(), current_user, ${sqlValue(who.osUser)}, ${sqlValue(who.clientHost)}, ${sqlValue(who.toolVersion)}, ${quoteLiteral(f.up)}, ${quoteLiteral(progressMessage(0, total))}, 0, ${quoteLiteral(f.checksum)})
ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum, applied_at = EXCLUDED.applied_at, db_user = EXCLUDED.db_user, os_user = EXCLUDED.os_user, client_host = EXCLUDED.client_host, tool_version = EXCLUDED.tool_version, up_sql = EXCLUDED.up_sql,
  error_code = NULL, error_statement = NULL, error_line = NULL, error_column = NULL,
  steps_done = CASE WHEN j.steps_checksum = EXCLUDED.steps_checksum THEN LEAST(j.steps_done, ${total}) ELSE 0 END,
  error_message = CASE WHEN j.steps_checksum = EXCLUDED.steps_checksum THEN j.error_message ELSE EXCLUDED.error_message END,
  steps_checksum = EXCLUDED.steps_checksum
WHERE j.status = 'failed'
RETURNING j.steps_done`;
}

/** The progress write after statement `done` (1-based count) of `total`. */
export function recordStepSql(schema: string, f: MigrationFile, done: number, total: number): string {
  return `UPDATE ${journalName(schema)} SET steps_done = ${done}, error_message = ${quoteLiteral(progressMessage(done, total))} WHERE version = ${quoteLiteral(f.version)} AND status = 'failed' AND steps_checksum = ${quoteLiteral(f.checksum)}`;
}

/**
 * The text sent for statement index `i` (0-based) of `statements`: its own lock_timeout for this
 * transaction when that differs from the session's, the statement, and its progress row when they
 * can share a transaction (a multi-statement query is one implicit transaction). `offset`: how
 * many characters precede the statement (an error position is shifted back by it).
 */
export function stepText(
  schema: string,
  f: MigrationFile,
  statements: SqlStatement[],
  i: number,
  lockTimeoutMs: number,
  sessionLockTimeoutMs: number,
  journal: boolean,
): { text: string; offset: number; progressSent: boolean } {
  const s = statements[i]!;
  if (!canShareTransaction(s)) return { text: s.text, offset: 0, progressSent: false };
  const prefix = lockTimeoutMs !== sessionLockTimeoutMs ? `SET LOCAL lock_timeout = ${quoteLiteral(`${lockTimeoutMs}ms`)};\n` : '';
  const progress = journal ? `\n;\n${recordStepSql(schema, f, i + 1, statements.length)}` : '';
  return { text: `${prefix}${s.text}${progress}`, offset: prefix.length, progressSent: journal };
}

/** Pure: the message for a run that starts where an earlier one stopped. */
export function resumeMessage(file: string, done: number, statements: SqlStatement[]): string {
  const next = statements[done];
  return `${file}: resuming at statement ${done + 1} of ${statements.length}${next ? ` (line ${next.line})` : ''}: statements 1-${done} completed in an earlier run that stopped`;
}

type Query = (text: string) => Promise<pg.QueryResult[]>;

/**
 * Before an up migration's first statement: the progress row, and how many statements an earlier
 * run of the same file finished (said as a notice when there are some).
 */
export async function startSteps(ctx: StepRun, step: Step, statements: SqlStatement[], query: Query): Promise<number> {
  const res = await query(startStepsSql(ctx.schema, step.file, ctx.who, statements.length));
  const done = Number((res.at(-1)?.rows?.[0] as { steps_done?: unknown } | undefined)?.steps_done ?? 0) || 0;
  if (done > 0) {
    ctx.emit({
      type: 'notice',
      level: 'info',
      message: resumeMessage(step.file.file, done, statements),
      data: { source: 'engine', migration: `up:${step.file.version}`, resumedAt: done + 1 },
    });
  }
  return done;
}

/**
 * Run statement `i` with its lock_timeout and, for an up migration (`journal`), its progress:
 * in the same transaction when it can share one, else right after it. An error's position is
 * made relative to the statement again (the file:line:column of a failure is found from it).
 */
export async function runStepStatement(
  ctx: StepRun,
  step: Step,
  statements: SqlStatement[],
  i: number,
  lockTimeoutMs: number,
  journal: boolean,
  query: Query,
): Promise<void> {
  const sent = stepText(ctx.schema, step.file, statements, i, lockTimeoutMs, ctx.lockTimeoutMs, journal);
  try {
    await query(sent.text);
  } catch (err) {
    const e = err as { position?: string };
    if (sent.offset && e && typeof e.position === 'string' && Number(e.position) > sent.offset) e.position = String(Number(e.position) - sent.offset);
    throw err;
  }
  if (journal && !sent.progressSent) await query(recordStepSql(ctx.schema, step.file, i + 1, statements.length));
}

/** What a run sends for a file run one statement at a time, as text (dry run): every statement, each with its first attempt's lock_timeout and its progress. */
export function stepsScript(ctx: StepRun, step: Step, statements: SqlStatement[], journal: boolean): string {
  const parts = journal ? [`${startStepsSql(ctx.schema, step.file, ctx.who, statements.length)};\n`] : [];
  statements.forEach((s, i) => {
    const first = stepAttempts(s, ctx.lockTimeoutMs, 0, () => []).timeoutsMs[0]!;
    const sent = stepText(ctx.schema, step.file, statements, i, first, ctx.lockTimeoutMs, journal);
    parts.push(`${sent.text.trim()};\n`);
    if (journal && !sent.progressSent) parts.push(`${recordStepSql(ctx.schema, step.file, i + 1, statements.length)};\n`);
  });
  return parts.join('');
}
