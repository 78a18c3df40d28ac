/**
 * One explain() for every error code. Each domain keeps its rows in its own file
 * (db.ts: SQLSTATEs and Node network codes; ssh.ts; config.ts; engine.ts; ops.ts; seed.ts; realtime.ts; lint.ts);
 * this file merges them. The rows are words about codes and import nothing of the features, so
 * the library's explain() and the layers below the CLI (doctor) see the whole table.
 * Lookup: exact code, then the SQLSTATE class (`08xxx`), then a generic fallback.
 * Importing this module loads no driver (pg, ssh2): it is safe on the CLI's error path.
 */
import { ChatgeniusError } from '../errors.js';
import type { ErrorFacts, Explanation, ExplainTable } from './types.js';
import { dbTable } from './db.js';
import { sshTable } from './ssh.js';
import { configTable } from './config.js';
import { engineTable } from './engine.js';
import { opsTable } from './ops.js';
import { seedTable } from './seed.js';
import { realtimeTable } from './realtime.js';
import { lintTable } from './lint.js';

export type { Explanation, ErrorFacts, ExplainEntry, ExplainTable } from './types.js';

const table: ExplainTable = { ...dbTable, ...sshTable, ...configTable, ...engineTable, ...opsTable, ...seedTable, ...realtimeTable, ...lintTable };

export function errorFacts(err: unknown): ErrorFacts {
  if (err instanceof ChatgeniusError) {
    return { code: err.code, message: err.message, details: err.details };
  }
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    const details: Record<string, unknown> = {};
    for (const k of [
      'position',
      'detail',
      'hint',
      'schema',
      'table',
      'column',
      'constraint',
      'dataType',
      'where',
      'routine',
      'syscall',
      'address',
      'port',
      'hostname',
      'path',
      'errno',
      'level',
      'severity',
    ]) {
      if (e[k] !== undefined) details[k] = e[k];
    }
    // AggregateError (e.g. ECONNREFUSED on both ::1 and 127.0.0.1): use the first inner error's facts.
    if (!e.code && Array.isArray(e.errors) && e.errors.length > 0) return errorFacts(e.errors[0]);
    const code = typeof e.code === 'string' ? e.code : typeof e.code === 'number' ? String(e.code) : 'UNKNOWN';
    const message = typeof e.message === 'string' ? e.message : String(err);
    return { code, message, details };
  }
  return { code: 'UNKNOWN', message: String(err), details: {} };
}

/** Is this a five-character SQLSTATE? */
export function isSqlState(code: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code);
}

export function explain(err: unknown): Explanation {
  const facts = errorFacts(err);
  const entry = table[facts.code] ?? (isSqlState(facts.code) ? table[`${facts.code.slice(0, 2)}xxx`] : undefined) ?? table.UNKNOWN!;
  return { code: facts.code, ...entry(facts) };
}

/** All codes explain() knows by name (for tests and the README's troubleshooting table). */
export function knownCodes(): string[] {
  return Object.keys(table).sort();
}
