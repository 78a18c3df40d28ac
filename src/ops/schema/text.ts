/**
 * The schema tour for the terminal: each table with its purpose, columns (type, nullability,
 * default, keys), what it references and with which ON DELETE rule, what references it, its
 * indexes with the query each serves, its triggers and the NOTIFY channel they feed, and its rows
 * and size on this target. Fits the given width (80 by default); colours come from the caller and
 * degrade to plain text. Pure.
 */
import type { SchemaModel, SchemaTable, SchemaTrigger } from './model.js';
import { shortType } from './types.js';
import { formatBytes } from '../units.js';

type Paint = (s: string) => string;
export interface Style {
  bold: Paint;
  dim: Paint;
  cyan: Paint;
  green: Paint;
  yellow: Paint;
}
const plain: Paint = (s) => s;
export const PLAIN_STYLE: Style = { bold: plain, dim: plain, cyan: plain, green: plain, yellow: plain };

/** Character length without ANSI colour codes. */
const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;

/**
 * Words of `text` wrapped to `width`: the first line prefixed with `indent`, the following ones
 * with `hang` (a hanging indent, so a wrapped item reads as one).
 */
export function wrap(text: string, width: number, indent: string, hang = indent): string[] {
  const lines: string[] = [];
  let line = '';
  const room = () => Math.max(20, width - (lines.length === 0 ? indent : hang).length);
  for (const w of text.split(/\s+/).filter(Boolean)) {
    const piece = w.length > room() ? `${w.slice(0, room() - 1)}…` : w;
    if (line && line.length + 1 + piece.length > room()) {
      lines.push((lines.length === 0 ? indent : hang) + line);
      line = piece;
    } else line = line ? `${line} ${piece}` : piece;
  }
  if (line) lines.push((lines.length === 0 ? indent : hang) + line);
  return lines;
}

/** Cut `s` to `n` characters with an ellipsis. */
const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, Math.max(1, n - 1))}…`);

function rowsLabel(t: SchemaTable): string {
  if (t.rows === null) return 'rows unknown (not analyzed yet)';
  const n = t.rows.toLocaleString('en-US');
  return `${t.rowsExact ? '' : '~'}${n} ${t.rows === 1 ? 'row' : 'rows'}`;
}

function columnLines(t: SchemaTable, width: number, st: Style): string[] {
  const nameW = Math.min(24, Math.max(...t.columns.map((c) => c.name.length)));
  const typeW = Math.min(16, Math.max(...t.columns.map((c) => shortType(c.type).length)));
  const refOf = new Map<string, string>();
  for (const r of t.references) {
    for (const [i, c] of r.columns.entries()) refOf.set(c, `→ ${r.table}.${r.refColumns[i] ?? '?'}`);
  }
  return t.columns.map((c) => {
    const keys = [c.primaryKey ? 'PK' : '', refOf.get(c.name) ?? ''].filter(Boolean).join(' ');
    const head = `    ${cut(c.name, nameW).padEnd(nameW)}  ${cut(shortType(c.type), typeW).padEnd(typeW)}  ${c.nullable ? 'null    ' : 'not null'}`;
    const tail = [c.default ? `= ${c.default}` : '', keys].filter(Boolean).join('  ');
    const room = width - head.length - 2;
    const line = tail ? `${head}  ${cut(tail, Math.max(8, room))}` : head;
    return line
      .trimEnd()
      .replace(c.name, st.bold(c.name))
      .replace(/\bPK\b/, st.yellow('PK'));
  });
}

function tableLines(model: SchemaModel, t: SchemaTable, width: number, st: Style): string[] {
  const size = `${rowsLabel(t)} · ${formatBytes(t.sizeBytes)}`;
  const gap = Math.max(2, width - t.name.length - size.length);
  const out = [`${st.bold(st.cyan(t.name))}${' '.repeat(gap)}${st.dim(size)}`];
  out.push(...wrap(t.comment ?? '(no description: add one with COMMENT ON TABLE)', width, '  ').map(st.dim));
  out.push('  Columns', ...columnLines(t, width, st));
  if (t.references.length) {
    out.push('  References');
    for (const r of t.references) out.push(...wrap(`${r.columns.join(', ')} → ${r.table}(${r.refColumns.join(', ')}) ON DELETE ${r.onDelete}`, width, '    ', '      '));
  }
  const incoming = model.tables.flatMap((o) => o.references.filter((r) => r.table === t.name).map((r) => ({ from: o.name, r })));
  if (incoming.length) {
    out.push('  Referenced by');
    for (const { from, r } of incoming) out.push(...wrap(`${from}(${r.columns.join(', ')}) ON DELETE ${r.onDelete}`, width, '    ', '      '));
  }
  if (t.indexes.length) {
    out.push('  Indexes');
    for (const i of t.indexes) {
      const kind = i.primary ? 'primary key' : i.unique ? 'unique' : '';
      const def = `${i.name} (${i.columns})${kind ? ` ${kind}` : ''}${i.predicate ? ` WHERE ${i.predicate}` : ''}`;
      out.push(...wrap(def, width, '    ', '      '));
      if (i.purpose && i.purpose !== kind) out.push(...wrap(`serves: ${i.purpose}`, width, '      ', '        ').map(st.dim));
    }
  }
  if (t.triggers.length) {
    out.push('  Triggers');
    // Triggers that run the same function the same way (one per event, as statement-level
    // triggers with transition tables must be) read as one line.
    const groups = new Map<string, SchemaTrigger[]>();
    for (const g of t.triggers) {
      const key = [g.function, g.timing, g.level, g.channel, g.enabled].join('|');
      groups.set(key, [...(groups.get(key) ?? []), g]);
    }
    for (const gs of groups.values()) {
      const g = gs[0]!;
      const events = [...new Set(gs.flatMap((x) => x.events))].join('/');
      const feeds = g.channel ? ` → NOTIFY ${g.channel}` : '';
      const off = g.enabled ? '' : ' (disabled)';
      const names = gs.map((x) => x.name).join(', ');
      out.push(...wrap(`${g.function}() ${g.timing} ${events} per ${g.level}${feeds}${off}`, width, '    ', '      '));
      out.push(...wrap(`(${names})`, width, '      ').map(st.dim));
    }
  }
  return out;
}

export function renderText(model: SchemaModel, opts: { width?: number; style?: Style } = {}): string {
  const width = Math.max(60, Math.min(opts.width ?? 80, 120));
  const st = opts.style ?? PLAIN_STYLE;
  const channels = [...new Set(model.tables.flatMap((t) => t.triggers.map((g) => g.channel).filter((c): c is string => !!c)))].sort();
  const head = [
    st.bold(`Schema ${model.schema}: ${model.tables.length} tables, ${model.functions.length} functions`),
    ...(channels.length ? wrap(`NOTIFY channels: ${channels.join(', ')}`, width, '') : []),
    '',
  ];
  const body = model.tables.flatMap((t) => [...tableLines(model, t, width, st), '']);
  const fns = model.functions.length
    ? [st.bold('Functions'), ...model.functions.flatMap((f) => [`  ${f.name}`, ...wrap(f.comment ?? '(no description)', width, '    ').map(st.dim)])]
    : [];
  const text = [...head, ...body, ...fns].join('\n');
  // Every line fits: a last guard for anything the layout above did not foresee.
  return `${text
    .split('\n')
    .map((l) => (visible(l) > width && !/\x1b/.test(l) ? cut(l, width) : l))
    .join('\n')}\n`;
}
