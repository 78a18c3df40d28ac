/**
 * A CREATE INDEX CONCURRENTLY that failed or was killed leaves an INVALID index behind: before
 * the build runs again, that index is dropped, so the build starts clean (IF NOT EXISTS would
 * keep the broken one).
 */
import type pg from 'pg';
import { quoteLiteral } from './sql-text.js';

/** The index a CREATE INDEX CONCURRENTLY statement builds (unqualified, as written), or null. */
export function concurrentIndexName(statement: string): string | null {
  const m = /CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s+ON\b/i.exec(statement.replace(/--[^\n]*/g, ''));
  if (!m) return null;
  const raw = m[1]!;
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase();
}

export async function dropInvalidIndex(statement: string, query: (t: string) => Promise<pg.QueryResult[]>): Promise<void> {
  const name = concurrentIndexName(statement);
  if (!name) return;
  const res = await query(
    `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS idx FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = ${quoteLiteral(name)} AND n.nspname = pg_catalog.current_schema() AND NOT i.indisvalid`,
  );
  const idx = (res.at(-1)?.rows?.[0] as { idx?: string } | undefined)?.idx;
  if (idx) await query(`DROP INDEX CONCURRENTLY IF EXISTS ${idx}`);
}
