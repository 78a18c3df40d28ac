/**
 * Runs a list of migration steps (up or down) with as few round trips as possible:
 * every transactional step goes into ONE simple-query batch, each step still
 * `BEGIN; <file>; <journal row>; COMMIT;`, with the session settings in front and the
 * unlock behind. A step that cannot run in a transaction splits the batch and runs one
 * statement at a time.
 *
 * Failure: ROLLBACK + journal re-read in one trip, find file:line:column (error position mapped
 * through the batch's offset map, else a replay of that one file statement by statement inside a
 * transaction that is rolled back), then record the failure and unlock in one trip.
 * Returns results; never throws for SQL errors.
 */
import type pg from 'pg';
import type { Emit } from '../events.js';
import { BatchText, segmentTextSql, type BatchSegment } from './batch-text.js';
import { requestCancel } from '../db/cancel.js';
import {
  createJournalSql,
  deleteRowSql,
  executeAppliedSql,
  markStepStartSql,
  prepareAppliedSql,
  recordAppliedSql,
  recordFailedSql,
  type RunIdentity,
} from './journal.js';
import { randomBytes } from 'node:crypto';
import { results as resultsOf, stateSql, unlockSql } from './lock.js';
import { parseJournalRows } from './journal.js';
import { quoteIdent, quoteLiteral, splitStatements, type SqlStatement } from './sql-text.js';
import { isConcurrentIndex, plainText } from './files.js';
import { runStepStatement, startSteps, stepAttempts, stepsScript } from './online-steps.js';

export { plainText };
import { codeFrameIn, lineColumn } from '../explain/frame.js';
import { sleep } from '../db/retry.js';
import { DEFAULT_LOCK_WAIT_MS } from '../config/defaults.js';
import type { JournalRow, MigrationFailure, MigrationFile, MigrationResult } from './types.js';

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

export interface Step {
  file: MigrationFile;
  direction: 'up' | 'down';
  transactional: boolean;
  /** An online file run plainly inside the batch (a fresh database): CONCURRENTLY left out. */
  plain?: boolean;
}

export type StepGroup = { kind: 'tx'; steps: Step[] } | { kind: 'single'; step: Step };

export interface RunOutcome {
  results: MigrationResult[];
  failure?: MigrationFailure;
  /** The SQL sent (batches and single statements), for --verbose / dry-run. */
  sql: string;
  cancelled?: boolean;
}

/** Prefix of the engine's own NOTICEs (short: one pair per migration travels in every batch). */
const MARK = 'cgdb:';

/** A library caller's words for a cancelled run: what committed, and that running again finishes. */
export function cancelledMessage(results: MigrationResult[]): string {
  const done = results.filter((r) => r.status === 'applied' || r.status === 'rolled-back');
  const what = done.length ? `Cancelled after ${done.map((r) => `${r.version}_${r.name}`).join(', ')} committed` : 'Cancelled before any migration committed';
  return `${what}; the database is at a migration boundary: run the same command again to finish.`;
}

/**
 * A lost race for a table lock: 55P03 (lock_timeout: the app held the table longer than we
 * may make it queue behind us) and 40P01 (deadlock, PostgreSQL cancelled us). The transaction
 * was rolled back and released everything, so the app runs on while we back off, then retry.
 */
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

function lockRace(err: unknown): err is pg.DatabaseError {
  return isDatabaseError(err) && LOCK_RACE_CODES.has(err.code!);
}

function raceLabel(ctx: RunContext, err: pg.DatabaseError): string {
  return err.code === '40P01' ? 'deadlock with another session' : `a table lock was not granted within lock_timeout (${ctx.lockTimeoutMs} ms)`;
}

/**
 * After a lost lock race (rolled back, nothing held): say so as a `retry` event, then pause
 * before attempt `attempt + 1`. One place for the batch path and the statement-by-statement path.
 */
async function backOffAfterRace(ctx: RunContext, err: pg.DatabaseError, operation: string, attempt: number, delays: number[]): Promise<void> {
  const delayMs = delays[attempt - 1]!;
  ctx.emit({ type: 'retry', operation, attempt, maxRetries: delays.length, delayMs, code: err.code!, message: 'rolled back, the app is not kept waiting' });
  await sleep(delayMs, ctx.signal).catch(() => undefined);
}

