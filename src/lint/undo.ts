/**
 * Does the down file undo its up file? The objects a file creates and drops (pure, over parsed
 * statements), and what the up file creates that the down file leaves behind.
 */
import { alterCmds, dropObjects, names, relOf } from './ast.js';
import type { ParsedStatement } from './parser.js';

/** Objects a file creates (net of what it drops itself), and what it drops. Keys: `kind:name`. */
interface ObjectEffects {
  created: Map<string, { parent?: string; line: number }>;
  dropped: Set<string>;
  dropsSchemaCascade: boolean;
}

const DROP_KINDS: Record<string, string> = {
  OBJECT_TABLE: 'table',
  OBJECT_INDEX: 'index',
  OBJECT_FUNCTION: 'function',
  OBJECT_PROCEDURE: 'function',
  OBJECT_TRIGGER: 'trigger',
  OBJECT_TYPE: 'type',
  OBJECT_DOMAIN: 'type',
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'view',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_EXTENSION: 'extension',
  OBJECT_SCHEMA: 'schema',
};

// Long on purpose: one switch with a short case per statement kind that creates or drops an object; split, the cases would lose their shared created/dropped bookkeeping.
export function objectEffects(statements: ParsedStatement[]): ObjectEffects {
  const created = new Map<string, { parent?: string; line: number }>();
  const dropped = new Set<string>();
  let dropsSchemaCascade = false;
  const add = (key: string, line: number, parent?: string) => created.set(key, { line, ...(parent ? { parent } : {}) });
  const drop = (key: string) => {
    dropped.add(key);
    created.delete(key);
    // Dropping a table drops what hangs off it.
    if (key.startsWith('table:')) for (const [k, v] of created) if (v.parent === key) created.delete(k);
  };
  for (const s of statements) {
    const n = s.node;
    switch (s.kind) {
      case 'CreateStmt': {
        const r = relOf(n.relation);
        if (r) add(`table:${r.name}`, s.line);
        break;
      }
      case 'CreateTableAsStmt': {
        const r = relOf((n.into as { rel?: unknown } | undefined)?.rel);
        if (r) add(`${n.objtype === 'OBJECT_MATVIEW' ? 'view' : 'table'}:${r.name}`, s.line);
        break;
      }
      case 'IndexStmt': {
        const r = relOf(n.relation);
        if (typeof n.idxname === 'string') add(`index:${n.idxname}`, s.line, r ? `table:${r.name}` : undefined);
        break;
      }
      case 'CreateFunctionStmt':
        if (!n.replace) add(`function:${names(n.funcname).at(-1)}`, s.line);
        break;
      case 'CreateTrigStmt': {
        const r = relOf(n.relation);
        if (r && !n.replace) add(`trigger:${r.name}.${String(n.trigname)}`, s.line, `table:${r.name}`);
        break;
      }
      case 'CreateEnumStmt':
      case 'CompositeTypeStmt':
      case 'CreateRangeStmt':
        add(`type:${(s.kind === 'CompositeTypeStmt' ? relOf(n.typevar)?.name : names(n.typeName).at(-1)) ?? '?'}`, s.line);
        break;
      case 'CreateDomainStmt':
        add(`type:${names(n.domainname).at(-1)}`, s.line);
        break;
      case 'ViewStmt':
        if (!n.replace) add(`view:${relOf(n.view)?.name}`, s.line);
        break;
      case 'CreateSeqStmt':
        add(`sequence:${relOf(n.sequence)?.name}`, s.line);
        break;
      case 'CreateExtensionStmt':
        if (!n.if_not_exists) add(`extension:${String(n.extname)}`, s.line);
        break;
      case 'CreateSchemaStmt':
        if (!n.if_not_exists) add(`schema:${String(n.schemaname)}`, s.line);
        break;
      case 'AlterTableStmt': {
        const r = relOf(n.relation);
        if (!r) break;
        const parent = `table:${r.name}`;
        for (const c of alterCmds(n)) {
          if (c.subtype === 'AT_AddConstraint' && typeof c.constraint?.conname === 'string') add(`constraint:${r.name}.${c.constraint.conname}`, s.line, parent);
          if (c.subtype === 'AT_AddColumn' && typeof c.column?.colname === 'string') add(`column:${r.name}.${c.column.colname}`, s.line, parent);
          if (c.subtype === 'AT_DropConstraint' && c.name) drop(`constraint:${r.name}.${c.name}`);
          if (c.subtype === 'AT_DropColumn' && c.name) drop(`column:${r.name}.${c.name}`);
        }
        break;
      }
      case 'DropStmt': {
        const kind = DROP_KINDS[String(n.removeType)];
        if (!kind) break;
        if (kind === 'schema' && n.behavior === 'DROP_CASCADE') dropsSchemaCascade = true;
        for (const o of dropObjects(n)) {
          if (kind === 'trigger') drop(`trigger:${o.at(-2)}.${o.at(-1)}`);
          else drop(`${kind}:${o.at(-1)}`);
        }
        break;
      }
      case 'RenameStmt':
        // A renamed object is the down's business to rename back; do not guess.
        break;
    }
  }
  return { created, dropped, dropsSchemaCascade };
}

/** Pure: objects the up file creates that its down file neither drops nor drops with their table. */
export function undoneObjects(up: ParsedStatement[], down: ParsedStatement[]): Array<{ object: string; line: number }> {
  const u = objectEffects(up);
  const d = objectEffects(down);
  if (d.dropsSchemaCascade) return [];
  // A DO block may drop with dynamic SQL: an object it names is taken as handled there.
  const dynamic = down.filter((s) => s.kind === 'DoStmt').map((s) => s.text.toLowerCase());
  const namedIn = (key: string) => {
    const name = key
      .slice(key.indexOf(':') + 1)
      .split('.')
      .at(-1)!
      .toLowerCase();
    return dynamic.some((t) => new RegExp(`(^|[^a-z0-9_])${name.replace(/[^a-z0-9_]/g, '')}([^a-z0-9_]|$)`).test(t));
  };
  const out: Array<{ object: string; line: number }> = [];
  for (const [key, v] of u.created) {
    if (d.dropped.has(key) || (v.parent && d.dropped.has(v.parent)) || namedIn(key)) continue;
    if (v.parent && u.created.has(v.parent)) continue; // reported with its table
    out.push({ object: key.replace(':', ' '), line: v.line });
  }
  return out;
}
