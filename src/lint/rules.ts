/**
 * The migration safety rules: ONE table, each row a rule's documentation (the lock it takes, why
 * it hurts, the safe rewrite, a bad and a good example) and, for statement rules, a pure check
 * over one parsed statement and what the file did before it. The README's "Migration safety"
 * section and the tests are built from this table.
 *
 * Modelled on squawk's lock and safety rules and strong_migrations' messages.
 */
import {
  requireConcurrentIndexCreation,
  requireConcurrentIndexDeletion,
  disallowedUniqueConstraint,
  concurrentlyInTransaction,
  concurrentIndexNotIdempotent,
} from './rules/indexes.js';
import { constraintMissingNotValid, setNotNullWithoutCheck } from './rules/constraints.js';
import { addingRequiredField, addingFieldWithVolatileDefault, changingColumnType, renamingColumn, banDropColumn } from './rules/columns.js';
import { renamingTable, banDropTable, banVacuumFull, banCluster, banLockTable, backfillWithoutWhere } from './rules/tables.js';
import { transactionControl, missingDownFile, downDoesNotUndoUp, syntaxError, invalidDirective } from './rules/file.js';
import type { Rule } from './rule.js';

export { LOCK_MODES, LOCK_BLOCKS, blocksWrites, strongest, type LockMode } from './locks.js';
export { notNullCheckColumn, type Hit, type Rule, type RuleContext, type Severity } from './rule.js';
export { rewritingDefault } from './rules/columns.js';

/** The rules in the order the README documents them and lint reports ties. */
export const RULES: readonly Rule[] = [
  requireConcurrentIndexCreation,
  requireConcurrentIndexDeletion,
  constraintMissingNotValid,
  setNotNullWithoutCheck,
  addingRequiredField,
  addingFieldWithVolatileDefault,
  changingColumnType,
  renamingColumn,
  renamingTable,
  banDropColumn,
  banDropTable,
  disallowedUniqueConstraint,
  banVacuumFull,
  banCluster,
  banLockTable,
  backfillWithoutWhere,
  concurrentlyInTransaction,
  concurrentIndexNotIdempotent,
  transactionControl,
  missingDownFile,
  downDoesNotUndoUp,
  syntaxError,
  invalidDirective,
];

export const RULE_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((r) => [r.id, r]));
