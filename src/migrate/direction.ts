/**
 * The one run every direction goes through: up (migrate), down (rollback), repair and baseline.
 * As kysely's Migrator sends every direction through one private #migrate, each direction here
 * says only what is its own (when the lock may be let go at once, what to plan from the journal,
 * what to send); this file reads the files, holds the lock (withMigrationLock: lock + journal read
 * + privileges in one round trip, always released) and, for up and down, runs or scripts the
 * steps through the same batch runner.
 */
import type pg from 'pg';
import { CancelledError } from '../errors.js';
import { noEmit, type Emit } from '../events.js';
import { readMigrations } from './files.js';
import { runIdentity, type RunIdentity } from './journal.js';
import { type HeldLock, type ReleaseWhen, type RunState, waitOptions, withMigrationLock } from './lock.js';
import { cancelledMessage, runContext, type RunOutcome } from './run-context.js';
import { runSteps } from './runner.js';
import { scriptFor } from './batch-sql.js';
import { fileOf, type Step } from './steps.js';
import { validateSchemaName } from './sql-text.js';
import type { EngineOptions, MigrationFile, MigrationResult } from './types.js';

/** What a direction sees under the lock (or, in a dry run, beside it). */
export interface DirectionRun {
  client: pg.Client;
  schema: string;
  emit: Emit;
  files: MigrationFile[];
  who: RunIdentity;
  dryRun: boolean;
  /** The journal, server version and privileges, read in the lock's own round trip. */
  state: RunState;
  lock: HeldLock['lock'];
  /** The lock is held now (false in a dry run, or when the attempt let go at once: nothing to do). */
  holding: boolean;
  /** The direction's last trip ended with the unlock: nothing is left to release. */
  releasedByRun(): void;
  /** Up and down: run the steps in as few round trips as possible, or (dry run) return the script. */
  runSteps(steps: Step[], journal: { createJournal: boolean; journalRows?: ReadonlySet<string>; finalSql?: string }): Promise<Omit<RunOutcome, 'cancelled'>>;
}

export interface Direction<R> {
  /** When the lock attempt may let go at once, because there is nothing to do. */
  release(files: MigrationFile[]): ReleaseWhen;
  /** Refusals that need only the files, before any round trip (baseline's --to). */
  check?(files: MigrationFile[]): void;
  /** A dry run takes the lock too (baseline builds a scratch schema to compare against). */
  lockWhenDry?: boolean;
  run(run: DirectionRun): Promise<R>;
}

export async function runDirection<R>(client: pg.Client, opts: EngineOptions, direction: Direction<R>): Promise<R> {
  const schema = validateSchemaName(opts.schema);
  const emit = opts.emit ?? noEmit;
  const files = opts.files ?? (await readMigrations(opts.migrationsDir));
  direction.check?.(files);
  const dryRun = !!opts.dryRun;
  const who = runIdentity(opts.toolVersion);
  const lockOpts = { take: !dryRun || !!direction.lockWhenDry, release: direction.release(files), emit, ...waitOptions(opts) };
  return withMigrationLock(client, schema, lockOpts, (held) =>
    direction.run({
      client,
      schema,
      emit,
      files,
      who,
      dryRun,
      state: held.state,
      lock: held.lock,
      holding: held.holding,
      releasedByRun: held.releasedByRun,
      runSteps: async (steps, journal) => {
        const run = {
          schema,
          emit,
          who,
          createJournal: journal.createJournal,
          serverVersionNum: held.state.serverVersionNum,
          ...(journal.journalRows ? { journalRows: journal.journalRows } : {}),
        };
        if (dryRun) {
          // The script as a locked run would send it (unlock included); nothing is sent.
          const ctx = runContext(client, { ...opts, signal: undefined }, { ...run, holdsLock: true });
          return { results: steps.map(notRun), sql: steps.length || journal.finalSql ? scriptFor(ctx, steps, journal.finalSql) : '' };
        }
        const ctx = runContext(client, opts, { ...run, holdsLock: held.holding });
        const out = await runSteps(ctx, steps, journal.finalSql ? { finalSql: journal.finalSql } : {});
        held.releasedByRun(); // the last trip released it (or the failure path did)
        if (out.cancelled) throw new CancelledError(cancelledMessage(out.results));
        return out;
      },
    }),
  );
}

function notRun(s: Step): MigrationResult {
  return { version: s.file.version, name: s.file.name, file: fileOf(s), direction: s.direction, status: 'not-run' };
}