/**
 * The steps of a run. `fresh`: this run creates the schema from nothing (no migration applied
 * when it took the lock), so no one else can be using the tables: online files (CONCURRENTLY,
 * NOT VALID + VALIDATE) run plainly inside the batch, at the batch's cost. Otherwise an online
 * file runs one statement at a time, each its own transaction, so no lock that blocks the app's
 * writes is held for longer than a catalog update.
 */
export function stepsOf(files: MigrationFile[], direction: 'up' | 'down', serverVersionNum: number, opts: { fresh?: boolean } = {}): Step[] {
  return files.map((file) => {
    const tx = direction === 'up' ? file.upTransactional : file.downTransactional;
    const online = (direction === 'up' ? file.upOnline : file.downOnline) === true;
    const addValue = direction === 'up' ? file.upAddsEnumValue : file.downAddsEnumValue;
    if (online) return opts.fresh ? { file, direction, transactional: true, plain: true } : { file, direction, transactional: false };
    return { file, direction, transactional: tx && !(addValue && serverVersionNum > 0 && serverVersionNum < 120000) };
  });
}

export function groupSteps(steps: Step[]): StepGroup[] {
  const out: StepGroup[] = [];
  for (const step of steps) {
    const last = out.at(-1);
    if (!step.transactional) out.push({ kind: 'single', step });
    else if (last?.kind === 'tx') last.steps.push(step);
    else out.push({ kind: 'tx', steps: [step] });
  }
  return out;
}

function searchPath(schema: string): string {
  return schema === 'public' ? quoteIdent('public') : `${quoteIdent(schema)}, public`;
}

/**
 * Session settings (committed in a transaction of their own), journal creation when needed, and
 * (`prepare`: the run has migrations to apply in a batch) the prepared journal INSERT.
 */
export function prefixSql(
  ctx: Pick<RunContext, 'schema' | 'lockTimeoutMs' | 'statementTimeoutMs' | 'createJournal' | 'journalStatement' | 'who'>,
  prepare = false,
): string {
  const ms = (n: number) => quoteLiteral(`${Math.max(0, Math.trunc(n))}ms`);
  return (
    [
      'BEGIN',
      `SET lock_timeout = ${ms(ctx.lockTimeoutMs)}`,
      `SET statement_timeout = ${ms(ctx.statementTimeoutMs)}`,
      `SET search_path TO ${searchPath(ctx.schema)}`,
      `SET client_min_messages = notice`,
      ...(ctx.createJournal ? [createJournalSql(ctx.schema)] : []),
      ...(prepare ? [prepareAppliedSql(ctx.schema, ctx.journalStatement, ctx.who)] : []),
      'COMMIT',
    ].join(';\n') + ';\n'
  );
}

/**
 * Undo the session settings and release the lock; `deallocate`: the prepared journal INSERT too
 * (only in the batch that prepared it succeeding; the failure paths leave it: a DEALLOCATE of a
 * statement a rejected batch never prepared would fail the unlock with it, and the name is per run).
 */
export function tailSql(ctx: Pick<RunContext, 'schema' | 'holdsLock' | 'journalStatement'>, deallocate = false): string {
  return (
    [
      ...(deallocate ? [`DEALLOCATE ${ctx.journalStatement}`] : []),
      'RESET lock_timeout',
      'RESET statement_timeout',
      'RESET search_path',
      'RESET client_min_messages',
      ...(ctx.holdsLock ? [unlockSql(ctx.schema)] : []),
    ].join(';\n') + ';\n'
  );
}

/**
 * A notice that tells the client where the batch is, as it runs (the server sends a NOTICE at
 * once, while the rest of the batch goes on): `start` (also records the step's start time),
 * `done` (right after the step's COMMIT: it is durable), `stmt` (replay position).
 */
function markerSql(kind: 'start' | 'done' | 'stmt', id: string): string {
  const start = kind === 'start' ? `${markStepStartSql()}; ` : '';
  // The id is direction:version or a number: no % in it, so it can be the format string itself.
  return `DO $c$BEGIN ${start}RAISE NOTICE ${quoteLiteral(`${MARK}${kind}:${id}`)}; END$c$`;
}

/** The step's journal change; `seg` (the file's place in the batch) lets the row copy the text from the running statement. */
function journalSql(ctx: RunContext, step: Step, durationMs?: number, seg?: BatchSegment): string {
  if (step.direction === 'down') return deleteRowSql(ctx.schema, step.file.version);
  if (!seg) return recordAppliedSql(ctx.schema, step.file, ctx.who, durationMs);
  const replace = ctx.journalRows?.has(step.file.version) ? `${deleteRowSql(ctx.schema, step.file.version)};\n` : '';
  return `${replace}${executeAppliedSql(ctx.journalStatement, step.file, segmentTextSql(seg))}`;
}

