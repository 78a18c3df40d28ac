import type { ErrorFacts, ExplainEntry, ExplainTable } from './types.js';
import { codeFrame } from './frame.js';

/**
 * explain() rows for PostgreSQL SQLSTATEs, Node network/file codes, TLS failures and the db
 * library's own codes (DB_*). Causes use facts (host, port, database, user, file) but never a
 * password: pg's messages carry none, and we never put one in details.
 */

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/** `host:port` of the target, from our details (host/port) or Node's (address/hostname/port). */
function where(f: ErrorFacts): string {
  const host = str(f.details.host) ?? str(f.details.hostname) ?? str(f.details.address);
  const port = str(f.details.port);
  if (!host) return 'the database server';
  return port ? `${host}:${port}` : host;
}

const cap = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);

/** A quoted name from pg's message, e.g. user "bob" / database "chat". */
function quoted(f: ErrorFacts, word: string): string | undefined {
  const m = new RegExp(`${word} "([^"]*)"`).exec(f.message);
  return m?.[1];
}
/** pg's `column` (a name), or columnName when `column` holds our 1-based column number. */
const colName = (f: ErrorFacts) => str(f.details.columnName) ?? (typeof f.details.column === 'string' ? f.details.column : undefined);
const userOf = (f: ErrorFacts) => str(f.details.user) ?? quoted(f, 'user') ?? quoted(f, 'role');
const databaseOf = (f: ErrorFacts) => str(f.details.database) ?? quoted(f, 'database');

/** `file:line:column` + the line + a caret, when the facts say where in a file the error is. */
function frameOf(f: ErrorFacts): string | undefined {
  const d = f.details;
  const existing = str(d.frame) ?? str(d.codeFrame);
  if (existing) return existing;
  const line = Number(d.line);
  const column = Number(d.column);
  if (typeof d.sourceLine === 'string' && Number.isInteger(line) && line > 0 && Number.isInteger(column) && column > 0) {
    return codeFrame({ ...(str(d.file) ? { file: str(d.file)! } : {}), line, column, sourceLine: d.sourceLine });
  }
  return undefined;
}

/** The location prefix for titles: ` in sql/x.sql:3:7`. */
function inFile(f: ErrorFacts): string {
  const file = str(f.details.file);
  if (!file) return '';
  const line = str(f.details.line);
  const column = str(f.details.column);
  return ` in ${file}${line ? `:${line}${column ? `:${column}` : ''}` : ''}`;
}

/** A lost lock race (55P03/40P01) of a migration: how often it was retried. Says "retried" only when it was. */
function retriedNote(f: ErrorFacts): string {
  const n = f.details.retries;
  if (typeof n !== 'number') return '';
  return n > 0
    ? ` Retried ${n} time${n === 1 ? '' : 's'} with pauses in between (the app was never kept waiting longer than one lock_timeout at a time); gave up when the --lock-wait budget ran out.`
    : ' Not retried: the --lock-wait budget leaves no room for another attempt.';
}

interface RaceHolder {
  pid?: number;
  applicationName?: string | null;
  clientAddr?: string | null;
  state?: string | null;
  since?: string | null;
  user?: string | null;
  table?: string;
  mode?: string;
}

