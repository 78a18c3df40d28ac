/**
 * Where in a SQL file an error is: PostgreSQL's `position` (1-based, in characters) mapped to
 * line and column, and a code frame with a caret under the column. Pure functions.
 */
export interface SourceLocation {
  line: number; // 1-based
  column: number; // 1-based, in characters
  sourceLine: string;
}

/** 1-based character position in `text` -> line, column and the text of that line. */
export function positionToLineColumn(text: string, position: number): SourceLocation {
  const chars = Array.from(text); // code points, as PostgreSQL counts characters
  const target = Math.min(Math.max(1, Math.floor(position)), Math.max(1, chars.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < target - 1; i++) {
    if (chars[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  let lineEnd = lineStart;
  while (lineEnd < chars.length && chars[lineEnd] !== '\n') lineEnd++;
  const sourceLine = chars.slice(lineStart, lineEnd).join('').replace(/\r$/, '');
  return { line, column: target - lineStart, sourceLine };
}

/**
 * ```
 * sql/0001_init.up.sql:3:1
 *   3 | CREAT TABLE users (
 *     | ^
 * ```
 * Tabs before the column are kept, so the caret lines up in a terminal. Long lines are cut
 * around the column.
 */
export function codeFrame(loc: { file?: string; line: number; column: number; sourceLine: string }, maxWidth = 120): string {
  const chars = Array.from(loc.sourceLine);
  let col = Math.max(1, Math.min(loc.column, chars.length + 1));
  let shown = chars;
  let lead = '';
  if (chars.length > maxWidth) {
    const start = Math.max(0, Math.min(col - 1 - Math.floor(maxWidth / 2), chars.length - maxWidth));
    shown = chars.slice(start, start + maxWidth);
    lead = start > 0 ? '…' : '';
    col = col - start + lead.length;
    if (start > 0) shown = ['…', ...shown];
  }
  const gutter = String(loc.line);
  const pad = ' '.repeat(gutter.length);
  const before = shown.slice(0, col - 1).map((c) => (c === '\t' ? '\t' : ' ')).join('');
  const head = loc.file ? `${loc.file}:${loc.line}:${loc.column}\n` : '';
  return `${head}  ${gutter} | ${shown.join('')}\n  ${pad} | ${before}^`;
}
