/**
 * PostgreSQL's own parser (libpg-query, the server's grammar compiled to WebAssembly), loaded
 * on first use only: `--help` and the commands that do not parse never pay for it (~40 ms).
 *
 * parseSql() returns every top-level statement with its node and its place in the text, or
 * throws a SqlSyntaxError carrying the UTF-16 offset of the error. The parser reports statement
 * places as UTF-8 byte offsets and an error's cursor in characters; everything here converts to
 * UTF-16 offsets so the rest of the tool (src/explain/frame.ts) can use them directly.
 */
import { lineColumn, lineColumnCursor, positionToOffset } from '../code-frame.js';

/** One parsed statement: its node (`{ IndexStmt: {...} }` and the like) and where it sits. */
export interface ParsedStatement {
  /** The node's kind, e.g. 'IndexStmt', 'AlterTableStmt'. */
  kind: string;
  /** The node itself (the object under `kind`). */
  node: Record<string, unknown>;
  /** 0-based UTF-16 offsets of the statement's text (comments before it excluded where possible). */
  start: number;
  end: number;
  /** 1-based line and column of `start`. */
  line: number;
  column: number;
  text: string;
}

export class SqlSyntaxError extends Error {
  override readonly name = 'SqlSyntaxError';
  constructor(
    message: string,
    /** 0-based UTF-16 offset of the error in the text. */
    readonly offset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

type Parser = typeof import('libpg-query');
let loaded: Promise<Parser> | undefined;

/**
 * Load the parser (once per process). Its WebAssembly is compiled by V8's baseline compiler only:
 * by default V8 also recompiles the whole module with its optimising compiler in background
 * threads, which on a small machine competes with the run for CPU and, because Node waits for
 * those threads before it exits, added ~100 ms to every run that parsed; parsing migration files
 * is far too little work for the optimised code ever to pay that back.
 */
export function loadParser(): Promise<Parser> {
  // node:v8 is loaded here too, not at the top: this module is loaded by every init and rollback
  // (the lint memory uses it), while the parser itself rarely is, and node:v8 pulls in the heap
  // and profiler bindings (~3 ms).
  loaded ??= import('node:v8').then(async ({ setFlagsFromString }) => {
    setFlagsFromString('--liftoff-only');
    const m = await import('libpg-query');
    await m.loadModule();
    return m;
  });
  return loaded;
}

/** UTF-8 byte offset -> UTF-16 offset into `text`. */
export function byteToUtf16(text: string, byteOffset: number): number {
  let bytes = 0;
  let k = 0;
  while (k < text.length && bytes < byteOffset) {
    const cp = text.codePointAt(k)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    k += cp > 0xffff ? 2 : 1;
  }
  return k;
}

/** Skip blanks and comments from `offset`; the offset of the first code character. */
function skipBlanks(text: string, offset: number, end: number): number {
  let i = offset;
  while (i < end) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ';') i++;
    else if (c === '-' && text[i + 1] === '-') {
      while (i < end && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < end && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') depth++, (i += 2);
        else if (text[i] === '*' && text[i + 1] === '/') depth--, (i += 2);
        else i++;
      }
    } else break;
  }
  return i;
}

/** Parse with an already loaded parser (synchronous; see loadParser()). */
export function parseSqlWith(parser: Parser, text: string): ParsedStatement[] {
  let result: ReturnType<Parser['parseSync']>;
  try {
    result = parser.parseSync(text);
  } catch (err) {
    const d = (err as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    // The error's cursor counts characters (code points) from 0, unlike stmt_location (bytes).
    const offset = positionToOffset(text, Math.max(0, d?.cursorPosition ?? 0) + 1);
    const { line, column } = lineColumn(text, offset);
    throw new SqlSyntaxError((err as Error).message, offset, line, column);
  }
  const out: ParsedStatement[] = [];
  const lineColumnAt = lineColumnCursor(text);
  for (const raw of (result.stmts ?? []) as Array<{ stmt?: Record<string, unknown>; stmt_location?: number; stmt_len?: number }>) {
    if (!raw.stmt) continue;
    const kind = Object.keys(raw.stmt)[0]!;
    const startByte = raw.stmt_location ?? 0;
    const rawStart = byteToUtf16(text, startByte);
    // stmt_len 0 means "to the end of the text" (the last statement without a semicolon).
    const rawEnd = raw.stmt_len ? byteToUtf16(text, startByte + raw.stmt_len) : text.length;
    const start = skipBlanks(text, rawStart, rawEnd);
    const { line, column } = lineColumnAt(start);
    out.push({ kind, node: raw.stmt[kind] as Record<string, unknown>, start, end: rawEnd, line, column, text: text.slice(start, rawEnd) });
  }
  return out;
}

/** Parse `text` into its statements; throws SqlSyntaxError on a syntax error. */
export async function parseSql(text: string): Promise<ParsedStatement[]> {
  return parseSqlWith(await loadParser(), text);
}
