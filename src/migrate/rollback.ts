/**
 * rollback(): run down files newest first, each `BEGIN; <down>; DELETE journal row; COMMIT;`, all
 * in one batch (same round trips as migrate). `all` also clears failed-run rows, leaving only the
 * (empty) journal table.
 */
import type pg from 'pg';
import { ChatgeniusError } from '../errors.js';
import { runDirection } from './direction.js';
import { journalName } from './journal.js';
import { planDown, type DownOptions } from './plan.js';
import { stepsOf } from './steps.js';
import type { EngineOptions, JournalRow, RollbackResult } from './types.js';

function missingError(missing: JournalRow[]): ChatgeniusError {
  const r = missing[0]!;
  return new ChatgeniusError(
    'MIGRATION_MISSING_FILE',
    `Cannot roll back ${missing.map((m) => `${m.version}_${m.name}`).join(', ')}: the file is not in the migrations directory. Nothing was rolled back.`,
    { version: r.version, name: r.name, file: `${r.version}_${r.name}.down.sql`, versions: missing.map((m) => m.version) },
  );
}

export function rollback(client: pg.Client, opts: EngineOptions & DownOptions): Promise<RollbackResult> {
  const down: DownOptions = {
    ...(opts.to !== undefined ? { to: opts.to } : {}),
    ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
    ...(opts.all ? { all: true } : {}),
  };
  return runDirection(client, opts, {
    // Nothing applied: nothing to do, let go at once. `all` also clears failed-run rows, so it keeps the lock.
    release: () => (opts.all ? { kind: 'never' } : { kind: 'none-applied' }),
    async run(run) {
      const { state, schema, dryRun } = run;
      const plan = planDown(run.files, state.journal, down);
      if (plan.missing.length) throw missingError(plan.missing);
      const steps = stepsOf(plan.steps, 'down', state.serverVersionNum);
      run.emit({
        type: 'plan',
        direction: 'down',
        steps: steps.map((s) => ({ version: s.file.version, name: s.file.name, file: s.file.downFile, direction: 'down', transactional: s.transactional })),
        applied: state.journal.filter((r) => r.status === 'applied').length,
      });
      // `all`: the journal's failed-run rows go too, in the run's last trip (the script shows it whenever the journal exists).
      const clear = (journalExists: boolean) => (opts.all && journalExists ? `DELETE FROM ${journalName(schema)}` : undefined);
      const finalSql = dryRun ? clear(state.journalExists) : run.holding ? clear(state.journalExists && state.journal.length > 0) : undefined;
      const base = { dryRun, schema, plan, lock: run.lock, warnings: [] as string[] };
      if (!dryRun && steps.length === 0 && !finalSql) return { ok: true, ...base, results: [] };
      const out = await run.runSteps(steps, { createJournal: false, ...(finalSql ? { finalSql } : {}) });
      return { ok: !out.failure, ...base, results: out.results, ...(out.failure ? { failure: out.failure } : {}), sql: out.sql };
    },
  });
}
