/**
 * baseline(): adopt a database whose tables already exist. The live tables/columns must equal what
 * migrations <= `to` produce (scratch schema, rolled back); then they are recorded as applied.
 */
import type pg from 'pg';
import { ChatgeniusError } from '../errors.js';
import { snapshotTables } from './catalog.js';
import { diffCatalog } from './catalog-diff.js';
import { runDirection } from './direction.js';
import { compareVersions } from './files.js';
import { createJournalSql, recordAppliedSql } from './journal.js';
import { unlockSql } from './lock.js';
import { withScratchSchema } from './scratch.js';
import type { BaselineResult, EngineOptions, MigrationFile } from './types.js';

function chosenFiles(files: MigrationFile[], to: string): MigrationFile[] {
  return files.filter((f) => compareVersions(f.version, to) <= 0 || BigInt(f.version) <= BigInt(to));
}

export function baseline(client: pg.Client, opts: EngineOptions & { to: string }): Promise<BaselineResult> {
  return runDirection(client, opts, {
    release: () => ({ kind: 'never' }),
    // Even a dry run builds the scratch schema to compare with: under the lock like a real one.
    lockWhenDry: true,
    check(files) {
      if (!/^\d+$/.test(String(opts.to)) || !files.some((f) => BigInt(f.version) === BigInt(opts.to))) {
        throw new ChatgeniusError('MIGRATION_UNKNOWN_VERSION', `baseline --to ${opts.to}: no migration file has that version.`, {
          version: String(opts.to),
          known: files.map((f) => f.version),
        });
      }
    },
    async run(run) {
      const { state, schema } = run;
      const applied = state.journal.filter((r) => r.status === 'applied');
      if (applied.length > 0) {
        throw new ChatgeniusError(
          'BASELINE_NOT_EMPTY',
          `The journal of schema ${schema} already records ${applied.length} applied migration(s); baseline only adopts a database the tool never migrated.`,
          { schema, applied: applied.map((r) => r.version) },
        );
      }
      const chosen = chosenFiles(run.files, opts.to);
      const live = await snapshotTables(client, schema);
      const expected = await withScratchSchema(client, chosen, (scratch) => snapshotTables(client, scratch), { statementTimeoutMs: opts.statementTimeoutMs });
      const differences = diffCatalog(expected, live);
      const recorded = chosen.map((f) => ({ version: f.version, name: f.name }));
      if (differences.length > 0) return { ok: false, dryRun: run.dryRun, schema, recorded: [], differences };
      if (run.dryRun) return { ok: true, dryRun: true, schema, recorded, differences: [] };
      const sql = ['BEGIN', createJournalSql(schema), ...chosen.map((f) => recordAppliedSql(schema, f, run.who, 0)), 'COMMIT', unlockSql(schema)].join(';\n');
      await client.query(sql);
      run.releasedByRun();
      return { ok: true, dryRun: false, schema, recorded, differences: [] };
    },
  });
}
