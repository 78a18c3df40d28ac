/**
 * The schema as a Mermaid `erDiagram` (renders on GitHub and in Markdown previews): every table
 * with its columns and keys, one relationship per foreign key with its cardinality. Row counts
 * and sizes are left out on purpose, so the same schema always gives the same text (the README's
 * copy is checked against this output). Pure.
 */
import type { SchemaModel, SchemaReference, SchemaTable } from './model.js';
import { shortType } from './types.js';

/** Mermaid entity names and attribute words: letters, digits, _ and - only. */
const word = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');
/** Attribute types may also hold parentheses and brackets: varchar(26), text[]. */
const typeWord = (s: string) => s.replace(/[^A-Za-z0-9_()[\]-]/g, '_');
/** A quoted Mermaid string cannot hold a double quote. */
const quoted = (s: string) => `"${s.replace(/"/g, "'")}"`;

/** Parent end || (exactly one) or |o (zero or one); child end o{ (many) or o| (at most one). */
function cardinality(ref: SchemaReference): string {
  return `${ref.required ? '||' : '|o'}--${ref.oneToOne ? 'o|' : 'o{'}`;
}

function entity(t: SchemaTable): string[] {
  const lines = [`    ${word(t.name)} {`];
  for (const c of t.columns) {
    const keys = [c.primaryKey ? 'PK' : '', c.foreignKey ? 'FK' : ''].filter(Boolean).join(', ');
    lines.push(`        ${typeWord(shortType(c.type))} ${word(c.name)}${keys ? ` ${keys}` : ''}${c.nullable ? '' : ' "not null"'}`);
  }
  lines.push('    }');
  return lines;
}

export function renderMermaid(model: SchemaModel): string {
  const lines = ['erDiagram'];
  for (const t of model.tables) {
    for (const r of t.references) {
      const label = `${r.columns.join(', ')}${r.onDelete === 'NO ACTION' ? '' : ` (ON DELETE ${r.onDelete})`}`;
      lines.push(`    ${word(r.table)} ${cardinality(r)} ${word(t.name)} : ${quoted(label)}`);
    }
  }
  for (const t of model.tables) lines.push(...entity(t));
  return `${lines.join('\n')}\n`;
}