/** Batches record up steps with the prepared INSERT: prepare it when there is one. */
function needsPrepared(steps: Step[]): boolean {
  return steps.some((s) => s.direction === 'up' && s.transactional);
}

function textOf(step: Step): string {
  const text = step.direction === 'up' ? step.file.up : step.file.down;
  return step.plain ? plainText(text, step.direction === 'up' ? step.file.upConcurrentlyAt : step.file.downConcurrentlyAt) : text;
}

function fileOf(step: Step): string {
  return step.direction === 'up' ? step.file.file : step.file.downFile;
}

/** The batch for a group of transactional steps. */
export function txBatch(ctx: RunContext, steps: Step[], opts: { prefix: boolean; finalSql?: string; tail: boolean; prepared: boolean }): BatchText {
  const b = new BatchText();
  if (opts.prefix) b.raw(prefixSql(ctx, opts.prepared));
  for (const step of steps) {
    const id = `${step.direction}:${step.file.version}`;
    b.sql('BEGIN');
    b.sql(markerSql('start', id));
    const seg = b.file(step.file, step.direction, step.plain ? textOf(step) : undefined);
    b.sql(journalSql(ctx, step, undefined, seg));
    b.sql('COMMIT');
    b.sql(markerSql('done', id));
  }
  if (opts.finalSql) b.sql(opts.finalSql);
  if (opts.tail) b.raw(tailSql(ctx, opts.prepared));
  return b;
}

/** Everything a run would send, as text (dry run). */
export function scriptFor(ctx: RunContext, steps: Step[], finalSql?: string): string {
  const groups = groupSteps(steps);
  const prepared = needsPrepared(steps);
  const parts: string[] = [];
  groups.forEach((g, i) => {
    const first = i === 0;
    const last = i === groups.length - 1;
    if (g.kind === 'tx') {
      parts.push(txBatch(ctx, g.steps, { prefix: first, tail: last, prepared, ...(last && finalSql ? { finalSql } : {}) }).text);
    } else {
      if (first) parts.push(prefixSql(ctx, prepared));
      parts.push(`-- ${fileOf(g.step)} runs outside a transaction, one statement at a time:\n`);
      parts.push(stepsScript(ctx, g.step, splitStatements(textOf(g.step)), g.step.direction === 'up'));
      parts.push(`${journalSql(ctx, g.step, 0)};\n`);
      if (last) parts.push(`${finalSql ? `${finalSql};\n` : ''}${tailSql(ctx, prepared)}`);
    }
  });
  return parts.join('-- (next round trip)\n');
}

function isDatabaseError(err: unknown): err is pg.DatabaseError {
  return !!err && typeof err === 'object' && 'severity' in err && typeof (err as { code?: unknown }).code === 'string';
}

function statementAt(statements: SqlStatement[], offset: number): SqlStatement | undefined {
  return statements.find((s) => offset >= s.end - s.text.length && offset <= s.end);
}

