/**
 * The tunnel's errors: `SSHTunnelError` (a ChatgeniusError with a stable `SSH_*` code) and the
 * pure mapping from what ssh2 / Node report to those codes. The Node code the spec's examples
 * switch on (ECONNREFUSED, ENOTFOUND, ENOENT) stays available as `details.syscallCode`.
 */
import { ChatgeniusError } from '../errors.js';

export type SshErrorCode =
  | 'SSH_CONNECTION_REFUSED'
  | 'SSH_HOST_NOT_FOUND'
  | 'SSH_TIMEOUT'
  | 'SSH_CONNECTION_RESET'
  | 'SSH_HANDSHAKE_FAILED'
  | 'SSH_KEY_NOT_FOUND'
  | 'SSH_KEY_UNREADABLE'
  | 'SSH_KEY_BAD_FORMAT'
  | 'SSH_KEY_PASSPHRASE_REQUIRED'
  | 'SSH_KEY_BAD_PASSPHRASE'
  | 'SSH_NO_AUTH_METHOD'
  | 'SSH_AUTH_FAILED'
  | 'SSH_AGENT_UNAVAILABLE'
  | 'SSH_FORWARD_REFUSED'
  | 'SSH_FORWARD_CONNECT_FAILED'
  | 'SSH_HOST_KEY_UNKNOWN'
  | 'SSH_HOST_KEY_CHANGED'
  | 'SSH_HOST_KEY_REVOKED'
  | 'SSH_TUNNEL_DROPPED'
  | 'SSH_TUNNEL_CLOSED'
  | 'SSH_CONFIG_MISSING';

export class SSHTunnelError extends ChatgeniusError {
  declare readonly code: SshErrorCode;
  constructor(code: SshErrorCode, message: string, details: Record<string, unknown> = {}, options: { cause?: unknown } = {}) {
    super(code, message, details, options);
    Object.defineProperty(this, 'name', { value: 'SSHTunnelError' });
  }
  /** The underlying Node error code (ECONNREFUSED, ENOTFOUND, ENOENT...), when there is one. */
  get syscallCode(): string | undefined {
    const c = this.details.syscallCode;
    return typeof c === 'string' ? c : undefined;
  }
}

/** Transient failures worth another attempt: refused, reset, timeout (never auth or host keys). */
export function isTransientSshError(err: unknown): boolean {
  const code = err instanceof ChatgeniusError ? err.code : undefined;
  return code === 'SSH_CONNECTION_REFUSED' || code === 'SSH_CONNECTION_RESET' || code === 'SSH_TIMEOUT';
}

const NODE_CODES: Record<string, SshErrorCode> = {
  ECONNREFUSED: 'SSH_CONNECTION_REFUSED',
  ENOTFOUND: 'SSH_HOST_NOT_FOUND',
  EAI_AGAIN: 'SSH_HOST_NOT_FOUND',
  EAI_NONAME: 'SSH_HOST_NOT_FOUND',
  ETIMEDOUT: 'SSH_TIMEOUT',
  EHOSTUNREACH: 'SSH_TIMEOUT',
  ENETUNREACH: 'SSH_TIMEOUT',
  ECONNRESET: 'SSH_CONNECTION_RESET',
  EPIPE: 'SSH_CONNECTION_RESET',
  ECONNABORTED: 'SSH_CONNECTION_RESET',
};

/**
 * Map an error ssh2 emitted while connecting to an explained SSHTunnelError.
 * `where` names the bastion (host:port) and user; never secrets.
 */
export function classifySshError(err: unknown, where: { host: string; port: number; username: string }): SSHTunnelError {
  if (err instanceof SSHTunnelError) return err;
  const e = (err ?? {}) as { code?: unknown; level?: unknown; message?: unknown; errors?: unknown };
  // AggregateError (refused on both ::1 and 127.0.0.1): use the first inner error.
  if (!e.code && Array.isArray(e.errors) && e.errors.length > 0) return classifySshError(e.errors[0], where);
  const nodeCode = typeof e.code === 'string' ? e.code : undefined;
  const level = typeof e.level === 'string' ? e.level : undefined;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const details = { host: where.host, port: where.port, username: where.username, syscallCode: nodeCode, level, sshMessage: message };
  const target = `${where.host}:${where.port}`;
  if (nodeCode && NODE_CODES[nodeCode]) {
    const code = NODE_CODES[nodeCode]!;
    const text: Record<string, string> = {
      SSH_CONNECTION_REFUSED: `SSH connection to ${target} refused`,
      SSH_HOST_NOT_FOUND: `SSH host ${where.host} not found`,
      SSH_TIMEOUT: `SSH connection to ${target} timed out`,
      SSH_CONNECTION_RESET: `SSH connection to ${target} was reset`,
    };
    return new SSHTunnelError(code, text[code] ?? message, details, { cause: err });
  }
  if (level === 'client-timeout' || /timed out/i.test(message)) {
    return new SSHTunnelError('SSH_TIMEOUT', `SSH connection to ${target} timed out (${message})`, details, { cause: err });
  }
  if (level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return new SSHTunnelError('SSH_AUTH_FAILED', `SSH authentication as ${where.username} on ${target} was rejected`, details, { cause: err });
  }
  if (level === 'agent') {
    return new SSHTunnelError('SSH_AGENT_UNAVAILABLE', `The SSH agent could not be used: ${message}`, details, { cause: err });
  }
  if (/Channel open failure/i.test(message)) return classifyForwardError(err, where, { host: '?', port: 0 });
  return new SSHTunnelError('SSH_HANDSHAKE_FAILED', `SSH connection to ${target} failed: ${message}`, details, { cause: err });
}

/** A refused `direct-tcpip` channel: administratively prohibited vs the bastion could not connect. */
export function classifyForwardError(err: unknown, where: { host: string; port: number; username: string }, remote: { host: string; port: number }): SSHTunnelError {
  const e = (err ?? {}) as { reason?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const details = { host: where.host, port: where.port, remoteHost: remote.host, remotePort: remote.port, reason: e.reason, sshMessage: message };
  const remoteText = `${remote.host}:${remote.port}`;
  if (e.reason === 2 || /connect failed|connection refused/i.test(message)) {
    return new SSHTunnelError('SSH_FORWARD_CONNECT_FAILED', `The bastion ${where.host} could not connect to ${remoteText}: ${message}`, details, { cause: err });
  }
  return new SSHTunnelError('SSH_FORWARD_REFUSED', `The bastion ${where.host} refused to forward to ${remoteText}: ${message}`, details, { cause: err });
}
