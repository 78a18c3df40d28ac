/** status(): applied (when, how long, by whom) and pending; the last failed run. Read-only, one round trip. */
import type pg from 'pg';
import { readMigrations } from './files.js';
import { readState } from './lock.js';
import { planUp } from './plan.js';
import { validateSchemaName } from './sql-text.js';
import type { EngineOptions, StatusResult } from './types.js';

export async function status(client: pg.Client, opts: EngineOptions): Promise<StatusResult> {
  const schema = validateSchemaName(opts.schema);
  const files = await readMigrations(opts.migrationsDir);
  const state = await readState(client, schema);
  const plan = planUp(files, state.journal);
  const fileOf = new Map(files.map((f) => [BigInt(f.version).toString(), f.file]));
  const outOfOrder = new Set(plan.outOfOrder.map((f) => f.version));
  return {
    schema,
    journalExists: state.journalExists,
    applied: state.journal.filter((r) => r.status === 'applied').map((r) => ({ ...r, file: fileOf.get(BigInt(r.version).toString()) ?? null })),
    pending: plan.pending.map((f) => ({ version: f.version, name: f.name, file: f.file, outOfOrder: outOfOrder.has(f.version) })),
    drift: plan.drift,
    missing: plan.missing,
    lastFailure: plan.lastFailure,
  };
}