export async function runSteps(ctx: RunContext, steps: Step[], opts: { finalSql?: string } = {}): Promise<RunOutcome> {
  const { client, emit } = ctx;
  const results = new Map<Step, MigrationResult>();
  for (const s of steps) {
    results.set(s, { version: s.file.version, name: s.file.name, file: fileOf(s), direction: s.direction, status: 'not-run' });
  }
  const sent: string[] = [];
  const groups = groupSteps(steps);
  const prepared = needsPrepared(steps);
  let prefixSent = false;
  let quiet = false;
  let lastStart: { id: string; at: number } | null = null;
  const startTimes = new Map<string, number>();
  let lastStmt = -1;

  const stepById = (id: string) => steps.find((s) => `${s.direction}:${s.file.version}` === id);
  const onNotice = (msg: { message?: string; severity?: string }) => {
    const text = String(msg.message ?? '');
    if (text.startsWith(MARK)) {
      const [kind, ...rest] = text.slice(MARK.length).split(':');
      const id = rest.join(':');
      if (kind === 'start') {
        lastStart = { id, at: Date.now() };
        startTimes.set(id, Date.now());
        const step = stepById(id);
        if (step) emit({ type: 'migration:start', version: step.file.version, name: step.file.name, direction: step.direction });
      } else if (kind === 'done') {
        // Committed: say so now, not when the whole batch returns (a kill or a hang later must not hide it).
        const step = stepById(id);
        const began = startTimes.get(id);
        if (step) done(step, began === undefined ? 0 : Date.now() - began);
      } else if (kind === 'stmt') lastStmt = Number(rest[0]);
      return;
    }
    if (quiet) return;
    const sev = String(msg.severity ?? 'NOTICE');
    emit({
      type: 'notice',
      level: sev === 'WARNING' ? 'warn' : 'info',
      message: text,
      data: { source: 'migration', severity: sev, ...(lastStart ? { migration: (lastStart as { id: string }).id } : {}) },
    });
  };

  const announced = new Set<Step>();
  const done = (step: Step, durationMs: number) => {
    if (announced.has(step)) return;
    announced.add(step);
    const r = results.get(step)!;
    r.status = step.direction === 'up' ? 'applied' : 'rolled-back';
    r.durationMs = durationMs;
    emit({ type: 'migration:done', version: step.file.version, name: step.file.name, direction: step.direction, durationMs });
  };

  const query = async (text: string): Promise<pg.QueryResult[]> => {
    sent.push(text);
    return resultsOf(await client.query(text));
  };

  client.on('notice', onNotice);
  try {
    for (let gi = 0; gi < groups.length; gi++) {
      const group = groups[gi]!;
      const last = gi === groups.length - 1;
      if (ctx.signal?.aborted) {
        quiet = true;
        await query(tailSql(ctx)).catch(() => undefined);
        return { results: [...results.values()], sql: sent.join('\n'), cancelled: true };
      }
      if (group.kind === 'tx') {
        let remaining = group.steps;
        const delays = lockRetryDelays(ctx.lockTimeoutMs, ctx.lockBudgetMs);
        let retries = 0;
        let tailPending = false;
        for (;;) {
          startTimes.clear(); // per batch: "nothing started" tells a rejected batch (syntax) from a run-time failure
          const batch = txBatch(ctx, remaining, { prefix: !prefixSent, tail: last, prepared, ...(last && opts.finalSql ? { finalSql: opts.finalSql } : {}) });
          const t0 = Date.now();
          // Ctrl-C while the batch runs: cancel the statement (the session stays, so the commit
          // notices already on their way still arrive and the journal can be read back).
          const onAbort = () => void requestCancel(client);
          ctx.signal?.addEventListener('abort', onAbort, { once: true });
          try {
            await query(batch.text);
          } catch (err) {
            const journal = !ctx.signal?.aborted && lockRace(err) && retries < delays.length ? await endAbortedAndRead(ctx, query) : null;
            if (journal && lockRace(err)) {
              // Rolled back: nothing is held but the advisory lock, and the app runs on. The steps
              // that committed before the race are done; the rest is retried after a pause. (Never
              // the replay that locates a failing line: it would queue the app a second time.)
              const applied = new Set(journal.filter((r) => r.status === 'applied').map((r) => r.version));
              const isDone = (s: Step) => (s.direction === 'up' ? applied.has(s.file.version) : !applied.has(s.file.version));
              for (const s of remaining.filter(isDone)) done(s, journal.find((r) => r.version === s.file.version)?.durationMs ?? 0);
              remaining = remaining.filter((s) => !isDone(s));
              prefixSent = true; // the prefix (settings, prepared statements) ran, committed, before any step
              if (remaining.length === 0) {
                tailPending = last; // the race was after the last commit: nothing to retry, only the tail to send
                break;
              }
              retries++;
              await backOffAfterRace(ctx, err, `${remaining[0] ? `${fileOf(remaining[0])}: ` : ''}${raceLabel(ctx, err)}`, retries, delays);
              continue;
            }
            quiet = true;
            if (ctx.signal?.aborted) {
              await settleCancel(ctx, err, remaining, results, done, query, startTimes);
              return { results: [...results.values()], sql: sent.join('\n'), cancelled: true };
            }
            const failure = await diagnose(
              ctx,
              err,
              batch,
              remaining,
              results,
              done,
              () => lastStmt,
              (v) => (lastStmt = v),
              query,
              startTimes,
              retries,
            );
            return { results: [...results.values()], failure, sql: sent.join('\n') };
          } finally {
            ctx.signal?.removeEventListener('abort', onAbort);
          }
          prefixSent = true;
          // Every step announced itself as it committed; this covers a notice that went missing.
          for (const s of remaining) done(s, Date.now() - t0);
          remaining = [];
          break;
        }
        // Every step committed in earlier attempts: the tail (unlock) still has to go.
        if (tailPending) await query(`${opts.finalSql ? `${opts.finalSql};\n` : ''}${tailSql(ctx, prepared)}`);
        prefixSent = true;
      } else {
        const step = group.step;
        if (!prefixSent) {
          await query(prefixSql(ctx, prepared));
          prefixSent = true;
        }
        emit({ type: 'migration:start', version: step.file.version, name: step.file.name, direction: step.direction });
        lastStart = { id: `${step.direction}:${step.file.version}`, at: Date.now() };
        const t0 = Date.now();
        const text = textOf(step);
        const statements = splitStatements(text);
        // Progress in the journal (up only): resume after the statements an earlier run finished.
        const journal = step.direction === 'up';
        const doneBefore = journal ? await startSteps(ctx, step, statements, query) : 0;
        let retries = 0;
        let waitedMs = 0; // lock waits and pauses of this file: together at most --lock-wait
        for (const [i, s] of statements.entries()) {
          if (i < doneBefore) continue;
          const { timeoutsMs, delaysMs: delays } = stepAttempts(s, ctx.lockTimeoutMs, Math.max(0, ctx.lockBudgetMs - waitedMs), lockRetryDelays);
          let attempts = 0;
          for (;;) {
            const tryAt = Date.now();
            try {
              // A CREATE INDEX CONCURRENTLY that failed or was killed left an INVALID index: drop
              // it first, so the build starts clean (IF NOT EXISTS would keep the broken one).
              if (isConcurrentIndex(s)) await dropInvalidIndex(s.text, query);
              await runStepStatement(ctx, step, statements, i, timeoutsMs[attempts]!, journal, query);
              break;
            } catch (err) {
              if (lockRace(err) && attempts < delays.length && !ctx.signal?.aborted) {
                // The statement alone was rolled back (no transaction around it): retry it.
                const tried = { ...ctx, lockTimeoutMs: timeoutsMs[attempts]! };
                retries++;
                attempts++;
                await backOffAfterRace(tried, err, `${fileOf(step)}: ${raceLabel(tried, err)}`, attempts, delays);
                waitedMs += Date.now() - tryAt;
                continue;
              }
              quiet = true;
              const failure = { ...failureFor(step, err, text, s, 'runtime'), ...(await raceFacts(ctx, err, retries, query)) };
              await recordFailure(ctx, step, failure, Date.now() - t0, query);
              markFailed(results, step, failure, emit);
              return { results: [...results.values()], failure, sql: sent.join('\n') };
            }
          }
        }
        const ms = Date.now() - t0;
        await query(`${journalSql(ctx, step, ms)};\n${last && opts.finalSql ? `${opts.finalSql};\n` : ''}${last ? tailSql(ctx, prepared) : ''}`);
        done(step, ms);
      }
    }
    if (groups.length === 0 && ctx.holdsLock) {
      await query(`${opts.finalSql ? `${opts.finalSql};\n` : ''}${tailSql(ctx)}`);
    }
    return { results: [...results.values()], sql: sent.join('\n') };
  } finally {
    client.off('notice', onNotice);
  }
}

