/**
 * A batch of SQL sent as ONE simple query, with an offset map so that an error position
 * (PostgreSQL counts characters from 1 in the whole string) maps back to file:line:column.
 * Pure: builds text, answers "where is this offset".
 */
import { lineColumn, positionToOffset } from '../code-frame.js';
import type { MigrationFile } from './types.js';

export interface BatchSegment {
  /** UTF-16 offsets of this piece in the batch text. */
  start: number;
  end: number;
  /** The migration whose file text this piece is (absent for the engine's own SQL). */
  file?: MigrationFile;
  direction?: 'up' | 'down';
  /** Offset of this piece inside the file's text (for statement pieces of a replay). */
  fileOffset: number;
  /** Index of the statement for replay batches. */
  statement?: number;
  /** Where the piece sits counted the server's ways: characters (code points) and UTF-8 bytes, 0-based. */
  chars?: { start: number; length: number };
  bytes?: { start: number; length: number };
}

/** Code points in `text` (what PostgreSQL's substr() counts in a multi-byte server encoding). */
function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

export class BatchText {
  private parts: string[] = [];
  private length = 0;
  private chars = 0;
  private bytes = 0;
  readonly segments: BatchSegment[] = [];

  /** Append the engine's own SQL (a statement; a `;` and newline are added). */
  sql(text: string): this {
    return this.raw(`${text};\n`);
  }

  raw(text: string, owner?: Omit<BatchSegment, 'start' | 'end'>): this {
    const start = this.length;
    const byteLength = Buffer.byteLength(text, 'utf8');
    // As many bytes as UTF-16 units: all ASCII, so as many code points (no loop over the text).
    const chars = { start: this.chars, length: byteLength === text.length ? text.length : codePoints(text) };
    const bytes = { start: this.bytes, length: byteLength };
    this.parts.push(text);
    this.length += text.length;
    this.chars += chars.length;
    this.bytes += bytes.length;
    if (owner) this.segments.push({ ...owner, start, end: this.length, chars, bytes });
    return this;
  }

  /** A migration file's text, verbatim, then `\n;\n` (so a trailing -- comment cannot eat what follows). */
  file(file: MigrationFile, direction: 'up' | 'down', text?: string): BatchSegment {
    // `text`: the file as run (same length as the file: offsets map 1:1), e.g. CONCURRENTLY blanked out.
    this.raw(text ?? (direction === 'up' ? file.up : file.down), { file, direction, fileOffset: 0 });
    const seg = this.segments.at(-1)!;
    this.raw('\n;\n');
    return seg;
  }

  get text(): string {
    return this.parts.join('');
  }

  get isEmpty(): boolean {
    return this.length === 0;
  }

  /** Which segment holds PostgreSQL's 1-based character `position`, and the offset inside it. */
  locate(position: number): { segment: BatchSegment; offsetInSegment: number; text: string } | null {
    const text = this.text;
    const off = positionToOffset(text, position);
    const seg = this.segments.find((s) => off >= s.start && off < s.end) ?? this.segments.find((s) => off === s.end);
    if (!seg) return null;
    return { segment: seg, offsetInSegment: off - seg.start, text };
  }
}

/** line:column inside a migration file for an offset into that file's text. */
export function fileLocation(fileText: string, offset: number): { line: number; column: number } {
  return lineColumn(fileText, offset);
}

/**
 * SQL expression: the text of `seg` copied from the statement the server is running (the whole
 * batch string, `current_query()`), so a file's SQL crosses the wire once, not again as a literal
 * for the journal. substr() counts characters, except in a SQL_ASCII database, where it counts
 * bytes; an all-ASCII prefix makes both the same.
 */
export function segmentTextSql(seg: BatchSegment): string {
  const { chars, bytes } = seg;
  if (!chars || !bytes) throw new Error('segment without offsets');
  const byChars = `substr(current_query(), ${chars.start + 1}, ${chars.length})`;
  if (chars.start === bytes.start && chars.length === bytes.length) return byChars;
  return `CASE current_setting('server_encoding') WHEN 'SQL_ASCII' THEN substr(current_query(), ${bytes.start + 1}, ${bytes.length}) ELSE ${byChars} END`;
}
