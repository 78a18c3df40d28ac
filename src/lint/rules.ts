/**
 * The migration safety rules: ONE table, each row a rule's documentation (the lock it takes, why
 * it hurts, the safe rewrite, a bad and a good example) and, for statement rules, a pure check
 * over one parsed statement and what the file did before it. The README's "Migration safety"
 * section and the tests are built from this table.
 *
 * Modelled on squawk's lock and safety rules and strong_migrations' messages.
 */
import { alterCmds, columnConstraints, dropObjects, firstLocation, names, relOf, shown, walk, type Node, type RelName } from './ast.js';
import type { ParsedStatement } from './parser.js';
import { LOCK_MODES, type LockMode } from './locks.js';

export { LOCK_MODES, LOCK_BLOCKS, blocksWrites, strongest, type LockMode } from './locks.js';

export type Severity = 'error' | 'warning';

/** The file's state as the statements are read in order (kept by lint.ts). */
export interface RuleContext {
  direction: 'up' | 'down';
  /**
   * False when the engine runs the file statement by statement: the first line carries
   * `-- chatgenius:no-transaction`, or the engine classifies the file as written in online forms.
   */
  transactional: boolean;
  /** Tables (lower-case names) created earlier in this same file: empty, nobody uses them yet. */
  createdHere: ReadonlySet<string>;
  /** Constraints added NOT VALID earlier in this file: name -> table. */
  notValidHere: ReadonlyMap<string, string>;
  /** `table.column` pairs with a validated CHECK (column IS NOT NULL), this file or an earlier one. */
  validatedNotNull: ReadonlySet<string>;
  /** CHECK (column IS NOT NULL) constraints seen so far: name -> `table.column`. */
  notNullChecks: ReadonlyMap<string, string>;
  /** The strongest lock the file's other statements (not LOCK TABLE) take on each table. */
  fileLocks: ReadonlyMap<string, LockMode>;
}

/** One thing a check found in a statement. */
export interface Hit {
  /** Byte offset in the file's text (the parser's location), else the statement's start. */
  at?: number;
  table?: string;
  mode?: LockMode;
  /** What exactly is wrong here (the rule's doc row adds why and the fix). */
  message: string;
}

export interface Rule {
  id: string;
  severity: Severity;
  title: string;
  /** The lock it takes and on what (doc). */
  lock: string;
  why: string;
  fix: string;
  /** A minimal bad file and its safe rewrite (the tests run both). */
  example?: { bad: string; good: string; goodNoTransaction?: boolean };
  check?: (s: ParsedStatement, ctx: RuleContext) => Hit[];
}

const NT = '-- chatgenius:no-transaction\n';

const isNew = (ctx: RuleContext, r: RelName | undefined) => !!r && ctx.createdHere.has(r.name);

function alterTarget(s: ParsedStatement): RelName | undefined {
  return s.kind === 'AlterTableStmt' && (s.node.objtype === undefined || s.node.objtype === 'OBJECT_TABLE') ? relOf(s.node.relation) : undefined;
}

/** ALTER TABLE commands of an existing table (not one created earlier in this file). */
function existingAlter(s: ParsedStatement, ctx: RuleContext): { rel: RelName; cmds: ReturnType<typeof alterCmds> } | undefined {
  const rel = alterTarget(s);
  if (!rel || isNew(ctx, rel)) return undefined;
  return { rel, cmds: alterCmds(s.node) };
}

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

function isNotNullCheck(c: Node): string | undefined {
  if (c.contype !== 'CONSTR_CHECK') return undefined;
  const t = (c.raw_expr as { NullTest?: Node } | undefined)?.NullTest;
  if (t?.nulltesttype !== 'IS_NOT_NULL') return undefined;
  const col = names((t.arg as { ColumnRef?: Node } | undefined)?.ColumnRef?.fields);
  return col.length === 1 ? col[0] : undefined;
}

/** The CHECK (col IS NOT NULL) constraint's column, when `c` is one. */
export const notNullCheckColumn = isNotNullCheck;

