/**
 * verify(): the journal's checksums against the files (drift, missing), and the live catalog
 * against the catalog the applied files produce (built in a scratch schema, rolled back).
 * Read-only.
 */
import type pg from 'pg';
import { BOOKKEEPING_TABLES, snapshotCatalog } from './catalog.js';
import { diffCatalog } from './catalog-diff.js';
import { readMigrations } from './files.js';
import { readState } from './lock.js';
import { planUp } from './plan.js';
import { withScratchSchema } from './scratch.js';
import { validateSchemaName } from './sql-text.js';
import type { EngineOptions, VerifyResult } from './types.js';

export async function verify(client: pg.Client, opts: EngineOptions): Promise<VerifyResult> {
  const schema = validateSchemaName(opts.schema);
  const files = await readMigrations(opts.migrationsDir);
  const state = await readState(client, schema, { tryLock: false, release: { kind: 'never' } });
  const plan = planUp(files, state.journal);
  const problems: string[] = [];
  for (const d of plan.drift) problems.push(`${d.file} changed since it was applied (sha256 ${d.recordedChecksum.slice(0, 12)}… recorded, ${d.currentChecksum.slice(0, 12)}… now)`);
  for (const m of plan.missing) problems.push(`${m.version}_${m.name} is applied but its file is missing`);
  const ignoreTables = BOOKKEEPING_TABLES;
  let catalogDiff: string[] = [];
  let catalogError: string | undefined;
  try {
    const live = await snapshotCatalog(client, schema, { ignoreTables });
    const expected = await withScratchSchema(client, plan.applied.map((a) => a.file), (scratch) => snapshotCatalog(client, scratch, { ignoreTables }), {
      statementTimeoutMs: opts.statementTimeoutMs,
    });
    catalogDiff = diffCatalog(expected, live);
  } catch (err) {
    catalogError = err instanceof Error ? err.message : String(err);
    problems.push(`The expected catalog could not be built: ${catalogError}`);
  }
  for (const d of catalogDiff) problems.push(`live schema: ${d}`);
  return {
    ok: problems.length === 0,
    schema,
    drift: plan.drift,
    missing: plan.missing,
    pending: plan.pending.map((f) => f.version),
    catalogDiff,
    ...(catalogError ? { catalogError } : {}),
    problems,
  };
}
