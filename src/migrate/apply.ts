/**
 * migrate(): apply every pending migration. Round trips after login: one for lock + journal read
 * (a no-op run stops there, the lock already released), one for the whole batch of pending
 * migrations (plus one per statement of a file that cannot run in a transaction).
 */
import type pg from 'pg';
import type { Emit } from '../events.js';
import { runDirection } from './direction.js';
import { driftError, planUp } from './plan.js';
import { checkRunPrivileges } from './privileges.js';
import { pointAtOperator } from './runtime-location.js';
import { stepsOf, type Step } from './steps.js';
import type { EngineOptions, MigrateResult, UpPlan } from './types.js';
import { PROGRESS_PREFIX } from './online-steps.js';

function warningsOf(plan: UpPlan): string[] {
  const w: string[] = [];
  for (const f of plan.outOfOrder) w.push(`${f.file} is older than the newest applied migration; it is applied now, out of order.`);
  for (const r of plan.missing) w.push(`The journal lists ${r.version}_${r.name} as applied, but its file is not in the migrations directory.`);
  if (plan.lastFailure) {
    const f = plan.lastFailure;
    if (!f.errorCode && f.errorMessage?.startsWith(PROGRESS_PREFIX)) w.push(`A previous run stopped in ${f.version}_${f.name} (${f.errorMessage}).`);
    else w.push(`A previous run failed at ${f.version}_${f.name}${f.errorCode ? ` (${f.errorCode})` : ''}; it is retried now.`);
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

export function migrate(client: pg.Client, opts: EngineOptions): Promise<MigrateResult> {
  return runDirection(client, opts, {
    // Every file already applied: nothing to do, let go of the lock in the same trip.
    release: (files) => ({ kind: 'all-applied', versions: files.map((f) => f.version) }),
    async run(run) {
      const { state, emit, schema, dryRun } = run;
      const plan = planUp(run.files, state.journal);
      if (plan.drift.length) throw driftError(plan.drift);
      const warnings = warningsOf(plan);
      if (!dryRun) for (const w of warnings) emit({ type: 'notice', level: 'warn', message: w });
      const steps = stepsOf(plan.pending, 'up', state.serverVersionNum, { fresh: plan.applied.length === 0 });
      emitPlan(emit, steps, plan.applied.length);
      const base = { dryRun, schema, plan, lock: run.lock, warnings };
      if (!dryRun && steps.length === 0) return { ok: true, ...base, results: [] };
      if (!dryRun) checkRunPrivileges(state.privileges, schema, true);
      const out = await run.runSteps(steps, { createJournal: !state.journalExists, journalRows: new Set(state.journal.map((r) => r.version)) });
      // A run-time error has no server position: point at the operator that raised it when we can.
      const failed = run.files.find((f) => f.version === out.failure?.version);
      const failure = out.failure && failed ? await pointAtOperator(out.failure, failed.up) : out.failure;
      return { ok: !failure, ...base, results: out.results, ...(failure ? { failure } : {}), sql: out.sql };
    },
  });
}
