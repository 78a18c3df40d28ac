/**
 * The feature spec's library API, typed: setupDatabase(), initializePool(), executeSchemaFile(),
 * plus closePool(). Fixes over the spec's sketch:
 * - the connection comes from a ConnectionConfig, or else from the same configuration the CLI
 *   reads (resolveConfig: process env, then .env.<env>.local, .env.local, .env.<env>, .env in
 *   `cwd`; DATABASE_URL, else POSTGRES_* / PG*), never a hard-coded localhost:5432. Through an
 *   SSH tunnel: the open SSHTunnel's local port, or a tunnel of its own when SSH_HOST is set
 *   (closed with the pool). With nothing configured (env local): the embedded PostgreSQL.
 * - with isTest, `search_path` is `test, public` on EVERY pooled connection, not just the first
 *   one: it is sent as a startup option (`-c search_path=test,\ public`), so the spec's extensions
 *   installed in `public` (citext, pgcrypto, uuid-ossp) stay usable. When the server refuses
 *   startup options (PgBouncer without `ignore_startup_parameters = options`), a per-connection
 *   `SET search_path` hook is used instead.
 *   Note: behind a pooler in transaction mode neither survives reliably (a `SET` lands on
 *   whichever server connection ran it, startup options only reach the server if the pooler is
 *   configured to pass them); for the test schema, connect to PostgreSQL directly.
 * - connecting retries transient failures only (see transient.ts); idle-connection errors are
 *   reported as events and never crash the process.
 */
import type pg from 'pg';
import { readFile } from 'node:fs/promises';
import { ChatgeniusError } from '../errors.js';
import { noEmit, type Emit } from '../events.js';
import { resolveConfig } from '../config/resolve.js';
import { openTargetTunnel, targetConnection } from '../run.js';
import type { ConnectionConfig, RetryPolicy } from '../config/types.js';
import { assertSimpleSchemaName, clientConfig, connectTuned, connectClient, describeTarget } from '../db/connect.js';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from '../config/defaults.js';
import { bundledMigrationsDir, defaultMigrationsDir as projectMigrationsDir, findProjectRoot } from '../config/project-root.js';
import { retryPolicyFromEnv } from '../db/retry.js';
import { positionToLineColumn } from '../code-frame.js';
import type { MigrateResult } from '../migrate/types.js';
import { activeTunnel } from './active-tunnel.js';
import { failureError, migrate } from '../migrate/index.js';
import { loadPg } from '../db/driver.js';

export interface SetupOptions {
  /** Use the `test` schema (created if missing) with search_path `test, public`. */
  isTest?: boolean;
  /** The schema to use instead of `test` (implies search_path `<schema>, public`). */
  schema?: string;
  /** Where to connect; default: resolved from `env` and the .env files of `cwd`, as the CLI does. */
  connection?: ConnectionConfig;
  /** Environment variables to resolve the configuration from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Project directory whose .env files are read (default: process.cwd()). */
  cwd?: string;
  /**
   * Through an SSH tunnel: connect here instead of connection.host:port (TLS still checks
   * connection.host). Default: the tunnel SSHTunnel has open, when its remote end is this
   * connection's host:port (the spec's `tunnel.connect(); setupDatabase()`); `null`: never.
   */
  via?: { host: string; port: number } | null;
  retry?: RetryPolicy;
  emit?: Emit;
  signal?: AbortSignal;
  applicationName?: string;
  /** Pool size (default 10). */
  max?: number;
  /** setupDatabase only: apply the package's migrations (default true). */
  migrate?: boolean;
  /** setupDatabase only: the migrations directory (default: the package's sql/). */
  migrationsDir?: string;
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
}

export interface PoolInfo {
  /** The schema used for unqualified names (`public` unless test). */
  schema: string;
  searchPath: string[];
  connection: ConnectionConfig;
  target: string;
  /** The local end of the SSH tunnel the pool dials, when tunnelled. */
  via?: { host: string; port: number };
  /** Settings resolved from the configuration (when no connection was passed). */
  resolved?: { retry: RetryPolicy; lockTimeoutMs: number; statementTimeoutMs: number };
  /** Closes the tunnel this pool opened for itself, if any. */
  closeTunnel?: () => Promise<void>;
}

let current: pg.Pool | undefined;
const pools = new Map<pg.Pool, PoolInfo>();

function normalise(arg: boolean | SetupOptions | undefined): SetupOptions {
  return typeof arg === 'object' && arg !== null ? arg : { isTest: arg === true };
}

function schemaOf(o: SetupOptions): string | undefined {
  const schema = o.schema ?? (o.isTest ? 'test' : undefined);
  if (schema !== undefined) assertSimpleSchemaName(schema);
  return schema;
}

/** An open SSHTunnel whose remote end is this database, if any. */
function activeVia(conn: ConnectionConfig): { host: string; port: number } | undefined {
  const t = activeTunnel();
  if (t && t.remote.port === conn.port && t.remote.host.toLowerCase() === conn.host.toLowerCase()) {
    return { host: t.host, port: t.port };
  }
  return undefined;
}

