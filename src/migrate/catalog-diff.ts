/** Pure: the differences between two catalog snapshots, one line each (verify, baseline, tests). */
import type { CatalogSnapshot, TableSnapshot, TablesSnapshot } from './catalog.js';

function diffKeyed<T>(out: string[], label: string, a: readonly T[], b: readonly T[], key: (x: T) => string, compare: (prefix: string, x: T, y: T) => void): void {
  const ma = new Map(a.map((x) => [key(x), x]));
  const mb = new Map(b.map((x) => [key(x), x]));
  for (const [k, x] of ma) {
    const y = mb.get(k);
    if (y === undefined) out.push(`${label} ${k}: missing (only in the first)`);
    else compare(`${label} ${k}`, x, y);
  }
  for (const k of mb.keys()) if (!ma.has(k)) out.push(`${label} ${k}: extra (only in the second)`);
}

function diffFields<T extends object>(out: string[], prefix: string, x: T, y: T, skip: string[] = []): void {
  for (const f of Object.keys(x) as Array<keyof T & string>) {
    if (skip.includes(f)) continue;
    const vx = JSON.stringify(x[f]);
    const vy = JSON.stringify(y[f]);
    if (vx !== vy) out.push(`${prefix}: ${f} ${vx} -> ${vy}`);
  }
}

/** Objects matched by one identifying field (name, or a function's signature); every other field compared. */
function diffByKey<K extends string, T extends Record<K, string>>(out: string[], label: string, a: readonly T[], b: readonly T[], key: K): void {
  diffKeyed(
    out,
    label,
    a,
    b,
    (x) => x[key],
    (p, x, y) => diffFields(out, p, x, y, [key]),
  );
}

/**
 * Human-readable differences from `a` (e.g. expected) to `b` (e.g. live); empty when equal.
 * Works for CatalogSnapshot and TablesSnapshot. The schema names are not compared.
 */
export function diffCatalog(a: CatalogSnapshot | TablesSnapshot, b: CatalogSnapshot | TablesSnapshot): string[] {
  const out: string[] = [];
  const ta = a.tables as Array<Partial<TableSnapshot> & { name: string; columns: Array<{ name: string }> }>;
  const tb = b.tables as typeof ta;
  diffKeyed(
    out,
    'table',
    ta,
    tb,
    (t) => t.name,
    (p, x, y) => {
      diffFields(out, p, x, y, ['name', 'columns', 'constraints', 'indexes', 'triggers']);
      const xo = x.columns.map((c) => c.name).join(',');
      const yo = y.columns.map((c) => c.name).join(',');
      const sameSet = [...x.columns.map((c) => c.name)].sort().join(',') === [...y.columns.map((c) => c.name)].sort().join(',');
      if (sameSet && xo !== yo) out.push(`${p}: column order (${xo}) -> (${yo})`);
      diffByKey(out, `${p} column`, x.columns, y.columns, 'name');
      diffByKey(out, `${p} constraint`, x.constraints ?? [], y.constraints ?? [], 'name');
      diffByKey(out, `${p} index`, x.indexes ?? [], y.indexes ?? [], 'name');
      diffByKey(out, `${p} trigger`, x.triggers ?? [], y.triggers ?? [], 'name');
    },
  );
  if ('extensions' in a && 'extensions' in b) {
    diffByKey(out, 'extension', a.extensions, b.extensions, 'name');
    diffByKey(out, 'view', a.views, b.views, 'name');
    diffByKey(out, 'sequence', a.sequences, b.sequences, 'name');
    diffByKey(out, 'function', a.functions, b.functions, 'signature');
    diffByKey(out, 'type', a.types, b.types, 'name');
  }
  return out;
}
