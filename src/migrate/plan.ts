/**
 * Planning is a PURE function of (files, journal): what to apply, what drifted, what is missing,
 * and what to roll back. No I/O, no clock.
 */
import { ChatgeniusError } from '../errors.js';
import { compareVersions } from './files.js';
import { equivalentChecksum } from './superseded.js';
import type { DownPlan, DriftEntry, JournalRow, MigrationFile, UpPlan } from './types.js';

const keyOf = (v: string) => BigInt(v).toString();

export function planUp(files: MigrationFile[], journal: JournalRow[], _opts: Record<string, unknown> = {}): UpPlan {
  const rows = new Map(journal.map((r) => [keyOf(r.version), r]));
  const fileKeys = new Set(files.map((f) => keyOf(f.version)));
  const pending: MigrationFile[] = [];
  const applied: UpPlan['applied'] = [];
  const drift: DriftEntry[] = [];
  for (const f of files) {
    const row = rows.get(keyOf(f.version));
    if (row && row.status === 'applied') {
      applied.push({ file: f, row });
      if (!equivalentChecksum(f.version, row.checksum, f.checksum)) {
        drift.push({ version: f.version, name: f.name, file: f.file, recordedChecksum: row.checksum, currentChecksum: f.checksum });
      }
    } else {
      pending.push(f);
    }
  }
  const appliedRows = journal.filter((r) => r.status === 'applied');
  const missing = appliedRows.filter((r) => !fileKeys.has(keyOf(r.version)));
  const newest = appliedRows
    .map((r) => r.version)
    .sort(compareVersions)
    .at(-1);
  const outOfOrder = newest === undefined ? [] : pending.filter((f) => compareVersions(f.version, newest) < 0);
  const failed = journal.filter((r) => r.status === 'failed');
  const lastFailure = failed.sort((a, b) => String(a.appliedAt ?? '').localeCompare(String(b.appliedAt ?? '')) || compareVersions(a.version, b.version)).at(-1) ?? null;
  return { pending, applied, drift, missing, outOfOrder, lastFailure };
}

/** The refusal for drift: names every changed file. */
export function driftError(drift: DriftEntry[]): ChatgeniusError {
  const names = drift.map((d) => d.file);
  return new ChatgeniusError(
    'MIGRATION_DRIFT',
    `Applied migration${drift.length > 1 ? 's' : ''} changed since ${drift.length > 1 ? 'they' : 'it'} ran: ${names.join(', ')}. Nothing was applied.`,
    {
      drift: drift.map((d) => `${d.file}: applied with sha256 ${d.recordedChecksum.slice(0, 12)}…, the file now has ${d.currentChecksum.slice(0, 12)}…`),
      files: names,
    },
  );
}

export interface DownOptions {
  to?: string;
  steps?: number;
  all?: boolean;
}

/**
 * What to roll back, newest first: `all`, everything applied after `to` (which stays applied;
 * `to` = '0' means everything), or the newest `steps` (default 1).
 */
export function planDown(files: MigrationFile[], journal: JournalRow[], opts: DownOptions = {}): DownPlan {
  const given = [opts.to !== undefined, opts.steps !== undefined, opts.all === true].filter(Boolean).length;
  if (given > 1) {
    throw new ChatgeniusError('USAGE_CONFLICTING_FLAGS', 'Use only one of --to, --steps and --all.', { flags: ['--to', '--steps', '--all'] }, { exitCode: 2 });
  }
  const byKey = new Map(files.map((f) => [keyOf(f.version), f]));
  const applied = journal.filter((r) => r.status === 'applied').sort((a, b) => compareVersions(b.version, a.version));
  let chosen: JournalRow[];
  if (opts.all) chosen = applied;
  else if (opts.to !== undefined) {
    if (!/^\d+$/.test(opts.to)) {
      throw new ChatgeniusError(
        'MIGRATION_UNKNOWN_VERSION',
        `--to ${opts.to} is not a version number.`,
        {
          version: opts.to,
          known: applied.map((r) => r.version).reverse(),
        },
        { exitCode: 2 },
      );
    }
    const target = BigInt(opts.to);
    if (target !== 0n && !applied.some((r) => BigInt(r.version) === target)) {
      throw new ChatgeniusError('MIGRATION_UNKNOWN_VERSION', `--to ${opts.to}: no applied migration has that version.`, {
        version: opts.to,
        known: applied.map((r) => r.version).reverse(),
      });
    }
    chosen = applied.filter((r) => BigInt(r.version) > target);
  } else {
    const steps = opts.steps ?? 1;
    if (!Number.isInteger(steps) || steps < 1) {
      throw new ChatgeniusError('USAGE_BAD_STEPS', `--steps must be a whole number of at least 1 (got ${steps}).`, { value: String(steps) }, { exitCode: 2 });
    }
    chosen = applied.slice(0, steps);
  }
  const missing = chosen.filter((r) => !byKey.has(keyOf(r.version)));
  const steps = chosen.map((r) => byKey.get(keyOf(r.version))).filter((f): f is MigrationFile => f !== undefined);
  return { steps, missing };
}
