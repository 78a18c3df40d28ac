/**
 * Which failures are worth another attempt. A pure decision, shared by executeWithRetry and
 * connectClient: only failures that can go away by themselves (the server is starting, the
 * network blinked, too many connections right now, a serialization or deadlock victim).
 * Never a wrong password (28P01/28000), a missing database (3D000), a missing privilege
 * (42501), a syntax error (42601) or any other error a retry cannot fix.
 */

/** SQLSTATEs retried by exact code. The whole class 08 (connection exception) is retried too. */
export const TRANSIENT_SQLSTATES: ReadonlySet<string> = new Set([
  '57P01', // admin_shutdown: the server is shutting down / our backend was terminated
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the server is starting up or in recovery
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** Node system error codes retried. */
export const TRANSIENT_NODE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  // Our own names for pg's code-less connection failures (see connect.ts).
  'DB_CONNECTION_LOST',
  'DB_CONNECT_TIMEOUT',
]);

/** pg raises these without a code. */
const TRANSIENT_MESSAGES: readonly RegExp[] = [/Connection terminated unexpectedly/i, /Connection terminated due to connection timeout/i, /^timeout expired$/i];

function codeOf(err: object): string | undefined {
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' ? c : undefined;
}

export function isTransient(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const code = codeOf(err);
  if (code !== undefined) {
    if (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
    // A code we know and is not in the lists: a deliberate "no". (An AggregateError may carry
    // its first inner error's code; that case was already answered above.)
    if (code !== 'UNKNOWN') return false;
  }
  // AggregateError (e.g. ECONNREFUSED on both ::1 and 127.0.0.1): transient if all inner ones are.
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.length > 0) return inner.every((e) => isTransient(e, depth + 1));
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(message))) return true;
  // A wrapper without a code of its own (new Error('...', { cause })): judge by its cause.
  const cause = (err as { cause?: unknown }).cause;
  if (code === undefined && cause !== undefined) return isTransient(cause, depth + 1);
  return false;
}
