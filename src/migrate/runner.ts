/**
 * Runs a list of migration steps (up or down) with as few round trips as possible:
 * every transactional step goes into ONE simple-query batch, each step still
 * `BEGIN; <file>; <journal row>; COMMIT;`, with the session settings in front and the
 * unlock behind (batch-sql.ts). A step that cannot run in a transaction splits the batch and runs
 * one statement at a time. A lost lock race is retried after a pause (lock-race.ts); a failure is
 * located, recorded and the lock released (run-failure.ts). Returns results; never throws for SQL
 * errors.
 */
import { requestCancel } from '../db/cancel.js';
import { finishSql, journalSql, prefixSql, tailSql, txBatch } from './batch-sql.js';
import { dropInvalidIndex } from './concurrent-index.js';
import { isConcurrentIndex } from './files.js';
import { backOffAfterRace, lockRace, lockRetryDelays, raceLabel } from './lock-race.js';
import type { RunContext, RunOutcome } from './run-context.js';
import { diagnose, failureFor, settleCancel, settleFailure } from './run-failure.js';
import { RunProgress } from './run-progress.js';
import { splitStatements } from './sql-text.js';
import { runStepStatement, startSteps, stepAttempts } from './online-steps.js';
import { fileOf, groupSteps, needsPrepared, textOf, type Step } from './steps.js';

/** How one group of steps ended: on to the next group, or the run's outcome. */
type GroupEnd = { next: true } | { outcome: RunOutcome };

/** What every group of a run shares. */
interface Run {
  ctx: RunContext;
  progress: RunProgress;
  /** The prepared journal INSERT is part of this run (prepared by the prefix, deallocated by the tail). */
  prepared: boolean;
  /** The session settings (and the prepared INSERT) went already. */
  prefixSent: boolean;
  finalSql?: string;
}

export async function runSteps(ctx: RunContext, steps: Step[], opts: { finalSql?: string } = {}): Promise<RunOutcome> {
  const progress = new RunProgress(ctx, steps);
  const run: Run = { ctx, progress, prepared: needsPrepared(steps), prefixSent: false, ...(opts.finalSql ? { finalSql: opts.finalSql } : {}) };
  const groups = groupSteps(steps);
  ctx.client.on('notice', progress.onNotice);
  try {
    for (let gi = 0; gi < groups.length; gi++) {
      const group = groups[gi]!;
      const last = gi === groups.length - 1;
      if (ctx.signal?.aborted) {
        progress.quiet = true;
        await progress.query(tailSql(ctx)).catch(() => undefined);
        return progress.outcome({ cancelled: true });
      }
      const end = group.kind === 'tx' ? await runBatch(run, group.steps, last) : await runOneByOne(run, group.step, last);
      if ('outcome' in end) return end.outcome;
    }
    if (groups.length === 0 && ctx.holdsLock) await progress.query(finishSql(ctx, opts.finalSql));
    return progress.outcome();
  } finally {
    ctx.client.off('notice', progress.onNotice);
  }
}

/**
 * A group of transactional steps as one batch. A lost lock race rolls back only the step that
 * lost it: the steps that committed before are done, the rest go again after a pause (never the
 * replay that locates a failing line: it would queue the app a second time).
 */
async function runBatch(run: Run, steps: Step[], last: boolean): Promise<GroupEnd> {
  const { ctx, progress } = run;
  let remaining = steps;
  const delays = lockRetryDelays(ctx.lockTimeoutMs, ctx.lockBudgetMs);
  let retries = 0;
  for (;;) {
    progress.startTimes.clear(); // per batch: "nothing started" tells a rejected batch (syntax) from a run-time failure
    const batch = txBatch(ctx, remaining, { prefix: !run.prefixSent, tail: last, prepared: run.prepared, ...(last && run.finalSql ? { finalSql: run.finalSql } : {}) });
    const t0 = Date.now();
    // Ctrl-C while the batch runs: cancel the statement (the session stays, so the commit
    // notices already on their way still arrive and the journal can be read back).
    const onAbort = () => void requestCancel(ctx.client);
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await progress.query(batch.text);
    } catch (err) {
      const journal = !ctx.signal?.aborted && lockRace(err) && retries < delays.length ? await progress.rollbackAndReadJournal() : null;
      if (journal && lockRace(err)) {
        // Rolled back: nothing is held but the advisory lock, and the app runs on.
        remaining = progress.doneFromJournal(remaining, journal);
        run.prefixSent = true; // the prefix (settings, prepared statements) ran, committed, before any step
        if (remaining.length === 0) {
          // The race was after the last commit: nothing to retry, only the tail (unlock) to send.
          if (last) await progress.query(finishSql(ctx, run.finalSql, run.prepared));
          return { next: true };
        }
        retries++;
        await backOffAfterRace(ctx, err, `${fileOf(remaining[0]!)}: ${raceLabel(ctx, err)}`, retries, delays);
        continue;
      }
      progress.quiet = true;
      if (ctx.signal?.aborted) {
        await settleCancel(ctx, progress, err, remaining);
        return { outcome: progress.outcome({ cancelled: true }) };
      }
      const failure = await diagnose(ctx, progress, err, batch, remaining, retries);
      return { outcome: progress.outcome({ failure }) };
    } finally {
      ctx.signal?.removeEventListener('abort', onAbort);
    }
    run.prefixSent = true;
    // Every step announced itself as it committed; this covers a notice that went missing.
    for (const s of remaining) progress.done(s, Date.now() - t0);
    return { next: true };
  }
}

/**
 * A step that cannot run in a transaction: one statement at a time, each its own transaction, so
 * no lock that blocks the app is held longer than one statement. A lost lock race rolled back
 * that statement alone: it is retried after a pause.
 */
async function runOneByOne(run: Run, step: Step, last: boolean): Promise<GroupEnd> {
  const { ctx, progress } = run;
  if (!run.prefixSent) {
    await progress.query(prefixSql(ctx, run.prepared));
    run.prefixSent = true;
  }
  progress.started(step);
  const t0 = Date.now();
  const text = textOf(step);
  const statements = splitStatements(text);
  // Progress in the journal (up only): resume after the statements an earlier run finished.
  const journal = step.direction === 'up';
  const doneBefore = journal ? await startSteps(ctx, step, statements, progress.query) : 0;
  let retries = 0;
  let waitedMs = 0; // lock waits and pauses of this file: together at most --lock-wait
  for (const [i, s] of statements.entries()) {
    if (i < doneBefore) continue;
    const { timeoutsMs, delaysMs: delays } = stepAttempts(s, ctx.lockTimeoutMs, Math.max(0, ctx.lockBudgetMs - waitedMs), lockRetryDelays);
    let attempts = 0;
    for (;;) {
      const tryAt = Date.now();
      try {
        // A CREATE INDEX CONCURRENTLY that failed or was killed left an INVALID index: drop it first.
        if (isConcurrentIndex(s)) await dropInvalidIndex(s.text, progress.query);
        await runStepStatement(ctx, step, statements, i, timeoutsMs[attempts]!, journal, progress.query);
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
        progress.quiet = true;
        const failure = await settleFailure(ctx, progress, step, failureFor(step, err, text, s, 'runtime'), { err, retries, durationMs: Date.now() - t0 });
        return { outcome: progress.outcome({ failure }) };
      }
    }
  }
  const ms = Date.now() - t0;
  await progress.query(`${journalSql(ctx, step, ms)};\n${last ? finishSql(ctx, run.finalSql, run.prepared) : ''}`);
  progress.done(step, ms);
  return { next: true };
}
