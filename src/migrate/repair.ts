/**
 * repair(): accept a deliberate change to an applied file (re-record its checksum and text; the
 * old text kept in the journal lets the CLI show a real diff) and clear failed-run records.
 * `dryRun` reports what it would do and changes nothing.
 */
import type pg from 'pg';
import { noEmit } from '../events.js';
import { readMigrations } from './files.js';
import { journalName } from './journal.js';
import { acquireAndRead, readState, releaseLock, unlockSql, waitOptions } from './lock.js';
import { planUp } from './plan.js';
import { quoteLiteral, validateSchemaName } from './sql-text.js';
import type { EngineOptions, RepairEntry, RepairResult } from './types.js';

export async function repair(client: pg.Client, opts: EngineOptions & { version?: string }): Promise<RepairResult> {
  const schema = validateSchemaName(opts.schema);
  const emit = opts.emit ?? noEmit;
  const files = await readMigrations(opts.migrationsDir);
  const same = (v: string) => opts.version === undefined || BigInt(v) === BigInt(opts.version);
  const state = opts.dryRun
    ? await readState(client, schema, { tryLock: false, release: { kind: 'never' } })
    : (await acquireAndRead(client, schema, { release: { kind: 'never' }, emit, ...waitOptions(opts) })).state;
  let holds = state.locked;
  try {
    const plan = planUp(files, state.journal);
    const drift = plan.drift.filter((d) => same(d.version));
    const failures = state.journal.filter((r) => r.status === 'failed' && same(r.version));
    let oldSql = new Map<string, string | null>();
    if (drift.length && state.journalExists) {
      const res = await client.query<{ version: string; up_sql: string | null }>(
        `SELECT version, up_sql FROM ${journalName(schema)} WHERE version IN (${drift.map((d) => quoteLiteral(d.version)).join(', ')})`,
      );
      oldSql = new Map(res.rows.map((r) => [r.version, r.up_sql]));
    }
    const repaired: RepairEntry[] = drift.map((d) => {
      const f = files.find((x) => x.version === d.version)!;
      return {
        version: d.version,
        name: d.name,
        file: d.file,
        oldChecksum: d.recordedChecksum,
        newChecksum: d.currentChecksum,
        oldSql: oldSql.get(d.version) ?? null,
        newSql: f.up,
      };
    });
    const clearedFailures = failures.map((r) => ({ version: r.version, name: r.name }));
    const base = { schema, repaired, clearedFailures };
    if (opts.dryRun || (repaired.length === 0 && clearedFailures.length === 0)) return { ok: true, dryRun: !!opts.dryRun, ...base };
    const stmts = ['BEGIN'];
    for (const e of repaired) {
      stmts.push(
        `UPDATE ${journalName(schema)} SET checksum = ${quoteLiteral(e.newChecksum)}, up_sql = ${quoteLiteral(e.newSql)} WHERE version = ${quoteLiteral(e.version)} AND status = 'applied'`,
      );
    }
    if (clearedFailures.length) {
      stmts.push(`DELETE FROM ${journalName(schema)} WHERE status = 'failed' AND version IN (${clearedFailures.map((c) => quoteLiteral(c.version)).join(', ')})`);
    }
    stmts.push('COMMIT', unlockSql(schema));
    await client.query(stmts.join(';\n'));
    holds = false;
    return { ok: true, dryRun: false, ...base };
  } finally {
    if (holds) await releaseLock(client, schema).catch(() => undefined);
  }
}
