/**
 * explain() rows for the operations commands (doctor, listen, status --metrics, schema): the
 * DOCTOR_*, LISTEN_* and SCHEMA_* codes. Merged into the one explain() table by index.ts.
 */
import type { ExplainTable } from './types.js';

const s = (v: unknown, fallback = '?'): string => (v === undefined || v === null || v === '' ? fallback : String(v));

export const opsTable: ExplainTable = {
  DOCTOR_NO_CREATE: (f) => ({
    title: 'No CREATE privilege',
    cause: f.details.schemaExists
      ? `Role "${s(f.details.role)}" may not create objects in schema "${s(f.details.schema)}", so migrations cannot create tables there.`
      : `Schema "${s(f.details.schema)}" does not exist and role "${s(f.details.role)}" may not create schemas in database "${s(f.details.database)}".`,
    hint: f.details.schemaExists
      ? `As the schema's owner or a superuser: GRANT CREATE, USAGE ON SCHEMA "${s(f.details.schema)}" TO "${s(f.details.role)}";`
      : `As the database's owner or a superuser: GRANT CREATE ON DATABASE "${s(f.details.database)}" TO "${s(f.details.role)}"; (or create the schema for this role: CREATE SCHEMA "${s(f.details.schema)}" AUTHORIZATION "${s(f.details.role)}";)`,
  }),
  DOCTOR_PG_TOO_OLD: (f) => ({
    title: 'PostgreSQL is too old',
    cause: `The server runs PostgreSQL ${s(f.details.version)}; the schema needs 14 or newer: our sessions set client_connection_check_interval and 0004 uses CREATE OR REPLACE TRIGGER, both new in 14.`,
    hint: 'Upgrade the server to PostgreSQL 14 or newer, or point DATABASE_URL / POSTGRES_HOST at one that is.',
  }),
  DOCTOR_EXTENSION_MISSING: (f) => ({
    title: 'Extension not available',
    cause: `The server has no ${s(f.details.missing)} extension installed on disk (pg_available_extensions).`,
    hint: "Install the PostgreSQL contrib package on the server (e.g. apt install postgresql-contrib, or enable the extension in your managed database's settings).",
  }),
  DOCTOR_EXTENSION_NOT_CREATABLE: (f) => ({
    title: 'Extensions cannot be created by this role',
    cause: `${s(f.details.missing)} is not created yet and role "${s(f.details.role)}" has no CREATE privilege on database "${s(f.details.database)}".`,
    hint: `Create them once as a superuser: ${s(f.details.sql)} (or GRANT CREATE ON DATABASE "${s(f.details.database)}" TO "${s(f.details.role)}").`,
  }),
  DOCTOR_KEY_NOT_FOUND: (f) => ({
    title: 'SSH key file not found',
    cause: `There is no file at ${s(f.details.path)}.`,
    hint: 'Set SSH_KEY_PATH (or --ssh-key) to your private key, e.g. SSH_KEY_PATH=~/.ssh/id_ed25519, or unset it to use ssh-agent.',
  }),
  DOCTOR_KEY_MODE: (f) => ({
    title: 'SSH key file readable by others',
    cause: `${s(f.details.path)} has mode ${s(f.details.mode)}: other users of this machine can read your private key.`,
    hint: `chmod 600 ${s(f.details.path)}`,
  }),
  DOCTOR_KEY_NEEDS_PASSPHRASE: (f) => ({
    title: 'SSH key is encrypted',
    cause: `${s(f.details.path)} is protected by a passphrase and none is configured.`,
    hint: 'Set SSH_PASSPHRASE in .env.local (never commit it), or load the key into ssh-agent and unset SSH_KEY_PATH.',
  }),
  DOCTOR_KEY_UNREADABLE: (f) => ({
    title: 'SSH key file is not a private key',
    cause: `${s(f.details.path)} could not be parsed as a private key: ${f.message}`,
    hint: 'Point SSH_KEY_PATH at the private key (not the .pub file); OpenSSH, PEM (RSA/ECDSA) and ed25519 keys are supported.',
  }),
  DOCTOR_FORWARDING_FAILED: (f) => ({
    title: 'SSH forwarding failed',
    cause: `The SSH connection works, but the bastion could not open a connection to ${s(f.details.remote)} for us.`,
    hint: 'Check that PostgreSQL runs at that address as seen from the bastion (POSTGRES_HOST is resolved on the bastion, often "localhost" or a private name), and that the SSH server allows TCP forwarding (AllowTcpForwarding yes).',
  }),
  DOCTOR_POOLER_TRANSACTION_MODE: (f) => ({
    title: 'A transaction-mode connection pooler is in front of the database',
    cause: `Two statements on one connection ran in different server sessions (${s(f.details.evidence)}). Session advisory locks and SET search_path do not survive between statements there, so migrations cannot hold their lock.`,
    hint: 'Connect migrations directly to PostgreSQL, not through the pooler: use the database\'s direct host/port (e.g. port 5432 instead of PgBouncer\'s 6432, or your provider\'s "direct"/"session" connection string) in DATABASE_URL for chatgenius-db.',
  }),
  DOCTOR_LOCK_HELD: (f) => ({
    title: 'Another migration run holds the lock',
    cause: `Session ${s(f.details.pid)} (${s(f.details.applicationName, 'unknown application')}, ${s(f.details.clientAddr, 'local socket')}, since ${s(f.details.since, '?')}) holds the migration lock; a new run would wait for it.`,
    hint: `Let that run finish. If it is stuck (its client is gone): SELECT pg_terminate_backend(${s(f.details.pid)}); as a superuser or the same role.`,
  }),
  DOCTOR_JOURNAL_DRIFT: (f) => ({
    title: 'Applied migrations changed on disk',
    cause: `These applied files differ from what was recorded: ${s(f.details.files)}.`,
    hint: 'Restore the files (git checkout sql/), or if the change is deliberate, run `chatgenius-db repair` to re-record them after reviewing the diff.',
  }),
  DOCTOR_JOURNAL_FAILED_RUN: (f) => ({
    title: 'The last migration run failed',
    cause: `Migration ${s(f.details.version)} failed${f.details.message ? `: ${s(f.details.message)}` : ''}.`,
    hint: 'Fix the migration and run `chatgenius-db init` again; `chatgenius-db repair` clears a failed-run record once it is dealt with.',
  }),
  LISTEN_CONNECTION_LOST: (f) => ({
    title: 'The listen connection was lost and could not be restored',
    cause: `Reconnecting failed ${s(f.details.attempts)} times: ${f.message}`,
    hint: 'Run `chatgenius-db doctor` to see which link is broken, then start listen again.',
  }),
  LISTEN_NO_CHANNELS: (f) => ({
    title: 'No notification channels',
    cause: `No table in schema "${s(f.details.schema)}" has a notification trigger (has the schema been set up?).`,
    hint: 'Run `chatgenius-db init` first, or name the channels: chatgenius-db listen messages reactions',
  }),
  LISTEN_BAD_CHANNEL: (f) => ({
    title: 'Bad channel name',
    cause: `"${s(f.details.channel)}" is not a channel name (letters, digits and _ only, at most 63 characters).`,
    hint: 'Name a table (messages) or a channel (chatgenius_messages).',
  }),
  SCHEMA_EMPTY: (f) => ({
    title: 'No tables to show yet',
    cause: `Schema "${s(f.details.schema)}" of this database has no tables: the migrations have not been applied here.`,
    hint: `Run \`chatgenius-db init${f.details.env ? ` --env ${s(f.details.env)}` : ''}\` to create them, then \`chatgenius-db schema\` again.`,
  }),
  SCHEMA_BAD_FORMAT: (f) => ({
    title: `Unknown schema format ${s(f.details.format)}`,
    cause: 'chatgenius-db schema draws text (the terminal tour), mermaid (an erDiagram for Markdown) or svg (a picture).',
    hint: 'Use --format text, --format mermaid or --format svg (or give --output FILE.md / FILE.svg and the format follows the extension).',
  }),
};
