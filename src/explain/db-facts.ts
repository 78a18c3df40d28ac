/**
 * What the explanations of database errors read from an error's facts (host:port, quoted names
 * from pg's message, the place in a file, a lost lock race's retries and holder) and how they
 * attach a code frame. Never a password: pg's messages carry none, and none is put in details.
 */
import { codeFrame } from '../code-frame.js';
import type { ErrorFacts, ExplainEntry } from './types.js';

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/** `host:port` of the target, from our details (host/port) or Node's (address/hostname/port). */
export function where(f: ErrorFacts): string {
  const host = str(f.details.host) ?? str(f.details.hostname) ?? str(f.details.address);
  const port = str(f.details.port);
  if (!host) return 'the database server';
  return port ? `${host}:${port}` : host;
}

export const cap = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);

/** A quoted name from pg's message, e.g. user "bob" / database "chat". */
export function quoted(f: ErrorFacts, word: string): string | undefined {
  const m = new RegExp(`${word} "([^"]*)"`).exec(f.message);
  return m?.[1];
}
/** pg's `column` (a name), or columnName when `column` holds our 1-based column number. */
export const colName = (f: ErrorFacts) => str(f.details.columnName) ?? (typeof f.details.column === 'string' ? f.details.column : undefined);
export const userOf = (f: ErrorFacts) => str(f.details.user) ?? quoted(f, 'user') ?? quoted(f, 'role');
export const databaseOf = (f: ErrorFacts) => str(f.details.database) ?? quoted(f, 'database');

/** `file:line:column` + the line + a caret, when the facts say where in a file the error is. */
export function frameOf(f: ErrorFacts): string | undefined {
  const d = f.details;
  const existing = str(d.frame) ?? str(d.codeFrame);
  if (existing) return existing;
  const line = Number(d.line);
  const column = Number(d.column);
  if (typeof d.sourceLine === 'string' && Number.isInteger(line) && line > 0 && Number.isInteger(column) && column > 0) {
    return codeFrame({ ...(str(d.file) ? { file: str(d.file)! } : {}), line, column, sourceLine: d.sourceLine });
  }
  return undefined;
}

/** The location prefix for titles: ` in sql/x.sql:3:7`. */
export function inFile(f: ErrorFacts): string {
  const file = str(f.details.file);
  if (!file) return '';
  const line = str(f.details.line);
  const column = str(f.details.column);
  return ` in ${file}${line ? `:${line}${column ? `:${column}` : ''}` : ''}`;
}

/** A lost lock race (55P03/40P01) of a migration: how often it was retried. Says "retried" only when it was. */
export function retriedNote(f: ErrorFacts): string {
  const n = f.details.retries;
  if (typeof n !== 'number') return '';
  return n > 0
    ? ` Retried ${n} time${n === 1 ? '' : 's'} with pauses in between (the app was never kept waiting longer than one lock_timeout at a time); gave up when the --lock-wait budget ran out.`
    : ' Not retried: the --lock-wait budget leaves no room for another attempt.';
}

interface RaceHolder {
  pid?: number;
  applicationName?: string | null;
  clientAddr?: string | null;
  state?: string | null;
  since?: string | null;
  user?: string | null;
  table?: string;
  mode?: string;
}

export function holderNote(f: ErrorFacts): string {
  const h = f.details.holder as RaceHolder | undefined;
  if (!h || typeof h !== 'object' || h.pid === undefined) return '';
  const who = [
    `pid ${h.pid}`,
    h.applicationName ? `application ${h.applicationName}` : '',
    h.user ? `user ${h.user}` : '',
    h.clientAddr ? `from ${h.clientAddr}` : '',
    h.state ? `${h.state}` : '',
    h.since ? `in a transaction since ${h.since}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return ` In the way: ${who}${h.table ? `, holding ${h.mode ?? 'a lock'} on ${h.table}` : ''}.`;
}

export function holderHint(f: ErrorFacts): string | undefined {
  const h = f.details.holder as RaceHolder | undefined;
  if (!h || typeof h !== 'object' || h.pid === undefined) return undefined;
  const idle = h.state === 'idle in transaction';
  return `${idle ? 'That session sits idle in an open transaction: ' : 'Let that transaction finish, or end it: '}SELECT pg_terminate_backend(${h.pid}); (as a superuser or its own role), then run the same command again: migrations already applied stay applied. Or give the run more time: --lock-wait 10m.`;
}

/** pg's own DETAIL / HINT, appended when present. */
export function pgNotes(f: ErrorFacts): string {
  const detail = str(f.details.detail);
  return detail ? ` ${detail}` : '';
}

/** An entry with the frame attached when the facts have one. */
export function withFrame(entry: ExplainEntry): ExplainEntry {
  return (f) => {
    const e = entry(f);
    const detail = e.detail ?? frameOf(f);
    return detail ? { ...e, detail } : e;
  };
}

export function sqlClassEntry(title: string, meaning: string, hint: string): ExplainEntry {
  return withFrame((f) => ({
    title,
    cause: `PostgreSQL ${f.code} (${meaning}): ${f.message}${pgNotes(f)}`,
    hint,
  }));
}
