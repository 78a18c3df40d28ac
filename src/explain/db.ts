import { str, where, cap, quoted, colName, userOf, databaseOf, inFile, retriedNote, holderNote, holderHint, pgNotes, withFrame, sqlClassEntry } from './db-facts.js';
import { networkTable } from './network.js';
import type { ExplainTable } from './types.js';

/**
 * explain() rows for PostgreSQL SQLSTATEs (and SQLSTATE classes); with the connection's rows
 * (network.ts: Node network/file codes, TLS, the db library's DB_* codes) they make dbTable.
 * Causes use facts (host, port, database, user, file) but never a password: pg's messages carry
 * none, and we never put one in details.
 */

const sqlstateTable: ExplainTable = {
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
};

export const dbTable: ExplainTable = { ...sqlstateTable, ...networkTable };
