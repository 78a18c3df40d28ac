/**
 * The plan a person confirms: per pending migration, the tables it locks (mode, estimated rows,
 * size on the target) and its lint findings; and the pure consent rule for unsafe findings.
 */
import type pg from 'pg';
import type { MigrationFile } from '../migrate/types.js';
import { lintPairsWith, type Finding } from './lint.js';
import { loadParser, parseSqlWith, type ParsedStatement } from './parser.js';
import { RULE_BY_ID } from './rules.js';
import { parseStats, statsSql, traceLocks, type PendingParsed, type PlannedLock, type TableStats } from './trace.js';

export interface PlannedMigration {
  version: string;
  name: string;
  file: string;
  locks: PlannedLock[];
  /** Findings of its up file that are not acknowledged. */
  findings: Finding[];
  /** Findings its file acknowledges with a directive. */
  acknowledged: Finding[];
}

export interface LockPlan {
  migrations: PlannedMigration[];
  /** The trace's error when the replay failed (locks are then derived from the rules). */
  traceError?: string;
  /** Rows and size of the target schema's tables. */
  tables?: Map<string, TableStats>;
}

type Parser = Awaited<ReturnType<typeof loadParser>>;

function parseOrEmpty(parser: Parser, text: string): ParsedStatement[] {
  try {
    return parseSqlWith(parser, text);
  } catch {
    return [];
  }
}

/** One migration's lint findings: those to act on, and those its file acknowledges. */
export interface VersionFindings {
  findings: Finding[];
  acknowledged: Finding[];
}

/** Lint findings of every file, grouped by the up file's version (pure given the parser; see memory.ts). */
export function findingsByVersion(parser: Parser, files: MigrationFile[]): Map<string, VersionFindings> {
  const result = lintPairsWith(
    parser,
    files.map((f) => ({
      version: f.version,
      up: { file: f.file, text: f.up, direction: 'up' as const },
      down: { file: f.downFile, text: f.down, direction: 'down' as const },
    })),
  );
  const out = new Map<string, VersionFindings>();
  const byFile = new Map(files.map((f) => [f.file, f.version]));
  for (const f of files) out.set(f.version, { findings: [], acknowledged: [] });
  for (const x of result.findings) {
    const v = byFile.get(x.file);
    if (v) out.get(v)!.findings.push(x);
  }
  for (const x of result.acknowledged) {
    const v = byFile.get(x.file);
    if (v) out.get(v)!.acknowledged.push(x);
  }
  return out;
}

/** The traced plan: ONE round trip on `client` (see trace.ts). */
export async function lockPlan(
  client: pg.Client,
  o: { schema: string; applied: MigrationFile[]; pending: MigrationFile[]; all: MigrationFile[]; statementTimeoutMs?: number },
): Promise<LockPlan> {
  if (o.pending.length === 0) return { migrations: [] };
  const parser = await loadParser();
  const pending: PendingParsed[] = o.pending.map((file) => ({ file, statements: parseOrEmpty(parser, file.up) }));
  const trace = await traceLocks(client, o.schema, o.applied, pending, o.statementTimeoutMs !== undefined ? { statementTimeoutMs: o.statementTimeoutMs } : {});
  const lint = findingsByVersion(parser, o.all);
  return {
    migrations: o.pending.map((f) => ({
      version: f.version,
      name: f.name,
      file: f.file,
      locks: trace.locks.get(f.version) ?? [],
      findings: lint.get(f.version)?.findings ?? [],
      acknowledged: lint.get(f.version)?.acknowledged ?? [],
    })),
    ...(trace.error ? { traceError: trace.error } : {}),
    tables: trace.stats,
  };
}

/** Rows and size of the target schema's tables: one round trip. */
export async function tableStats(client: pg.Client, schema: string): Promise<Map<string, TableStats>> {
  const res = await client.query(statsSql(schema));
  return parseStats((res.rows[0] as { locks?: unknown } | undefined)?.locks);
}

/** An error-level finding of a pending migration on a table that holds rows. */
export interface UnsafeFinding {
  version: string;
  finding: Finding;
  rows: number | null;
  sizeBytes: number | null;
}

/**
 * Pure: `--allow-unsafe` value -> rule ids ('all' allows every rule). Throws on an unknown rule
 * (the caller turns it into a usage error).
 */
export function parseAllowUnsafe(value: string | undefined): { all: boolean; rules: Set<string>; unknown: string[] } {
  const items = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const all = items.includes('all');
  const rules = new Set(items.filter((r) => r !== 'all'));
  return { all, rules, unknown: [...rules].filter((r) => !RULE_BY_ID.has(r)) };
}

/**
 * Pure: the findings that need a person before a production run. Error-level, not acknowledged
 * in the file, not allowed by --allow-unsafe, on a table that holds rows (or whose row count is
 * unknown but has pages).
 */
export function unsafeFindings(
  perVersion: Array<{ version: string; findings: Finding[] }>,
  stats: Map<string, TableStats>,
  allow: { all: boolean; rules: Set<string> },
): UnsafeFinding[] {
  if (allow.all) return [];
  const out: UnsafeFinding[] = [];
  for (const m of perVersion) {
    for (const f of m.findings) {
      if (f.severity !== 'error' || allow.rules.has(f.rule)) continue;
      if (!f.table) continue; // not about a table (the plan still shows it)
      const st = stats.get(f.table.split('.').at(-1)!);
      if (!st) continue; // created by the migrations themselves: empty
      const holdsRows = st.rows === null ? st.sizeBytes > 0 : st.rows > 0;
      if (holdsRows) out.push({ version: m.version, finding: f, rows: st.rows, sizeBytes: st.sizeBytes });
    }
  }
  return out;
}