function holderNote(f: ErrorFacts): string {
  const h = f.details.holder as RaceHolder | undefined;
  if (!h || typeof h !== 'object' || h.pid === undefined) return '';
  const who = [
    `pid ${h.pid}`,
    h.applicationName ? `application ${h.applicationName}` : '',
    h.user ? `user ${h.user}` : '',
    h.clientAddr ? `from ${h.clientAddr}` : '',
    h.state ? `${h.state}` : '',
    h.since ? `in a transaction since ${h.since}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return ` In the way: ${who}${h.table ? `, holding ${h.mode ?? 'a lock'} on ${h.table}` : ''}.`;
}

function holderHint(f: ErrorFacts): string | undefined {
  const h = f.details.holder as RaceHolder | undefined;
  if (!h || typeof h !== 'object' || h.pid === undefined) return undefined;
  const idle = h.state === 'idle in transaction';
  return `${idle ? 'That session sits idle in an open transaction: ' : 'Let that transaction finish, or end it: '}SELECT pg_terminate_backend(${h.pid}); (as a superuser or its own role), then run the same command again: migrations already applied stay applied. Or give the run more time: --lock-wait 10m.`;
}

/** pg's own DETAIL / HINT, appended when present. */
function pgNotes(f: ErrorFacts): string {
  const detail = str(f.details.detail);
  return detail ? ` ${detail}` : '';
}

/** An entry with the frame attached when the facts have one. */
function withFrame(entry: ExplainEntry): ExplainEntry {
  return (f) => {
    const e = entry(f);
    const detail = e.detail ?? frameOf(f);
    return detail ? { ...e, detail } : e;
  };
}

const TLS_SELF_SIGNED: ExplainEntry = (f) => ({
  title: "The server's TLS certificate is not trusted",
  cause: `${cap(where(f))} presented a certificate that does not chain to a trusted authority (${f.code}): a self-signed or private-CA certificate, common on managed databases.`,
  hint:
    "Download the provider's CA certificate and set PGSSLROOTCERT=/path/to/ca.pem (or sslrootcert=/path in DATABASE_URL) with PGSSLMODE=verify-full. " +
    'Only on a network you trust: PGSSLMODE=require encrypts without checking the certificate.',
});

const SERVER_NO_SSL: ExplainEntry = (f) => ({
  title: 'The server does not support TLS (SSL)',
  cause: `${cap(where(f))} answered that it has no SSL, but the connection asks for TLS (sslmode ${str(f.details.sslMode) ?? 'require or stricter'}).`,
  hint: 'If the server is on this machine or a trusted network, set PGSSLMODE=disable (or ?sslmode=disable in DATABASE_URL); use prefer to take TLS when offered. Otherwise enable ssl=on on the server.',
});

function sqlClassEntry(title: string, meaning: string, hint: string): ExplainEntry {
  return withFrame((f) => ({
    title,
    cause: `PostgreSQL ${f.code} (${meaning}): ${f.message}${pgNotes(f)}`,
    hint,
  }));
}

export const dbTable: ExplainTable = {
  // ---- Setup: the spec's codes -------------------------------------------------------------
  '42P04': (f) => ({
    title: 'Database already exists',
    cause: `A database named ${databaseOf(f) ?? 'like that'} already exists on ${where(f)}.`,
    hint: 'Nothing to create: point POSTGRES_DB (or the path of DATABASE_URL) at it and run `chatgenius-db init`, or choose another name.',
  }),
  '42P06': (f) => ({
    title: 'Schema already exists',
    cause: `The schema ${quoted(f, 'schema') ?? ''} already exists.`.replace('  ', ' '),
    hint: 'Use CREATE SCHEMA IF NOT EXISTS; `chatgenius-db init` does, and re-running it is safe.',
  }),
  '42P07': withFrame((f) => ({
    title: `Table or other relation already exists${inFile(f)}`,
    cause: `${f.message}: the object was created before, by a previous run or by hand.`,
    hint: 'If the tables already exist from an older setup, adopt them with `chatgenius-db baseline --to VERSION`; otherwise use IF NOT EXISTS, or drop the leftover object.',
  })),
  '42501': withFrame((f) => {
    const role = userOf(f);
    const who = role ? `"${role}"` : '<role>';
    const schema = /permission denied for schema (\S+)/.exec(f.message)?.[1];
    const database = /permission denied for database (\S+)/.exec(f.message)?.[1];
    const extension = /permission denied to create extension "([^"]+)"/.exec(f.message)?.[1];
    const owner = /must be owner of (.+)/.exec(f.message)?.[1];
    const cause = `${role ? `The role ${role}` : 'The connecting role'} may not do this: ${f.message}.`;
    if (extension) {
      return {
        title: `Not allowed to create the extension ${extension}`,
        cause: `${cause} It is not installed in this database, and only its owner (or a superuser) may create it.`,
        hint: `Have the database owner run \`CREATE EXTENSION IF NOT EXISTS "${extension}" SCHEMA public;\` once (a run skips the extensions that exist), or on a managed database enable it in the provider's console; then run again.`,
      };
    }
    if (schema) {
      return {
        title: `Missing privilege: CREATE on schema ${schema}`,
        cause,
        hint: `Have the schema's owner run \`GRANT USAGE, CREATE ON SCHEMA ${schema} TO ${who};\`, or connect as a role that has it.`,
      };
    }
    if (database) {
      return {
        title: `Missing privilege on database ${database}`,
        cause,
        hint: `Have the database owner run \`GRANT CREATE ON DATABASE ${database} TO ${who};\` (needed only to create schemas), or connect as a role that has it.`,
      };
    }
    return {
      title: owner ? `Only the owner of ${owner} may do this` : 'Insufficient privileges',
      cause,
      hint: owner
        ? `Connect as the owner of ${owner} (or a member of its owning role), or have it run the change.`
        : 'Connect as a role with the privilege named above, or have an admin grant it.',
    };
  }),
  DB_MISSING_PRIVILEGE: (f) => ({
    title: `Missing privilege: ${str(f.details.privilege) ?? 'a privilege this run needs'}`,
    cause: `${f.message}. Nothing was changed.`,
    hint: `Have the owner run \`${str(f.details.grant) ?? 'GRANT ...'}\`${str(f.details.alternative) ? ` (or create the schema for this role: \`${str(f.details.alternative)}\`)` : ''}, or connect as a role that has it.`,
  }),
  '3D000': (f) => ({
    title: 'Database does not exist',
    cause: `There is no database ${databaseOf(f) ? `"${databaseOf(f)}"` : 'with that name'} on ${where(f)}.`,
    hint: `Create it (\`createdb ${databaseOf(f) ?? 'NAME'}\` or CREATE DATABASE), or fix POSTGRES_DB / the path of DATABASE_URL.`,
  }),
  '23505': withFrame((f) => ({
    title: 'Unique constraint violation',
    cause: `A row with the same key already exists${str(f.details.constraint) ? ` (constraint ${str(f.details.constraint)})` : ''}.${pgNotes(f)}`,
    hint: 'Use a different value, update the existing row instead, or ON CONFLICT in the INSERT. In a migration: make the data step idempotent.',
  })),
  '23503': withFrame((f) => ({
    title: 'Foreign key constraint violation',
    cause: `The row refers to a row that does not exist, or is still referred to by others${str(f.details.constraint) ? ` (constraint ${str(f.details.constraint)})` : ''}.${pgNotes(f)}`,
    hint: 'Insert the parent first (the user or channel), or delete the children first. Users and channels with messages are never deleted: soft delete them (set deleted_at).',
  })),
  '23514': withFrame((f) => ({
    title: 'Check constraint violation',
    cause: `A value breaks a rule of the schema${str(f.details.constraint) ? ` (${str(f.details.constraint)})` : ''}: ${f.message}.${pgNotes(f)}`,
    hint: 'Check the allowed values: ids are 26-character ULIDs, role owner|admin|member, status online|away|busy|offline, theme light|dark|system, sync_type full|incremental, sizes >= 0.',
  })),
  '23502': withFrame((f) => ({
    title: 'Missing required value (NOT NULL)',
    cause: `${colName(f) ? `Column ${colName(f)}` : 'A NOT NULL column'}${str(f.details.table) ? ` of ${str(f.details.table)}` : ''} got no value.`,
    hint: 'Give the column a value in the INSERT/UPDATE (or rely on its default by leaving it out, not by passing NULL).',
  })),

  // ---- Authentication ----------------------------------------------------------------------
  '28P01': (f) => ({
    title: 'Password authentication failed',
    cause: `${cap(where(f))} rejected the password for user ${userOf(f) ? `"${userOf(f)}"` : 'given'}.`,
    hint: 'Check POSTGRES_PASSWORD (or the password in DATABASE_URL; URL-encode special characters such as @ : / as %40 %3A %2F) and POSTGRES_USER. The password is never shown.',
  }),
  '28000': (f) => {
    if (/no pg_hba\.conf entry.*no encryption/i.test(f.message)) {
      return {
        title: 'The server requires TLS (SSL)',
        cause: `${cap(where(f))} accepts ${userOf(f) ? `user "${userOf(f)}"` : 'this user'} only over an encrypted connection, and this one was not (sslmode disable).`,
        hint: 'Set PGSSLMODE=require (or ?sslmode=require in DATABASE_URL); better, verify-full with PGSSLROOTCERT=/path/to/ca.pem from your provider.',
      };
    }
    if (/no pg_hba\.conf entry/i.test(f.message)) {
      return {
        title: 'The server does not accept this connection',
        cause: `${cap(where(f))} has no pg_hba.conf rule for this client address, user${userOf(f) ? ` "${userOf(f)}"` : ''} and database${databaseOf(f) ? ` "${databaseOf(f)}"` : ''}.`,
        hint: "Ask the database admin to allow your address in pg_hba.conf (managed databases: the provider's allowed-IP list), or connect through the SSH bastion (SSH_HOST).",
      };
    }
    return {
      title: 'Not authorized to connect',
      cause: `${cap(where(f))}: ${f.message}.`,
      hint: /role .* does not exist/i.test(f.message)
        ? 'The user does not exist on this server: fix POSTGRES_USER (or the user in DATABASE_URL), or create the role.'
        : 'Check POSTGRES_USER and that this role may log in (LOGIN) and connect to the database (CONNECT privilege).',
    };
  },

  // ---- SQL in files --------------------------------------------------------------------------
  '42601': withFrame((f) => ({
    title: `SQL syntax error${inFile(f)}`,
    cause: `PostgreSQL could not parse the SQL: ${f.message}.`,
    hint: 'Fix the statement at the caret (a typo, a missing comma or semicolon, an unquoted reserved word). Nothing of this file ran: a syntax error rejects the whole batch before it starts.',
  })),
  '42883': withFrame((f) => ({
    title: `Function or operator does not exist${inFile(f)}`,
    cause: `${f.message}.${pgNotes(f)} Often an extension's function (gen_random_bytes from pgcrypto, uuid_generate_v4 from uuid-ossp, citext operators) is not installed, or its schema (public) is not on search_path.`,
    hint: 'Apply the migrations (`chatgenius-db init`) so the extensions exist; keep public on search_path (the test schema uses `test, public`); or add explicit casts for the argument types shown.',
  })),
  '42P01': withFrame((f) => ({
    title: `Table does not exist${inFile(f)}`,
    cause: `${f.message}: the schema is not set up here, or search_path points at another schema.`,
    hint: 'Run `chatgenius-db init` (use --env test / setupDatabase(true) for schema test), and check `chatgenius-db status` and --schema.',
  })),
  '58P01': (f) => ({
    title: 'A file the server needs is missing',
    cause: `${f.message}. Usually an extension (citext, pgcrypto, uuid-ossp) that is not installed on the server.`,
    hint: "Install the server's contrib package (e.g. `apt install postgresql-contrib` or postgresql<version>-contrib), or enable the extension in your provider's console; then run again.",
  }),
  '0A000': withFrame((f) => ({
    title: `Not supported by this server${inFile(f)}`,
    cause: `${f.message}. Some statements (CREATE INDEX CONCURRENTLY, ALTER SYSTEM, VACUUM) cannot run inside a transaction, and older versions lack some features.`,
    hint: 'Mark the migration to run outside a transaction (directive in its first line), or rewrite it; we require PostgreSQL 14 or newer.',
  })),
  '25P02': (f) => ({
    title: 'The transaction was already aborted',
    cause: `An earlier statement in this transaction failed, so PostgreSQL ignores the rest (${f.message}).`,
    hint: 'Look for the first error above this one; that is the real failure. The transaction must ROLLBACK before anything else runs.',
  }),

  '22012': withFrame((f) => ({
    title: `Division by zero${inFile(f)}`,
    cause: `${f.message}: a divisor in the statement is 0 for at least one row (a constant, a column, or an expression such as a count).`,
    hint: 'Guard the divisor where the caret points: NULLIF(divisor, 0) gives NULL instead of an error, or skip those rows (WHERE divisor <> 0); then run again.',
  })),

  // ---- Load, locks, timeouts -----------------------------------------------------------------
  '53300': (f) => ({
    title: 'Too many connections',
    cause: `${cap(where(f))} has no free connection slots (max_connections or the role's connection limit reached).`,
    hint: 'Retried automatically. If it persists: close idle clients, lower pool sizes, use a pooler for the app, or raise max_connections.',
  }),
  '57P03': (f) => ({
    title: 'The database is starting up',
    cause: `${cap(where(f))} is not accepting connections yet (starting, recovering or in standby): ${f.message}.`,
    hint: 'Retried automatically; wait a moment and run again. If it stays so, check the server log.',
  }),
  '57P01': (f) => ({
    title: 'The server closed the session',
    cause: `An administrator command or a server shutdown terminated the connection (${f.message}).`,
    hint: 'Retried automatically when connecting. Each migration commits on its own: run the command again to finish.',
  }),
  '57P02': (f) => ({
    title: 'The server crashed',
    cause: `${cap(where(f))} ended the session after another backend crashed (${f.message}).`,
    hint: 'Wait for the server to recover and run again; check the server log for the crash.',
  }),
  '55P03': withFrame((f) => ({
    title: 'Lock not available (lock_timeout)',
    cause: `A lock could not be taken in time: another session holds the table (a long query, an open transaction). ${f.message}.${retriedNote(f)}${holderNote(f)}`,
    hint:
      holderHint(f) ??
      'Find the holder (`SELECT pid, state, xact_start, query FROM pg_stat_activity WHERE xact_start IS NOT NULL ORDER BY xact_start`), let it finish, or allow more time (--lock-wait); then run again.',
  })),
  '57014': withFrame((f) => ({
    title: /statement timeout/i.test(f.message) ? 'Statement timeout' : 'Query cancelled',
    cause: /statement timeout/i.test(f.message)
      ? 'A statement ran longer than statement_timeout and was stopped; its transaction was rolled back.'
      : `The query was cancelled (by a person, pg_cancel_backend, or a lost client): ${f.message}.`,
    hint: 'Raise --statement-timeout for a long data migration (or 0 for none), or split the migration; nothing of it was committed. Run again.',
  })),
  '40001': (f) => ({
    title: 'Serialization failure',
    cause: `A concurrent transaction changed the same data (${f.message}).`,
    hint: 'Retried automatically; such transactions are meant to be repeated. If it persists, run migrations when the app is quiet.',
  }),
  '40P01': (f) => ({
    title: 'Deadlock',
    cause: `Two sessions waited on each other's locks; PostgreSQL cancelled this one.${pgNotes(f)}${retriedNote(f)}${holderNote(f)}`,
    hint: `${typeof f.details.retries === 'number' && f.details.retries > 0 ? 'It kept happening. ' : ''}Lock tables in a consistent order (children before parents, or one LOCK statement up front), or run it when the app is quiet; then run again.`,
  }),

  // ---- SQLSTATE classes ----------------------------------------------------------------------
  '08xxx': (f) => ({
    title: 'Connection problem',
    cause: `The connection to ${where(f)} failed or broke (${f.code}): ${f.message}.`,
    hint: 'Retried automatically. Check the network, VPN or SSH tunnel; `chatgenius-db doctor` checks each link.',
  }),
  '22xxx': sqlClassEntry('Invalid data', 'data exception', 'A value does not fit its column type, format or range; fix the value (or the cast) shown.'),
  '23xxx': sqlClassEntry(
    'Data integrity violation',
    'integrity constraint violation',
    'The change breaks a constraint of the schema; fix the data, or the order of the statements.',
  ),
  '42xxx': sqlClassEntry(
    'SQL error',
    'syntax error or access rule violation',
    'Fix the statement (names, types, privileges) shown; nothing of the failing migration was committed.',
  ),
  '53xxx': sqlClassEntry(
    'The server is out of resources',
    'insufficient resources',
    'Disk, memory or connections ran out on the server: free some, or ask its admin. Then run again.',
  ),
  '57xxx': sqlClassEntry('Operator intervention', 'operator intervention', 'The server stopped or cancelled the work; run again when it is back.'),
  XXxxx: sqlClassEntry('Internal server error', 'internal error', 'This is a PostgreSQL problem (data corruption or a bug): check the server log and tell its admin.'),

  // ---- Network (Node codes) ------------------------------------------------------------------
  ECONNREFUSED: (f) => ({
    title: 'Connection refused',
    cause: `Nothing is listening at ${where(f)}: PostgreSQL is not running there, listens on another port, or listen_addresses excludes this address.`,
    hint: 'Start PostgreSQL (or `chatgenius-db local start`), or fix POSTGRES_HOST / POSTGRES_PORT (DATABASE_URL). Behind a bastion, set SSH_HOST so the tunnel is used. Retried automatically.',
  }),
  ENOTFOUND: (f) => ({
    title: 'Host not found',
    cause: `The name ${str(f.details.hostname) ?? str(f.details.host) ?? ''} does not resolve in DNS.`.replace('name  does', 'host name does'),
    hint: 'Check the spelling of POSTGRES_HOST (or the host in DATABASE_URL), your VPN, or use an IP address. A private host behind a bastion needs SSH_HOST.',
  }),
  EAI_AGAIN: (f) => ({
    title: 'DNS lookup failed for now',
    cause: `The name ${str(f.details.hostname) ?? str(f.details.host) ?? 'of the host'} could not be resolved at the moment (temporary DNS failure).`,
    hint: 'Retried automatically. Check your network or VPN connection.',
  }),
  ETIMEDOUT: (f) => ({
    title: 'Connection timed out',
    cause: `${cap(where(f))} did not answer in time: a firewall may drop the packets, or the host is down or unreachable from here.`,
    hint: 'Check POSTGRES_HOST / POSTGRES_PORT, security groups / firewall rules for your address, and whether the database is only reachable through a bastion (SSH_HOST). Retried automatically.',
  }),
  ECONNRESET: (f) => ({
    title: 'Connection reset',
    cause: `${cap(where(f))} or something between (a proxy, a tunnel, a firewall) closed the connection abruptly.`,
    hint: 'Retried automatically. If it repeats: TLS mismatch (try PGSSLMODE=require or disable), a pooler limit, or an unstable tunnel.',
  }),
  EPIPE: (f) => ({
    title: 'Connection broken',
    cause: `The connection to ${where(f)} closed while we were writing to it.`,
    hint: 'Retried automatically when connecting. Run the command again; each migration commits on its own.',
  }),
  EHOSTUNREACH: (f) => ({
    title: 'Host unreachable',
    cause: `There is no network route to ${where(f)} from this machine.`,
    hint: 'Check your network or VPN, and POSTGRES_HOST. A private address behind a bastion needs SSH_HOST (the tunnel).',
  }),
  ENETUNREACH: (f) => ({
    title: 'Network unreachable',
    cause: `This machine has no route to the network of ${where(f)} (an IPv6 address without IPv6, or no connection).`,
    hint: 'Check your network or VPN; use an IPv4 address or host name in POSTGRES_HOST.',
  }),
  ENOENT: (f) => ({
    title: 'File not found',
    cause: `There is no file at ${str(f.details.path) ?? 'the given path'}.`,
    hint: str(f.details.variable)
      ? `Fix ${str(f.details.variable)} to point at an existing file.`
      : 'Check the path (migrations: --migrations-dir; TLS root certificate: PGSSLROOTCERT; SSH key: SSH_KEY_PATH).',
  }),
  EACCES: (f) => ({
    title: 'Permission denied',
    cause: `This user may not ${str(f.details.syscall) ?? 'open'} ${str(f.details.path) ?? 'the file or port'}.`,
    hint: "Fix the file's owner or mode (`ls -l`, `chmod`), or choose a path you own.",
  }),

  // ---- TLS -------------------------------------------------------------------------------------
  DB_SSL_NOT_SUPPORTED: SERVER_NO_SSL,
  DEPTH_ZERO_SELF_SIGNED_CERT: TLS_SELF_SIGNED,
  SELF_SIGNED_CERT_IN_CHAIN: TLS_SELF_SIGNED,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: TLS_SELF_SIGNED,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: TLS_SELF_SIGNED,
  ERR_TLS_CERT_ALTNAME_INVALID: (f) => ({
    title: "The server's certificate is for another host name",
    cause: `The certificate presented by ${where(f)} does not name the host we connected to (${f.message}).`,
    hint: 'Connect by the name in the certificate (POSTGRES_HOST), or use PGSSLMODE=verify-ca to check the chain but not the name. Through a tunnel the name is checked against the configured host.',
  }),
  CERT_HAS_EXPIRED: (f) => ({
    title: "The server's certificate has expired",
    cause: `${cap(where(f))} presented an expired TLS certificate.`,
    hint: "The server's admin must renew it. Check this machine's clock too.",
  }),
  DB_SSL_ROOT_CERT_UNREADABLE: (f) => ({
    title: 'TLS root certificate cannot be read',
    cause: `${str(f.details.path) ?? 'The file'} could not be read (${str(f.details.reason) ?? 'error'}).`,
    hint: 'Set PGSSLROOTCERT (or sslrootcert= in DATABASE_URL) to the CA certificate file (PEM) of your database provider.',
  }),

  // ---- The db library's own codes ----------------------------------------------------------------
  DB_CONNECTION_LOST: (f) =>
    typeof f.details.migration === 'string'
      ? {
          title: 'Connection lost during a migration',
          cause: `The connection ended while ${f.details.migration} ran (server restart, network drop, a killed session). The server rolls back a transaction it could not finish, so nothing of ${f.details.migration} is applied; the migrations printed before it committed.`,
          hint: 'The database is at a migration boundary: run the same command again to finish (it skips what committed).',
        }
      : {
          title: 'Connection lost',
          cause: `The connection to ${where(f)} ended unexpectedly (server restart, idle timeout, network or tunnel drop, or a TLS/protocol mismatch).`,
          hint: 'Retried automatically when connecting. Run the command again; each migration commits on its own. If it happens at once every time, check PGSSLMODE.',
        },
  DB_CONNECT_TIMEOUT: (f) => ({
    title: 'Connecting took too long',
    cause: `No answer from ${where(f)} within the connect timeout.`,
    hint: 'Check the host and port (POSTGRES_HOST/POSTGRES_PORT), firewalls, and whether a bastion (SSH_HOST) is needed. Retried automatically.',
  }),
  DB_NO_PASSWORD: (f) => {
    const file = str(f.details.pgpassFile) ?? '~/.pgpass';
    const problem = str(f.details.pgpassProblem);
    const user = str(f.details.user) ?? 'USER';
    const line =
      str(f.details.pgpassLine) ?? `${str(f.details.host) ?? 'HOST'}:${str(f.details.port) ?? '5432'}:${str(f.details.database) ?? 'DATABASE'}:${user}:PASSWORD`;
    return {
      title: 'The server wants a password, and none is set',
      cause:
        `${cap(where(f))} asks for the password of user "${user}". None was found: not POSTGRES_PASSWORD or PGPASSWORD (environment or .env files), not in DATABASE_URL, ` +
        (problem ? `and the password file ${file} was not used: ${problem}.` : `and no line of the password file ${file} matches.`),
      hint:
        `Give it one of three ways: POSTGRES_PASSWORD=... in .env.<env>.local (not committed) or the environment; ` +
        `DATABASE_URL with the password after "${user}:" before the @ (special characters percent-encoded); ` +
        `or the line \`${line}\` in ${file} (chmod 600; PGPASSFILE names another file), as psql uses.`,
    };
  },
  DB_CONNECT_FAILED: (f) => ({
    title: 'Could not connect to PostgreSQL',
    cause: `${cap(where(f))}: ${f.message}`,
    hint: 'Run `chatgenius-db doctor` to check each link (host, port, TLS, authentication).',
  }),
  DB_BAD_SCHEMA_NAME: (f) => ({
    title: 'Bad schema name',
    cause: f.message,
    hint: 'Use a lower-case name of letters, digits and underscores that starts with a letter (e.g. test, app_ci) in --schema.',
  }),
  DB_SETUP_FAILED: (f) => ({
    title: 'Setting up the database failed',
    cause: `${f.message} (schema ${str(f.details.schema) ?? '?'}).`,
    hint: 'Run `chatgenius-db status` to see which migration failed, then `chatgenius-db init --verbose`.',
  }),
  UNKNOWN: (f) => {
    if (/server does not support SSL/i.test(f.message)) return SERVER_NO_SSL(f);
    if (/self[- ]signed certificate/i.test(f.message)) return TLS_SELF_SIGNED(f);
    return {
      title: 'Something went wrong',
      cause: f.message,
      hint: 'Run again with --verbose to see the full error, or `chatgenius-db doctor` to check each link of the connection.',
    };
  },
};
