/**
 * Table lock modes and the lock each kind of statement takes, as the PostgreSQL manual documents
 * them: the rules' lock column, the plan's fallback, and the known mode of CONCURRENTLY (which
 * cannot be traced inside a transaction). Pure.
 */
import { alterCmds, dropObjects, relOf, shown, type Node } from './ast.js';
import type { ParsedStatement } from './parser.js';

/** PostgreSQL's table lock modes, weakest first (the names pg_locks reports). */
export const LOCK_MODES = [
  'AccessShareLock',
  'RowShareLock',
  'RowExclusiveLock',
  'ShareUpdateExclusiveLock',
  'ShareLock',
  'ShareRowExclusiveLock',
  'ExclusiveLock',
  'AccessExclusiveLock',
] as const;
export type LockMode = (typeof LOCK_MODES)[number];

/** What each mode blocks, for people (from the PostgreSQL manual's lock table). */
export const LOCK_BLOCKS: Record<LockMode, string> = {
  AccessShareLock: 'only ACCESS EXCLUSIVE (reads and writes go on)',
  RowShareLock: 'EXCLUSIVE and ACCESS EXCLUSIVE',
  RowExclusiveLock: 'SHARE and stronger (reads and writes go on)',
  ShareUpdateExclusiveLock: 'schema changes, VACUUM and other ShareUpdateExclusive holders (reads and writes go on)',
  ShareLock: 'every INSERT, UPDATE and DELETE (reads go on)',
  ShareRowExclusiveLock: 'every INSERT, UPDATE and DELETE (reads go on)',
  ExclusiveLock: 'every write and SELECT ... FOR UPDATE (plain reads go on)',
  AccessExclusiveLock: 'everything, reads included',
};

/** Does this mode stop the app's ordinary INSERT/UPDATE/DELETE? */
export function blocksWrites(mode: LockMode): boolean {
  return LOCK_MODES.indexOf(mode) >= LOCK_MODES.indexOf('ShareLock');
}

export function strongest(a: LockMode, b: LockMode): LockMode {
  return LOCK_MODES.indexOf(a) >= LOCK_MODES.indexOf(b) ? a : b;
}

/** The known lock of a CONCURRENTLY statement (it cannot be traced inside a transaction). */
export function concurrentLock(s: ParsedStatement): { table?: string; mode: LockMode } | null {
  if (s.kind === 'IndexStmt' && s.node.concurrent) {
    const rel = relOf(s.node.relation);
    return { ...(rel ? { table: shown(rel) } : {}), mode: 'ShareUpdateExclusiveLock' };
  }
  if (s.kind === 'DropStmt' && s.node.concurrent) return { mode: 'ShareUpdateExclusiveLock' };
  if (s.kind === 'ReindexStmt') {
    const rel = relOf(s.node.relation);
    return { ...(rel ? { table: shown(rel) } : {}), mode: 'ShareUpdateExclusiveLock' };
  }
  return null;
}

/** Pure: the lock a statement takes as the manual documents it (fallback and CONCURRENTLY). */
export function derivedLocks(s: ParsedStatement): Array<{ table: string; mode: LockMode }> {
  const c = concurrentLock(s);
  if (c) return c.table ? [{ table: c.table, mode: c.mode }] : [];
  const rel = (v: unknown) => {
    const r = relOf(v);
    return r ? shown(r) : undefined;
  };
  const one = (t: string | undefined, mode: LockMode) => (t ? [{ table: t, mode }] : []);
  const n = s.node;
  switch (s.kind) {
    case 'IndexStmt':
      return one(rel(n.relation), 'ShareLock');
    case 'AlterTableStmt': {
      const cmds = alterCmds(n);
      const t = rel(n.relation);
      if (cmds.every((c) => c.subtype === 'AT_ValidateConstraint')) return one(t, 'ShareUpdateExclusiveLock');
      if (cmds.every((c) => c.subtype === 'AT_AddConstraint' && c.constraint?.contype === 'CONSTR_FOREIGN')) {
        return [...one(t, 'ShareRowExclusiveLock'), ...cmds.flatMap((c) => one(rel(c.constraint!.pktable), 'ShareRowExclusiveLock'))];
      }
      return one(t, 'AccessExclusiveLock');
    }
    case 'RenameStmt':
      return one(rel(n.relation), 'AccessExclusiveLock');
    case 'DropStmt':
      return n.removeType === 'OBJECT_TABLE' ? dropObjects(n).map((o) => ({ table: o.join('.'), mode: 'AccessExclusiveLock' as const })) : [];
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
      return one(rel(n.relation), 'RowExclusiveLock');
    case 'CreateTrigStmt':
      return one(rel(n.relation), 'ShareRowExclusiveLock');
    case 'ClusterStmt':
      return one(rel(n.relation), 'AccessExclusiveLock');
    case 'VacuumStmt': {
      const full = ((n.options as unknown[]) ?? []).some((o) => (o as { DefElem?: { defname?: string } }).DefElem?.defname === 'full');
      return ((n.rels as unknown[]) ?? []).flatMap((r) =>
        one(rel((r as { VacuumRelation?: Node }).VacuumRelation?.relation), full ? 'AccessExclusiveLock' : 'ShareUpdateExclusiveLock'),
      );
    }
    case 'LockStmt':
      return ((n.relations as unknown[]) ?? []).flatMap((r) => one(rel((r as { RangeVar?: Node }).RangeVar), LOCK_MODES[Number(n.mode) - 1] ?? 'AccessExclusiveLock'));
    default:
      return [];
  }
}
