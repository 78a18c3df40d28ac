/** Pure: the engine's result values -> errors to explain, tables and diffs to print. */
import type { MigrationResult, StatusResult } from '../../migrate/types.js';
import { formatDuration, formatTable } from './format.js';

export { failureError } from '../../migrate/failure.js';

export function appliedSummary(results: MigrationResult[]): Array<{ version: string; name: string; durationMs?: number }> {
  return results
    .filter((r) => r.status === 'applied' || r.status === 'rolled-back')
    .map((r) => ({ version: r.version, name: r.name, ...(r.durationMs !== undefined ? { durationMs: r.durationMs } : {}) }));
}

export function statusTable(s: StatusResult): string {
  const rows: string[][] = [];
  for (const a of s.applied) {
    rows.push([
      a.version,
      a.name,
      a.status === 'failed' ? 'FAILED' : a.file === null ? 'applied (file missing)' : 'applied',
      shortTime(a.appliedAt),
      a.durationMs !== null && a.durationMs !== undefined ? formatDuration(a.durationMs) : '',
      a.dbUser ?? '',
    ]);
  }
  for (const p of s.pending) rows.push([p.version, p.name, p.outOfOrder ? 'pending (out of order)' : 'pending', '', '', '']);
  return formatTable(['version', 'name', 'state', 'applied at', 'took', 'by'], rows);
}

/** A small unified line diff (LCS), enough to show what changed in an applied migration file. */
export function lineDiff(oldText: string, newText: string, context = 2): string {
  const a = oldText.replace(/\r\n/g, '\n').split('\n');
  const b = newText.replace(/\r\n/g, '\n').split('\n');
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return `(files too large to diff: ${n} and ${m} lines)`;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Array<{ t: ' ' | '-' | '+'; s: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ t: ' ', s: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) ops.push({ t: '-', s: a[i++]! });
    else ops.push({ t: '+', s: b[j++]! });
  }
  while (i < n) ops.push({ t: '-', s: a[i++]! });
  while (j < m) ops.push({ t: '+', s: b[j++]! });
  const keep = ops.map((o, k) => o.t !== ' ' || ops.slice(Math.max(0, k - context), k + context + 1).some((x) => x.t !== ' '));
  const out: string[] = [];
  let skipped = false;
  ops.forEach((o, k) => {
    if (keep[k]) {
      out.push(`${o.t} ${o.s}`);
      skipped = false;
    } else if (!skipped) {
      out.push('  ...');
      skipped = true;
    }
  });
  return out.join('\n');
}

/** 2026-11-24 07:10:36Z from any date text PostgreSQL or JSON gives. */
export function shortTime(t: string | null | undefined): string {
  if (!t) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}
