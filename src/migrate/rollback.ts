/**
 * rollback(): run down files newest first, each `BEGIN; <down>; DELETE journal row; COMMIT;`, all
 * in one batch (same round trips as migrate). `all` also clears failed-run rows, leaving only the
 * (empty) journal table.
 */
import type pg from 'pg';
import { CancelledError, ChatgeniusError } from '../errors.js';
import { noEmit } from '../events.js';
import { readMigrations } from './files.js';
import { journalName, runIdentity } from './journal.js';
import { acquireAndRead, readState, releaseLock, waitOptions } from './lock.js';
import { planDown, type DownOptions } from './plan.js';
import { scriptFor } from './batch-sql.js';
import { cancelledMessage, runContext } from './run-context.js';
import { runSteps } from './runner.js';
import { stepsOf } from './steps.js';
import { validateSchemaName } from './sql-text.js';
import type { DownPlan, EngineOptions, JournalRow, RollbackResult } from './types.js';

function missingError(missing: JournalRow[]): ChatgeniusError {
  const r = missing[0]!;
  return new ChatgeniusError(
    'MIGRATION_MISSING_FILE',
    `Cannot roll back ${missing.map((m) => `${m.version}_${m.name}`).join(', ')}: the file is not in the migrations directory. Nothing was rolled back.`,
    { version: r.version, name: r.name, file: `${r.version}_${r.name}.down.sql`, versions: missing.map((m) => m.version) },
  );
}

export async function rollback(client: pg.Client, opts: EngineOptions & DownOptions): Promise<RollbackResult> {
  const schema = validateSchemaName(opts.schema);
  const emit = opts.emit ?? noEmit;
  const files = opts.files ?? (await readMigrations(opts.migrationsDir));
  const who = runIdentity(opts.toolVersion);
  const down: DownOptions = {
    ...(opts.to !== undefined ? { to: opts.to } : {}),
    ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
    ...(opts.all ? { all: true } : {}),
  };
  const finalSql = (journalExists: boolean) => (opts.all && journalExists ? `DELETE FROM ${journalName(schema)}` : undefined);
  const planEvent = (plan: DownPlan, serverVersionNum: number, appliedCount: number) => {
    const steps = stepsOf(plan.steps, 'down', serverVersionNum);
    emit({
      type: 'plan',
      direction: 'down',
      steps: steps.map((s) => ({ version: s.file.version, name: s.file.name, file: s.file.downFile, direction: 'down', transactional: s.transactional })),
      applied: appliedCount,
    });
    return steps;
  };

  if (opts.dryRun) {
    const state = await readState(client, schema, { tryLock: false, release: { kind: 'never' } });
    const plan = planDown(files, state.journal, down);
    if (plan.missing.length) throw missingError(plan.missing);
    const steps = planEvent(plan, state.serverVersionNum, state.journal.filter((r) => r.status === 'applied').length);
    const ctx = runContext(
      client,
      { ...opts, signal: undefined },
      { schema, emit, who, createJournal: false, serverVersionNum: state.serverVersionNum, holdsLock: true },
    );
    const fin = finalSql(state.journalExists);
    return {
      ok: true,
      dryRun: true,
      schema,
      plan,
      results: plan.steps.map((f) => ({ version: f.version, name: f.name, file: f.downFile, direction: 'down', status: 'not-run' })),
      lock: { waitedMs: 0, holder: null },
      sql: steps.length || fin ? scriptFor(ctx, steps, fin) : '',
      warnings: [],
    };
  }

  const { state, waitedMs, holder } = await acquireAndRead(client, schema, {
    // Nothing applied: nothing to do, let go at once. `all` also clears failed-run rows, so it keeps the lock.
    release: opts.all ? { kind: 'never' } : { kind: 'none-applied' },
    emit,
    ...waitOptions(opts),
  });
  let holds = state.locked;
  try {
    const plan = planDown(files, state.journal, down);
    if (plan.missing.length) throw missingError(plan.missing);
    const steps = planEvent(plan, state.serverVersionNum, state.journal.filter((r) => r.status === 'applied').length);
    const base = { dryRun: false, schema, plan, lock: { waitedMs, holder }, warnings: [] as string[] };
    const fin = holds ? finalSql(state.journalExists && state.journal.length > 0) : undefined;
    if (steps.length === 0 && !fin) return { ok: true, ...base, results: [] };
    const ctx = runContext(client, opts, { schema, emit, who, createJournal: false, serverVersionNum: state.serverVersionNum, holdsLock: holds });
    const out = await runSteps(ctx, steps, fin ? { finalSql: fin } : {});
    holds = false;
    if (out.cancelled) throw new CancelledError(cancelledMessage(out.results));
    return { ok: !out.failure, ...base, results: out.results, ...(out.failure ? { failure: out.failure } : {}), sql: out.sql };
  } finally {
    if (holds) await releaseLock(client, schema).catch(() => undefined);
  }
}
