/** Index rules: build and drop indexes without blocking writes, and without leaving a broken one. */
import { dropObjects, firstLocation, relOf, shown } from '../ast.js';
import { NT, isNew, existingAlter, type Rule } from '../rule.js';

export const requireConcurrentIndexCreation: Rule = {
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
};

export const requireConcurrentIndexDeletion: Rule = {
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
};

export const disallowedUniqueConstraint: Rule = {
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
};

export const concurrentlyInTransaction: Rule = {
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
};

export const concurrentIndexNotIdempotent: Rule = {
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
};
