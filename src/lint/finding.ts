/** What lint reports: a finding at a place in a file, made from the rule that found it. */
import type { LockMode } from './locks.js';
import type { Rule, Severity } from './rule.js';

export interface Finding {
  file: string;
  line: number;
  column: number;
  rule: string;
  severity: Severity;
  /** What is wrong at this place. */
  message: string;
  /** The lock it takes and on what ("ShareLock on messages"), when it takes one. */
  lock?: string;
  mode?: LockMode;
  table?: string;
  why: string;
  /** The safe rewrite. */
  fix: string;
  /** Set when the file acknowledges the rule (`-- chatgenius:allow <rule> <reason>`). */
  acknowledged?: string;
}

/** A finding of `rule` at file:line:column; in a down file a lock finding is a warning (a rollback is a deliberate act). */
export function findingOf(
  rule: Rule,
  file: string,
  line: number,
  column: number,
  message: string,
  extra: { table?: string; mode?: LockMode } = {},
  direction: 'up' | 'down' = 'up',
): Finding {
  const severity: Severity = direction === 'down' && extra.mode ? 'warning' : rule.severity;
  return {
    file,
    line,
    column,
    rule: rule.id,
    severity,
    message,
    ...(extra.mode ? { mode: extra.mode, lock: `${extra.mode}${extra.table ? ` on ${extra.table}` : ''}` } : {}),
    ...(extra.table ? { table: extra.table } : {}),
    why: rule.why,
    fix: rule.fix,
  };
}
