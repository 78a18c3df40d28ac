/**
 * A normalised, deterministic description of everything in one schema, read from pg_catalog:
 * tables (columns, constraints, indexes, triggers), views, sequences, functions, types, plus the
 * database's extensions. No OIDs, no timestamps, everything sorted, so two snapshots can be
 * compared with deepEqual and `diffCatalog` explains the differences in words.
 *
 * Definitions are rendered with `search_path = <schema>, public`, so objects of the schema (and of
 * public) appear unqualified: a snapshot of schema `test` equals one of schema `public` when the
 * same files were applied to both. Objects that belong to an extension are left out of the
 * schema's lists (they show up in `extensions`).
 *
 * One round trip per snapshot. Never prints. `pg` is only a type import here.
 */
import type pg from 'pg';
import { quoteIdent, quoteLiteral } from './sql-text.js';

export interface ExtensionSnapshot {
  name: string;
  version: string;
  schema: string;
}

export interface ColumnSnapshot {
  name: string;
  /** format_type(), e.g. `character varying(26)`, `timestamp with time zone`. */
  type: string;
  notNull: boolean;
  default: string | null;
  /** 'a' (ALWAYS) / 'd' (BY DEFAULT) identity, else null. */
  identity: string | null;
  /** Generation expression of a generated column, else null. */
  generated: string | null;
  collation: string | null;
  comment: string | null;
}

export interface ConstraintSnapshot {
  name: string;
  /** p primary key, f foreign key, u unique, c check, x exclusion, t trigger. */
  type: string;
  definition: string;
}

export interface IndexSnapshot {
  name: string;
  definition: string;
}

export interface TriggerSnapshot {
  name: string;
  definition: string;
  /** O origin (enabled), D disabled, R replica, A always. */
  enabled: string;
}

export interface TableSnapshot {
  name: string;
  /** r table, p partitioned table. */
  kind: string;
  columns: ColumnSnapshot[];
  constraints: ConstraintSnapshot[];
  indexes: IndexSnapshot[];
  triggers: TriggerSnapshot[];
  rowSecurity: boolean;
  comment: string | null;
}

export interface ViewSnapshot {
  name: string;
  materialized: boolean;
  definition: string;
  comment: string | null;
}

export interface SequenceSnapshot {
  name: string;
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  /** `table.column` that owns it (serial/identity), else null. */
  ownedBy: string | null;
}

export interface FunctionSnapshot {
  /** name(identity arguments) */
  signature: string;
  /** f function, p procedure, a aggregate, w window. */
  kind: string;
  returns: string | null;
  language: string;
  volatility: string;
  strict: boolean;
  securityDefiner: boolean;
  /** SET clauses (`search_path=...`), the schema's own name replaced by `$schema`. */
  config: string[];
  body: string;
  comment: string | null;
}

export interface TypeSnapshot {
  name: string;
  /** enum, domain, composite, range. */
  kind: string;
  definition: string;
}

export interface CatalogSnapshot {
  /** The schema that was read (informational: diffCatalog ignores it). */
  schema: string;
  extensions: ExtensionSnapshot[];
  tables: TableSnapshot[];
  views: ViewSnapshot[];
  sequences: SequenceSnapshot[];
  functions: FunctionSnapshot[];
  types: TypeSnapshot[];
}

export interface TablesSnapshot {
  schema: string;
  tables: Array<{ name: string; columns: Array<{ name: string; type: string; notNull: boolean }> }>;
}

/** The tool's own bookkeeping tables (journal, extension record). */
export const BOOKKEEPING_TABLES: readonly string[] = ['chatgenius_migrations', 'chatgenius_extensions'];

