/** Column rules: add, change, rename and drop columns without a table rewrite or breaking the running app. */
import { columnConstraints, firstLocation, names, relOf, shown, walk, type Node } from '../ast.js';
import { isNew, existingAlter, type Hit, type Rule } from '../rule.js';

/** Functions known not to be volatile: a DEFAULT calling only these does not rewrite the table. */
const NON_VOLATILE = new Set([
  'now',
  'transaction_timestamp',
  'statement_timestamp',
  'current_setting',
  'lower',
  'upper',
  'length',
  'btrim',
  'trim',
  'jsonb_build_object',
  'json_build_object',
  'jsonb_build_array',
  'json_build_array',
  'to_jsonb',
  'to_json',
  'make_interval',
  'array_fill',
  'concat',
  'coalesce',
  'greatest',
  'least',
  'abs',
  'round',
]);
const SERIAL_TYPES = new Set(['serial', 'bigserial', 'smallserial', 'serial2', 'serial4', 'serial8']);

/** Why a column definition rewrites the table when added, or null. */
export function rewritingDefault(col: Node): string | null {
  const typeNames = names((col.typeName as Node | undefined)?.names);
  const typ = typeNames.at(-1);
  if (typ && SERIAL_TYPES.has(typ)) return `the ${typ} type's default nextval() is volatile`;
  for (const c of columnConstraints(col)) {
    if (c.contype === 'CONSTR_GENERATED' && c.generated_kind !== 'v') return 'a STORED generated column is computed for every row';
    if (c.contype === 'CONSTR_IDENTITY') return 'an identity column draws a sequence value for every row';
    if (c.contype !== 'CONSTR_DEFAULT') continue;
    for (const [kind, n] of walk({ root: { Expr: c.raw_expr } })) {
      if (kind !== 'FuncCall') continue;
      const fn = names(n.funcname).at(-1) ?? '?';
      if (!NON_VOLATILE.has(fn)) return `the default calls ${fn}(), which is volatile (or not known to be stable)`;
    }
  }
  return null;
}

export const addingRequiredField: Rule = {
  id: 'adding-required-field',
  severity: 'error',
  title: 'ADD COLUMN ... NOT NULL without a DEFAULT',
  lock: 'AccessExclusiveLock on the table',
  why: 'On a table that holds rows the statement fails (the existing rows have no value); the deploy stops half-way.',
  fix: 'Add the column with a constant DEFAULT (a catalog update since PostgreSQL 11), or add it nullable, backfill in batches, then add NOT NULL the safe way (see set-not-null-without-check).',
  example: { bad: 'ALTER TABLE users ADD COLUMN locale TEXT NOT NULL;', good: "ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';" },
  check: (s, ctx) => {
    const a = existingAlter(s, ctx);
    if (!a) return [];
    return a.cmds
      .filter((c) => c.subtype === 'AT_AddColumn' && c.column)
      .filter((c) => {
        const cons = columnConstraints(c.column!);
        return (
          cons.some((k) => k.contype === 'CONSTR_NOTNULL' || k.contype === 'CONSTR_PRIMARY') &&
          !cons.some((k) => ['CONSTR_DEFAULT', 'CONSTR_GENERATED', 'CONSTR_IDENTITY'].includes(String(k.contype)))
        );
      })
      .map((c) => ({
        at: firstLocation(c.column),
        table: shown(a.rel),
        mode: 'AccessExclusiveLock' as const,
        message: `ADD COLUMN ${String(c.column!.colname)} NOT NULL without a DEFAULT fails on ${shown(a.rel)} as soon as it holds a row`,
      }));
  },
};

export const addingFieldWithVolatileDefault: Rule = {
  id: 'adding-field-with-volatile-default',
  severity: 'error',
  title: 'ADD COLUMN with a volatile default',
  lock: 'AccessExclusiveLock on the table while it is rewritten',
  why: 'A volatile DEFAULT (random(), gen_random_uuid(), clock_timestamp(), nextval() of a serial...) or a STORED generated column is computed for every existing row: the whole table is rewritten under a lock that blocks reads and writes.',
  fix: 'Add the column without a default (or with a constant one), then SET DEFAULT for new rows, and backfill existing rows in batches (a `-- chatgenius:no-transaction` file, or a job outside migrations).',
  example: {
    bad: 'ALTER TABLE messages ADD COLUMN token UUID DEFAULT gen_random_uuid();',
    good: 'ALTER TABLE messages ADD COLUMN token UUID;\nALTER TABLE messages ALTER COLUMN token SET DEFAULT gen_random_uuid();',
  },
  check: (s, ctx) => {
    const a = existingAlter(s, ctx);
    if (!a) return [];
    const hits: Hit[] = [];
    for (const c of a.cmds) {
      if (c.subtype !== 'AT_AddColumn' || !c.column) continue;
      const why = rewritingDefault(c.column);
      if (why)
        hits.push({
          at: firstLocation(c.column),
          table: shown(a.rel),
          mode: 'AccessExclusiveLock',
          message: `ADD COLUMN ${String(c.column.colname)} rewrites ${shown(a.rel)}: ${why}`,
        });
    }
    return hits;
  },
};

