/**
 * Build "what the files produce" without touching the target: apply up files into a scratch
 * schema inside a transaction, look at it, and roll the transaction back. Files that cannot run in
 * a transaction are adapted (CONCURRENTLY dropped; VACUUM, ALTER SYSTEM, CREATE DATABASE skipped).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ChatgeniusError } from '../errors.js';
import { BatchText } from './batch-text.js';
import { nonTransactionalReason, plainText } from './files.js';
import { quoteIdent, quoteLiteral, splitStatements } from './sql-text.js';
import { lineColumn } from '../code-frame.js';
import type { MigrationFile } from './types.js';

/** The up text of a file as it can run inside a transaction. */
export function transactionalText(f: MigrationFile): string {
  if (f.upTransactional) return f.up;
  return splitStatements(f.up)
    .map((s) => {
      const r = nonTransactionalReason(s);
      if (!r) return s.text;
      if (/CONCURRENTLY/.test(r)) {
        const plain = plainText(s.text); // CREATE INDEX: the keyword itself, never a comment's word
        return plain !== s.text ? plain : s.text.replace(/\bconcurrently\b/i, '');
      }
      return `-- skipped in the scratch schema: ${r}`;
    })
    .join(';\n');
}

/**
 * Run `fn(scratchSchema)` while the scratch schema holds the given files' result; everything is
 * rolled back afterwards. A file that fails there throws MIGRATION_SQL_ERROR naming file:line:column.
 */
export async function withScratchSchema<T>(
  client: pg.Client,
  files: MigrationFile[],
  fn: (scratch: string) => Promise<T>,
  opts: { statementTimeoutMs?: number } = {},
): Promise<T> {
  const scratch = `chatgenius_scratch_${randomBytes(5).toString('hex')}`;
  const b = new BatchText();
  b.sql('BEGIN');
  b.sql(`CREATE SCHEMA ${quoteIdent(scratch)}`);
  b.sql(`SET LOCAL search_path TO ${quoteIdent(scratch)}, public`);
  b.sql(`SET LOCAL statement_timeout = ${quoteLiteral(`${Math.max(0, Math.trunc(opts.statementTimeoutMs ?? 0))}ms`)}`);
  b.sql(`SET LOCAL client_min_messages = warning`);
  for (const f of files) {
    const text = transactionalText(f);
    b.raw(text, { file: { ...f, up: text }, direction: 'up', fileOffset: 0 });
    b.raw('\n;\n');
  }
  try {
    await client.query(b.text);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    const e = err as { position?: string; code?: string; message?: string };
    const loc = e.position ? b.locate(Number(e.position)) : null;
    const file = loc?.segment.file;
    const at = file ? lineColumn(file.up, loc!.offsetInSegment) : undefined;
    throw new ChatgeniusError(
      'MIGRATION_SQL_ERROR',
      `Applying the migration files to a scratch schema failed${file ? ` in ${file.file}${at ? `:${at.line}:${at.column}` : ''}` : ''}: ${e.message ?? String(err)}`,
      { ...(file ? { file: file.file } : {}), ...(at ? at : {}), ...(e.code ? { sqlstate: e.code } : {}), pgMessage: e.message ?? String(err) },
      { cause: err },
    );
  }
  try {
    return await fn(scratch);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}
