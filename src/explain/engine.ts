import type { ErrorFacts, ExplainTable } from './types.js';
import { dbTable } from './db.js';
import { str } from './db-facts.js';

/** explain() rows for the engine's and the command line's codes. */

function list(v: unknown, max = 20): string | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const items = v.slice(0, max).map((x) => `- ${typeof x === 'string' ? x : JSON.stringify(x)}`);
  if (v.length > max) items.push(`- ... and ${v.length - max} more`);
  return items.join('\n');
}

function detailOf(f: ErrorFacts): string | undefined {
  return str(f.details.frame) ?? str(f.details.codeFrame) ?? str(f.details.detail);
}

/** `chatgenius-db <command> --help`, or the top-level help when no command is known. */
const helpCommand = (f: ErrorFacts): string => `chatgenius-db ${str(f.details.command) ? `${str(f.details.command)} ` : ''}--help`;

const usageRows: ExplainTable = {
  USAGE_UNKNOWN_FLAG: (f) => ({
    title: `Unknown option ${str(f.details.flag) ?? ''}`.trim(),
    cause: str(f.details.before)
      ? `chatgenius-db has no option ${str(f.details.flag) ?? ''}, so "${str(f.details.before)}" after it was not run as a command.`
      : `${str(f.details.command) ?? 'This command'} has no option ${str(f.details.flag) ?? ''}.`,
    hint: f.details.suggestion ? `Did you mean ${str(f.details.suggestion)}? See \`${helpCommand(f)}\`.` : `See \`${helpCommand(f)}\` for the options.`,
  }),
  USAGE_UNKNOWN_COMMAND: (f) => ({
    title: `Unknown command ${str(f.details.command) ?? ''}`.trim(),
    cause: `chatgenius-db has no command named "${str(f.details.command) ?? ''}".`,
    hint: f.details.suggestion
      ? `Did you mean \`chatgenius-db ${str(f.details.suggestion)}\`? Run \`chatgenius-db --help\` for the list.`
      : 'Run `chatgenius-db --help` for the list of commands.',
  }),
  USAGE_UNEXPECTED_ARGUMENT: (f) => ({
    title: `Unexpected argument ${str(f.details.argument) ?? ''}`.trim(),
    cause: `${str(f.details.command) ?? 'This command'} takes no positional arguments.`,
    hint: `See \`${helpCommand(f)}\`. Values go with their option, e.g. --env production.`,
  }),
  USAGE_BAD_FLAG_VALUE: (f) => ({
    title: `Bad value for ${str(f.details.flag) ?? 'an option'}`,
    cause: f.message,
    hint: `See \`${helpCommand(f)}\`.`,
  }),
  USAGE_BAD_ARGUMENTS: (f) => ({
    title: 'The command line could not be read',
    cause: f.message,
    hint: `See \`${helpCommand(f)}\`.`,
  }),
  USAGE_MISSING_ARGUMENT: (f) => ({
    title: `Missing ${str(f.details.argument) ?? 'argument'}`,
    cause: f.message,
    hint: str(f.details.example) ? `For example: ${str(f.details.example)}` : "See the command's --help.",
  }),
  USAGE_CONFLICTING_FLAGS: (f) => ({
    title: 'Options that cannot go together',
    cause: f.message,
    hint: 'Give only one of them.',
  }),
  USAGE_BAD_STEPS: (f) => ({
    title: 'Bad value for --steps',
    cause: `--steps must be a whole number of at least 1 (got "${str(f.details.value) ?? ''}").`,
    hint: 'For example: chatgenius-db rollback --steps 1 --yes',
  }),
  COMMAND_UNAVAILABLE: (f) => ({
    title: `The ${str(f.details.command) ?? ''} command is not available`,
    cause: 'Its module is missing from this build of chatgenius-db.',
    hint: 'Reinstall chatgenius-db (npm ci) or run `npm run build` in its repository.',
  }),
  LOG_FILE_UNWRITABLE: (f) => ({
    title: 'Cannot write the log file',
    cause: `${str(f.details.path) ?? 'The --log-file path'} could not be opened for appending (${str(f.details.reason) ?? 'unknown reason'}).`,
    hint: 'Give a path in a directory that exists and that you can write, e.g. --log-file ./chatgenius-db.log',
  }),
  CONSENT_REQUIRED: (f) => ({
    title: `${str(f.details.command) === 'rollback' ? 'Rolling back' : 'This change'} needs consent`,
    cause: `${str(f.details.action) ?? 'This command changes the database'}, and it was not confirmed: ${
      f.details.interactive === true ? 'this build has no interactive prompt for it' : 'nobody is at the keyboard to ask (no TTY, --json, or CI)'
    }.`,
    hint: `Add --yes to confirm, e.g. \`chatgenius-db ${str(f.details.command) ?? 'rollback'} --yes\`. Nothing was changed.`,
  }),
  PRODUCTION_CONFIRMATION_REQUIRED: (f) => ({
    title: 'Production changes need the database name confirmed',
    cause: `This ${str(f.details.action) ?? 'command'} would change the production database ${str(f.details.database) ?? ''}, and no --confirm-database was given.`,
    hint: `Add --confirm-database ${str(f.details.database) ?? 'NAME'} (the target database's name). Nothing was changed.`,
  }),
  PRODUCTION_CONFIRMATION_MISMATCH: (f) => ({
    title: 'The confirmed database name does not match the target',
    cause: `--confirm-database says "${str(f.details.given) ?? ''}", but the production target is "${str(f.details.database) ?? ''}".`,
    hint: 'Check that you are pointing at the database you mean; then pass its exact name. Nothing was changed.',
  }),
  NEW_BAD_NAME: (f) => ({
    title: 'Bad migration name',
    cause: `"${str(f.details.name) ?? ''}" is not a valid migration name: use lower-case letters, digits and underscores, starting with a letter (at most 60 characters).`,
    hint: 'For example: chatgenius-db new add_message_pins',
  }),
  NEW_FILE_EXISTS: (f) => ({
    title: 'The migration file already exists',
    cause: `${str(f.details.path) ?? 'The file'} is already there; nothing was overwritten.`,
    hint: 'Pick another name, or edit the existing file.',
  }),
  MIGRATIONS_DIR_NOT_FOUND: (f) => ({
    title: 'Migrations directory not found',
    cause: `${str(f.details.path) ?? 'The directory'} does not exist or is not a directory.`,
    hint: "Pass --migrations-dir DIR pointing at the folder with the NNNN_name.up.sql files (default: the package's sql/).",
  }),
  WIZARD_UNAVAILABLE: () => ({
    title: 'Interactive mode is not available',
    cause: 'The wizard is not part of this build, and some values are missing.',
    hint: 'Pass the values as flags and add --yes.',
  }),
  CANCELLED: () => ({
    title: 'Cancelled',
    cause: 'The run was cancelled before it finished; the database is left at a migration boundary.',
    hint: 'Run the same command again to finish the job.',
  }),
};