export interface SnapshotOptions {
  /** Table names to leave out (with their indexes, triggers, owned sequences). Default: none. */
  ignoreTables?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// SQL

const notExtensionMember = (classid: string, objid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dx WHERE dx.classid = '${classid}'::regclass AND dx.objid = ${objid} AND dx.deptype = 'e')`;

function snapshotSql(ns: string): string[] {
  // ns is an escaped literal of the schema name.
  const rel = (kinds: string) =>
    `SELECT c.oid, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ${ns} AND c.relkind IN (${kinds}) AND ${notExtensionMember('pg_class', 'c.oid')}`;
  return [
    `SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema
       FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace`,
    `SELECT t.relname AS name, c.relkind AS kind, c.relrowsecurity AS rls, pg_catalog.obj_description(c.oid, 'pg_class') AS comment
       FROM (${rel(`'r','p'`)}) t JOIN pg_catalog.pg_class c ON c.oid = t.oid`,
    `SELECT t.relname AS table, a.attnum AS num, a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS not_null,
            CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS default,
            NULLIF(a.attidentity, '') AS identity,
            CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS generated,
            CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation THEN co.collname END AS collation,
            pg_catalog.col_description(t.oid, a.attnum) AS comment
       FROM (${rel(`'r','p'`)}) t
       JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum
       LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation`,
    `SELECT t.relname AS table, k.conname AS name, k.contype AS type, pg_catalog.pg_get_constraintdef(k.oid, true) AS definition
       FROM (${rel(`'r','p'`)}) t JOIN pg_catalog.pg_constraint k ON k.conrelid = t.oid
      WHERE k.contype <> 'n'`,
    `SELECT t.relname AS table, i.relname AS name, pg_catalog.pg_get_indexdef(x.indexrelid, 0, true) AS definition
       FROM (${rel(`'r','p','m'`)}) t JOIN pg_catalog.pg_index x ON x.indrelid = t.oid
       JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid`,
    `SELECT t.relname AS table, g.tgname AS name, pg_catalog.pg_get_triggerdef(g.oid, true) AS definition, g.tgenabled AS enabled
       FROM (${rel(`'r','p','v','m'`)}) t JOIN pg_catalog.pg_trigger g ON g.tgrelid = t.oid
      WHERE NOT g.tgisinternal`,
    `SELECT v.relname AS name, c.relkind = 'm' AS materialized, pg_catalog.pg_get_viewdef(v.oid, true) AS definition,
            pg_catalog.obj_description(v.oid, 'pg_class') AS comment
       FROM (${rel(`'v','m'`)}) v JOIN pg_catalog.pg_class c ON c.oid = v.oid`,
    `SELECT s.relname AS name, pg_catalog.format_type(q.seqtypid, NULL) AS type, q.seqstart::text AS start,
            q.seqincrement::text AS increment, q.seqmin::text AS min, q.seqmax::text AS max, q.seqcache::text AS cache,
            q.seqcycle AS cycle,
            (SELECT oc.relname || '.' || oa.attname FROM pg_catalog.pg_depend d
               JOIN pg_catalog.pg_class oc ON oc.oid = d.refobjid
               JOIN pg_catalog.pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass
                AND d.deptype IN ('a', 'i') LIMIT 1) AS owned_by
       FROM (${rel(`'S'`)}) s JOIN pg_catalog.pg_sequence q ON q.seqrelid = s.oid`,
    `SELECT p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS signature,
            p.prokind AS kind,
            CASE WHEN p.prokind IN ('f', 'w', 'a') THEN pg_catalog.pg_get_function_result(p.oid) END AS returns,
            l.lanname AS language, p.provolatile AS volatility, p.proisstrict AS strict, p.prosecdef AS security_definer,
            COALESCE(p.proconfig, '{}') AS config, COALESCE(p.prosrc, '') AS body,
            pg_catalog.obj_description(p.oid, 'pg_proc') AS comment
       FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
       JOIN pg_catalog.pg_language l ON l.oid = p.prolang
      WHERE n.nspname = ${ns} AND ${notExtensionMember('pg_proc', 'p.oid')}`,
    `SELECT t.typname AS name,
            CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range' ELSE t.typtype::text END AS kind,
            CASE t.typtype
              WHEN 'e' THEN (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                               FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid)
              WHEN 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
                            || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
                            || COALESCE(' DEFAULT ' || t.typdefault, '')
                            || COALESCE((SELECT ' ' || pg_catalog.string_agg(k.conname || ' ' || pg_catalog.pg_get_constraintdef(k.oid, true), ' ' ORDER BY k.conname)
                                           FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid), '')
              WHEN 'c' THEN (SELECT pg_catalog.string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                               FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
              WHEN 'r' THEN (SELECT pg_catalog.format_type(r.rngsubtype, NULL) FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid)
            END AS definition
       FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = ${ns} AND t.typtype IN ('e', 'd', 'c', 'r')
        AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')
        AND ${notExtensionMember('pg_type', 't.oid')}`,
  ];
}

// ---------------------------------------------------------------------------------------------
// Helpers (pure)

/** Code-point order, independent of the locale. */
export function byKey<T>(key: (x: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/** `search_path=test, public` -> `search_path=$schema, public` for schema `test`. */
export function normaliseConfig(entry: string, schema: string): string {
  const m = /^search_path=(.*)$/s.exec(entry);
  if (!m) return entry;
  const items = m[1]!.split(',').map((x) => x.trim());
  return `search_path=${items.map((x) => (x === schema || x === quoteIdent(schema) ? '$schema' : x)).join(', ')}`;
}

type Row = Record<string, unknown>;
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Run several statements in one round trip with search_path set for rendering, restored after. */
async function readAll(client: pg.Client, schema: string, statements: string[]): Promise<Row[][]> {
  const lit = quoteLiteral(schema);
  const sql = [
    `SELECT pg_catalog.set_config('chatgenius.saved_search_path', pg_catalog.current_setting('search_path'), false)`,
    `SELECT pg_catalog.set_config('search_path', pg_catalog.format('%I, public', ${lit}::text), false)`,
    ...statements,
    `SELECT pg_catalog.set_config('search_path', pg_catalog.current_setting('chatgenius.saved_search_path'), false)`,
  ].join(';\n');
  const res = (await client.query(sql)) as unknown as pg.QueryResult[];
  return res.slice(2, 2 + statements.length).map((r) => r.rows as Row[]);
}

// ---------------------------------------------------------------------------------------------
// Snapshots

// Long on purpose: one query per catalog kind, read in order into one snapshot.
export async function snapshotCatalog(client: pg.Client, schema: string, options: SnapshotOptions = {}): Promise<CatalogSnapshot> {
  const ignore = new Set(options.ignoreTables ?? []);
  const [exts, tables, cols, cons, idx, trg, views, seqs, funcs, types] = await readAll(client, schema, snapshotSql(quoteLiteral(schema)));
  const keep = (r: Row) => !ignore.has(str(r.table));
  const group = <T>(rows: Row[], map: (r: Row) => T): Map<string, Array<{ r: Row; v: T }>> => {
    const m = new Map<string, Array<{ r: Row; v: T }>>();
    for (const r of rows.filter(keep)) {
      const k = str(r.table);
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push({ r, v: map(r) });
    }
    return m;
  };
  const colsBy = group(
    cols!,
    (r): ColumnSnapshot => ({
      name: str(r.name),
      type: str(r.type),
      notNull: r.not_null === true,
      default: strOrNull(r.default),
      identity: strOrNull(r.identity),
      generated: strOrNull(r.generated),
      collation: strOrNull(r.collation),
      comment: strOrNull(r.comment),
    }),
  );
  const consBy = group(cons!, (r): ConstraintSnapshot => ({ name: str(r.name), type: str(r.type), definition: str(r.definition) }));
  const idxBy = group(idx!, (r): IndexSnapshot => ({ name: str(r.name), definition: str(r.definition) }));
  const trgBy = group(trg!, (r): TriggerSnapshot => ({ name: str(r.name), definition: str(r.definition), enabled: str(r.enabled) }));
  const sorted = <T extends { name: string }>(xs: Array<{ v: T }> | undefined): T[] => (xs ?? []).map((x) => x.v).sort(byKey((x) => x.name));

  const tableList: TableSnapshot[] = tables!
    .filter((r) => !ignore.has(str(r.name)))
    .map((r) => {
      const name = str(r.name);
      return {
        name,
        kind: str(r.kind),
        columns: (colsBy.get(name) ?? []).sort((a, b) => Number(a.r.num) - Number(b.r.num)).map((x) => x.v),
        constraints: sorted(consBy.get(name)),
        indexes: sorted(idxBy.get(name)),
        triggers: sorted(trgBy.get(name)),
        rowSecurity: r.rls === true,
        comment: strOrNull(r.comment),
      };
    })
    .sort(byKey((t) => t.name));

  // Triggers on views belong with the views; keep them listed as pseudo-tables only if any.
  const viewList: ViewSnapshot[] = views!
    .map((r) => ({ name: str(r.name), materialized: r.materialized === true, definition: str(r.definition), comment: strOrNull(r.comment) }))
    .sort(byKey((v) => v.name));

  const seqList: SequenceSnapshot[] = seqs!
    .map((r) => ({
      name: str(r.name),
      type: str(r.type),
      start: str(r.start),
      increment: str(r.increment),
      min: str(r.min),
      max: str(r.max),
      cache: str(r.cache),
      cycle: r.cycle === true,
      ownedBy: strOrNull(r.owned_by),
    }))
    .filter((s) => !(s.ownedBy && ignore.has(s.ownedBy.split('.')[0]!)))
    .sort(byKey((s) => s.name));

  const fnList: FunctionSnapshot[] = funcs!
    .map((r) => ({
      signature: str(r.signature),
      kind: str(r.kind),
      returns: strOrNull(r.returns),
      language: str(r.language),
      volatility: str(r.volatility),
      strict: r.strict === true,
      securityDefiner: r.security_definer === true,
      config: (Array.isArray(r.config) ? (r.config as unknown[]).map(String) : []).map((c) => normaliseConfig(c, schema)).sort(),
      body: str(r.body),
      comment: strOrNull(r.comment),
    }))
    .sort(byKey((f) => f.signature));

  const typeList: TypeSnapshot[] = types!.map((r) => ({ name: str(r.name), kind: str(r.kind), definition: str(r.definition) })).sort(byKey((t) => t.name));

  const extList: ExtensionSnapshot[] = exts!.map((r) => ({ name: str(r.name), version: str(r.version), schema: str(r.schema) })).sort(byKey((e) => e.name));

  return { schema, extensions: extList, tables: tableList, views: viewList, sequences: seqList, functions: fnList, types: typeList };
}

/**
 * Tables, columns, types and nullability only (what `baseline` checks). Leaves out the tool's
 * bookkeeping tables (BOOKKEEPING_TABLES) unless `ignoreTables` says otherwise.
 */
export async function snapshotTables(client: pg.Client, schema: string, options: SnapshotOptions = {}): Promise<TablesSnapshot> {
  const ignore = new Set(options.ignoreTables ?? BOOKKEEPING_TABLES);
  const ns = quoteLiteral(schema);
  const [rows] = await readAll(client, schema, [
    `SELECT c.relname AS table, a.attnum AS num, a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = ${ns} AND c.relkind IN ('r', 'p') AND ${notExtensionMember('pg_class', 'c.oid')}
      ORDER BY c.relname, a.attnum`,
  ]);
  const tables = new Map<string, Array<{ name: string; type: string; notNull: boolean }>>();
  for (const r of rows!) {
    const t = str(r.table);
    if (ignore.has(t)) continue;
    if (!tables.has(t)) tables.set(t, []);
    if (r.name !== null && r.name !== undefined) tables.get(t)!.push({ name: str(r.name), type: str(r.type), notNull: r.not_null === true });
  }
  return {
    schema,
    tables: [...tables.entries()].map(([name, columns]) => ({ name, columns })).sort(byKey((t) => t.name)),
  };
}
