/**
 * Errors are values with codes. Every failure that reaches the user is a ChatgeniusError
 * (or a pg DatabaseError / Node system error carrying `code`) and goes through explain().
 *
 * Codes are short, stable strings: `CONFIG_BAD_PORT`, `SSH_HOST_KEY_CHANGED`, `MIGRATION_DRIFT`...
 * `details` carries the facts explain() needs (never secrets).
 */
export class ChatgeniusError extends Error {
  override readonly name = 'ChatgeniusError';
  readonly code: string;
  readonly details: Record<string, unknown>;
  /** 2 for usage errors (fixed on the command line), 1 otherwise. */
  readonly exitCode: 1 | 2;

  constructor(code: string, message: string, details: Record<string, unknown> = {}, options: { cause?: unknown; exitCode?: 1 | 2 } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A usage error: something fixed on the command line (bad flag, missing consent). Exit 2. */
export function usageError(code: string, message: string, details: Record<string, unknown> = {}): ChatgeniusError {
  return new ChatgeniusError(code, message, details, { exitCode: 2 });
}

/** Thrown (or returned) when the user cancels (Ctrl-C, Esc). Exit 130. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  readonly code = 'CANCELLED';
  constructor(message = 'Cancelled, nothing changed') {
    super(message);
  }
}

export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const c = (err as { code: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}
