/** File rules: what the file as a whole does (transactions, its down file, syntax, directives); checked by lint.ts, not per statement. */
import type { Rule } from '../rule.js';

export const transactionControl: Rule = {
  id: 'transaction-control',
  severity: 'error',
  title: 'BEGIN / COMMIT inside a migration file',
  lock: 'n/a',
  why: 'The engine wraps each migration and its journal row in one transaction of its own; a COMMIT inside the file would split them (the engine refuses such a file).',
  fix: 'Remove the BEGIN/COMMIT lines; for statements that cannot run in a transaction use `-- chatgenius:no-transaction` on the first line.',
  example: { bad: 'BEGIN;\nSELECT 1;\nCOMMIT;', good: 'SELECT 1;' },
  check: (s) => (s.kind === 'TransactionStmt' ? [{ message: `${String(s.node.kind).replace('TRANS_STMT_', '')} inside a migration file` }] : []),
};

export const missingDownFile: Rule = {
  id: 'missing-down-file',
  severity: 'error',
  title: 'An up file without its down file',
  lock: 'n/a',
  why: 'Without NNNN_name.down.sql the migration cannot be rolled back (and the engine refuses the directory).',
  fix: 'Write NNNN_name.down.sql that undoes the up file exactly, in reverse order (`chatgenius-db new NAME` writes both).',
};

export const downDoesNotUndoUp: Rule = {
  id: 'down-does-not-undo-up',
  severity: 'error',
  title: 'A down file that leaves objects of its up behind',
  lock: 'n/a',
  why: 'After a rollback the objects the up created are still there: running the up again fails on "already exists", and the schema is not what the journal says.',
  fix: 'DROP (in reverse order) every table, index, function, trigger, type, view, sequence, constraint and column the up file creates.',
};

export const syntaxError: Rule = {
  id: 'syntax-error',
  severity: 'error',
  title: 'A file PostgreSQL cannot parse',
  lock: 'n/a',
  why: 'PostgreSQL would refuse the file when the migration runs.',
  fix: 'Fix the SQL at the line and column shown.',
};

export const invalidDirective: Rule = {
  id: 'invalid-directive',
  severity: 'error',
  title: 'A chatgenius:allow directive without a known rule or a reason',
  lock: 'n/a',
  why: 'An acknowledgement must name the rule it silences and say why the operation is safe here, so a reviewer can check it.',
  fix: 'Write `-- chatgenius:allow <rule-id> <reason>`, the rule id as listed by `chatgenius-db lint --help`.',
};
