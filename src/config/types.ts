/** The one validated value every face (flags, wizard, library) produces and the engine consumes. */
export type EnvName = 'local' | 'development' | 'test' | 'production';
export const ENV_NAMES: readonly EnvName[] = ['local', 'development', 'test', 'production'];

/**
 * The settings resolveConfig takes by flag name, values as typed (resolveConfig validates them).
 * The command line turns its parsed flags into this shape at its edge (cli/command.ts
 * configFlags); the library passes none.
 */
export interface ConfigFlags {
  env?: string | undefined;
  yes?: boolean | undefined;
  'dry-run'?: boolean | undefined;
  json?: boolean | undefined;
  verbose?: boolean | undefined;
  'database-url'?: string | undefined;
  schema?: string | undefined;
  'migrations-dir'?: string | undefined;
  'log-file'?: string | undefined;
  'no-tunnel'?: boolean | undefined;
  'ssh-host'?: string | undefined;
  'ssh-port'?: string | undefined;
  'ssh-user'?: string | undefined;
  'ssh-key'?: string | undefined;
  'accept-new-host-key'?: boolean | undefined;
  'confirm-database'?: string | undefined;
  'lock-timeout'?: string | undefined;
  'lock-wait'?: string | undefined;
  'statement-timeout'?: string | undefined;
}

export interface RetryPolicy {
  /** Attempts in all (the spec's maxRetries counts attempts). */
  maxRetries: number;
  /** Base delay; attempt n waits delayMs * n before the next. */
  retryDelayMs: number;
}

export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface ConnectionConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  /** The libpq password file consulted when no password was set (its path; why it was ignored). */
  passwordFile?: { path: string; problem?: string; line: string };
  sslMode: SslMode;
  sslRootCert?: string; // path
}

export interface TunnelConfig {
  host: string;
  port: number; // default 22
  username: string;
  keyPath?: string; // expanded, absolute
  passphrase?: string;
  agentSocket?: string; // SSH_AUTH_SOCK when no key
  knownHostsPath: string; // SSH_KNOWN_HOSTS or ~/.ssh/known_hosts
  projectKnownHostsPath: string; // .chatgenius/known_hosts (accepted keys written here, 0600)
  hostFingerprint?: string; // SHA256:... pinned
  acceptNewHostKey: boolean;
  keepaliveIntervalMs: number;
  readyTimeoutMs: number;
}

export interface ResolvedConfig {
  env: EnvName;
  /** null only for env local before the embedded server is started. */
  connection: ConnectionConfig | null;
  tunnel: TunnelConfig | null;
  schema: string; // 'public' or 'test' or --schema
  retry: RetryPolicy;
  migrationsDir: string; // absolute
  lockTimeoutMs: number;
  /** How long a run waits for another run's migration lock (--lock-wait). */
  lockWaitMs?: number;
  statementTimeoutMs: number;
  projectDir: string; // absolute; where .env files and .chatgenius/ live
  stateDir: string; // absolute; <projectDir>/.chatgenius
  confirmDatabase?: string;
  yes: boolean;
  dryRun: boolean;
  json: boolean;
  verbose: boolean;
  logFile?: string;
  /** Which file or source supplied each variable (for doctor and --verbose); never values. */
  sources: Record<string, string>;
  /** search_path the application uses (env test: `test, public`). Added by config (D). */
  searchPath?: string[];
  /** The .env files that were read, highest precedence first (names only). Added by config (D). */
  envFiles?: string[];
}
