/** Table rules: rename, drop, rewrite, lock and backfill whole tables. */
import { dropObjects, relOf, shown, type Node, type RelName } from '../ast.js';
import { LOCK_MODES } from '../locks.js';
import { NT, isNew, type Rule } from '../rule.js';

export const renamingTable: Rule = {
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
};

export const banDropTable: Rule = {
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
};

export const banVacuumFull: Rule = {
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
};

export const banCluster: Rule = {
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
};

export const banLockTable: Rule = {
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
};

export const backfillWithoutWhere: Rule = {
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
};
