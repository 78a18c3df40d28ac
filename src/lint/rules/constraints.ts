/** Constraint rules: add and validate constraints without a long write-blocking scan. */
import { firstLocation, relOf, shown } from '../ast.js';
import { NT, existingAlter, type Hit, type Rule } from '../rule.js';

export const constraintMissingNotValid: Rule = {
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
};

export const setNotNullWithoutCheck: Rule = {
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
};