interface Target {
  connection: ConnectionConfig;
  via?: { host: string; port: number };
  resolved?: NonNullable<PoolInfo['resolved']>;
  closeTunnel?: () => Promise<void>;
}

/**
 * Where the pool connects: the given connection, or the CLI's configuration (the environment
 * CHATGENIUS_ENV names, else detected) opened the one way every face opens a target (run.ts:
 * the embedded server for env local, the tunnel SSH_HOST names); through `via` or the open
 * SSHTunnel instead of a tunnel of our own when one is given or open.
 */
async function resolveTarget(o: SetupOptions): Promise<Target> {
  if (o.connection) {
    const via = o.via !== undefined ? (o.via ?? undefined) : activeVia(o.connection);
    return { connection: o.connection, ...(via ? { via } : {}) };
  }
  const config = resolveConfig({
    // Not forced to env test: the spec's isTest means "schema test in the configured database"
    // (its credentials often live in .env.local, which env test does not read).
    flags: {},
    env: o.env ?? process.env,
    cwd: o.cwd ?? process.cwd(),
    interactive: false,
  });
  const resolved = { retry: config.retry, lockTimeoutMs: config.lockTimeoutMs, statementTimeoutMs: config.statementTimeoutMs };
  const hooks = { emit: o.emit ?? noEmit, ...(o.signal ? { signal: o.signal } : {}) };
  const connection = await targetConnection(config, hooks);
  if (!config.connection) return { connection, resolved }; // env local: the embedded server, no tunnel
  if (o.via !== undefined) return { connection, resolved, ...(o.via ? { via: o.via } : {}) };
  const open = activeVia(connection);
  if (open) return { connection, resolved, via: open };
  const tunnel = await openTargetTunnel({ ...config, retry: o.retry ?? config.retry }, connection, hooks);
  if (!tunnel) return { connection, resolved };
  return {
    connection,
    resolved,
    via: { host: tunnel.localHost, port: tunnel.localPort },
    closeTunnel: () => tunnel.close(),
  };
}

/** The package's own sql/ (config/defaults.ts); a project's default is config/project-root.ts's rule. */
export const defaultMigrationsDir = bundledMigrationsDir();

/**
 * Create a pool (and make it the one executeSchemaFile() uses). Connects once first, with
 * retry, to learn what the server accepts (TLS for `prefer`, startup options) and to create the
 * test schema; then every pooled connection is made the same way.
 *
 * ```ts
 * const pool = await initializePool(true); // schema test, search_path test, public
 * ```
 */
export async function initializePool(isTest: boolean | SetupOptions = false): Promise<pg.Pool> {
  const o = normalise(isTest);
  const schema = schemaOf(o);
  const target = await resolveTarget(o);
  try {
    return await makePool(o, schema, target);
  } catch (err) {
    await target.closeTunnel?.().catch(() => {});
    throw err;
  }
}

