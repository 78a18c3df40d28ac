/**
 * When a run stops: which migration failed and where (file:line:column, from the error position
 * mapped through the batch's offset map, else a replay of that one file statement by statement
 * inside a transaction that is rolled back), the failure recorded in the journal and the lock
 * released in one trip; or, for Ctrl-C, what committed before it.
 */
import type pg from 'pg';
import { codeFrameIn, lineColumn } from '../code-frame.js';
import { BatchText } from './batch-text.js';
import { markerSql, tailSql } from './batch-sql.js';
import { createJournalSql, recordFailedSql } from './journal.js';
import { isDatabaseError, LOCK_RACE_CODES, raceFacts } from './lock-race.js';
import type { RunContext } from './run-context.js';
import type { RunProgress } from './run-progress.js';
import { committedPerJournal } from './run-progress.js';
import { splitStatements, type SqlStatement } from './sql-text.js';
import { fileOf, textOf, type Step } from './steps.js';
import type { MigrationFailure } from './types.js';

type Phase = 'syntax' | 'runtime';
type Query = (t: string) => Promise<pg.QueryResult[]>;

function statementAt(statements: SqlStatement[], offset: number): SqlStatement | undefined {
  return statements.find((s) => offset >= s.end - s.text.length && offset <= s.end);
}

/** Build the failure value for `step` from a pg error; `stmt` (when known) locates it. */
export function failureFor(step: Step, err: unknown, fileText: string, stmt: SqlStatement | undefined, phase: Phase, offsetInFile?: number): MigrationFailure {
  const e = (err ?? {}) as Partial<pg.DatabaseError> & { message?: string; code?: string };
  let at: { line: number; column: number } | undefined;
  if (offsetInFile !== undefined) at = lineColumn(fileText, offsetInFile);
  else if (stmt) {
    const pos = e.position ? Number(e.position) : undefined;
    if (pos && Number.isFinite(pos)) {
      // position counts characters from 1 inside the statement text we sent
      const inStmt = [...stmt.text].slice(0, pos - 1).join('').length;
      at = lineColumn(fileText, stmt.end - stmt.text.length + inStmt);
    } else at = { line: stmt.line, column: stmt.column };
  }
  const stmtText = stmt?.text.trim();
  return {
    version: step.file.version,
    name: step.file.name,
    file: fileOf(step),
    ...(at ? { line: at.line, column: at.column, frame: codeFrameIn(fileText, at.line, at.column) } : {}),
    ...(e.code ? { code: e.code } : {}),
    message: String(e.message ?? err),
    ...(e.detail ? { detail: e.detail } : {}),
    ...(e.hint ? { hint: e.hint } : {}),
    ...(stmtText ? { statement: stmtText } : {}),
    phase,
  };
}

/** Record the failure (an up step's failed row) and release the lock: one trip. */
export async function recordFailure(ctx: RunContext, step: Step, failure: MigrationFailure, durationMs: number | null, query: Query): Promise<void> {
  // ROLLBACK first: harmless (a warning, silenced) when no transaction is open.
  const write =
    step.direction === 'up' ? `BEGIN;\n${createJournalSql(ctx.schema)};\n${recordFailedSql(ctx.schema, step.file, failure, ctx.who, durationMs)};\nCOMMIT;\n` : '';
  await query(`ROLLBACK;\n${write}${tailSql(ctx)}`).catch(async () => {
    await query(`ROLLBACK;\n${tailSql(ctx)}`).catch(() => undefined);
  });
}

/** A failed step, the race facts added when it lost a lock race, recorded, the lock released, reported. */
export async function settleFailure(
  ctx: RunContext,
  progress: RunProgress,
  step: Step,
  failure: MigrationFailure,
  opts: { err: unknown; retries: number; durationMs: number | null },
): Promise<MigrationFailure> {
  const full = { ...failure, ...(await raceFacts(ctx, opts.err, opts.retries, progress.query)) };
  await recordFailure(ctx, step, full, opts.durationMs, progress.query);
  progress.failed(step, full);
  return full;
}

/**
 * A batch stopped by Ctrl-C. With the session still there (the cancel request answered 57014):
 * one trip rolls back, reads the journal (the truth about what committed, even a COMMIT whose
 * notice the cancel cut off) and releases the lock. With the connection gone: what the notices
 * said, and the running migration was rolled back by the server.
 */
export async function settleCancel(ctx: RunContext, progress: RunProgress, err: unknown, steps: Step[]): Promise<void> {
  let confirmed = false;
  if (isDatabaseError(err)) {
    const journal = await progress.rollbackAndReadJournal(tailSql(ctx));
    if (journal) {
      progress.doneFromJournal(steps, journal);
      confirmed = true;
    }
  }
  const running = progress.running(steps);
  if (running) {
    ctx.emit({ type: 'migration:interrupted', version: running.file.version, name: running.file.name, direction: running.direction, reason: 'cancelled', confirmed });
  }
}

