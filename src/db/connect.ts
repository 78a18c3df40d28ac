/**
 * One connection to PostgreSQL: the pg.ClientConfig we build from a ConnectionConfig (TLS,
 * startup options, application_name, timeouts) and connectClient(), which connects with the
 * retry policy, reports progress as events, and never lets a dropped idle connection crash the
 * process. This module never prints; pg is imported lazily (the CLI's --help must not load it).
 */
import type pg from 'pg';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ConnectionOptions } from 'node:tls';
import { ChatgeniusError, CancelledError, errorCode } from '../errors.js';
import type { Emit } from '../events.js';
import type { ConnectionConfig, RetryPolicy, SslMode } from '../config/types.js';
import { executeWithRetry, retryPolicyFromEnv } from './retry.js';
import { rememberSibling } from './pooler.js';
import { loadPg } from './driver.js';

const require = createRequire(import.meta.url);

export const DEFAULT_APPLICATION_NAME = 'chatgenius-db';
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** How often (ms) the server checks that our socket is still there while it runs a query. */
export const CONNECTION_CHECK_INTERVAL_MS = 1000;

export interface ClientConfigOptions {
  applicationName?: string;
  /**
   * Add `-c client_connection_check_interval=1000` to the startup options (default true).
   * The setting exists from PostgreSQL 14 (our minimum): a killed client's backend then stops
   * within a second instead of running its statement (and holding its locks) to the end.
   * An unknown setting in the startup packet fails the login (PostgreSQL < 14), and servers on
   * platforms without POLLRDHUP (macOS, Windows) reject any value but 0; connectClient() notices
   * either refusal and connects again without it.
   */
  connectionCheck?: boolean;
  /** Schemas for `-c search_path=...` in the startup options (set on every connection). */
  searchPath?: string[];
  /** Send startup `options` at all (default true). PgBouncer refuses them unless configured. */
  startupOptions?: boolean;
  connectTimeoutMs?: number;
  /**
   * The host name the server's certificate must match (verify-full) and the TLS SNI name, when
   * `conn.host` is not it: through an SSH tunnel we connect to 127.0.0.1:<local port>, but the
   * certificate names the database host. Pass the configured (pre-tunnel) host here.
   */
  tlsServerName?: string;
}

/** An identifier we put unquoted into a startup option: lower-case, no spaces, no quoting issues. */
const SIMPLE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSimpleSchemaName(name: string): void {
  if (!SIMPLE_IDENTIFIER.test(name)) {
    throw new ChatgeniusError('DB_BAD_SCHEMA_NAME', `Schema name ${JSON.stringify(name)} is not a plain lower-case identifier`, { schema: name }, { exitCode: 2 });
  }
}

/** The `options` startup parameter, or undefined when there is nothing to send. */
export function startupOptions(opts: { connectionCheck?: boolean; searchPath?: string[] }): string | undefined {
  const parts: string[] = [];
  if (opts.connectionCheck ?? true) parts.push(`-c client_connection_check_interval=${CONNECTION_CHECK_INTERVAL_MS}`);
  if (opts.searchPath && opts.searchPath.length > 0) {
    opts.searchPath.forEach(assertSimpleSchemaName);
    parts.push(`-c search_path=${opts.searchPath.join(',\\ ')}`); // 'test,\ public': a backslash keeps the space inside the value
  }
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/**
 * TLS options for pg from sslMode, as close to libpq as pg allows:
 * - `disable`: no TLS.
 * - `prefer` (libpq's default): TLS without certificate checks; pg cannot fall back to plain
 *   text by itself, so connectClient() reconnects without TLS when the server says it has none.
 * - `require`: TLS, no certificate checks, unless `sslRootCert` is given: then, as libpq does,
 *   the chain is verified against it (verify-ca).
 * - `verify-ca`: the chain must lead to `sslRootCert` (else Node's trusted CAs); host name not checked.
 * - `verify-full`: chain and host name checked.
 */
export function sslOptions(conn: Pick<ConnectionConfig, 'sslMode' | 'sslRootCert'>, tlsServerName?: string): false | ConnectionOptions {
  const mode: SslMode = conn.sslMode;
  if (mode === 'disable') return false;
  const ca = conn.sslRootCert ? readRootCert(conn.sslRootCert) : undefined;
  if (mode === 'prefer' || (mode === 'require' && ca === undefined)) return { rejectUnauthorized: false };
  const verify: ConnectionOptions = { rejectUnauthorized: true };
  if (ca !== undefined) verify.ca = ca;
  if (mode === 'verify-ca' || mode === 'require') verify.checkServerIdentity = () => undefined;
  // node:tls is required when the handshake calls this (pg has loaded it by then), not at the top:
  // every connecting run would load it (~3 ms) though only a TLS connection uses it.
  else if (tlsServerName) verify.checkServerIdentity = (_host, cert) => (require('node:tls') as typeof import('node:tls')).checkServerIdentity(tlsServerName, cert);
  if (tlsServerName && !/^[\d.:]+$/.test(tlsServerName)) verify.servername = tlsServerName;
  return verify;
}

function readRootCert(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ChatgeniusError(
      'DB_SSL_ROOT_CERT_UNREADABLE',
      `Cannot read the TLS root certificate ${path}: ${(err as Error).message}`,
      { path, variable: 'PGSSLROOTCERT', reason: errorCode(err) },
      { cause: err },
    );
  }
}

