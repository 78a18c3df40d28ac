/**
 * Where in a SQL text an error is, and the code frame that shows it. The one implementation for
 * the whole tool (the engine's batches, the db library's schema files, explain()).
 * PostgreSQL's `position` is 1-based and counts characters (code points), not bytes or UTF-16
 * units: everything here converts with that in mind. Pure functions.
 */
export interface SourceLocation {
  line: number; // 1-based
  column: number; // 1-based, in characters
  sourceLine: string;
}

/** PostgreSQL's 1-based character `position` -> a 0-based UTF-16 offset into `text`. */
export function positionToOffset(text: string, position: number): number {
  let cp = 0;
  let k = 0;
  while (k < text.length && cp < position - 1) {
    const code = text.codePointAt(k)!;
    k += code > 0xffff ? 2 : 1;
    cp++;
  }
  return k;
}

/** 1-based line and column (the column in characters) of a 0-based UTF-16 offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const stop = Math.min(Math.max(0, offset), text.length);
  for (let k = 0; k < stop; k++) {
    if (text.charCodeAt(k) === 10) {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: [...text.slice(lineStart, stop)].length + 1 };
}

/**
 * lineColumn() for offsets asked in increasing order (statements of one file): each call scans
 * only the text since the previous one, so a whole file costs one pass, not one per statement.
 */
export function lineColumnCursor(text: string): (offset: number) => { line: number; column: number } {
  let scanned = 0;
  let line = 1;
  let lineStart = 0;
  return (offset) => {
    const stop = Math.min(Math.max(0, offset), text.length);
    if (stop < scanned) return lineColumn(text, stop);
    for (; scanned < stop; scanned++) {
      if (text.charCodeAt(scanned) === 10) {
        line++;
        lineStart = scanned + 1;
      }
    }
    return { line, column: [...text.slice(lineStart, stop)].length + 1 };
  };
}

/** The text of 1-based line `line` (without its line break), or '' past the end. */
export function lineAt(text: string, line: number): string {
  return (text.split('\n')[line - 1] ?? '').replace(/\r$/, '');
}

/** 1-based character position in `text` (clamped to the text) -> line, column and that line's text. */
export function positionToLineColumn(text: string, position: number): SourceLocation {
  const chars = [...text].length;
  const target = Math.min(Math.max(1, Math.floor(position)), Math.max(1, chars));
  const { line, column } = lineColumn(text, positionToOffset(text, target));
  return { line, column, sourceLine: lineAt(text, line) };
}

export interface FrameInput {
  /** Shown as a `file:line:column` heading when given. */
  file?: string;
  line: number;
  column: number;
  sourceLine: string;
  /** The line before, shown for context when given. */
  previousLine?: string;
}

/**
 * ```
 * sql/0001_init.up.sql:3:1
 *     2 | -- users
 *   > 3 | CREAT TABLE users (
 *       | ^
 * ```
 * (without the leading spaces above). Tabs before the column are kept, so the caret lines up in a
 * terminal. Long lines are cut around the column.
 */
export function codeFrame(loc: FrameInput, maxWidth = 120): string {
  const chars = [...loc.sourceLine];
  let col = Math.max(1, Math.min(loc.column, chars.length + 1));
  let shown = chars;
  if (chars.length > maxWidth) {
    const start = Math.max(0, Math.min(col - 1 - Math.floor(maxWidth / 2), chars.length - maxWidth));
    shown = chars.slice(start, start + maxWidth);
    col -= start;
    if (start > 0) {
      shown = ['…', ...shown];
      col += 1;
    }
  }
  const width = String(loc.line).length;
  const row = (marker: string, n: number, text: string) => `${marker} ${String(n).padStart(width)} | ${text}`;
  const out: string[] = [];
  if (loc.file) out.push(`${loc.file}:${loc.line}:${loc.column}`);
  if (loc.previousLine !== undefined && loc.line > 1) {
    const prev = [...loc.previousLine];
    out.push(row(' ', loc.line - 1, prev.length > maxWidth ? `${prev.slice(0, maxWidth).join('')}…` : loc.previousLine));
  }
  out.push(row('>', loc.line, shown.join('')));
  const before = shown
    .slice(0, col - 1)
    .map((c) => (c === '\t' ? '\t' : ' '))
    .join('');
  out.push(`  ${' '.repeat(width)} | ${before}^`);
  return out.join('\n');
}

/** The code frame for `line`:`column` of a whole file's text, with the line before for context. */
export function codeFrameIn(text: string, line: number, column: number, opts: { file?: string } = {}): string {
  return codeFrame({
    ...(opts.file ? { file: opts.file } : {}),
    line,
    column,
    sourceLine: lineAt(text, line),
    ...(line > 1 ? { previousLine: lineAt(text, line - 1) } : {}),
  });
}
