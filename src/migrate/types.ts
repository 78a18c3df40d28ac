/** Types shared by the engine's modules and returned to callers (CLI, library). */
import type { Emit, LockHolder } from '../events.js';

export interface EngineOptions {
  schema: string;
  migrationsDir: string;
  /** SET lock_timeout for the migrations (after the advisory lock is held). 0 = none. */
  lockTimeoutMs: number;
  /** SET statement_timeout for the migrations (after the advisory lock is held). 0 = none. */
  statementTimeoutMs: number;
  dryRun?: boolean;
  emit?: Emit;
  toolVersion?: string;
  signal?: AbortSignal;
  /** How often a waiting run retries pg_try_advisory_lock. Default 250 ms. */
  lockPollMs?: number;
  /** Give up waiting for the advisory lock after this long (code MIGRATION_LOCK_WAIT_TIMEOUT). Default DEFAULT_LOCK_WAIT_MS (5 min). */
  lockWaitTimeoutMs?: number;
  /** Opens a second connection to the same target, for the transaction-pooler probe (default: the one connectClient remembered). */
  connectAnother?: () => Promise<import('pg').Client>;
  /** The migration files, already read (the CLI reads and checks them before connecting); default: read migrationsDir. */
  files?: MigrationFile[];
}

export interface MigrationFile {
  /** The digits of the file name, as written: '0001'. */
  version: string;
  /** The name part: 'create_users'. */
  name: string;
  /** Base names of the two files. */
  file: string;
  downFile: string;
  /** Absolute paths. */
  path: string;
  downPath: string;
  up: string;
  down: string;
  /** sha256 (hex) of the up file, CRLF normalised to LF. */
  checksum: string;
  /** False when the up file must run outside a transaction (directive or detected). */
  upTransactional: boolean;
  /** Written in online forms only (see FileAnalysis.online): plain in the batch on a fresh database, one statement at a time elsewhere. */
  upOnline?: boolean;
  downOnline?: boolean;
  /** Where plainText() blanks CONCURRENTLY in an online file (see files.ts). */
  upConcurrentlyAt?: number[];
  downConcurrentlyAt?: number[];
  downTransactional: boolean;
  /** ALTER TYPE ... ADD VALUE: cannot run in a transaction before PostgreSQL 12. */
  upAddsEnumValue: boolean;
  downAddsEnumValue: boolean;
}

export type JournalStatus = 'applied' | 'failed';

export interface JournalRow {
  version: string;
  name: string;
  checksum: string;
  status: JournalStatus;
  appliedAt: string | null;
  durationMs: number | null;
  dbUser: string | null;
  osUser: string | null;
  clientHost: string | null;
  toolVersion: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  errorStatement: string | null;
  errorLine: number | null;
  errorColumn: number | null;
}

export interface DriftEntry {
  version: string;
  name: string;
  file: string;
  recordedChecksum: string;
  currentChecksum: string;
}

export interface UpPlan {
  /** Files to apply, in order (failed ones included: they are simply retried). */
  pending: MigrationFile[];
  /** Applied migrations that have a file. */
  applied: Array<{ file: MigrationFile; row: JournalRow }>;
  drift: DriftEntry[];
  /** Applied journal rows whose file is gone. */
  missing: JournalRow[];
  /** Pending files older than the newest applied version (applied anyway, with a warning). */
  outOfOrder: MigrationFile[];
  /** The newest 'failed' journal row, if a previous run failed. */
  lastFailure: JournalRow | null;
}

export interface DownPlan {
  /** Migrations to roll back, newest first. */
  steps: MigrationFile[];
  /** Applied versions without a file (cannot be rolled back: refused when in range). */
  missing: JournalRow[];
}

export interface MigrationFailure {
  version: string;
  name: string;
  /** The migration file (base name) and where in it, when known. */
  file: string;
  line?: number;
  column?: number;
  /** SQLSTATE, e.g. 22012. */
  code?: string;
  message: string;
  detail?: string;
  hint?: string;
  /** The statement that failed. */
  statement?: string;
  /** The offending line with a caret under the column. */
  frame?: string;
  /**
   * 'precheck': found by the parser before connecting, nothing sent; 'syntax': the whole batch was
   * rejected before anything ran; 'runtime': earlier migrations committed.
   */
  phase: 'precheck' | 'syntax' | 'runtime';
  /** A lost lock race (55P03, 40P01): how many times it was retried before giving up (0: not retried). */
  retries?: number;
  /** A lost lock race: the session most likely in the way (oldest transaction holding a lock on a table of the schema). */
  holder?: LockHolder & { table: string; mode: string };
}

export interface MigrationResult {
  version: string;
  name: string;
  file: string;
  direction: 'up' | 'down';
  status: 'applied' | 'rolled-back' | 'failed' | 'not-run';
  durationMs?: number;
}

export interface LockInfo {
  waitedMs: number;
  /** Who held the lock when this run had to wait. */
  holder: LockHolder | null;
}

export interface MigrateResult {
  ok: boolean;
  dryRun: boolean;
  schema: string;
  plan: UpPlan;
  results: MigrationResult[];
  failure?: MigrationFailure;
  lock: LockInfo;
  /** The SQL that runs (dry run) or ran, with the migrations' own text. */
  sql?: string;
  warnings: string[];
}

export interface RollbackOptions {
  to?: string;
  steps?: number;
  all?: boolean;
}

export interface RollbackResult {
  ok: boolean;
  dryRun: boolean;
  schema: string;
  plan: DownPlan;
  results: MigrationResult[];
  failure?: MigrationFailure;
  lock: LockInfo;
  sql?: string;
  warnings: string[];
}

export interface StatusResult {
  schema: string;
  journalExists: boolean;
  applied: Array<JournalRow & { file: string | null }>;
  pending: Array<{ version: string; name: string; file: string; outOfOrder: boolean }>;
  drift: DriftEntry[];
  missing: JournalRow[];
  lastFailure: JournalRow | null;
}

export interface VerifyResult {
  ok: boolean;
  schema: string;
  drift: DriftEntry[];
  missing: JournalRow[];
  pending: string[];
  /** Differences between the catalog the applied files produce and the live schema. */
  catalogDiff: string[];
  /** Set when the expected catalog could not be built (a file failed in the scratch schema). */
  catalogError?: string;
  /** Set when the live catalog was not compared (the role may not create the scratch schema): why. */
  catalogSkipped?: string;
  /** Human-readable list of every problem found (empty when ok). */
  problems: string[];
}

export interface BaselineResult {
  ok: boolean;
  dryRun: boolean;
  schema: string;
  recorded: Array<{ version: string; name: string }>;
  differences: string[];
}

export interface RepairEntry {
  version: string;
  name: string;
  file: string;
  oldChecksum: string;
  newChecksum: string;
  /** The SQL recorded when the migration was applied (null for journals written before it was kept). */
  oldSql: string | null;
  newSql: string;
}

export interface RepairResult {
  ok: boolean;
  dryRun: boolean;
  schema: string;
  repaired: RepairEntry[];
  /** Failed-run rows that were cleared. */
  clearedFailures: Array<{ version: string; name: string }>;
}
