/**
 * The SQL a run sends, as text (pure): the session settings in front, each step
 * `BEGIN; <file>; <journal row>; COMMIT;` with a notice that says where the batch is, the
 * settings undone and the lock released behind. A dry run's script is the same text.
 */
import { BatchText, segmentTextSql, type BatchSegment } from './batch-text.js';
import { createJournalSql, deleteRowSql, executeAppliedSql, markStepStartSql, prepareAppliedSql, recordAppliedSql } from './journal.js';
import { unlockSql } from './lock.js';
import type { RunContext } from './run-context.js';
import { quoteIdent, quoteLiteral, splitStatements } from './sql-text.js';
import { fileOf, groupSteps, needsPrepared, stepId, textOf, type Step } from './steps.js';
import { stepsScript } from './online-steps.js';

/** Prefix of the engine's own NOTICEs (short: one pair per migration travels in every batch). */
export const MARK = 'cgdb:';

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

/** The run's last words: the final statement (rollback --all clears the journal), then the tail. */
export function finishSql(ctx: Pick<RunContext, 'schema' | 'holdsLock' | 'journalStatement'>, finalSql: string | undefined, deallocate = false): string {
  return `${finalSql ? `${finalSql};\n` : ''}${tailSql(ctx, deallocate)}`;
}

/**
 * A notice that tells the client where the batch is, as it runs (the server sends a NOTICE at
 * once, while the rest of the batch goes on): `start` (also records the step's start time),
 * `done` (right after the step's COMMIT: it is durable), `stmt` (replay position).
 */
export function markerSql(kind: 'start' | 'done' | 'stmt', id: string): string {
  const start = kind === 'start' ? `${markStepStartSql()}; ` : '';
  // The id is direction:version or a number: no % in it, so it can be the format string itself.
  return `DO $c$BEGIN ${start}RAISE NOTICE ${quoteLiteral(`${MARK}${kind}:${id}`)}; END$c$`;
}

/** The step's journal change; `seg` (the file's place in the batch) lets the row copy the text from the running statement. */
export function journalSql(ctx: RunContext, step: Step, durationMs?: number, seg?: BatchSegment): string {
  if (step.direction === 'down') return deleteRowSql(ctx.schema, step.file.version);
  if (!seg) return recordAppliedSql(ctx.schema, step.file, ctx.who, durationMs);
  const replace = ctx.journalRows?.has(step.file.version) ? `${deleteRowSql(ctx.schema, step.file.version)};\n` : '';
  return `${replace}${executeAppliedSql(ctx.journalStatement, step.file, segmentTextSql(seg))}`;
}

/** The batch for a group of transactional steps. */
export function txBatch(ctx: RunContext, steps: Step[], opts: { prefix: boolean; finalSql?: string; tail: boolean; prepared: boolean }): BatchText {
  const b = new BatchText();
  if (opts.prefix) b.raw(prefixSql(ctx, opts.prepared));
  for (const step of steps) {
    const id = stepId(step);
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
      if (last) parts.push(finishSql(ctx, finalSql, prepared));
    }
  });
  return parts.join('-- (next round trip)\n');
}
