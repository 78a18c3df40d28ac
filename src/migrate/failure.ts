/**
 * The engine's own failure type: a migration that failed, as an error explain() turns into
 * file:line:column + code frame + SQLSTATE words. Every face (CLI, library) throws this one.
 */
import { ChatgeniusError } from '../errors.js';
import type { MigrationFailure } from './types.js';

export class MigrationFailedError extends ChatgeniusError {
  constructor(
    message: string,
    details: Record<string, unknown>,
    /** The engine's account of the failure (file, statement, SQLSTATE, frame). */
    readonly failure: MigrationFailure,
  ) {
    super('MIGRATION_SQL_ERROR', message, details);
  }
}

/** A failed migration as an error explain() turns into file:line:column + frame + SQLSTATE words. */
export function failureError(f: MigrationFailure, direction: 'up' | 'down' = 'up'): MigrationFailedError {
  const where = f.line !== undefined ? `${f.file}:${f.line}${f.column !== undefined ? `:${f.column}` : ''}` : f.file;
  const details: Record<string, unknown> = {
    file: f.file,
    version: f.version,
    name: f.name,
    direction,
    phase: f.phase,
    pgMessage: f.message,
  };
  if (f.line !== undefined) details.line = f.line;
  if (f.column !== undefined) details.column = f.column;
  if (f.code !== undefined) details.sqlstate = f.code;
  if (f.retries !== undefined) details.retries = f.retries;
  if (f.holder !== undefined) details.holder = f.holder;
  const frame = [
    f.frame,
    f.detail ? `DETAIL: ${f.detail}` : undefined,
    f.hint ? `HINT: ${f.hint}` : undefined,
    !f.frame && f.statement ? `Statement: ${f.statement}` : undefined,
  ]
    .filter(Boolean)
    .join('\n');
  if (frame) details.frame = frame;
  return new MigrationFailedError(`${where}: ${f.message}`, details, f);
}