/**
 * A batch failed: which step, where in its file, recorded. The connection gone (or the driver
 * failed): the server rolls back the open transaction and releases the lock; report the migration
 * that was running.
 */
export async function diagnose(ctx: RunContext, progress: RunProgress, err: unknown, batch: BatchText, steps: Step[], retries = 0): Promise<MigrationFailure> {
  const e = err as Partial<pg.DatabaseError> & { message?: string; code?: string };
  if (!isDatabaseError(err)) {
    const step = progress.running(steps) ?? steps.find((s) => progress.results.get(s)!.status === 'not-run') ?? steps[0]!;
    const failure: MigrationFailure = {
      version: step.file.version,
      name: step.file.name,
      file: fileOf(step),
      message: String(e.message ?? err),
      phase: 'runtime',
      ...(e.code ? { code: e.code } : {}),
    };
    progress.failed(step, failure);
    return failure;
  }
  // One trip: end the aborted transaction and read the journal (null: the session is gone, 57P01
  // and the like; keep going with what the commit notices said).
  const journal = await progress.rollbackAndReadJournal();
  const isDone = (s: Step) => progress.results.get(s)!.status !== 'not-run' || (journal !== null && committedPerJournal(s, journal));
  const committed = steps.filter(isDone);
  // Located by the error position?
  const pos = e.position ? Number(e.position) : undefined;
  const loc = pos ? batch.locate(pos) : null;
  let step: Step | undefined;
  let offsetInFile: number | undefined;
  if (loc?.segment.file) {
    step = steps.find((s) => s.file === loc.segment.file && s.direction === loc.segment.direction);
    offsetInFile = loc.segment.fileOffset + loc.offsetInSegment;
  }
  step ??= steps.find((s) => !isDone(s)) ?? steps[0]!;
  const phase: Phase = e.code === '42601' && committed.length === 0 && progress.startTimes.size === 0 ? 'syntax' : 'runtime';
  // Steps before the failing one that committed.
  progress.doneWithDurations(
    committed.filter((s) => s !== step),
    journal ?? [],
  );
  const failure = await locateInFile(progress, err, step, phase, offsetInFile);
  return settleFailure(ctx, progress, step, failure, { err, retries, durationMs: null });
}

/** Where in the step's file the error is: the batch's offset when it had one, else a replay. */
async function locateInFile(progress: RunProgress, err: unknown, step: Step, phase: Phase, offsetInFile: number | undefined): Promise<MigrationFailure> {
  const code = (err as { code?: string }).code;
  const text = textOf(step);
  const statements = splitStatements(text);
  if (offsetInFile !== undefined) return failureFor(step, err, text, statementAt(statements, offsetInFile), phase, offsetInFile);
  // A statement timeout or a lost lock race is not replayed: the replay would run or queue the
  // app behind us a second time.
  if (code === '57014' || LOCK_RACE_CODES.has(code ?? '') || statements.length === 0) return failureFor(step, err, text, undefined, phase);
  return replayToLocate(progress, err, step, text, statements, phase);
}

/** Replay the file statement by statement in a transaction that is rolled back: the statement that fails is the place. */
async function replayToLocate(progress: RunProgress, err: unknown, step: Step, text: string, statements: SqlStatement[], phase: Phase): Promise<MigrationFailure> {
  const replay = new BatchText();
  replay.sql('BEGIN');
  statements.forEach((s, i) => {
    replay.sql(markerSql('stmt', String(i)));
    replay.raw(s.text, { file: step.file, direction: step.direction, fileOffset: s.end - s.text.length, statement: i });
    replay.raw('\n;\n');
  });
  replay.sql('ROLLBACK');
  progress.lastStmt = -1;
  let replayErr: unknown;
  try {
    await progress.query(replay.text);
  } catch (re) {
    replayErr = re;
  }
  if (!replayErr || !isDatabaseError(replayErr)) return failureFor(step, err, text, undefined, phase);
  const rp = replayErr.position ? Number(replayErr.position) : undefined;
  const rl = rp ? replay.locate(rp) : null;
  if (rl?.segment.statement !== undefined) {
    return failureFor(step, err, text, statements[rl.segment.statement], phase, rl.segment.fileOffset + rl.offsetInSegment);
  }
  const idx = progress.lastStmt;
  return failureFor(step, err, text, idx >= 0 ? statements[idx] : undefined, phase);
}
