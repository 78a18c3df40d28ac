/**
 * A batch of SQL sent as ONE simple query, with an offset map so that an error position
 * (PostgreSQL counts characters from 1 in the whole string) maps back to file:line:column.
 * Pure: builds text, answers "where is this offset".
 */
import { lineColumn, positionToOffset } from '../explain/frame.js';
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
}

export class BatchText {
  private parts: string[] = [];
  private length = 0;
  readonly segments: BatchSegment[] = [];

  /** Append the engine's own SQL (a statement; a `;` and newline are added). */
  sql(text: string): this {
    return this.raw(`${text};\n`);
  }

  raw(text: string, owner?: Omit<BatchSegment, 'start' | 'end'>): this {
    const start = this.length;
    this.parts.push(text);
    this.length += text.length;
    if (owner) this.segments.push({ ...owner, start, end: this.length });
    return this;
  }

  /** A migration file's text, verbatim, then `\n;\n` (so a trailing -- comment cannot eat what follows). */
  file(file: MigrationFile, direction: 'up' | 'down', text?: string): this {
    // `text`: the file as run (same length as the file: offsets map 1:1), e.g. CONCURRENTLY blanked out.
    this.raw(text ?? (direction === 'up' ? file.up : file.down), { file, direction, fileOffset: 0 });
    return this.raw('\n;\n');
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