function markFailed(results: Map<Step, MigrationResult>, step: Step, failure: MigrationFailure, emit: Emit): void {
  results.get(step)!.status = 'failed';
  emit({
    type: 'migration:failed',
    version: step.file.version,
    name: step.file.name,
    direction: step.direction,
    ...(failure.code ? { code: failure.code } : {}),
    message: failure.message,
    ...(failure.statement ? { statement: failure.statement } : {}),
  });
}

/** Build the failure value for `step` from a pg error; `stmt` (when known) locates it. */
function failureFor(step: Step, err: unknown, fileText: string, stmt: SqlStatement | undefined, phase: 'syntax' | 'runtime', offsetInFile?: number): MigrationFailure {
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

async function recordFailure(
  ctx: RunContext,
  step: Step,
  failure: MigrationFailure,
  durationMs: number | null,
  query: (t: string) => Promise<pg.QueryResult[]>,
): Promise<void> {
  // ROLLBACK first: harmless (a warning, silenced) when no transaction is open.
  const write =
    step.direction === 'up' ? `BEGIN;\n${createJournalSql(ctx.schema)};\n${recordFailedSql(ctx.schema, step.file, failure, ctx.who, durationMs)};\nCOMMIT;\n` : '';
  await query(`ROLLBACK;\n${write}${tailSql(ctx)}`).catch(async () => {
    await query(`ROLLBACK;\n${tailSql(ctx)}`).catch(() => undefined);
  });
}

/**
 * A batch stopped by Ctrl-C. With the session still there (the cancel request answered 57014):
 * one trip rolls back, reads the journal (the truth about what committed, even a COMMIT whose
 * notice the cancel cut off) and releases the lock. With the connection gone: what the notices
 * said, and the running migration was rolled back by the server.
 */
async function settleCancel(
  ctx: RunContext,
  err: unknown,
  steps: Step[],
  results: Map<Step, MigrationResult>,
  done: (s: Step, ms: number) => void,
  query: (t: string) => Promise<pg.QueryResult[]>,
  startTimes: Map<string, number>,
): Promise<void> {
  let confirmed = false;
  if (isDatabaseError(err)) {
    try {
      const res = await query(`ROLLBACK;\n${stateSql(ctx.schema, { tryLock: false, release: { kind: 'never' } })};\n${tailSql(ctx)}`);
      const row = res.find((r) => r.rows?.[0] && 'state' in r.rows[0])?.rows[0] as { state: string } | undefined;
      if (row) {
        const journal = parseJournalRows((JSON.parse(row.state) as { journal: unknown }).journal);
        const applied = new Set(journal.filter((r) => r.status === 'applied').map((r) => r.version));
        for (const s of steps) {
          if (s.direction === 'up' ? applied.has(s.file.version) : !applied.has(s.file.version)) {
            done(s, journal.find((r) => r.version === s.file.version)?.durationMs ?? 0);
          }
        }
        confirmed = true;
      }
    } catch {
      /* the connection went too: fall back on what the notices said */
    }
  }
  const running = steps.find((s) => results.get(s)!.status === 'not-run' && startTimes.has(`${s.direction}:${s.file.version}`));
  if (running) {
    ctx.emit({
      type: 'migration:interrupted',
      version: running.file.version,
      name: running.file.name,
      direction: running.direction,
      reason: 'cancelled',
      confirmed,
    });
  }
}

async function diagnose(
  ctx: RunContext,
  err: unknown,
  batch: BatchText,
  steps: Step[],
  results: Map<Step, MigrationResult>,
  done: (s: Step, ms: number) => void,
  getStmt: () => number,
  setStmt: (v: number) => void,
  query: (t: string) => Promise<pg.QueryResult[]>,
  startTimes: Map<string, number>,
  retries = 0,
): Promise<MigrationFailure> {
  const e = err as Partial<pg.DatabaseError> & { message?: string; code?: string };
  if (!isDatabaseError(err)) {
    // The connection is gone (or the driver failed): the server rolls back the open transaction
    // and releases the lock. Report which migration was running.
    const step =
      steps.find((s) => results.get(s)!.status === 'not-run' && startTimes.has(`${s.direction}:${s.file.version}`)) ??
      steps.find((s) => results.get(s)!.status === 'not-run') ??
      steps[0]!;
    const failure: MigrationFailure = {
      version: step.file.version,
      name: step.file.name,
      file: fileOf(step),
      message: String(e.message ?? err),
      phase: 'runtime',
      ...(e.code ? { code: e.code } : {}),
    };
    results.get(step)!.status = 'failed';
    ctx.emit({
      type: 'migration:failed',
      version: step.file.version,
      name: step.file.name,
      direction: step.direction,
      ...(e.code ? { code: e.code } : {}),
      message: failure.message,
    });
    return failure;
  }
  // One trip: end the aborted transaction and read the journal.
  let journal: JournalRow[] = [];
  let journalRead = false;
  try {
    const res = await query(`ROLLBACK;\n${stateSql(ctx.schema, { tryLock: false, release: { kind: 'never' } })}`);
    const row = res.find((r) => r.rows?.[0] && 'state' in r.rows[0])?.rows[0] as { state: string } | undefined;
    if (row) {
      journal = parseJournalRows((JSON.parse(row.state) as { journal: unknown }).journal);
      journalRead = true;
    }
  } catch {
    /* the session is gone (57P01 and the like): keep going with what the commit notices said */
  }
  const applied = new Set(journal.filter((r) => r.status === 'applied').map((r) => r.version));
  const isDone = (s: Step) =>
    results.get(s)!.status !== 'not-run' || (journalRead && (s.direction === 'up' ? applied.has(s.file.version) : !applied.has(s.file.version)));
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
  const phase: 'syntax' | 'runtime' = e.code === '42601' && committed.length === 0 && startTimes.size === 0 ? 'syntax' : 'runtime';
  // Steps before the failing one that committed.
  for (const s of committed) if (s !== step) done(s, journal.find((r) => r.version === s.file.version)?.durationMs ?? 0);
  const text = textOf(step);
  const statements = splitStatements(text);
  let failure: MigrationFailure;
  if (offsetInFile !== undefined) {
    failure = failureFor(step, err, text, statementAt(statements, offsetInFile), phase, offsetInFile);
  } else if (e.code !== '57014' && !LOCK_RACE_CODES.has(e.code ?? '') && statements.length > 0) {
    // (A statement timeout or a lost lock race is not replayed: the replay would run or queue
    // the app behind us a second time.)
    // Replay the file statement by statement in a transaction that is rolled back.
    const replay = new BatchText();
    replay.sql('BEGIN');
    statements.forEach((s, i) => {
      replay.sql(markerSql('stmt', String(i)));
      replay.raw(s.text, { file: step!.file, direction: step!.direction, fileOffset: s.end - s.text.length, statement: i });
      replay.raw('\n;\n');
    });
    replay.sql('ROLLBACK');
    setStmt(-1);
    let replayErr: unknown;
    try {
      await query(replay.text);
    } catch (re) {
      replayErr = re;
    }
    if (replayErr && isDatabaseError(replayErr)) {
      const rp = replayErr.position ? Number(replayErr.position) : undefined;
      const rl = rp ? replay.locate(rp) : null;
      if (rl?.segment.statement !== undefined) {
        failure = failureFor(step, err, text, statements[rl.segment.statement], phase, rl.segment.fileOffset + rl.offsetInSegment);
      } else {
        const idx = getStmt();
        failure = failureFor(step, err, text, idx >= 0 ? statements[idx] : undefined, phase);
      }
    } else failure = failureFor(step, err, text, undefined, phase);
  } else failure = failureFor(step, err, text, undefined, phase);
  failure = { ...failure, ...(await raceFacts(ctx, err, retries, query)) };
  await recordFailure(ctx, step, failure, null, query);
  markFailed(results, step, failure, ctx.emit);
  return failure;
}

/** End the aborted transaction and read the journal: one trip, no lock waited for. Null when that failed. */
async function endAbortedAndRead(ctx: RunContext, query: (t: string) => Promise<pg.QueryResult[]>): Promise<JournalRow[] | null> {
  try {
    const res = await query(`ROLLBACK;\n${stateSql(ctx.schema, { tryLock: false, release: { kind: 'never' } })}`);
    const row = res.find((r) => r.rows?.[0] && 'state' in r.rows[0])?.rows[0] as { state: string } | undefined;
    return row ? parseJournalRows((JSON.parse(row.state) as { journal: unknown }).journal) : [];
  } catch {
    return null;
  }
}

/**
 * For a lost lock race: how often it was retried, and the session most likely in the way: the
 * oldest transaction holding a lock on a table of the schema (pid, application, client, state,
 * since when, which table in which mode).
 */
async function raceFacts(
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

/** The index a CREATE INDEX CONCURRENTLY statement builds (unqualified, as written), or null. */
export function concurrentIndexName(statement: string): string | null {
  const m = /CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s+ON\b/i.exec(statement.replace(/--[^\n]*/g, ''));
  if (!m) return null;
  const raw = m[1]!;
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase();
}

async function dropInvalidIndex(statement: string, query: (t: string) => Promise<pg.QueryResult[]>): Promise<void> {
  const name = concurrentIndexName(statement);
  if (!name) return;
  const res = await query(
    `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS idx FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = ${quoteLiteral(name)} AND n.nspname = pg_catalog.current_schema() AND NOT i.indisvalid`,
  );
  const idx = (res.at(-1)?.rows?.[0] as { idx?: string } | undefined)?.idx;
  if (idx) await query(`DROP INDEX CONCURRENTLY IF EXISTS ${idx}`);
}
