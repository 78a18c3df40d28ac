/**
 * Lint migration files: parse each with PostgreSQL's own parser, run the rules table over its
 * statements in order (keeping what the file created so far), apply the file's acknowledgements
 * (`-- chatgenius:allow <rule> <reason>`), and check the pair: a missing down file, a down that
 * does not drop what its up created. Pure over texts (lintTexts); lintDirectory reads the files.
 *
 * Down files are linted too, with two differences: dropping and renaming are their job (the
 * drop/rename rules do not apply), and lock findings are warnings (a rollback is a deliberate,
 * confirmed act, not part of a routine deploy).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ChatgeniusError } from '../errors.js';
import { analyseSql, compareVersions, MIGRATION_FILE_NAME, NO_TRANSACTION_DIRECTIVE } from '../migrate/files.js';
import { lineColumn } from '../code-frame.js';
import { alterCmds, relOf } from './ast.js';
import { applyDirectives } from './directives.js';
import { type Finding, findingOf } from './finding.js';
import { undoneObjects } from './undo.js';
import { byteToUtf16, loadParser, parseSqlWith, SqlSyntaxError, type ParsedStatement } from './parser.js';
import { derivedLocks, strongest } from './locks.js';
import { notNullCheckColumn, RULE_BY_ID, RULES, type LockMode, type RuleContext } from './rules.js';

export type { Finding } from './finding.js';
export { parseDirectives } from './directives.js';
export { undoneObjects } from './undo.js';

export interface FileInput {
  /** The name findings carry (base name, or a path relative to the project). */
  file: string;
  text: string;
  direction: 'up' | 'down';
}

export interface PairInput {
  version: string;
  up?: FileInput;
  down?: FileInput;
}

export interface LintResult {
  /** Findings not acknowledged, in file order. */
  findings: Finding[];
  /** Findings silenced by a directive (kept for the plan and --verbose). */
  acknowledged: Finding[];
  files: number;
  errors: number;
  warnings: number;
}

/** State carried from one up file to the next (a CHECK validated in 0007 makes SET NOT NULL in 0008 safe). */
export interface LintState {
  notNullChecks: Map<string, string>;
  validatedNotNull: Set<string>;
}

export function newLintState(): LintState {
  return { notNullChecks: new Map(), validatedNotNull: new Set() };
}

type Parser = Awaited<ReturnType<typeof loadParser>>;

/** Parse a file; a syntax error becomes a finding. */
function parseFile(parser: Parser, f: FileInput): { statements: ParsedStatement[]; findings: Finding[] } {
  try {
    return { statements: parseSqlWith(parser, f.text), findings: [] };
  } catch (e) {
    if (e instanceof SqlSyntaxError) {
      return { statements: [], findings: [findingOf(RULE_BY_ID.get('syntax-error')!, f.file, e.line, e.column, e.message)] };
    }
    throw e;
  }
}

/** Lint one file's statements (pure given the parser). Updates `state` for the files after it. */
export function lintStatements(f: FileInput, statements: ParsedStatement[], state: LintState): Finding[] {
  const createdHere = new Set<string>();
  const notValidHere = new Map<string, string>();
  const fileLocks = new Map<string, LockMode>();
  for (const s of statements) {
    if (s.kind === 'LockStmt') continue;
    for (const d of derivedLocks(s)) {
      const t = d.table.split('.').at(-1)!;
      fileLocks.set(t, fileLocks.has(t) ? strongest(fileLocks.get(t)!, d.mode) : d.mode);
    }
  }
  const ctx: RuleContext = {
    direction: f.direction,
    transactional: runsInOneTransaction(f),
    fileLocks,
    createdHere,
    notValidHere,
    validatedNotNull: state.validatedNotNull,
    notNullChecks: state.notNullChecks,
  };
  const out: Finding[] = [];
  for (const s of statements) {
    for (const rule of RULES) {
      if (!rule.check) continue;
      for (const hit of rule.check(s, ctx)) {
        const at = hit.at !== undefined && hit.at >= 0 ? lineColumn(f.text, byteToUtf16(f.text, hit.at)) : { line: s.line, column: s.column };
        out.push(
          findingOf(rule, f.file, at.line, at.column, hit.message, { ...(hit.table ? { table: hit.table } : {}), ...(hit.mode ? { mode: hit.mode } : {}) }, f.direction),
        );
      }
    }
    track(s, ctx, createdHere, notValidHere, state);
  }
  return out;
}

/**
 * Does the engine run this file as one transaction? Not with the no-transaction first line, nor
 * when the engine's own analysis says the file is written in online forms (it then runs each
 * statement in a transaction of its own). The engine's rule, not a copy of it.
 */
function runsInOneTransaction(f: FileInput): boolean {
  if (NO_TRANSACTION_DIRECTIVE.test(f.text.split('\n', 1)[0] ?? '')) return false;
  try {
    const a = analyseSql(f.text, f.file) as { online?: boolean };
    return a.online !== true;
  } catch {
    return true; // BEGIN/COMMIT inside: the transaction-control rule reports it
  }
}

