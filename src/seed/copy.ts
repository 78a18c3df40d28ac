/**
 * COPY ... FROM STDIN through node-postgres without pg-copy-streams: a "submittable" query
 * object that speaks the COPY-in sub-protocol on the client's connection, pulling text lines
 * from an (async) iterable and respecting the socket's backpressure, so memory stays flat.
 */
import type pg from 'pg';
import type { Value } from './generate.js';

type Lines = Iterable<string | Buffer> | AsyncIterable<string | Buffer>;

interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

const CHUNK_BYTES = 256 * 1024;

class CopyFrom {
  /** Rows the server reports (from the `COPY n` command tag). */
  rowCount = 0;
  readonly done: Promise<number>;
  private settle!: { resolve(n: number): void; reject(e: unknown): void };
  private error: unknown;
  private failed = false;

  constructor(
    readonly text: string,
    private readonly lines: Lines,
    private readonly signal?: AbortSignal,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => {});
  }

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    void this.pump(connection);
  }

  private async pump(connection: PgConnection): Promise<void> {
    let parts: string[] = [];
    let size = 0;
    const send = async (chunk: Buffer): Promise<void> => {
      connection.sendCopyFromChunk(chunk);
      if (!connection.stream.writableNeedDrain) return;
      await new Promise<void>((resolve) => {
        const s = connection.stream;
        const done = (): void => {
          s.off('drain', done);
          s.off('close', done);
          resolve();
        };
        s.on('drain', done);
        s.on('close', done);
      });
    };
    const flush = async (): Promise<void> => {
      if (parts.length === 0) return;
      const text = parts.join('');
      parts = [];
      size = 0;
      await send(Buffer.from(text, 'utf8'));
    };
    try {
      for await (const piece of this.lines) {
        if (this.failed) return; // the server gave up; it ignores further CopyData
        if (this.signal?.aborted) throw this.signal.reason ?? new Error('aborted');
        if (typeof piece === 'string') {
          parts.push(piece);
          size += piece.length;
          if (size >= CHUNK_BYTES) await flush();
        } else {
          await flush();
          await send(piece);
        }
      }
      if (this.failed) return;
      await flush();
      connection.endCopyFrom();
    } catch (err) {
      this.error = err;
      if (!this.failed) connection.sendCopyFail(err instanceof Error ? err.message.slice(0, 200) : 'source failed');
    }
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rowCount = Number(m[1]);
  }

  handleError(err: unknown): void {
    this.failed = true;
    // Prefer the source's own error (CopyFail makes the server answer with a generic 57014).
    this.settle.reject(this.error ?? err);
  }

  handleReadyForQuery(): void {
    if (this.error) this.settle.reject(this.error);
    else this.settle.resolve(this.rowCount);
  }

  // Not used by COPY FROM, present for the client's benefit.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}
}

/** Run `COPY <target> FROM STDIN` with the given text-format lines; resolves to the row count. */
export function copyFrom(client: pg.Client, sql: string, lines: Lines, signal?: AbortSignal): Promise<number> {
  const q = new CopyFrom(sql, lines, signal);
  (client as unknown as { query(q: unknown): unknown }).query(q);
  return q.done;
}

const ESCAPE_NEEDED = /[\\\t\n\r]/;
const ESCAPES = /[\\\t\n\r]/g;
const ESCAPE_MAP: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One row in COPY text format (tab-separated, `\N` for NULL, backslash escapes), with newline. */
export function copyLine(row: readonly Value[]): string {
  let out = '';
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (i > 0) out += '\t';
    if (v === null || v === undefined) out += '\\N';
    else if (typeof v === 'string') out += ESCAPE_NEEDED.test(v) ? v.replace(ESCAPES, (c) => ESCAPE_MAP[c]!) : v;
    else if (typeof v === 'boolean') out += v ? 't' : 'f';
    else out += String(v);
  }
  return out + '\n';
}