/** ConnectionConfig -> pg.ClientConfig. Pure except for reading the root certificate file. */
export function clientConfig(conn: ConnectionConfig, opts: ClientConfigOptions = {}): pg.ClientConfig {
  const config: pg.ClientConfig = {
    host: conn.host,
    port: conn.port,
    database: conn.database,
    user: conn.user,
    ssl: sslOptions(conn, opts.tlsServerName),
    application_name: opts.applicationName ?? DEFAULT_APPLICATION_NAME,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
  // No password: pg would fall back on its own (deprecated) .pgpass reading, matched against the
  // tunnel's 127.0.0.1, and fail with a driver message. We looked already (config/pgpass.ts);
  // called only when the server asks for a password, this names where one may come from.
  config.password = conn.password ?? (() => Promise.reject(noPasswordError(conn)));
  if (opts.startupOptions ?? true) {
    const options = startupOptions(opts);
    if (options !== undefined) config.options = options;
  }
  return config;
}

/** The server asked for a password and there is none (explained as DB_NO_PASSWORD). */
export function noPasswordError(conn: ConnectionConfig): ChatgeniusError {
  const details: Record<string, unknown> = {
    host: conn.host,
    port: conn.port,
    database: conn.database,
    user: conn.user,
  };
  if (conn.passwordFile) {
    details.pgpassFile = conn.passwordFile.path;
    details.pgpassLine = conn.passwordFile.line;
    if (conn.passwordFile.problem) details.pgpassProblem = conn.passwordFile.problem;
  }
  return new ChatgeniusError('DB_NO_PASSWORD', `The server asks for a password for user "${conn.user}" and none is set`, details);
}

/** `user@host:port/database`, for events and messages (never a password). */
export function describeTarget(conn: Pick<ConnectionConfig, 'host' | 'port' | 'database' | 'user'>): string {
  return `${conn.user}@${conn.host}:${conn.port}/${conn.database}`;
}

export interface ConnectOptions extends ClientConfigOptions {
  retry?: RetryPolicy;
  emit?: Emit;
  signal?: AbortSignal;
}

/** What the server accepted; initializePool() builds its pool with the same settings. */
export interface ConnectTuning {
  sslMode: SslMode;
  connectionCheck: boolean;
  startupOptions: boolean;
}

const SSL_NOT_SUPPORTED = /server does not support SSL/i;
const CONNECTION_CHECK_REFUSED = /client_connection_check_interval/i;
const STARTUP_OPTIONS_REFUSED = /unsupported startup parameter/i;

/**
 * The code a connection failure is known by. pg raises a few errors without one; we name them
 * so that isTransient() and explain() can tell them apart.
 */
export function connectErrorCode(err: unknown): string {
  const own = errorCode(err);
  if (own) return own;
  const inner = (err as { errors?: unknown } | null)?.errors;
  if (Array.isArray(inner) && inner.length > 0 && errorCode(inner[0])) return errorCode(inner[0])!;
  const message = err instanceof Error ? err.message : String(err);
  if (SSL_NOT_SUPPORTED.test(message)) return 'DB_SSL_NOT_SUPPORTED';
  if (/Connection terminated unexpectedly/i.test(message)) return 'DB_CONNECTION_LOST';
  if (/timeout expired|connection timeout/i.test(message)) return 'DB_CONNECT_TIMEOUT';
  return 'DB_CONNECT_FAILED';
}

const PG_FACT_KEYS = ['detail', 'hint', 'severity', 'routine', 'syscall', 'address', 'hostname', 'errno'] as const;

/** A connection failure as a ChatgeniusError carrying the target's facts (never the password). */
export function connectError(err: unknown, conn: ConnectionConfig): ChatgeniusError {
  if (err instanceof ChatgeniusError) return err;
  const source = (() => {
    const inner = (err as { errors?: unknown } | null)?.errors;
    return !errorCode(err) && Array.isArray(inner) && inner.length > 0 ? inner[0] : err;
  })() as Record<string, unknown>;
  const details: Record<string, unknown> = {
    host: conn.host,
    port: conn.port,
    database: conn.database,
    user: conn.user,
    sslMode: conn.sslMode,
  };
  for (const k of PG_FACT_KEYS) if (source && source[k] !== undefined) details[k] = source[k];
  const message = err instanceof Error ? err.message : String(err);
  return new ChatgeniusError(connectErrorCode(err), message || 'connection failed', details, { cause: err });
}

/**
 * Connect once per attempt, retrying transient failures (server starting, refused, reset,
 * too many connections...) with the policy; TLS `prefer` and refused startup options are
 * handled by reconnecting without them (not counted as attempts). Throws a ChatgeniusError
 * whose code is the SQLSTATE / Node code (or DB_SSL_NOT_SUPPORTED, DB_CONNECT_TIMEOUT...).
 */
export async function connectClient(conn: ConnectionConfig, opts: ConnectOptions = {}): Promise<pg.Client> {
  return (await connectTuned(conn, opts)).client;
}

/**
 * A refusal that connecting without one of our extras cures: TLS under sslmode prefer, the
 * connection check (PostgreSQL < 14, macOS/Windows), startup options (a pooler). Drops that extra
 * from `tuning` (said as a notice, except for prefer) and answers true: connect again, not counted
 * as an attempt.
 */
function downgradeAfterRefusal(tuning: ConnectTuning, message: string, emit: ConnectOptions['emit']): boolean {
  if (tuning.sslMode === 'prefer' && SSL_NOT_SUPPORTED.test(message)) {
    tuning.sslMode = 'disable';
    return true;
  }
  if (tuning.connectionCheck && CONNECTION_CHECK_REFUSED.test(message)) {
    tuning.connectionCheck = false;
    emit?.({
      type: 'notice',
      level: 'warn',
      message: 'The server refused client_connection_check_interval (PostgreSQL < 14, or macOS/Windows); connecting without it',
    });
    return true;
  }
  if (tuning.startupOptions && STARTUP_OPTIONS_REFUSED.test(message)) {
    tuning.startupOptions = false;
    emit?.({ type: 'notice', level: 'warn', message: 'The server (a connection pooler?) refused startup options; connecting without them' });
    return true;
  }
  return false;
}

export async function connectTuned(conn: ConnectionConfig, opts: ConnectOptions = {}): Promise<{ client: pg.Client; tuning: ConnectTuning; serverVersion?: string }> {
  const pgm = await loadPg();
  const policy = opts.retry ?? retryPolicyFromEnv();
  const target = describeTarget(conn);
  const tuning: ConnectTuning = {
    sslMode: conn.sslMode,
    connectionCheck: opts.connectionCheck ?? true,
    startupOptions: opts.startupOptions ?? true,
  };
  return executeWithRetry(
    async (attempt) => {
      for (;;) {
        opts.emit?.({ type: 'connect:start', target, attempt });
        const started = Date.now();
        const config = clientConfig({ ...conn, sslMode: tuning.sslMode }, { ...opts, ...tuning });
        const client = new pgm.Client(config);
        // Attached before connecting: a socket error (idle drop, late reset) must never crash the process.
        let connected = false;
        client.on('error', (err: Error) => {
          if (connected) opts.emit?.({ type: 'notice', level: 'warn', message: `Connection to ${target} lost: ${err.message}` });
        });
        let serverVersion: string | undefined;
        const connection = (client as unknown as { connection?: NodeJS.EventEmitter }).connection;
        connection?.on('parameterStatus', (msg: { parameterName?: string; parameterValue?: string }) => {
          if (msg.parameterName === 'server_version') serverVersion = msg.parameterValue;
        });
        // Not client.end(): while logging in it only half-closes the socket and marks the client as
        // ending, so pg's connect() never settles (it waits for its own 10 s timeout). Destroying
        // the socket makes connect() reject at once; the catch below turns that into CancelledError.
        const onAbort = () => {
          (connection as unknown as { stream?: { destroy?: () => void } } | undefined)?.stream?.destroy?.();
        };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        try {
          await client.connect();
        } catch (err) {
          void client.end().catch(() => {});
          if (opts.signal?.aborted) throw new CancelledError();
          if (downgradeAfterRefusal(tuning, err instanceof Error ? err.message : String(err), opts.emit)) continue;
          throw connectError(err, conn);
        } finally {
          opts.signal?.removeEventListener('abort', onAbort);
        }
        connected = true;
        // Another connection like this one (the pooler probe needs a second session).
        rememberSibling(client, async () => {
          const other = new pgm.Client(config);
          other.on('error', () => {});
          await other.connect();
          return other;
        });
        const done: { type: 'connect:done'; target: string; ms: number; serverVersion?: string } = {
          type: 'connect:done',
          target,
          ms: Date.now() - started,
        };
        if (serverVersion !== undefined) done.serverVersion = serverVersion;
        opts.emit?.(done);
        return serverVersion === undefined ? { client, tuning: { ...tuning } } : { client, tuning: { ...tuning }, serverVersion };
      }
    },
    policy.maxRetries,
    { delayMs: policy.retryDelayMs, operation: 'connect', ...(opts.emit ? { emit: opts.emit } : {}), ...(opts.signal ? { signal: opts.signal } : {}) },
  );
}