const engineRows: ExplainTable = {
  MIGRATION_DRIFT: (f) => ({
    title: 'Applied migrations changed since they ran (drift)',
    cause: `${list(f.details.drift ?? f.details.changed ?? f.details.files) ? 'These applied migrations differ from what the journal recorded:' : f.message}`,
    hint: 'Restore the original files (git checkout sql/), or accept a deliberate change with `chatgenius-db repair --yes`. New changes belong in a new migration: `chatgenius-db new NAME`.',
    detail: list(f.details.drift ?? f.details.changed ?? f.details.files),
  }),
  VERIFY_DRIFT: (f) => ({
    title: 'The database does not match sql/',
    cause: 'verify found differences between the journal, the live schema and the migration files.',
    hint: 'If an applied file was edited on purpose: `chatgenius-db repair --yes`. If the live schema was changed by hand: undo it, or capture it in a new migration.',
    detail: list(f.details.drift ?? f.details.differences),
  }),
  MIGRATION_SQL_ERROR: (f) => {
    const where = `${str(f.details.file) ?? 'a migration'}${str(f.details.line) ? `:${str(f.details.line)}${str(f.details.column) ? `:${str(f.details.column)}` : ''}` : ''}`;
    const phase =
      f.details.phase === 'precheck'
        ? 'Found by the parser before connecting: nothing was sent, and no migration was applied, not even the valid ones before this file, so a run never stops half-way on a file known to be broken.'
        : f.details.phase === 'syntax'
          ? 'Nothing of this run was applied: a syntax error rejects the whole batch before it starts.'
          : 'Migrations before this one are committed; this one and the rest were not applied.';
    const sqlstate = str(f.details.sqlstate);
    // The SQLSTATE's own explanation (src/explain/db.ts), placed in the file.
    const row = sqlstate ? (dbTable[sqlstate] ?? dbTable[`${sqlstate.slice(0, 2)}xxx`]) : undefined;
    if (row && sqlstate) {
      const x = row({ code: sqlstate, message: str(f.details.pgMessage) ?? f.message, details: { ...f.details, frame: undefined, detail: undefined, hint: undefined } });
      return {
        title: x.title.includes(where) ? x.title : `${x.title} in ${where}`,
        cause: x.cause.includes(sqlstate) ? x.cause : `PostgreSQL ${sqlstate}: ${x.cause}`,
        hint: f.details.phase === 'syntax' ? x.hint : `${x.hint} ${phase}`,
        detail: detailOf(f),
      };
    }
    return {
      title: `SQL error in ${where}`,
      cause: `${sqlstate ? `PostgreSQL ${sqlstate}: ` : ''}${str(f.details.pgMessage) ?? f.message}`,
      hint: `Fix the statement shown below. ${phase} Then run the command again.`,
      detail: detailOf(f),
    };
  },
  MIGRATION_MISSING_FILE: (f) => ({
    title: 'An applied migration has no file',
    cause: `The journal says ${str(f.details.version) ?? 'a migration'}${str(f.details.name) ? ` (${str(f.details.name)})` : ''} was applied, but ${str(f.details.file) ?? 'its file'} is not in the migrations directory.`,
    hint: 'Restore the file (git checkout), or point --migrations-dir at the right folder.',
  }),
  MIGRATION_MISSING_DOWN: (f) => ({
    title: 'A migration has no .down.sql',
    cause: `${str(f.details.file) ?? str(f.details.version) ?? 'A migration'} has an up file but no matching down file, so it cannot be rolled back.`,
    hint: 'Add NNNN_name.down.sql that undoes the up file exactly (`chatgenius-db new` writes both).',
  }),
  MIGRATION_FAILED_BEFORE: (f) => ({
    title: 'A previous run failed part-way',
    cause: `The journal records a failed run of ${str(f.details.version) ?? 'a migration'}${str(f.details.name) ? ` (${str(f.details.name)})` : ''}.`,
    hint: 'Fix the migration file and run the same command again: the next run retries the failed migration (nothing of it was committed). `chatgenius-db repair --yes` is only for clearing the record without retrying.',
  }),
  MIGRATION_UNKNOWN_VERSION: (f) => ({
    title: `Unknown migration version ${str(f.details.version) ?? ''}`.trim(),
    cause: `No migration ${str(f.details.version) ?? ''} exists${Array.isArray(f.details.known) ? ` (known: ${(f.details.known as unknown[]).join(', ')})` : ''}.`,
    hint: 'Run `chatgenius-db status` to see the versions, then pass one of them.',
  }),
  MIGRATION_BAD_FILE: (f) => ({
    title: 'A migration file is not valid',
    cause: f.message,
    hint: 'Migration files are named NNNN_name.up.sql / NNNN_name.down.sql with unique versions.',
  }),
  BASELINE_MISMATCH: (f) => ({
    title: 'The database does not match the migrations to adopt',
    cause: `baseline compared the live tables with what migrations up to ${str(f.details.to) ?? 'the target'} create, and they differ. Nothing was recorded.`,
    hint: 'Bring the live schema in line (or pick the --to version it really matches), then run baseline again.',
    detail: list(f.details.differences ?? f.details.diff),
  }),
  BASELINE_NOT_EMPTY: (f) => ({
    title: 'The journal already has migrations',
    cause: f.message,
    hint: 'baseline is for a database the tool never migrated. Use `chatgenius-db status` to see what is recorded.',
  }),
};

