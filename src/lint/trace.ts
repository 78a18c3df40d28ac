/**
 * The lock-aware plan: which tables each pending migration locks, in which mode, and how many
 * rows and bytes those tables hold on the target.
 *
 * Lock modes are traced, not guessed: ONE round trip replays the files on a scratch schema and
 * reads pg_locks for this backend after every statement of the pending files:
 *
 *   BEGIN; CREATE SCHEMA scratch; <applied files>; COMMIT;     -- empty copies of today's tables
 *   BEGIN; <pending statement>; SELECT <this backend's locks>; ...; ROLLBACK;
 *   DROP SCHEMA scratch CASCADE; SELECT <rows and size of the target's tables>;
 *
 * The applied files are committed into the scratch schema first because a table created in the
 * same transaction is already held in ACCESS EXCLUSIVE mode, which would hide every lock a
 * pending statement takes on it. When nothing is applied yet, the scratch schema lives in the
 * rolled-back transaction only. The copies are empty, so the replay is fast whatever the target
 * holds. A statement that cannot run in a transaction (CONCURRENTLY) runs without the keyword
 * and its lock is reported from the rules table (ShareUpdateExclusiveLock), marked derived.
 * pg_locks shows one row per (table, mode): a mode that an earlier pending statement of the same
 * replay already holds cannot be seen again, so it too comes from the rules table, marked derived.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { MigrationFile } from '../migrate/types.js';
import { transactionalText } from '../migrate/scratch.js';
import { quoteIdent, quoteLiteral } from '../migrate/sql-text.js';
import { relOf } from './ast.js';
import type { ParsedStatement } from './parser.js';
import { derivedLocks, LOCK_MODES, type LockMode } from './locks.js';

export { derivedLocks } from './locks.js';

export interface TableStats {
  /** pg_class.reltuples (an estimate; null when the table was never analysed). */
  rows: number | null;
  /** pg_relation_size in bytes. */
  sizeBytes: number;
}

export interface PlannedLock {
  table: string;
  mode: LockMode;
  /** Estimated rows on the target (0 for a table the migration creates). */
  rows: number | null;
  sizeBytes: number | null;
  /** The migration creates this table (it is empty). */
  created?: boolean;
  /** traced: read from pg_locks; derived: from the rules table (CONCURRENTLY, or the trace failed). */
  source: 'traced' | 'derived';
  /** Line of the first statement taking it, in the up file. */
  line: number;
}

export interface TraceOutcome {
  /** Per pending file (by version). */
  locks: Map<string, PlannedLock[]>;
  stats: Map<string, TableStats>;
  /** Set when the replay failed: the locks are then derived only. */
  error?: string;
}

const SKIP = new Set(['VacuumStmt', 'AlterSystemStmt', 'CreatedbStmt', 'DropdbStmt', 'CreateTableSpaceStmt', 'DropTableSpaceStmt']);

function isConcurrent(s: ParsedStatement): boolean {
  if ((s.kind === 'IndexStmt' || s.kind === 'DropStmt') && s.node.concurrent === true) return true;
  if (s.kind === 'ReindexStmt') return ((s.node.params as unknown[]) ?? []).some((p) => (p as { DefElem?: { defname?: string } }).DefElem?.defname === 'concurrently');
  return false;
}

/** Pure: the statement as it can run inside the trace's transaction, or null to skip it. */
export function traceableText(s: ParsedStatement): string | null {
  if (SKIP.has(s.kind)) return null;
  if (isConcurrent(s)) return s.text.replace(/\bconcurrently\b/i, '');
  return s.text;
}

const MARK = 'chatgenius_trace';

function locksSql(tag: string): string {
  return `SELECT ${quoteLiteral(tag)} AS ${MARK}, COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_array(n.nspname, c.relname, l.mode))
   FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_class c ON c.oid = l.relation JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND c.relkind IN ('r', 'p', 'm')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')), '[]') AS locks`;
}