export const changingColumnType: Rule = {
  id: 'changing-column-type',
  severity: 'error',
  title: 'ALTER COLUMN ... TYPE',
  lock: 'AccessExclusiveLock on the table while it is rewritten and its indexes rebuilt',
  why: 'Most type changes rewrite every row and rebuild every index of the table while reads and writes wait.',
  fix: 'Add a new column of the new type, write both from the app, backfill in batches, switch reads, then drop the old column in a later migration. (varchar(n) -> text or a longer varchar is a catalog update: acknowledge it with a directive.)',
  example: { bad: 'ALTER TABLE messages ALTER COLUMN content TYPE VARCHAR(4000);', good: 'ALTER TABLE messages ADD COLUMN content_v2 VARCHAR(4000);' },
  check: (s, ctx) => {
    const a = existingAlter(s, ctx);
    if (!a) return [];
    return a.cmds
      .filter((c) => c.subtype === 'AT_AlterColumnType')
      .map((c) => ({
        at: firstLocation(c.column),
        table: shown(a.rel),
        mode: 'AccessExclusiveLock' as const,
        message: `ALTER COLUMN ${c.name ?? ''} TYPE rewrites ${shown(a.rel)} and its indexes under an ACCESS EXCLUSIVE lock`,
      }));
  },
};

export const renamingColumn: Rule = {
  id: 'renaming-column',
  severity: 'error',
  title: 'RENAME COLUMN',
  lock: 'AccessExclusiveLock on the table (brief)',
  why: 'The running app still reads and writes the old name: every query that names it fails from the moment the migration commits.',
  fix: 'Add the new column, write both, backfill, move the app to the new name, then drop the old column in a later release (or acknowledge with a directive once no running code uses the old name).',
  example: { bad: 'ALTER TABLE users RENAME COLUMN username TO handle;', good: 'ALTER TABLE users ADD COLUMN handle VARCHAR(50);' },
  check: (s, ctx) => {
    if (s.kind !== 'RenameStmt' || s.node.renameType !== 'OBJECT_COLUMN' || ctx.direction === 'down') return [];
    const rel = relOf(s.node.relation);
    if (!rel || isNew(ctx, rel)) return [];
    return [
      {
        at: rel.location,
        table: shown(rel),
        mode: 'AccessExclusiveLock',
        message: `RENAME COLUMN ${String(s.node.subname)} of ${shown(rel)} breaks every running query that uses the old name`,
      },
    ];
  },
};

export const banDropColumn: Rule = {
  id: 'ban-drop-column',
  severity: 'error',
  title: 'DROP COLUMN',
  lock: 'AccessExclusiveLock on the table (brief)',
  why: 'The running app may still select or insert the column; its data is gone for good.',
  fix: 'Stop using the column in the app and deploy that first; then drop it in a later migration with `-- chatgenius:allow ban-drop-column <why it is unused>`.',
  example: {
    bad: 'ALTER TABLE users DROP COLUMN avatar_url;',
    good: '-- chatgenius:allow ban-drop-column the app stopped reading avatar_url in release 42\nALTER TABLE users DROP COLUMN avatar_url;',
  },
  check: (s, ctx) => {
    if (ctx.direction === 'down') return [];
    const a = existingAlter(s, ctx);
    if (!a) return [];
    return a.cmds
      .filter((c) => c.subtype === 'AT_DropColumn')
      .map((c) => ({
        table: shown(a.rel),
        mode: 'AccessExclusiveLock' as const,
        message: `DROP COLUMN ${c.name ?? ''} of ${shown(a.rel)} breaks running code that still uses it and destroys its data`,
      }));
  },
};
