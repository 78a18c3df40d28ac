/**
 * migrate(): apply every pending migration. Round trips after login: one for lock + journal read
 * (a no-op run stops there, the lock already released), one for the whole batch of pending
 * migrations (plus one per statement of a file that cannot run in a transaction).
 */
import type pg from 'pg';
import { checkRunPrivileges } from './privileges.js';
import { pointAtOperator } from './runtime-location.js';
import { CancelledError } from '../errors.js';
import { noEmit, type Emit } from '../events.js';
import { readMigrations } from './files.js';
import { runIdentity } from './journal.js';
import { acquireAndRead, readState, releaseLock, waitOptions } from './lock.js';
import { driftError, planUp } from './plan.js';
import { scriptFor } from './batch-sql.js';
import { cancelledMessage, runContext } from './run-context.js';
import { runSteps } from './runner.js';
import { stepsOf, type Step } from './steps.js';
import { validateSchemaName } from './sql-text.js';
import type { EngineOptions, MigrateResult, UpPlan } from './types.js';

function warningsOf(plan: UpPlan): string[] {
  const w: string[] = [];
  for (const f of plan.outOfOrder) w.push(`${f.file} is older than the newest applied migration; it is applied now, out of order.`);
  for (const r of plan.missing) w.push(`The journal lists ${r.version}_${r.name} as applied, but its file is not in the migrations directory.`);
  if (plan.lastFailure) {
    const f = plan.lastFailure;
    w.push(`A previous run failed at ${f.version}_${f.name}${f.errorCode ? ` (${f.errorCode})` : ''}; it is retried now.`);
  }
  return w;
}

/** The `plan` event: what will run, in order, and how it runs (the same for a dry run and a real one). */
function emitPlan(emit: Emit, steps: Step[], applied: number): void {
  emit({
    type: 'plan',
    direction: 'up',
    steps: steps.map((s) => ({ version: s.file.version, name: s.file.name, file: s.file.file, direction: 'up', transactional: s.transactional })),
    applied,
  });
}

export async function migrate(client: pg.Client, opts: EngineOptions): Promise<MigrateResult> {
  const schema = validateSchemaName(opts.schema);
  const emit = opts.emit ?? noEmit;
  const files = opts.files ?? (await readMigrations(opts.migrationsDir));
  const who = runIdentity(opts.toolVersion);

  if (opts.dryRun) {
    const state = await readState(client, schema, { tryLock: false, release: { kind: 'never' } });
    const plan = planUp(files, state.journal);
    if (plan.drift.length) throw driftError(plan.drift);
    const steps = stepsOf(plan.pending, 'up', state.serverVersionNum, { fresh: plan.applied.length === 0 });
    emitPlan(emit, steps, plan.applied.length);
    const ctx = runContext(
      client,
      { ...opts, signal: undefined },
      {
        schema,
        emit,
        who,
        createJournal: !state.journalExists,
        serverVersionNum: state.serverVersionNum,
        holdsLock: true,
        journalRows: new Set(state.journal.map((r) => r.version)),
      },
    );
    return {
      ok: true,
      dryRun: true,
      schema,
      plan,
      results: plan.pending.map((f) => ({ version: f.version, name: f.name, file: f.file, direction: 'up', status: 'not-run' })),
      lock: { waitedMs: 0, holder: null },
      sql: steps.length ? scriptFor(ctx, steps) : '',
      warnings: warningsOf(plan),
    };
  }

  const { state, waitedMs, holder } = await acquireAndRead(client, schema, {
    release: { kind: 'all-applied', versions: files.map((f) => f.version) },
    emit,
    ...waitOptions(opts),
  });
  let holds = state.locked;
  try {
    const plan = planUp(files, state.journal);
    if (plan.drift.length) throw driftError(plan.drift);
    const warnings = warningsOf(plan);
    for (const w of warnings) emit({ type: 'notice', level: 'warn', message: w });
    const steps = stepsOf(plan.pending, 'up', state.serverVersionNum, { fresh: plan.applied.length === 0 });
    emitPlan(emit, steps, plan.applied.length);
    const base = { dryRun: false, schema, plan, lock: { waitedMs, holder }, warnings };
    if (steps.length === 0) return { ok: true, ...base, results: [] };
    checkRunPrivileges(state.privileges, schema, true);
    const ctx = runContext(client, opts, {
      schema,
      emit,
      who,
      createJournal: !state.journalExists,
      serverVersionNum: state.serverVersionNum,
      holdsLock: holds,
      journalRows: new Set(state.journal.map((r) => r.version)),
    });
    const out = await runSteps(ctx, steps);
    holds = false; // the last trip released it (or the failure path did)
    if (out.cancelled) throw new CancelledError(cancelledMessage(out.results));
    // A run-time error has no server position: point at the operator that raised it when we can.
    const failed = files.find((f) => f.version === out.failure?.version);
    const failure = out.failure && failed ? await pointAtOperator(out.failure, failed.up) : out.failure;
    return { ok: !failure, ...base, results: out.results, ...(failure ? { failure } : {}), sql: out.sql };
  } finally {
    if (holds) await releaseLock(client, schema).catch(() => undefined);
  }
}
