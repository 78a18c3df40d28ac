/**
 * The journal: table chatgenius_migrations in the target schema. This module only builds SQL
 * text and parses rows; apply/rollback put that text into their batches.
 */
import { hostname, userInfo } from 'node:os';
import { quoteIdent, quoteLiteral, sqlValue } from './sql-text.js';
import type { JournalRow, MigrationFailure, MigrationFile } from './types.js';

export const JOURNAL_TABLE = 'chatgenius_migrations';

export function journalName(schema: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(JOURNAL_TABLE)}`;
}

/**
 * CREATE SCHEMA/TABLE IF NOT EXISTS, as one string (no trailing semicolon needed). steps_done /
 * steps_checksum: progress of an up migration run one statement at a time (online-steps.ts, which
 * also adds them to a journal made before them). The schema is
 * created only when it is missing: CREATE SCHEMA IF NOT EXISTS checks CREATE on the database
 * even when the schema exists, which a role with CREATE on its schema alone does not have.
 */
export function createJournalSql(schema: string): string {
  return [
    `DO $chatgenius_db$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ${quoteLiteral(schema)}) THEN CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}; END IF; END$chatgenius_db$`,
    `CREATE TABLE IF NOT EXISTS ${journalName(schema)} (
  version text PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  status text NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'failed')),
  applied_at timestamptz NOT NULL DEFAULT now(),
  duration_ms integer,
  db_user text DEFAULT current_user,
  os_user text,
  client_host text,
  tool_version text,
  up_sql text,
  error_code text,
  error_message text,
  error_statement text,
  error_line integer,
  error_column integer,
  steps_done integer,
  steps_checksum text
)`,
  ].join(';\n');
}

/** Who is running: recorded in each journal row. */
export interface RunIdentity {
  osUser: string | null;
  clientHost: string | null;
  toolVersion: string | null;
}

export function runIdentity(toolVersion?: string): RunIdentity {
  let osUser: string | null = null;
  try {
    osUser = userInfo().username;
  } catch {
    osUser = process.env.USER ?? process.env.USERNAME ?? null;
  }
  return { osUser, clientHost: hostname() || null, toolVersion: toolVersion ?? null };
}

/**
 * Each migration's own start time, set by the step's start marker (transaction-local). Not now():
 * in one multi-statement batch every transaction shares the same now() (the time the batch
 * arrived), so applied_at would be equal for all and durations would add up across the batch.
 */
export const STEP_START_SETTING = 'chatgenius_db.t';

/** SQL expression: this step's start (clock_timestamp() captured by markStepStartSql). */
export const STEP_START = `current_setting(${quoteLiteral(STEP_START_SETTING)})::timestamptz`;

/** SQL expression: milliseconds since this step's start. */
export const STEP_ELAPSED_MS = `(extract(epoch from clock_timestamp() - ${STEP_START}) * 1000)::integer`;

/** A PL/pgSQL statement (for a DO block) that records this step's start, local to its transaction. */
export function markStepStartSql(): string {
  return `PERFORM set_config(${quoteLiteral(STEP_START_SETTING)}, clock_timestamp()::text, true)`;
}

/**
 * The journal row of a migration that just ran, inside its transaction: a failed-run row of the
 * same version is replaced (the plan only runs versions that are not applied). Without
 * `durationMs` the step's start marker must have run in this transaction (applied_at = that
 * start, duration = since then); with it (a step run outside a transaction), applied_at is now().
 * `upSql` is the SQL expression for the recorded text: by default the file as a literal; the
 * batch passes an expression that copies it from the running statement, so it is sent once.
 */
export function recordAppliedSql(schema: string, f: MigrationFile, who: RunIdentity, durationMs?: number, upSql?: string): string {
  const duration = durationMs === undefined ? STEP_ELAPSED_MS : sqlValue(durationMs);
  const appliedAt = durationMs === undefined ? STEP_START : 'now()';
  return `DELETE FROM ${journalName(schema)} WHERE version = ${quoteLiteral(f.version)};