export const RULES: readonly Rule[] = [
  {
    id: 'require-concurrent-index-creation',
    severity: 'error',
    title: 'CREATE INDEX without CONCURRENTLY',
    lock: 'ShareLock on the table for the whole index build',
    why: 'Every INSERT, UPDATE and DELETE on the table waits until the index is built: minutes on a big table.',
    fix: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS ... in a file whose first line is `-- chatgenius:no-transaction` (ShareUpdateExclusiveLock: reads and writes go on). If it fails it leaves an INVALID index: DROP INDEX CONCURRENTLY it and run again.',
    example: {
      bad: 'CREATE INDEX messages_user_idx ON messages (user_id);',
      good: `${NT}CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_user_idx ON messages (user_id);`,
    },
    check: (s, ctx) => {
      if (s.kind !== 'IndexStmt' || s.node.concurrent) return [];
      const rel = relOf(s.node.relation);
      if (!rel || isNew(ctx, rel)) return [];
      return [
        {
          at: rel.location,
          table: shown(rel),
          mode: 'ShareLock',
          message: `CREATE INDEX ${String(s.node.idxname ?? '')} on ${shown(rel)} without CONCURRENTLY blocks writes to ${shown(rel)} while it builds`.replace('  ', ' '),
        },
      ];
    },
  },
  {
    id: 'require-concurrent-index-deletion',
    severity: 'warning',
    title: 'DROP INDEX without CONCURRENTLY',
    lock: "AccessExclusiveLock on the index's table",
    why: 'The drop is quick, but it queues behind every running query on the table, and everything queues behind it.',
    fix: 'DROP INDEX CONCURRENTLY IF EXISTS ... in a file whose first line is `-- chatgenius:no-transaction`.',
    example: { bad: 'DROP INDEX messages_user_idx;', good: `${NT}DROP INDEX CONCURRENTLY IF EXISTS messages_user_idx;` },
    check: (s) => {
      if (s.kind !== 'DropStmt' || s.node.removeType !== 'OBJECT_INDEX' || s.node.concurrent) return [];
      return dropObjects(s.node).map((o) => ({
        mode: 'AccessExclusiveLock' as const,
        message: `DROP INDEX ${o.join('.')} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its table`,
      }));
    },
  },
  {
    id: 'constraint-missing-not-valid',
    severity: 'error',
    title: 'FOREIGN KEY or CHECK validated under lock',
    lock: 'FOREIGN KEY: ShareRowExclusiveLock on both tables; CHECK: AccessExclusiveLock on the table; held while every row is checked',
    why: 'Adding the constraint checks every existing row while the lock is held: writes (for CHECK, reads too) wait for the whole scan. VALIDATE in the same transaction as the ADD keeps that lock just the same.',
    fix: 'ADD CONSTRAINT ... NOT VALID (a catalog update), then ALTER TABLE ... VALIDATE CONSTRAINT ... in its own transaction: a later migration, or the next statement of a `-- chatgenius:no-transaction` file (VALIDATE takes ShareUpdateExclusiveLock: reads and writes go on).',
    example: {
      bad: 'ALTER TABLE files ADD CONSTRAINT files_size_check CHECK (size >= 0);',
      good: `${NT}ALTER TABLE files ADD CONSTRAINT files_size_check CHECK (size >= 0) NOT VALID;\nALTER TABLE files VALIDATE CONSTRAINT files_size_check;`,
    },
    check: (s, ctx) => {
      const a = existingAlter(s, ctx);
      if (!a) return [];
      const hits: Hit[] = [];
      for (const c of a.cmds) {
        const k = c.constraint;
        if (c.subtype === 'AT_AddConstraint' && k && (k.contype === 'CONSTR_FOREIGN' || k.contype === 'CONSTR_CHECK') && !k.skip_validation) {
          const fk = k.contype === 'CONSTR_FOREIGN';
          const ref = fk ? relOf(k.pktable) : undefined;
          hits.push({
            at: firstLocation(k),
            table: shown(a.rel),
            mode: fk ? 'ShareRowExclusiveLock' : 'AccessExclusiveLock',
            message:
              `${fk ? 'FOREIGN KEY' : 'CHECK'} ${String(k.conname ?? '')} on ${shown(a.rel)} is validated while holding ${fk ? `ShareRowExclusiveLock on ${shown(a.rel)}${ref ? ` and ${shown(ref)}` : ''}` : `AccessExclusiveLock on ${shown(a.rel)}`}`.replace(
                '  ',
                ' ',
              ),
          });
        }
        if (c.subtype === 'AT_ValidateConstraint' && ctx.transactional && c.name && ctx.notValidHere.has(c.name)) {
          hits.push({
            table: shown(a.rel),
            mode: 'AccessExclusiveLock',
            message: `VALIDATE CONSTRAINT ${c.name} runs in the same transaction as its ADD ... NOT VALID, so the ADD's lock is held during the scan`,
          });
        }
      }
      return hits;
    },
  },
  {
    id: 'set-not-null-without-check',
    severity: 'error',
    title: 'SET NOT NULL without a validated CHECK',
    lock: 'AccessExclusiveLock on the table while every row is scanned',
    why: 'PostgreSQL scans the whole table to prove there is no NULL, holding a lock that blocks reads and writes.',
    fix: 'ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c (its own transaction); then SET NOT NULL uses the validated CHECK and skips the scan (PostgreSQL 12+); then DROP CONSTRAINT c.',
    example: {
      bad: 'ALTER TABLE users ALTER COLUMN email SET NOT NULL;',
      good: `${NT}ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\nALTER TABLE users DROP CONSTRAINT users_email_not_null;`,
    },
    check: (s, ctx) => {
      const a = existingAlter(s, ctx);
      if (!a) return [];
      return a.cmds
        .filter((c) => c.subtype === 'AT_SetNotNull' && c.name && !ctx.validatedNotNull.has(`${a.rel.name}.${c.name}`))
        .map((c) => ({
          table: shown(a.rel),
          mode: 'AccessExclusiveLock' as const,
          message: `SET NOT NULL on ${shown(a.rel)}.${c.name} scans the table under an ACCESS EXCLUSIVE lock (no validated CHECK (${c.name} IS NOT NULL) found before it)`,
        }));
    },
  },
  {
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
  },
  {
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
  },
  {
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
  },
  {
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
  },
  {
    id: 'renaming-table',
    severity: 'error',
    title: 'RENAME a table',
    lock: 'AccessExclusiveLock on the table (brief)',
    why: 'The running app still uses the old name: its queries fail from the moment the migration commits.',
    fix: 'Create the new table (or a view with the new name), move the app, then drop the old name in a later release; or acknowledge with a directive once no running code uses the old name.',
    example: { bad: 'ALTER TABLE files RENAME TO attachments;', good: 'CREATE VIEW attachments AS SELECT * FROM files;' },
    check: (s, ctx) => {
      if (s.kind !== 'RenameStmt' || s.node.renameType !== 'OBJECT_TABLE' || ctx.direction === 'down') return [];
      const rel = relOf(s.node.relation);
      if (!rel || isNew(ctx, rel)) return [];
      return [
        {
          at: rel.location,
          table: shown(rel),
          mode: 'AccessExclusiveLock',
          message: `RENAME of table ${shown(rel)} to ${String(s.node.newname)} breaks every running query that uses the old name`,
        },
      ];
    },
  },
  {
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
  },
  {
    id: 'ban-drop-table',
    severity: 'error',
    title: 'DROP TABLE',
    lock: 'AccessExclusiveLock on the table',
    why: 'The running app may still use the table; its rows are gone for good.',
    fix: 'Stop using the table in the app and deploy that first; then drop it in a later migration with `-- chatgenius:allow ban-drop-table <why it is unused>`.',
    example: { bad: 'DROP TABLE user_status;', good: '-- chatgenius:allow ban-drop-table unused since release 42, data exported\nDROP TABLE user_status;' },
    check: (s, ctx) => {
      if (s.kind !== 'DropStmt' || s.node.removeType !== 'OBJECT_TABLE' || ctx.direction === 'down') return [];
      return dropObjects(s.node)
        .filter((o) => !ctx.createdHere.has(o.at(-1)!))
        .map((o) => ({
          table: o.join('.'),
          mode: 'AccessExclusiveLock' as const,
          message: `DROP TABLE ${o.join('.')} breaks running code that still uses it and destroys its rows`,
        }));
    },
  },
  {
    id: 'disallowed-unique-constraint',
    severity: 'error',
    title: 'ADD UNIQUE / PRIMARY KEY without an existing index',
    lock: 'AccessExclusiveLock on the table while the index is built',
    why: 'The constraint builds its index under a lock that blocks reads and writes for the whole build.',
    fix: 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx ... (no-transaction file), then ALTER TABLE ... ADD CONSTRAINT c UNIQUE USING INDEX idx (or PRIMARY KEY USING INDEX idx): a catalog update.',
    example: {
      bad: 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);',
      good: 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;',
    },
    check: (s, ctx) => {
      const a = existingAlter(s, ctx);
      if (!a) return [];
      return a.cmds
        .filter(
          (c) =>
            c.subtype === 'AT_AddConstraint' &&
            c.constraint &&
            (c.constraint.contype === 'CONSTR_UNIQUE' || c.constraint.contype === 'CONSTR_PRIMARY') &&
            !c.constraint.indexname,
        )
        .map((c) => ({
          at: firstLocation(c.constraint),
          table: shown(a.rel),
          mode: 'AccessExclusiveLock' as const,
          message: `ADD ${c.constraint!.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE'} on ${shown(a.rel)} builds its index under an ACCESS EXCLUSIVE lock`,
        }));
    },
  },
  {
    id: 'ban-vacuum-full',
    severity: 'error',
    title: 'VACUUM FULL',
    lock: 'AccessExclusiveLock on the table while it is rewritten',
    why: 'VACUUM FULL rewrites the whole table; reads and writes wait until it is done.',
    fix: 'Plain VACUUM (no lock on reads and writes), or pg_repack outside migrations.',
    example: { bad: `${NT}VACUUM FULL messages;`, good: `${NT}VACUUM (ANALYZE) messages;` },
    check: (s) => {
      if (s.kind !== 'VacuumStmt') return [];
      const full = ((s.node.options as unknown[]) ?? []).some((o) => (o as { DefElem?: { defname?: string } }).DefElem?.defname === 'full');
      if (!full) return [];
      const rels = ((s.node.rels as unknown[]) ?? []).map((r) => relOf((r as { VacuumRelation?: Node }).VacuumRelation?.relation)).filter((r): r is RelName => !!r);
      return (rels.length ? rels : [undefined]).map((r) => ({
        ...(r ? { at: r.location, table: shown(r) } : {}),
        mode: 'AccessExclusiveLock' as const,
        message: `VACUUM FULL ${r ? shown(r) : '(every table)'} rewrites it under an ACCESS EXCLUSIVE lock`,
      }));
    },
  },
  {
    id: 'ban-cluster',
    severity: 'error',
    title: 'CLUSTER',
    lock: 'AccessExclusiveLock on the table while it is rewritten',
    why: 'CLUSTER rewrites the table in index order; reads and writes wait until it is done.',
    fix: 'Do not reorder a live table in a migration; pg_repack --order-by can do it online.',
    example: { bad: 'CLUSTER messages USING messages_pkey;', good: 'ANALYZE messages;' },
    check: (s) => {
      if (s.kind !== 'ClusterStmt') return [];
      const rel = relOf(s.node.relation);
      return [
        {
          ...(rel ? { at: rel.location, table: shown(rel) } : {}),
          mode: 'AccessExclusiveLock',
          message: `CLUSTER ${rel ? shown(rel) : ''} rewrites the table under an ACCESS EXCLUSIVE lock`.replace('  ', ' '),
        },
      ];
    },
  },
  {
    id: 'ban-lock-table',
    severity: 'error',
    title: 'LOCK TABLE',
    lock: "the mode named, until the migration's transaction ends",
    why: 'An explicit table lock is held for the rest of the migration; everything that conflicts with it waits that long.',
    fix: "Let each statement take its own (shortest) lock; the engine's lock_timeout keeps each wait short and retried. Taking up front exactly the mode the file's statements take anyway (to fix the lock order, children before parents) is not flagged.",
    example: {
      bad: 'LOCK TABLE messages IN ACCESS EXCLUSIVE MODE;\nCREATE TRIGGER m_t AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION f();',
      good: 'LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE;\nCREATE TRIGGER m_t AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION f();',
    },
    check: (s, ctx) => {
      if (s.kind !== 'LockStmt') return [];
      const mode = LOCK_MODES[Number(s.node.mode) - 1] ?? 'AccessExclusiveLock';
      const rels = ((s.node.relations as unknown[]) ?? []).map((r) => relOf((r as { RangeVar?: Node }).RangeVar)).filter((r): r is RelName => !!r);
      // Taking up front the mode the file's statements take anyway only fixes the order of the
      // locks (no deadlock with the app's inserts): that is not flagged; a stronger one is.
      return rels
        .filter((r) => {
          const later = ctx.fileLocks.get(r.name);
          return !later || LOCK_MODES.indexOf(mode) > LOCK_MODES.indexOf(later);
        })
        .map((r) => ({
          at: r.location,
          table: shown(r),
          mode,
          message: `LOCK TABLE ${shown(r)} holds ${mode} until the migration ends, stronger than the file's statements need`,
        }));
    },
  },
  {
    id: 'backfill-without-where',
    severity: 'error',
    title: 'UPDATE or DELETE of a whole table',
    lock: 'RowExclusiveLock on the table plus a row lock on every row, until the transaction ends',
    why: 'One statement touches every row in one long transaction: concurrent writes to those rows wait until it commits, and the table bloats.',
    fix: 'Backfill in batches (WHERE id > $last ORDER BY id LIMIT 10000, one transaction each) in a `-- chatgenius:no-transaction` file or a job outside migrations.',
    example: {
      bad: "UPDATE users SET locale = 'en';",
      good: `${NT}UPDATE users SET locale = 'en' WHERE id IN (SELECT id FROM users WHERE locale IS NULL ORDER BY id LIMIT 10000);`,
    },
    check: (s, ctx) => {
      if ((s.kind !== 'UpdateStmt' && s.kind !== 'DeleteStmt') || s.node.whereClause) return [];
      const rel = relOf(s.node.relation);
      if (!rel || isNew(ctx, rel)) return [];
      return [
        {
          at: rel.location,
          table: shown(rel),
          mode: 'RowExclusiveLock',
          message: `${s.kind === 'UpdateStmt' ? 'UPDATE' : 'DELETE'} without WHERE locks every row of ${shown(rel)} until the migration commits`,
        },
      ];
    },
  },
  {
    id: 'concurrently-in-transaction',
    severity: 'error',
    title: 'CONCURRENTLY in a transactional file',
    lock: 'none of its own: the file cannot run as one transaction',
    why: 'CREATE/DROP INDEX CONCURRENTLY (and REINDEX CONCURRENTLY) cannot run inside a transaction block: the file silently runs statement by statement, and a failure half-way leaves it half applied.',
    fix: "Put `-- chatgenius:no-transaction` on the file's first line, keep such a file to statements that can be re-run (IF NOT EXISTS / IF EXISTS), and keep other changes in transactional files.",
    example: {
      bad: 'DROP INDEX CONCURRENTLY IF EXISTS messages_user_idx;',
      good: `${NT}DROP INDEX CONCURRENTLY IF EXISTS messages_user_idx;`,
    },
    check: (s, ctx) => {
      if (!ctx.transactional) return [];
      const concurrent =
        ((s.kind === 'IndexStmt' || s.kind === 'DropStmt') && s.node.concurrent === true) ||
        (s.kind === 'ReindexStmt' && ((s.node.params as unknown[]) ?? []).some((p) => (p as { DefElem?: { defname?: string } }).DefElem?.defname === 'concurrently'));
      if (!concurrent) return [];
      return [
        {
          message: `${s.text.split(/\s+/).slice(0, 3).join(' ').toUpperCase()} cannot run in a transaction, and this file has no \`-- chatgenius:no-transaction\` first line`,
        },
      ];
    },
  },
  {
    id: 'concurrent-index-not-idempotent',
    severity: 'warning',
    title: 'CREATE INDEX CONCURRENTLY without IF NOT EXISTS',
    lock: 'ShareUpdateExclusiveLock on the table (reads and writes go on)',
    why: 'A failed concurrent build leaves an INVALID index behind; running the file again then fails on "already exists".',
    fix: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS ... (and DROP INDEX CONCURRENTLY IF EXISTS the INVALID one before retrying).',
    example: {
      bad: `${NT}CREATE INDEX CONCURRENTLY messages_user_idx ON messages (user_id);`,
      good: `${NT}CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_user_idx ON messages (user_id);`,
    },
    check: (s) => {
      if (s.kind !== 'IndexStmt' || !s.node.concurrent || s.node.if_not_exists || !s.node.idxname) return [];
      const rel = relOf(s.node.relation);
      return [
        {
          ...(rel ? { at: rel.location, table: shown(rel) } : {}),
          mode: 'ShareUpdateExclusiveLock',
          message: `CREATE INDEX CONCURRENTLY ${String(s.node.idxname)} without IF NOT EXISTS cannot simply be re-run after a failure`,
        },
      ];
    },
  },
  {
    id: 'transaction-control',
    severity: 'error',
    title: 'BEGIN / COMMIT inside a migration file',
    lock: 'n/a',
    why: 'The engine wraps each migration and its journal row in one transaction of its own; a COMMIT inside the file would split them (the engine refuses such a file).',
    fix: 'Remove the BEGIN/COMMIT lines; for statements that cannot run in a transaction use `-- chatgenius:no-transaction` on the first line.',
    example: { bad: 'BEGIN;\nSELECT 1;\nCOMMIT;', good: 'SELECT 1;' },
    check: (s) => (s.kind === 'TransactionStmt' ? [{ message: `${String(s.node.kind).replace('TRANS_STMT_', '')} inside a migration file` }] : []),
  },
  {
    id: 'missing-down-file',
    severity: 'error',
    title: 'An up file without its down file',
    lock: 'n/a',
    why: 'Without NNNN_name.down.sql the migration cannot be rolled back (and the engine refuses the directory).',
    fix: 'Write NNNN_name.down.sql that undoes the up file exactly, in reverse order (`chatgenius-db new NAME` writes both).',
  },
  {
    id: 'down-does-not-undo-up',
    severity: 'error',
    title: 'A down file that leaves objects of its up behind',
    lock: 'n/a',
    why: 'After a rollback the objects the up created are still there: running the up again fails on "already exists", and the schema is not what the journal says.',
    fix: 'DROP (in reverse order) every table, index, function, trigger, type, view, sequence, constraint and column the up file creates.',
  },
  {
    id: 'syntax-error',
    severity: 'error',
    title: 'A file PostgreSQL cannot parse',
    lock: 'n/a',
    why: 'PostgreSQL would refuse the file when the migration runs.',
    fix: 'Fix the SQL at the line and column shown.',
  },
  {
    id: 'invalid-directive',
    severity: 'error',
    title: 'A chatgenius:allow directive without a known rule or a reason',
    lock: 'n/a',
    why: 'An acknowledgement must name the rule it silences and say why the operation is safe here, so a reviewer can check it.',
    fix: 'Write `-- chatgenius:allow <rule-id> <reason>`, the rule id as listed by `chatgenius-db lint --help`.',
  },
];

export const RULE_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((r) => [r.id, r]));