export function statsSql(schema: string): string {
  return `SELECT 'stats' AS ${MARK}, COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_array(c.relname, c.reltuples, pg_catalog.pg_relation_size(c.oid)))
   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ${quoteLiteral(schema)} AND c.relkind IN ('r', 'p', 'm')), '[]') AS locks`;
}

export function parseStats(raw: unknown): Map<string, TableStats> {
  const out = new Map<string, TableStats>();
  for (const [name, tuples, size] of (raw as Array<[string, number, number]>) ?? []) {
    const t = Number(tuples);
    // reltuples is -1 until the first ANALYZE: a table of zero bytes still has no rows.
    out.set(name, { rows: t >= 0 ? Math.round(t) : Number(size) === 0 ? 0 : null, sizeBytes: Number(size) });
  }
  return out;
}

export interface PendingParsed {
  file: MigrationFile;
  statements: ParsedStatement[];
}

/** The trace's one batch (pure): the SQL text and the scratch schema's name. */
export function traceBatch(
  schema: string,
  applied: MigrationFile[],
  pending: PendingParsed[],
  opts: { scratch?: string; statementTimeoutMs?: number } = {},
): { sql: string; scratch: string; commitsScratch: boolean } {
  const scratch = opts.scratch ?? `chatgenius_scratch_${randomBytes(5).toString('hex')}`;
  const q = quoteIdent(scratch);
  const limit = `${Math.max(1, Math.trunc(opts.statementTimeoutMs ?? 30_000))}ms`;
  const setup = [
    `SET LOCAL client_min_messages = warning`,
    `SET LOCAL search_path TO ${q}, public`,
    `SET LOCAL statement_timeout = ${quoteLiteral(limit)}`,
    // Schema-qualified references reach the real tables: never wait on the app for them.
    `SET LOCAL lock_timeout = '2s'`,
  ];
  const parts: string[] = [];
  const commitsScratch = applied.length > 0;
  if (commitsScratch) {
    parts.push('BEGIN', `CREATE SCHEMA ${q}`, ...setup);
    for (const f of applied) parts.push(`${transactionalText(f)}\n`);
    parts.push('COMMIT');
    parts.push('BEGIN', ...setup);
  } else {
    parts.push('BEGIN', `CREATE SCHEMA ${q}`, ...setup);
  }
  parts.push(locksSql('base'));
  pending.forEach((p, i) => {
    p.statements.forEach((s, j) => {
      const text = traceableText(s);
      if (text !== null) parts.push(`${text}\n`);
      parts.push(locksSql(`${i}:${j}`));
    });
  });
  parts.push('ROLLBACK');
  if (commitsScratch) parts.push(`DROP SCHEMA IF EXISTS ${q} CASCADE`);
  parts.push(statsSql(schema));
  return { sql: `${parts.join(';\n')};\n`, scratch, commitsScratch };
}

type Snapshot = Set<string>;
const key = (schema: string, table: string, mode: string) => `${schema}\u0000${table}\u0000${mode}`;

