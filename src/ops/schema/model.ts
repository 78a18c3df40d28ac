/**
 * The schema as a new team member wants to see it, read from the live catalog in one round trip:
 * each table with its purpose (COMMENT ON), columns, primary key, what references what and with
 * which ON DELETE rule, indexes with the query each serves, triggers with the NOTIFY channel they
 * feed, and the estimated rows and size on this target. The renderers (text, mermaid, svg) are
 * pure functions of this model; `--json` prints it as it is.
 */
import type pg from 'pg';
import { JOURNAL_TABLE } from '../../migrate/journal.js';
import { quoteLiteral, validateSchemaName } from '../../migrate/sql-text.js';

export interface SchemaColumn {
  name: string;
  /** format_type(), e.g. `character varying(26)`. */
  type: string;
  nullable: boolean;
  default: string | null;
  comment: string | null;
  /** Part of the primary key. */
  primaryKey: boolean;
  /** Part of a foreign key. */
  foreignKey: boolean;
}

export interface SchemaReference {
  name: string;
  columns: string[];
  /** The referenced table (in the same schema, or schema-qualified when not). */
  table: string;
  refColumns: string[];
  /** CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION. */
  onDelete: string;
  onUpdate: string;
  /** Whether each row references exactly one parent (all columns NOT NULL). */
  required: boolean;
  /** The referencing columns are unique in the child (one child per parent at most). */
  oneToOne: boolean;
}

export interface SchemaIndex {
  name: string;
  columns: string;
  unique: boolean;
  primary: boolean;
  /** The WHERE of a partial index, else null. */
  predicate: string | null;
  /** The query it serves (COMMENT ON INDEX), or what the constraint it backs means. */
  purpose: string | null;
}

export interface SchemaTrigger {
  name: string;
  /** BEFORE / AFTER / INSTEAD OF. */
  timing: string;
  events: string[];
  level: 'row' | 'statement';
  function: string;
  enabled: boolean;
  /** The NOTIFY channel it feeds (chatgenius_<table>), when its function sends one. */
  channel: string | null;
}

export interface SchemaTable {
  name: string;
  comment: string | null;
  columns: SchemaColumn[];
  primaryKey: string[];
  references: SchemaReference[];
  indexes: SchemaIndex[];
  triggers: SchemaTrigger[];
  /** Rows: counted for small tables, else pg_class.reltuples (null before the first ANALYZE). */
  rows: number | null;
  /** Whether `rows` was counted (true) or estimated (false). */
  rowsExact: boolean;
  /** Bytes, table + indexes + TOAST. */
  sizeBytes: number;
}

export interface SchemaFunction {
  name: string;
  comment: string | null;
}

export interface SchemaModel {
  schema: string;
  tables: SchemaTable[];
  functions: SchemaFunction[];
}

/** What the journal is, for databases where it has no comment of its own. */
const BUILT_IN_COMMENTS: Record<string, string> = {
  [JOURNAL_TABLE]: 'The migration journal of chatgenius-db: one row per migration applied (checksum, when, by whom)',
};

/** Tables up to this size (heap bytes) are counted exactly; larger ones show the planner's estimate. */
export const EXACT_COUNT_MAX_BYTES = 8 * 1024 * 1024;

