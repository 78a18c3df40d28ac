/** The lock-aware plan as text (init --dry-run, the wizard's plan step) and as JSON. Pure. */
import { LOCK_MODES, type LockPlan, type PlannedLock, type UnsafeFinding } from '../../lint/index.js';
import { formatBytes } from '../../ops/units.js';

/** 1234567 -> "1.2M", 950 -> "950"; null -> "?". */
export function formatRows(n: number | null): string {
  if (n === null) return '? rows (never analysed)';
  const v = n >= 1e9 ? `${(n / 1e9).toFixed(1)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : String(n);
  return `${v} row${n === 1 ? '' : 's'}`;
}

const BLOCKS: Record<string, string> = {
  AccessExclusiveLock: 'blocks reads and writes',
  ExclusiveLock: 'blocks writes',
  ShareRowExclusiveLock: 'blocks writes',
  ShareLock: 'blocks writes',
  ShareUpdateExclusiveLock: 'reads and writes go on',
  RowExclusiveLock: 'reads and writes go on',
  RowShareLock: 'reads and writes go on',
  AccessShareLock: 'reads and writes go on',
};

export function lockLine(l: PlannedLock): string {
  const size = l.created ? 'new table' : `${formatRows(l.rows)}, ${formatBytes(l.sizeBytes)}`;
  return `${l.table}: ${l.mode} (${BLOCKS[l.mode] ?? ''}) on ${size}${l.source === 'derived' ? ' [derived, not traced]' : ''}  line ${l.line}`;
}

/** Pure: one lock per table, its strongest mode (what the app feels), strongest and biggest first. */
export function strongestPerTable(locks: PlannedLock[]): PlannedLock[] {
  const by = new Map<string, PlannedLock>();
  for (const l of locks) {
    const cur = by.get(l.table);
    if (!cur || LOCK_MODES.indexOf(l.mode) > LOCK_MODES.indexOf(cur.mode)) by.set(l.table, l);
  }
  return [...by.values()].sort((a, b) => LOCK_MODES.indexOf(b.mode) - LOCK_MODES.indexOf(a.mode) || (b.rows ?? 0) - (a.rows ?? 0) || a.table.localeCompare(b.table));
}

/**
 * Lines per pending migration: one lock per table (its strongest mode; AccessShareLock left out:
 * it blocks nothing the app does), then its findings, several of one rule on one line.
 */
export function lockPlanLines(plan: LockPlan): string[] {
  const lines: string[] = [];
  for (const m of plan.migrations) {
    lines.push(`${m.version}_${m.name}`);
    const shown = strongestPerTable(m.locks).filter((l) => l.mode !== 'AccessShareLock');
    if (shown.length === 0) lines.push('  locks: none on existing tables');
    for (const l of shown) lines.push(`  lock  ${lockLine(l)}`);
    const byRule = new Map<string, typeof m.findings>();
    for (const f of m.findings) byRule.set(f.rule, [...(byRule.get(f.rule) ?? []), f]);
    for (const [rule, fs] of byRule) {
      const f = fs[0]!;
      const tag = f.severity === 'error' ? 'UNSAFE' : 'warn';
      if (fs.length === 1) lines.push(`  ${tag}  ${rule} (${f.file}:${f.line}:${f.column}): ${f.message}`);
      else {
        const tables = [...new Set(fs.map((x) => x.table).filter(Boolean))];
        lines.push(
          `  ${tag}  ${rule} x${fs.length}${tables.length ? ` on ${tables.join(', ')}` : ''} (${f.file} lines ${fs.map((x) => x.line).join(', ')}): e.g. ${f.message}`,
        );
      }
    }
    for (const f of m.acknowledged) lines.push(`  ok    ${f.rule} acknowledged in the file: ${f.acknowledged}`);
  }
  if (plan.traceError) lines.push(`(Lock trace failed, modes derived from the rules: ${plan.traceError})`);
  return lines;
}

/** The plan for --json: each lock an object with table, mode, rows (and size, source, line). */
export function lockPlanJson(plan: LockPlan): Record<string, unknown>[] {
  return plan.migrations.map((m) => ({
    version: m.version,
    name: m.name,
    file: m.file,
    locks: m.locks.map((l) => ({
      table: l.table,
      mode: l.mode,
      rows: l.rows,
      sizeBytes: l.sizeBytes,
      source: l.source,
      line: l.line,
      ...(l.created ? { created: true } : {}),
    })),
    findings: m.findings.map((f) => ({
      file: f.file,
      line: f.line,
      column: f.column,
      rule: f.rule,
      severity: f.severity,
      message: f.message,
      fix: f.fix,
      ...(f.lock ? { lock: f.lock } : {}),
    })),
    acknowledged: m.acknowledged.map((f) => ({ file: f.file, line: f.line, rule: f.rule, reason: f.acknowledged })),
  }));
}

/** One line per unsafe finding, for the refusal and the wizard's question. */
export function unsafeLine(u: UnsafeFinding): string {
  const f = u.finding;
  return `${f.file}:${f.line}:${f.column} ${f.rule}: ${f.message} (${f.table}: ${formatRows(u.rows)}, ${formatBytes(u.sizeBytes)})`;
}
