/**
 * What a migration safety rule is (its documentation row and its pure check over one parsed
 * statement) and the helpers the rule families share. The table of rules is rules.ts.
 */
import { alterCmds, names, relOf, type Node, type RelName } from './ast.js';
import type { ParsedStatement } from './parser.js';
import type { LockMode } from './locks.js';

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

export const NT = '-- chatgenius:no-transaction\n';

export const isNew = (ctx: RuleContext, r: RelName | undefined) => !!r && ctx.createdHere.has(r.name);

export function alterTarget(s: ParsedStatement): RelName | undefined {
  return s.kind === 'AlterTableStmt' && (s.node.objtype === undefined || s.node.objtype === 'OBJECT_TABLE') ? relOf(s.node.relation) : undefined;
}

/** ALTER TABLE commands of an existing table (not one created earlier in this file). */
export function existingAlter(s: ParsedStatement, ctx: RuleContext): { rel: RelName; cmds: ReturnType<typeof alterCmds> } | undefined {
  const rel = alterTarget(s);
  if (!rel || isNew(ctx, rel)) return undefined;
  return { rel, cmds: alterCmds(s.node) };
}

/** The CHECK (col IS NOT NULL) constraint's column, when `c` is one. */
export function notNullCheckColumn(c: Node): string | undefined {
  if (c.contype !== 'CONSTR_CHECK') return undefined;
  const t = (c.raw_expr as { NullTest?: Node } | undefined)?.NullTest;
  if (t?.nulltesttype !== 'IS_NOT_NULL') return undefined;
  const col = names((t.arg as { ColumnRef?: Node } | undefined)?.ColumnRef?.fields);
  return col.length === 1 ? col[0] : undefined;
}
