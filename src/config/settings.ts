/**
 * Every setting's flag and variables, in one place: resolveConfig reads them, env detection and
 * the wizard's .env writer derive their lists of connection variables from them.
 */
import type { SettingSpec } from './layers.js';

/** The settings resolveConfig reads: flag and variables, strongest first. */
export const SETTINGS = {
  databaseUrl: { flag: 'database-url', vars: ['DATABASE_URL'] },
  host: { vars: ['POSTGRES_HOST', 'PGHOST'], alt: 'the host in --database-url / DATABASE_URL' },
  port: { vars: ['POSTGRES_PORT', 'PGPORT'], alt: 'the port in --database-url / DATABASE_URL' },
  database: { vars: ['POSTGRES_DB', 'PGDATABASE'], alt: 'the database in --database-url / DATABASE_URL' },
  user: { vars: ['POSTGRES_USER', 'PGUSER'], alt: 'the user in --database-url / DATABASE_URL' },
  password: { vars: ['POSTGRES_PASSWORD', 'PGPASSWORD'], alt: 'the password in --database-url / DATABASE_URL' },
  pgpassFile: { vars: ['PGPASSFILE'] },
  sslMode: { vars: ['PGSSLMODE'] },
  sslRootCert: { vars: ['PGSSLROOTCERT'] },
  sshHost: { flag: 'ssh-host', vars: ['SSH_HOST'] },
  sshPort: { flag: 'ssh-port', vars: ['SSH_PORT'] },
  sshUser: { flag: 'ssh-user', vars: ['SSH_USER'] },
  sshKey: { flag: 'ssh-key', vars: ['SSH_KEY_PATH'] },
  sshPassphrase: { vars: ['SSH_PASSPHRASE'] },
  sshKnownHosts: { vars: ['SSH_KNOWN_HOSTS'] },
  sshFingerprint: { vars: ['SSH_HOST_FINGERPRINT'] },
  sshAgent: { vars: ['SSH_AUTH_SOCK'] },
  schema: { flag: 'schema', vars: ['CHATGENIUS_SCHEMA'] },
  migrationsDir: { flag: 'migrations-dir', vars: ['CHATGENIUS_MIGRATIONS_DIR'] },
  maxRetries: { vars: ['CHATGENIUS_MAX_RETRIES'] },
  retryDelay: { vars: ['CHATGENIUS_RETRY_DELAY_MS'] },
  lockTimeout: { flag: 'lock-timeout', vars: ['CHATGENIUS_LOCK_TIMEOUT'] },
  lockWait: { flag: 'lock-wait', vars: ['CHATGENIUS_LOCK_WAIT'] },
  statementTimeout: { flag: 'statement-timeout', vars: ['CHATGENIUS_STATEMENT_TIMEOUT'] },
  logFile: { flag: 'log-file', vars: [] },
} as const satisfies Record<string, SettingSpec>;

/** The settings that make up a database connection. */
const CONNECTION_SETTINGS = [SETTINGS.databaseUrl, SETTINGS.host, SETTINGS.port, SETTINGS.database, SETTINGS.user, SETTINGS.password] as const;

/** Variables whose presence means "a database is configured" (DATABASE_URL, POSTGRES_*, PG*). */
export const CONNECTION_VARS: readonly string[] = CONNECTION_SETTINGS.flatMap((s) => s.vars);

/** The variable each connection setting is written as (DATABASE_URL, POSTGRES_*: the first of each). */
export const CONNECTION_PRIMARY_VARS: readonly string[] = CONNECTION_SETTINGS.map((s) => s.vars[0]);

/** The variable each SSH setting the wizard asks for is written as. */
export const SSH_PRIMARY_VARS: readonly string[] = [SETTINGS.sshHost, SETTINGS.sshPort, SETTINGS.sshUser, SETTINGS.sshKey].map((s) => s.vars[0]);
