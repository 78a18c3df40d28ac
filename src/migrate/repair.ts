/**
 * repair(): accept a deliberate change to an applied file (re-record its checksum and text; the
 * old text kept in the journal lets the CLI show a real diff) and clear failed-run records.
 * `dryRun` reports what it would do and changes nothing.
 */
import type pg from 'pg';
import { runDirection, type DirectionRun } from './direction.js';
import { journalName } from './journal.js';
import { unlockSql } from './lock.js';
import { planUp } from './plan.js';
import { quoteLiteral } from './sql-text.js';
import type { EngineOptions, RepairEntry, RepairResult } from './types.js';

export function repair(client: pg.Client, opts: EngineOptions & { version?: string }): Promise<RepairResult> {
  const same = (v: string) => opts.version === undefined || BigInt(v) === BigInt(opts.version);
  return runDirection(client, opts, {
    release: () => ({ kind: 'never' }),
    async run(run) {
      const { state, schema } = run;
      const drift = planUp(run.files, state.journal).drift.filter((d) => same(d.version));
      const failures = state.journal.filter((r) => r.status === 'failed' && same(r.version));
      const oldSql =
        drift.length && state.journalExists
          ? await recordedText(
              run,
              drift.map((d) => d.version),
            )
          : new Map<string, string | null>();
      const repaired: RepairEntry[] = drift.map((d) => ({
        version: d.version,
        name: d.name,
        file: d.file,
        oldChecksum: d.recordedChecksum,
        newChecksum: d.currentChecksum,
        oldSql: oldSql.get(d.version) ?? null,
        newSql: run.files.find((x) => x.version === d.version)!.up,
      }));
      const clearedFailures = failures.map((r) => ({ version: r.version, name: r.name }));
      const base = { schema, repaired, clearedFailures };
      if (run.dryRun || (repaired.length === 0 && clearedFailures.length === 0)) return { ok: true, dryRun: run.dryRun, ...base };
      const journal = journalName(schema);
      const stmts = ['BEGIN'];
      for (const e of repaired) {
        stmts.push(
          `UPDATE ${journal} SET checksum = ${quoteLiteral(e.newChecksum)}, up_sql = ${quoteLiteral(e.newSql)} WHERE version = ${quoteLiteral(e.version)} AND status = 'applied'`,
        );
      }
      if (clearedFailures.length) {
        stmts.push(`DELETE FROM ${journal} WHERE status = 'failed' AND version IN (${clearedFailures.map((c) => quoteLiteral(c.version)).join(', ')})`);
      }
      stmts.push('COMMIT', unlockSql(schema));
      await client.query(stmts.join(';\n'));
      run.releasedByRun();
      return { ok: true, dryRun: false, ...base };
    },
  });
}

/** The up text the journal recorded for these versions (the old side of the CLI's diff). */
async function recordedText(run: DirectionRun, versions: string[]): Promise<Map<string, string | null>> {
  const res = await run.client.query<{ version: string; up_sql: string | null }>(
    `SELECT version, up_sql FROM ${journalName(run.schema)} WHERE version IN (${versions.map(quoteLiteral).join(', ')})`,
  );
  return new Map(res.rows.map((r) => [r.version, r.up_sql]));
}