/** Pure: per pending file, the locks from the snapshots taken after each statement. */
export function locksFromSnapshots(
  schema: string,
  scratch: string,
  pending: PendingParsed[],
  snapshots: Map<string, Array<[string, string, string]>>,
  stats: Map<string, TableStats>,
): Map<string, PlannedLock[]> {
  const out = new Map<string, PlannedLock[]>();
  let prev: Snapshot = new Set((snapshots.get('base') ?? []).map(([s, t, m]) => key(s, t, m)));
  const createdSoFar = new Set<string>();
  pending.forEach((p, i) => {
    const locks = new Map<string, PlannedLock>();
    const add = (table: string, mode: LockMode, source: PlannedLock['source'], line: number) => {
      const k = `${table}\u0000${mode}`;
      if (locks.has(k)) return;
      const st = stats.get(table);
      const created = !st || createdSoFar.has(table);
      locks.set(k, { table, mode, rows: created ? 0 : st.rows, sizeBytes: created ? 0 : st.sizeBytes, ...(created ? { created: true } : {}), source, line });
    };
    p.statements.forEach((s, j) => {
      const snap = snapshots.get(`${i}:${j}`) ?? [];
      const now: Snapshot = new Set(snap.map(([sc, t, m]) => key(sc, t, m)));
      if (isConcurrent(s) || traceableText(s) === null) {
        for (const d of derivedLocks(s)) add(d.table.split('.').at(-1)!, d.mode, 'derived', s.line);
      } else {
        for (const [sc, t, m] of snap) {
          if (prev.has(key(sc, t, m))) continue;
          const table = sc === scratch ? t : sc === schema ? t : `${sc}.${t}`;
          add(table, m as LockMode, 'traced', s.line);
        }
        // A mode an earlier pending statement already holds on the table does not show up again
        // in pg_locks (one row per mode): the rules table supplies it, marked derived.
        for (const d of derivedLocks(s)) {
          const t = d.table.split('.').at(-1)!;
          if (prev.has(key(scratch, t, d.mode)) || prev.has(key(schema, t, d.mode))) add(t, d.mode, 'derived', s.line);
        }
      }
      if (s.kind === 'CreateStmt') {
        const r = relOf(s.node.relation);
        if (r) createdSoFar.add(r.name);
      }
      prev = now;
    });
    out.set(
      p.file.version,
      [...locks.values()].sort((a, b) => LOCK_MODES.indexOf(b.mode) - LOCK_MODES.indexOf(a.mode) || a.line - b.line),
    );
  });
  return out;
}

/** Pure fallback when the replay failed: the locks the rules table knows. */
export function derivedPlan(pending: PendingParsed[], stats: Map<string, TableStats>): Map<string, PlannedLock[]> {
  const out = new Map<string, PlannedLock[]>();
  for (const p of pending) {
    const seen = new Map<string, PlannedLock>();
    for (const s of p.statements) {
      for (const d of derivedLocks(s)) {
        const table = d.table.split('.').at(-1)!;
        const k = `${table}\u0000${d.mode}`;
        if (seen.has(k)) continue;
        const st = stats.get(table);
        seen.set(k, { table, mode: d.mode, rows: st ? st.rows : 0, sizeBytes: st ? st.sizeBytes : 0, ...(st ? {} : { created: true }), source: 'derived', line: s.line });
      }
    }
    out.set(p.file.version, [...seen.values()]);
  }
  return out;
}

function resultsOf(res: unknown): pg.QueryResult[] {
  return Array.isArray(res) ? (res as pg.QueryResult[]) : [res as pg.QueryResult];
}

/** Run the trace: one round trip (two when the replay fails: clean-up and table sizes). */
export async function traceLocks(
  client: pg.Client,
  schema: string,
  applied: MigrationFile[],
  pending: PendingParsed[],
  opts: { statementTimeoutMs?: number } = {},
): Promise<TraceOutcome> {
  const batch = traceBatch(schema, applied, pending, opts);
  try {
    const res = resultsOf(await client.query(batch.sql));
    const snapshots = new Map<string, Array<[string, string, string]>>();
    let stats = new Map<string, TableStats>();
    for (const r of res) {
      const row = r.rows?.[0] as { chatgenius_trace?: string; locks?: unknown } | undefined;
      if (row?.chatgenius_trace === undefined) continue;
      if (row.chatgenius_trace === 'stats') stats = parseStats(row.locks);
      else snapshots.set(row.chatgenius_trace, (row.locks as Array<[string, string, string]>) ?? []);
    }
    return { locks: locksFromSnapshots(schema, batch.scratch, pending, snapshots, stats), stats };
  } catch (err) {
    const cleanup = `ROLLBACK;\n${batch.commitsScratch ? `DROP SCHEMA IF EXISTS ${quoteIdent(batch.scratch)} CASCADE;\n` : ''}${statsSql(schema)};`;
    let stats = new Map<string, TableStats>();
    try {
      const res = resultsOf(await client.query(cleanup));
      const row = res.at(-1)?.rows?.[0] as { locks?: unknown } | undefined;
      stats = parseStats(row?.locks);
    } catch {
      /* the connection is gone: the caller's next step reports it */
    }
    return { locks: derivedPlan(pending, stats), stats, error: (err as Error).message ?? String(err) };
  }
}
