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
  const state = await readState(client, schema);
  const plan = planUp(files, state.journal);
  const problems: string[] = [];
  for (const d of plan.drift)
    problems.push(`${d.file} changed since it was applied (sha256 ${d.recordedChecksum.slice(0, 12)}… recorded, ${d.currentChecksum.slice(0, 12)}… now)`);
  for (const m of plan.missing) problems.push(`${m.version}_${m.name} is applied but its file is missing`);
  const ignoreTables = BOOKKEEPING_TABLES;
  let catalogDiff: string[] = [];
  let catalogError: string | undefined;
  // The expected catalog is built in a scratch schema: that needs CREATE on the database, which
  // a role with CREATE on its own schema alone lacks. Then compare what can be compared, and say so.
  const can = await client.query<{ c: boolean; r: string; d: string }>(
    `SELECT pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE') AS c, current_user AS r, pg_catalog.current_database() AS d`,
  );
  const priv = can.rows[0]!;
  const catalogSkipped = priv.c
    ? undefined
    : `The live schema was not compared with the files: that builds them in a scratch schema, which needs CREATE on database ${priv.d} (role ${priv.r} has CREATE on its schema only). Checksums and the journal were checked.`;
  if (catalogSkipped) opts.emit?.({ type: 'notice', level: 'warn', message: catalogSkipped });
  if (!catalogSkipped) {
    try {
      const live = await snapshotCatalog(client, schema, { ignoreTables });
      const expected = await withScratchSchema(
        client,
        plan.applied.map((a) => a.file),
        (scratch) => snapshotCatalog(client, scratch, { ignoreTables }),
        {
          statementTimeoutMs: opts.statementTimeoutMs,
        },
      );
      catalogDiff = diffCatalog(expected, live);
    } catch (err) {
      catalogError = err instanceof Error ? err.message : String(err);
      problems.push(`The expected catalog could not be built: ${catalogError}`);
    }
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
    ...(catalogSkipped ? { catalogSkipped } : {}),
    problems,
  };
}