/** Remember what a statement created or validated, for the statements after it. */
function track(s: ParsedStatement, ctx: RuleContext, createdHere: Set<string>, notValidHere: Map<string, string>, state: LintState): void {
  if (s.kind === 'CreateStmt') {
    const r = relOf(s.node.relation);
    if (r) createdHere.add(r.name);
  }
  if (s.kind === 'CreateTableAsStmt') {
    const r = relOf((s.node.into as { rel?: unknown } | undefined)?.rel);
    if (r) createdHere.add(r.name);
  }
  if (s.kind !== 'AlterTableStmt') return;
  const rel = relOf(s.node.relation);
  if (!rel) return;
  for (const c of alterCmds(s.node)) {
    const k = c.constraint;
    if (c.subtype === 'AT_AddConstraint' && k) {
      const name = typeof k.conname === 'string' ? k.conname : undefined;
      const col = notNullCheckColumn(k);
      if (name && col) state.notNullChecks.set(name, `${rel.name}.${col}`);
      if (name && k.skip_validation) notValidHere.set(name, rel.name);
      // A CHECK added valid (on a new table, or acknowledged) already proves the column.
      if (col && !k.skip_validation) state.validatedNotNull.add(`${rel.name}.${col}`);
    }
    if (c.subtype === 'AT_ValidateConstraint' && c.name) {
      const pair = state.notNullChecks.get(c.name);
      if (pair) state.validatedNotNull.add(pair);
    }
  }
  void ctx;
}

const byPlace = (a: Finding, b: Finding) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column);

/** Lint migration pairs (in version order) with an already loaded parser. */
export function lintPairsWith(parser: Parser, pairs: PairInput[]): LintResult {
  const state = newLintState();
  const findings: Finding[] = [];
  const acknowledged: Finding[] = [];
  let files = 0;
  const sorted = [...pairs].sort((a, b) => compareVersions(a.version, b.version));
  for (const p of sorted) {
    const parsed: Partial<Record<'up' | 'down', ParsedStatement[] | undefined>> = {};
    for (const f of [p.up, p.down]) {
      if (!f) continue;
      files++;
      const { statements, findings: syntax } = parseFile(parser, f);
      const ok = syntax.length === 0;
      parsed[f.direction] = ok ? statements : undefined;
      // The cross-file state follows the up files only (the order a deploy applies them).
      const st = f.direction === 'up' ? state : newLintState();
      const own = ok ? lintStatements(f, statements, st) : syntax;
      const pair: Finding[] = [];
      if (f.direction === 'up' && !p.down) {
        pair.push(findingOf(RULE_BY_ID.get('missing-down-file')!, f.file, 1, 1, `${f.file} has no down file ${f.file.replace(/\.up\.sql$/, '.down.sql')}`));
      }
      if (f.direction === 'down' && p.up && parsed.up && ok) {
        for (const u of undoneObjects(parsed.up, statements)) {
          pair.push(findingOf(RULE_BY_ID.get('down-does-not-undo-up')!, f.file, 1, 1, `${f.file} does not drop ${u.object} (created by ${p.up.file}:${u.line})`));
        }
      }
      const { active, acknowledged: ack } = applyDirectives(f, [...own, ...pair]);
      findings.push(...active.sort(byPlace));
      acknowledged.push(...ack);
    }
  }
  return {
    findings,
    acknowledged,
    files,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

export async function lintPairs(pairs: PairInput[]): Promise<LintResult> {
  return lintPairsWith(await loadParser(), pairs);
}

/** Pair up the files of a directory listing: `NNNN_name.(up|down).sql`; other files are ignored. */
export function pairFiles(entries: Array<{ name: string; text: string }>): PairInput[] {
  const byVersion = new Map<string, PairInput>();
  for (const e of entries) {
    const m = MIGRATION_FILE_NAME.exec(e.name);
    if (!m) continue;
    const version = m[1]!;
    const direction = m[3] as 'up' | 'down';
    const p = byVersion.get(version) ?? { version };
    p[direction] = { file: e.name, text: e.text, direction };
    byVersion.set(version, p);
  }
  return [...byVersion.values()];
}

/** Read and lint every migration file of `dir`. */
export async function lintDirectory(dir: string): Promise<LintResult & { dir: string }> {
  const abs = resolve(dir);
  let names: string[];
  try {
    names = (await readdir(abs)).filter((n) => n.endsWith('.sql')).sort();
  } catch (err) {
    throw new ChatgeniusError('MIGRATIONS_DIR_NOT_FOUND', `Migrations directory not found: ${abs}`, { path: abs }, { cause: err });
  }
  const entries = await Promise.all(names.map(async (name) => ({ name, text: await readFile(join(abs, name), 'utf8') })));
  return { dir: abs, ...(await lintPairs(pairFiles(entries))) };
}