/** The engine's lock, schema-name and pooler refusals. */
const lockRows: ExplainTable = {
  MIGRATION_BAD_SCHEMA: (f) => ({
    title: 'Invalid schema name',
    cause: f.message,
    hint: 'Pass --schema with a plain lower-case name such as public or test.',
  }),
  MIGRATION_LOCK_WAIT_TIMEOUT: (f) => {
    const h = f.details.holder as
      | { pid?: number; applicationName?: string | null; clientAddr?: string | null; since?: string | null; state?: string | null }
      | null
      | undefined;
    const idle = h?.state === 'idle';
    return {
      title: 'Another run holds the migration lock',
      cause: `${f.message}${h ? ` Holder: pid ${h.pid}${h.applicationName ? `, ${h.applicationName}` : ''}${h.clientAddr ? ` from ${h.clientAddr}` : ''}${h.state ? `, ${h.state}` : ''}${h.since ? ` since ${h.since}` : ''}.` : ''}${idle ? ' That session is idle: it holds the lock and runs nothing (a run whose client went away, or a pooled server connection where a lock was left behind).' : ''}`,
      hint: `${idle ? `It is idle, so stopping it loses nothing: SELECT pg_terminate_backend(${h?.pid ?? 'pid'}); then run again.` : `Wait for the other run to finish and run again (or wait longer: --lock-wait 15m); if it is stuck, SELECT pg_terminate_backend(${h?.pid ?? 'pid'});`} The server releases the lock when that session ends.`,
    };
  },
  TRANSACTION_POOLER: (f) => ({
    title: 'A transaction-mode connection pooler is in front of the database',
    cause: `${f.message} The pooler lends a different server session to each transaction (${String(f.details.evidence ?? 'observed')}), so what needs a session would not stay with this run: the migration lock (two runs could apply the same migration at once, or the lock could stay behind on a pooled connection nobody owns), LISTEN (notifications would go to some other client's session, silently), session settings.`,
    hint: 'Use a direct connection (PostgreSQL\'s own host and port, e.g. 5432 instead of PgBouncer\'s 6432) or a session-mode pooler for chatgenius-db: managed providers give both URLs ("direct" / "session" connection string). The app itself may keep using the transaction pooler.',
  }),
};

export const engineTable: ExplainTable = { ...lockRows, ...usageRows, ...engineRows };