INSERT INTO ${journalName(schema)} (version, name, checksum, applied_at, duration_ms, os_user, client_host, tool_version, up_sql)
VALUES (${quoteLiteral(f.version)}, ${quoteLiteral(f.name)}, ${quoteLiteral(f.checksum)}, ${appliedAt}, ${duration}, ${sqlValue(who.osUser)}, ${sqlValue(who.clientHost)}, ${sqlValue(who.toolVersion)}, ${upSql ?? quoteLiteral(f.up)})`;
}

/**
 * The journal row of a migration run in a batch, as a statement prepared once per run: each
 * migration then sends only `EXECUTE name(version, name, checksum, up_sql)`, not the whole INSERT.
 * status, db_user and the error columns take their defaults. applied_at / duration_ms come from
 * the step's start marker (it must have run in the same transaction). A failed-run row of the same
 * version must be deleted first (deleteRowSql): the batch knows which, from the journal it read.
 */
export function prepareAppliedSql(schema: string, statement: string, who: RunIdentity): string {
  return `PREPARE ${statement} (text, text, text, text) AS INSERT INTO ${journalName(schema)} (version, name, checksum, applied_at, duration_ms, os_user, client_host, tool_version, up_sql) VALUES ($1, $2, $3, ${STEP_START}, ${STEP_ELAPSED_MS}, ${sqlValue(who.osUser)}, ${sqlValue(who.clientHost)}, ${sqlValue(who.toolVersion)}, $4)`;
}

/** Record `f` with the statement prepareAppliedSql made; `upSql` is the SQL expression of the recorded text. */
export function executeAppliedSql(statement: string, f: MigrationFile, upSql: string): string {
  return `EXECUTE ${statement}(${quoteLiteral(f.version)}, ${quoteLiteral(f.name)}, ${quoteLiteral(f.checksum)}, ${upSql})`;
}

/** A 'failed' row, written after ROLLBACK; never overwrites an 'applied' row. */
export function recordFailedSql(schema: string, f: MigrationFile, failure: MigrationFailure, who: RunIdentity, durationMs: number | null): string {
  return `INSERT INTO ${journalName(schema)} AS j (version, name, checksum, status, applied_at, duration_ms, db_user, os_user, client_host, tool_version, up_sql, error_code, error_message, error_statement, error_line, error_column)
VALUES (${quoteLiteral(f.version)}, ${quoteLiteral(f.name)}, ${quoteLiteral(f.checksum)}, 'failed', now(), ${sqlValue(durationMs)}, current_user, ${sqlValue(who.osUser)}, ${sqlValue(who.clientHost)}, ${sqlValue(who.toolVersion)}, ${quoteLiteral(f.up)}, ${sqlValue(failure.code ?? null)}, ${sqlValue(failure.message.slice(0, 2000))}, ${sqlValue(failure.statement?.slice(0, 4000) ?? null)}, ${sqlValue(failure.line ?? null)}, ${sqlValue(failure.column ?? null)})
ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum, applied_at = EXCLUDED.applied_at, duration_ms = EXCLUDED.duration_ms, db_user = EXCLUDED.db_user, os_user = EXCLUDED.os_user, client_host = EXCLUDED.client_host, tool_version = EXCLUDED.tool_version, up_sql = EXCLUDED.up_sql, error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message, error_statement = EXCLUDED.error_statement, error_line = EXCLUDED.error_line, error_column = EXCLUDED.error_column
WHERE j.status = 'failed'`;
}

export function deleteRowSql(schema: string, version: string): string {
  return `DELETE FROM ${journalName(schema)} WHERE version = ${quoteLiteral(version)}`;
}

/** The columns read back (up_sql excluded: large, and only repair needs it). */
export const JOURNAL_COLUMNS =
  'version, name, checksum, status, applied_at, duration_ms, db_user, os_user, client_host, tool_version, error_code, error_message, error_statement, error_line, error_column';

/** A SELECT that returns the journal as one json array (column `journal`). The table must exist. */
export function selectJournalJsonSql(schema: string): string {
  return `SELECT coalesce(json_agg(j ORDER BY j.version), '[]'::json) AS journal FROM (SELECT ${JOURNAL_COLUMNS} FROM ${journalName(schema)}) j`;
}

function s(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}
function num(v: unknown): number | null {
  return v === null || v === undefined || v === '' ? null : Number(v);
}

/** Parse rows (from json_agg or a plain SELECT) into JournalRow values. */
export function parseJournalRows(rows: unknown): JournalRow[] {
  if (!Array.isArray(rows)) return [];
  return rows.map((r: Record<string, unknown>) => ({
    version: String(r.version),
    name: String(r.name),
    checksum: String(r.checksum),
    status: r.status === 'failed' ? 'failed' : 'applied',
    appliedAt: r.applied_at instanceof Date ? r.applied_at.toISOString() : s(r.applied_at),
    durationMs: num(r.duration_ms),
    dbUser: s(r.db_user),
    osUser: s(r.os_user),
    clientHost: s(r.client_host),
    toolVersion: s(r.tool_version),
    errorCode: s(r.error_code),
    errorMessage: s(r.error_message),
    errorStatement: s(r.error_statement),
    errorLine: num(r.error_line),
    errorColumn: num(r.error_column),
  }));
}