/** The query: one JSON document for the whole schema (one round trip). Exported for the bench. */
export function schemaModelQuery(schema: string): string {
  const s = quoteLiteral(validateSchemaName(schema));
  return `
WITH ns AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ${s}),
tbl AS (
  SELECT c.oid, c.relname, pg_catalog.pg_total_relation_size(c.oid) AS size,
         -- Small tables are counted exactly (query_to_xml runs the count inside this one query);
         -- big ones use the planner's estimate, which costs nothing.
         CASE WHEN pg_catalog.pg_relation_size(c.oid) <= ${EXACT_COUNT_MAX_BYTES} THEN
           (pg_catalog.xpath('/row/n/text()', pg_catalog.query_to_xml(
              pg_catalog.format('SELECT count(*) AS n FROM %I.%I', ${s}, c.relname), false, true, '')))[1]::text::float8
         ELSE c.reltuples::float8 END AS reltuples,
         pg_catalog.pg_relation_size(c.oid) <= ${EXACT_COUNT_MAX_BYTES} AS exact,
         pg_catalog.obj_description(c.oid, 'pg_class') AS comment
    FROM pg_catalog.pg_class c JOIN ns ON c.relnamespace = ns.oid
   WHERE c.relkind IN ('r', 'p')
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
)
SELECT pg_catalog.json_build_object(
  'tables', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
    'name', t.relname, 'comment', t.comment, 'rows', t.reltuples, 'exact', t.exact, 'size', t.size,
    'columns', (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
        'name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
        'nullable', NOT a.attnotnull,
        'default', pg_catalog.pg_get_expr(ad.adbin, ad.adrelid),
        'comment', pg_catalog.col_description(t.oid, a.attnum)) ORDER BY a.attnum)
      FROM pg_catalog.pg_attribute a
      LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped),
    'constraints', (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
        'name', k.conname, 'type', k.contype,
        'columns', (SELECT pg_catalog.json_agg(a.attname ORDER BY u.ord)
                      FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY u(num, ord)
                      JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num),
        'refTable', CASE WHEN k.contype = 'f' THEN
            (SELECT CASE WHEN rn.oid = (SELECT oid FROM ns) THEN rc.relname ELSE rn.nspname || '.' || rc.relname END
               FROM pg_catalog.pg_class rc JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
              WHERE rc.oid = k.confrelid) END,
        'refColumns', (SELECT pg_catalog.json_agg(a.attname ORDER BY u.ord)
                      FROM pg_catalog.unnest(k.confkey) WITH ORDINALITY u(num, ord)
                      JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num),
        'onDelete', k.confdeltype, 'onUpdate', k.confupdtype) ORDER BY k.conname)
      FROM pg_catalog.pg_constraint k WHERE k.conrelid = t.oid AND k.contype IN ('p', 'f', 'u')),
    'indexes', (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
        'name', ic.relname, 'unique', i.indisunique, 'primary', i.indisprimary,
        'definition', pg_catalog.pg_get_indexdef(i.indexrelid),
        'predicate', pg_catalog.pg_get_expr(i.indpred, i.indrelid),
        'comment', pg_catalog.obj_description(i.indexrelid, 'pg_class'),
        'constraint', (SELECT k.contype FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = t.oid LIMIT 1))
        ORDER BY ic.relname)
      FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = t.oid),
    'triggers', (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
        'name', tg.tgname, 'type', tg.tgtype, 'enabled', tg.tgenabled <> 'D',
        'function', p.proname, 'notifies', p.prosrc ~* 'pg_notify|\\mNOTIFY\\M') ORDER BY tg.tgname)
      FROM pg_catalog.pg_trigger tg JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
      WHERE tg.tgrelid = t.oid AND NOT tg.tgisinternal)
  ) ORDER BY t.relname) FROM tbl t), '[]'::json),
  'functions', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
      'name', p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
      'comment', pg_catalog.obj_description(p.oid, 'pg_proc')) ORDER BY p.proname)
    FROM pg_catalog.pg_proc p JOIN ns ON p.pronamespace = ns.oid
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')), '[]'::json)
) AS model`;
}

const FK_ACTIONS: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

interface RawConstraint {
  name: string;
  type: 'p' | 'f' | 'u';
  columns: string[] | null;
  refTable: string | null;
  refColumns: string[] | null;
  onDelete: string;
  onUpdate: string;
}
interface RawTable {
  name: string;
  comment: string | null;
  rows: number;
  exact: boolean;
  size: number;
  columns: Array<{ name: string; type: string; nullable: boolean; default: string | null; comment: string | null }> | null;
  constraints: RawConstraint[] | null;
  indexes: Array<{
    name: string;
    unique: boolean;
    primary: boolean;
    definition: string;
    predicate: string | null;
    comment: string | null;
    constraint: string | null;
  }> | null;
  triggers: Array<{ name: string; type: number; enabled: boolean; function: string; notifies: boolean }> | null;
}
export interface RawModel {
  tables: RawTable[];
  functions: SchemaFunction[];
}

