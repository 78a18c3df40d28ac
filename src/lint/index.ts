/**
 * Lint: migration safety rules over PostgreSQL's own parse tree, and the lock analysis of a
 * plan. Returns findings and traces; never prints (the CLI does).
 */
export { lintDirectory, lintPairs, lintPairsWith, pairFiles, parseDirectives, undoneObjects, type Finding, type LintResult, type PairInput } from './lint.js';
export { RULES, RULE_BY_ID, LOCK_MODES, blocksWrites, type Rule, type LockMode, type Severity } from './rules.js';
export {
  lockPlan,
  tableStats,
  unsafeFindings,
  parseAllowUnsafe,
  findingsByVersion,
  type VersionFindings,
  type LockPlan,
  type PlannedMigration,
  type UnsafeFinding,
} from './plan.js';
export { findingsOf, memoryDir } from './memory.js';
export { traceLocks, type PlannedLock, type TableStats } from './trace.js';