async function makePool(o: SetupOptions, schema: string | undefined, t: Target): Promise<pg.Pool> {
  const { connection, via } = t;
  const searchPath = schema && schema !== 'public' ? [schema, 'public'] : [];
  const dialled: ConnectionConfig = via ? { ...connection, host: via.host, port: via.port } : connection;
  const common = {
    ...(o.applicationName ? { applicationName: o.applicationName } : {}),
    ...(via ? { tlsServerName: connection.host } : {}),
  };

  const { client: probe, tuning } = await connectTuned(dialled, {
    ...common,
    retry: o.retry ?? t.resolved?.retry ?? retryPolicyFromEnv(o.env ?? process.env),
    ...(o.emit ? { emit: o.emit } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  try {
    if (schema && schema !== 'public') {
      // Look first: CREATE SCHEMA IF NOT EXISTS checks the CREATE privilege even when the schema exists.
      const found = await probe.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (found.rowCount === 0) await probe.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    }
  } finally {
    await probe.end().catch(() => {});
  }

  const pgm = await loadPg();
  const config: pg.PoolConfig & { onConnect?: (c: pg.PoolClient) => Promise<void> } = {
    ...clientConfig({ ...dialled, sslMode: tuning.sslMode }, { ...common, ...tuning, searchPath }),
    max: o.max ?? 10,
    idleTimeoutMillis: 30_000,
  };
  if (!tuning.startupOptions && searchPath.length > 0) {
    config.onConnect = async (c) => {
      await c.query(`SET search_path TO ${searchPath.map((s) => `"${s}"`).join(', ')}`);
    };
  }
  const pool = new pgm.Pool(config);
  const target = describeTarget(connection);
  pool.on('error', (err: Error) => {
    o.emit?.({ type: 'notice', level: 'warn', message: `An idle pooled connection to ${target} failed: ${err.message}` });
  });
  pools.set(pool, {
    schema: schema ?? 'public',
    searchPath,
    connection,
    target,
    ...(via ? { via } : {}),
    ...(t.resolved ? { resolved: t.resolved } : {}),
    ...(t.closeTunnel ? { closeTunnel: t.closeTunnel } : {}),
  });
  current = pool;
  return pool;
}

/** The pool initializePool() made last, if any. */
export function currentPool(): pg.Pool | undefined {
  return current;
}

export function poolInfo(pool: pg.Pool): PoolInfo | undefined {
  return pools.get(pool);
}

/**
 * The spec's setupDatabase(): a pool, and (unless `migrate: false`) the package's migrations
 * applied to the schema (`public`, or `test` with isTest) by the migration engine.
 *
 * ```ts
 * const { pool } = await setupDatabase();          // DATABASE_URL or POSTGRES_* from the env
 * const { pool: testPool } = await setupDatabase(true); // schema test
 * ```
 */
export async function setupDatabase(isTest: boolean | SetupOptions = false): Promise<{ pool: pg.Pool; migrations?: MigrateResult }> {
  const o = normalise(isTest);
  const pool = await initializePool(o);
  if (o.migrate === false) return { pool };
  try {
    const migrations = await applyMigrations(o, poolInfo(pool)!);
    return { pool, migrations };
  } catch (err) {
    await endPool(pool);
    throw err;
  }
}

async function applyMigrations(o: SetupOptions, info: PoolInfo): Promise<MigrateResult> {
  // The engine is loaded only when needed.
  const env = o.env ?? process.env;
  const dialled = info.via ? { ...info.connection, host: info.via.host, port: info.via.port } : info.connection;
  const client = await connectClient(dialled, {
    retry: o.retry ?? info.resolved?.retry ?? retryPolicyFromEnv(env),
    ...(o.applicationName ? { applicationName: o.applicationName } : {}),
    ...(info.via ? { tlsServerName: info.connection.host } : {}),
    ...(o.emit ? { emit: o.emit } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  try {
    const result = await migrate(client, {
      schema: info.schema,
      // The CLI's one rule (config/project-root.ts): the project's sql/ when it has one.
      migrationsDir: o.migrationsDir ?? projectMigrationsDir(findProjectRoot(o.cwd ?? process.cwd())),
      lockTimeoutMs: o.lockTimeoutMs ?? info.resolved?.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      statementTimeoutMs: o.statementTimeoutMs ?? info.resolved?.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      ...(o.emit ? { emit: o.emit } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (!result.ok) {
      if (result.failure) {
        throw failureError(result.failure);
      }
      throw new ChatgeniusError('DB_SETUP_FAILED', 'Applying the migrations failed without a reported cause', { schema: info.schema });
    }
    return result;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Run one SQL file on the current pool (made on demand from the environment). With isTest on a
 * pool that is not a test pool, `search_path` is set to `test, public` for this file and reset
 * afterwards, so the pooled connection goes back clean. A failing connection is discarded, never
 * returned to the pool. An error the server places in the file (syntax errors and others with a
 * `position`) is thrown as a ChatgeniusError whose code is the SQLSTATE and whose details carry
 * file, line, column and the offending line (explain() shows them with a caret); its `cause` is
 * pg's DatabaseError. Errors without a position are pg's DatabaseError unchanged.
 */
export async function executeSchemaFile(filePath: string, isTest: boolean | SetupOptions = false): Promise<void> {
  const o = normalise(isTest);
  const sql = await readFile(filePath, 'utf8');
  const pool = current ?? (await initializePool(o));
  const info = pools.get(pool);
  const wanted = schemaOf(o);
  const needsSet = wanted !== undefined && info?.schema !== wanted;
  const client = await pool.connect();
  let failed: unknown;
  try {
    if (needsSet) await client.query(`SET search_path TO "${wanted}", public`);
    await client.query(sql);
    if (needsSet) await client.query('RESET search_path');
  } catch (err) {
    failed = err;
    throw locateSqlError(err, filePath, sql);
  } finally {
    client.release(failed !== undefined ? (failed instanceof Error ? failed : true) : undefined);
  }
}

/** A pg error with a position inside `sql` -> ChatgeniusError with file/line/column/sourceLine. */
export function locateSqlError(err: unknown, file: string, sql: string): unknown {
  const e = err as { code?: unknown; position?: unknown; message?: unknown } | null;
  if (!e || typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return err;
  const position = Number(e.position);
  if (!Number.isInteger(position) || position < 1) return err;
  const where = positionToLineColumn(sql, position);
  const details: Record<string, unknown> = { file, ...where, position, sqlstate: e.code };
  for (const k of ['detail', 'hint', 'table', 'column', 'constraint']) {
    const v = (err as Record<string, unknown>)[k];
    if (v !== undefined && k !== 'column') details[k] = v;
    if (v !== undefined && k === 'column') details.columnName = v;
  }
  return new ChatgeniusError(e.code, String(e.message ?? 'SQL error'), details, { cause: err });
}

async function endPool(pool: pg.Pool): Promise<void> {
  const info = pools.get(pool);
  pools.delete(pool);
  if (current === pool) current = undefined;
  await pool.end().catch(() => {});
  await info?.closeTunnel?.().catch(() => {});
}

/** End the given pool, or every pool made by initializePool()/setupDatabase(). */
export async function closePool(pool?: pg.Pool): Promise<void> {
  if (pool) return endPool(pool);
  await Promise.all([...pools.keys()].map(endPool));
}