/** pg_trigger.tgtype bits -> timing, events and level. */
function triggerShape(type: number): Pick<SchemaTrigger, 'timing' | 'events' | 'level'> {
  const events = [
    [4, 'INSERT'],
    [8, 'DELETE'],
    [16, 'UPDATE'],
    [32, 'TRUNCATE'],
  ]
    .filter(([bit]) => (type & (bit as number)) !== 0)
    .map(([, name]) => name as string);
  const timing = type & 64 ? 'INSTEAD OF' : type & 2 ? 'BEFORE' : 'AFTER';
  return { timing, events, level: type & 1 ? 'row' : 'statement' };
}

/** The column list of an index definition: `CREATE INDEX x ON t USING btree (a, b DESC) WHERE ...` -> `a, b DESC`. */
function indexColumns(definition: string): string {
  const using = definition.indexOf(' USING ');
  const open = definition.indexOf('(', Math.max(using, 0));
  if (open < 0) return '';
  let depth = 0;
  for (let i = open; i < definition.length; i++) {
    if (definition[i] === '(') depth++;
    else if (definition[i] === ')' && --depth === 0) return definition.slice(open + 1, i);
  }
  return definition.slice(open + 1);
}

/** Shape the query's JSON into the model (pure; tested without a database). */
export function shapeModel(schema: string, raw: RawModel): SchemaModel {
  const tables = raw.tables.map((t): SchemaTable => {
    const constraints = t.constraints ?? [];
    const pk = constraints.find((k) => k.type === 'p')?.columns ?? [];
    const uniques = constraints.filter((k) => k.type === 'u' || k.type === 'p').map((k) => k.columns ?? []);
    const fkColumns = new Set(constraints.filter((k) => k.type === 'f').flatMap((k) => k.columns ?? []));
    const columns = (t.columns ?? []).map((c) => ({ ...c, primaryKey: pk.includes(c.name), foreignKey: fkColumns.has(c.name) }));
    const nullable = new Map(columns.map((c) => [c.name, c.nullable]));
    const references = constraints
      .filter((k) => k.type === 'f')
      .map((k): SchemaReference => {
        const cols = k.columns ?? [];
        return {
          name: k.name,
          columns: cols,
          table: k.refTable ?? '?',
          refColumns: k.refColumns ?? [],
          onDelete: FK_ACTIONS[k.onDelete] ?? k.onDelete,
          onUpdate: FK_ACTIONS[k.onUpdate] ?? k.onUpdate,
          required: cols.every((c) => nullable.get(c) === false),
          oneToOne: uniques.some((u) => u.length === cols.length && u.every((c) => cols.includes(c))),
        };
      });
    const indexes = (t.indexes ?? []).map(
      (i): SchemaIndex => ({
        name: i.name,
        columns: indexColumns(i.definition),
        unique: i.unique,
        primary: i.primary,
        predicate: i.predicate,
        purpose: i.comment ?? (i.primary ? 'primary key' : i.constraint === 'u' ? 'unique constraint' : null),
      }),
    );
    const triggers = (t.triggers ?? []).map(
      (g): SchemaTrigger => ({
        name: g.name,
        ...triggerShape(g.type),
        function: g.function,
        enabled: g.enabled,
        channel: g.notifies ? `chatgenius_${t.name}` : null,
      }),
    );
    return {
      name: t.name,
      comment: t.comment ?? BUILT_IN_COMMENTS[t.name] ?? null,
      columns,
      primaryKey: pk,
      references,
      indexes,
      triggers,
      rows: t.rows < 0 ? null : Math.round(t.rows),
      rowsExact: t.exact,
      sizeBytes: Number(t.size),
    };
  });
  return { schema, tables, functions: raw.functions };
}

/** Read the model of `schema` (one round trip). */
export async function readSchemaModel(client: pg.ClientBase, schema: string): Promise<SchemaModel> {
  const r = await client.query<{ model: RawModel }>(schemaModelQuery(schema));
  return shapeModel(schema, r.rows[0]!.model);
}
