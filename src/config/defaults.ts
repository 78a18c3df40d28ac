/**
 * The environment defaults, as data (from the feature spec's FeatureConfig, plus `test` and `local`).
 */
import { fileURLToPath } from 'node:url';
import type { EnvName, RetryPolicy, SslMode } from './types.js';

export interface EnvDefaults {
  /** Default SSH private key (used only if the file exists; else ssh-agent). null: no tunnel. */
  sshKeyPath: string | null;
  retry: RetryPolicy;
  /** Changes need the typed confirmation of the database name (`--confirm-database NAME`). */
  requireConfirmation: boolean;
  /** Target schema when --schema is not given. */
  schema: string;
  /** search_path the application uses for this environment. */
  searchPath: string[];
  /** Embedded PostgreSQL under .chatgenius/, no tunnel, no connection settings. */
  embedded: boolean;
}

export const ENV_DEFAULTS: Readonly<Record<EnvName, Readonly<EnvDefaults>>> = {
  local: {
    sshKeyPath: null,
    retry: { maxRetries: 3, retryDelayMs: 500 },
    requireConfirmation: false,
    schema: 'public',
    searchPath: ['public'],
    embedded: true,
  },
  development: {
    sshKeyPath: '~/.ssh/id_rsa',
    retry: { maxRetries: 3, retryDelayMs: 1000 },
    requireConfirmation: false,
    schema: 'public',
    searchPath: ['public'],
    embedded: false,
  },
  test: {
    sshKeyPath: '~/.ssh/id_rsa',
    retry: { maxRetries: 3, retryDelayMs: 1000 },
    requireConfirmation: false,
    schema: 'test',
    searchPath: ['test', 'public'],
    embedded: false,
  },
  production: {
    sshKeyPath: '/etc/ssh/private_key',
    retry: { maxRetries: 5, retryDelayMs: 2000 },
    requireConfirmation: true,
    schema: 'public',
    searchPath: ['public'],
    embedded: false,
  },
};

/**
 * Migrations wait at most this long for a table lock, then back off and retry (55P03): the
 * app's queries that line up behind our waiting DDL stall at most this long at a time.
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 3_000;
/**
 * A statement run on its own on a table that holds rows (an online migration on an adopted
 * database) and that takes a lock the app's reads or writes queue behind (ALTER TABLE, CREATE
 * TRIGGER ...): its first attempt waits at most this long for the lock, each next one twice as
 * long up to ONLINE_STEP_LOCK_TIMEOUT_MAX_MS (never more than --lock-timeout), so the app's
 * queries queued behind an attempt stall at most that long; tried again within --lock-wait.
 */
export const ONLINE_STEP_LOCK_TIMEOUT_MS = 200;
export const ONLINE_STEP_LOCK_TIMEOUT_MAX_MS = 800;
/**
 * --lock-wait: the most a run spends waiting for locks in all: for another run's migration
 * lock, and for table locks (attempts of one lock_timeout each, with pauses between them).
 * Then it gives up and names the holder.
 */
export const DEFAULT_LOCK_WAIT_MS = 2 * 60_000;
/** A single migration statement may run this long. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_SSH_PORT = 22;
export const DEFAULT_PG_PORT = 5432;
export const DEFAULT_PG_DATABASE = 'chatgenius';
export const DEFAULT_PG_USER = 'postgres';
export const DEFAULT_PG_HOST = 'localhost';
export const DEFAULT_KEEPALIVE_MS = 10_000;
export const DEFAULT_SSH_READY_TIMEOUT_MS = 20_000;
/** The migrations folder's name: the package's own (below), and a project's own, which `new` creates. */
export const MIGRATIONS_DIR_NAME = 'sql';
/**
 * The migrations this package ships: its own sql/ (from src/config under tsx, from dist/config when
 * built). Not the default by itself: config/project-root.ts's defaultMigrationsDir() is the rule
 * (a project's own sql/ when it holds migrations, else these).
 */
export const BUNDLED_MIGRATIONS_DIR = fileURLToPath(new URL('../../sql', import.meta.url));
/** The project's own state directory (local database, accepted host keys), mode 0700. */
export const STATE_DIR_NAME = '.chatgenius';

/** The sslmode a connection gets when none is configured: loopback or a unix socket: disable; else prefer. */
export function defaultSslMode(host: string): SslMode {
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host) || host.startsWith('/');
  return loopback ? 'disable' : 'prefer';
}
