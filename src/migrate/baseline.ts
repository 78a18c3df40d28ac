/**
 * baseline(): adopt a database whose tables already exist. The live tables/columns must equal what
 * migrations <= `to` produce (scratch schema, rolled back); then they are recorded as applied.
 */
import type pg from 'pg';
import { ChatgeniusError } from '../errors.js';
import { noEmit } from '../events.js';
import { snapshotTables } from './catalog.js';
import { diffCatalog } from './catalog-diff.js';
import { compareVersions, readMigrations } from './files.js';
import { createJournalSql, recordAppliedSql, runIdentity } from './journal.js';
import { acquireAndRead, releaseLock, unlockSql, waitOptions } from './lock.js';
import { withScratchSchema } from './scratch.js';
import { validateSchemaName } from './sql-text.js';
import type { BaselineResult, EngineOptions } from './types.js';

export async function baseline(client: pg.Client, opts: EngineOptions & { to: string }): Promise<BaselineResult> {
  const schema = validateSchemaName(opts.schema);
  const emit = opts.emit ?? noEmit;
  const files = await readMigrations(opts.migrationsDir);
  if (!/^\d+$/.test(String(opts.to)) || !files.some((f) => BigInt(f.version) === BigInt(opts.to))) {
    throw new ChatgeniusError('MIGRATION_UNKNOWN_VERSION', `baseline --to ${opts.to}: no migration file has that version.`, {
      version: String(opts.to),
      known: files.map((f) => f.version),
    });
  }
  const chosen = files.filter((f) => compareVersions(f.version, opts.to) <= 0 || BigInt(f.version) <= BigInt(opts.to));
  const { state } = await acquireAndRead(client, schema, {
    release: { kind: 'never' },
    emit,
    ...waitOptions(opts),
  });
  let holds = state.locked;
  try {
    const applied = state.journal.filter((r) => r.status === 'applied');
    if (applied.length > 0) {
      throw new ChatgeniusError(
        'BASELINE_NOT_EMPTY',
        `The journal of schema ${schema} already records ${applied.length} applied migration(s); baseline only adopts a database the tool never migrated.`,
        {
          schema,
          applied: applied.map((r) => r.version),
        },
      );
    }
    const live = await snapshotTables(client, schema);
    const expected = await withScratchSchema(client, chosen, (scratch) => snapshotTables(client, scratch), { statementTimeoutMs: opts.statementTimeoutMs });
    const differences = diffCatalog(expected, live);
    const recorded = chosen.map((f) => ({ version: f.version, name: f.name }));
    if (differences.length > 0) return { ok: false, dryRun: !!opts.dryRun, schema, recorded: [], differences };
    if (opts.dryRun) return { ok: true, dryRun: true, schema, recorded, differences: [] };
    const who = runIdentity(opts.toolVersion);
    const sql = ['BEGIN', createJournalSql(schema), ...chosen.map((f) => recordAppliedSql(schema, f, who, 0)), 'COMMIT', unlockSql(schema)].join(';\n');
    await client.query(sql);
    holds = false;
    return { ok: true, dryRun: false, schema, recorded, differences: [] };
  } finally {
    if (holds) await releaseLock(client, schema).catch(() => undefined);
  }
}
