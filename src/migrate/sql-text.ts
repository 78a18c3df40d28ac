/**
 * Pure helpers for SQL text: splitting a file into statements (respecting quotes, dollar quotes,
 * comments and BEGIN ATOMIC bodies), quoting identifiers and literals. Offsets -> line:column
 * and code frames come from src/explain/frame.ts (the one implementation). No I/O.
 */
import { ChatgeniusError } from '../errors.js';
import { lineColumnCursor } from '../code-frame.js';

export interface SqlStatement {
  /** The statement text without the trailing semicolon (comments before it included). */
  text: string;
  /** UTF-16 offset of the statement's first non-blank, non-comment character in the source. */
  start: number;
  /** UTF-16 offset just past the statement (before its semicolon). */
  end: number;
  /** 1-based line and column of `start`. */
  line: number;
  column: number;
  /** The first few keywords, upper-cased (comments skipped), e.g. ['CREATE','INDEX','CONCURRENTLY']. */
  keywords: string[];
  /** Every bare word of the statement outside quotes and comments, upper-cased. */
  words: string[];
}

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const WORD_START = /[A-Za-z_\u0080-\uffff]/;

/**
 * Split SQL into top-level statements. Empty statements (only blanks/comments) are dropped.
 * Handles '...' (with '' escapes), E'...' (backslash escapes), "identifiers", $tag$...$tag$,
 * -- and nested /* *\/ comments, and CREATE FUNCTION ... BEGIN ATOMIC ... END bodies.
 */
// Long on purpose: one tokenizer loop; its quote, comment and dollar-quote states read best side by side.
export function splitStatements(sql: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  let i = 0;
  let stmtStart = 0;
  let firstCode = -1;
  let words: string[] = [];
  let atomicDepth = 0;
  const n = sql.length;
  const lineColumnAt = lineColumnCursor(sql);

  const finish = (endExclusive: number) => {
    if (firstCode >= 0) {
      const { line, column } = lineColumnAt(firstCode);
      out.push({
        text: sql.slice(stmtStart, endExclusive),
        start: firstCode,
        end: endExclusive,
        line,
        column,
        keywords: words.slice(0, 6),
        words,
      });
    }
    firstCode = -1;
    words = [];
    atomicDepth = 0;
  };

  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    // comments
    if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (firstCode < 0 && c !== ';') firstCode = i;
    if (c === ';') {
      if (atomicDepth > 0) {
        i++;
        continue;
      }
      finish(i);
      i++;
      stmtStart = i;
      continue;
    }
    if (c === "'") {
      const prev = i > 0 ? sql[i - 1]! : '';
      const escaped = (prev === 'E' || prev === 'e') && (i < 2 || !IDENT_CHAR.test(sql[i - 2]!));
      i = skipQuoted(sql, i, "'", escaped);
      continue;
    }
    if (c === '"') {
      i = skipQuoted(sql, i, '"', false);
      continue;
    }
    if (c === '$') {
      const prev = i > 0 ? sql[i - 1]! : '';
      if (!IDENT_CHAR.test(prev)) {
        const m = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 80));
        if (m) {
          const tag = m[0];
          const close = sql.indexOf(tag, i + tag.length);
          i = close < 0 ? n : close + tag.length;
          continue;
        }
      }
      i++;
      continue;
    }
    if (WORD_START.test(c) && (i === 0 || !IDENT_CHAR.test(sql[i - 1]!))) {
      let j = i + 1;
      while (j < n && IDENT_CHAR.test(sql[j]!)) j++;
      const w = sql.slice(i, j).toUpperCase();
      const prevWord = words[words.length - 1];
      words.push(w);
      if (atomicDepth === 0 && w === 'ATOMIC' && prevWord === 'BEGIN') atomicDepth = 1;
      else if (atomicDepth > 0 && w === 'CASE') atomicDepth++;
      else if (atomicDepth > 0 && w === 'END') atomicDepth--;
      i = j;
      continue;
    }
    i++;
  }
  finish(n);
  return out;
}

function skipQuoted(sql: string, i: number, q: string, backslashEscapes: boolean): number {
  let j = i + 1;
  while (j < sql.length) {
    const ch = sql[j]!;
    if (backslashEscapes && ch === '\\') {
      j += 2;
      continue;
    }
    if (ch === q) {
      if (sql[j + 1] === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return sql.length;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Validate a schema name that came from a user. Lower-case identifiers only, no quoting tricks. */
export function validateSchemaName(schema: string): string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new ChatgeniusError(
      'MIGRATION_BAD_SCHEMA',
      `"${String(schema)}" is not a valid schema name: use lower-case letters, digits and underscores, starting with a letter or underscore (at most 63 characters).`,
      { schema: String(schema) },
      { exitCode: 2 },
    );
  }
  return schema;
}

/** Quote an identifier: "name" with embedded quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal, safe whatever standard_conforming_strings says. */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new Error('NUL character in a SQL literal');
  const body = value.replace(/'/g, "''");
  return value.includes('\\') ? ` E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

/** A literal for a nullable value: NULL, a number, or a quoted string. */
export function sqlValue(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Math.trunc(v)) : 'NULL';
  return quoteLiteral(v);
}
