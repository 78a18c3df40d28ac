/**
 * Small pure helpers over libpg-query's JSON nodes (the parse tree of PostgreSQL's own grammar):
 * names of relations and objects, the commands of an ALTER TABLE, a walk over expressions.
 */
export type Node = Record<string, unknown>;

/** `{ relname, schemaname }` of a RangeVar. */
export interface RelName {
  name: string;
  schema?: string;
  /** Byte offset of the name in the parsed text, when the parser gave one. */
  location?: number;
}

export function relOf(v: unknown): RelName | undefined {
  const r = v as { relname?: string; schemaname?: string; location?: number } | undefined;
  if (!r?.relname) return undefined;
  return { name: r.relname, ...(r.schemaname ? { schema: r.schemaname } : {}), ...(typeof r.location === 'number' ? { location: r.location } : {}) };
}

/** `schema.name` or `name`, as shown to people. */
export function shown(r: RelName): string {
  return r.schema ? `${r.schema}.${r.name}` : r.name;
}

/** The strings of a name list: `[{String:{sval:'a'}}, {String:{sval:'b'}}]` -> ['a', 'b']. */
export function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((x) => (x as { String?: { sval?: string } }).String?.sval).filter((s): s is string => typeof s === 'string');
}

/** The object names of a DropStmt, each as its list of name parts. */
export function dropObjects(node: Node): string[][] {
  const objs = (node.objects as unknown[]) ?? [];
  return objs.map((o) => {
    const x = o as { List?: { items?: unknown[] }; String?: { sval?: string }; ObjectWithArgs?: { objname?: unknown[] }; TypeName?: { names?: unknown[] } };
    if (x.List) return names(x.List.items);
    if (x.String?.sval) return [x.String.sval];
    if (x.ObjectWithArgs) return names(x.ObjectWithArgs.objname);
    if (x.TypeName) return names(x.TypeName.names);
    return [];
  });
}

export interface AlterCmd {
  subtype: string;
  name?: string;
  def?: Node;
  /** The Constraint node when the command adds one. */
  constraint?: Node;
  /** The ColumnDef node when the command adds a column or changes its type. */
  column?: Node;
}

export function alterCmds(node: Node): AlterCmd[] {
  return ((node.cmds as unknown[]) ?? []).map((c) => {
    const cmd = (c as { AlterTableCmd: Node }).AlterTableCmd;
    const def = cmd.def as Node | undefined;
    return {
      subtype: String(cmd.subtype),
      ...(typeof cmd.name === 'string' ? { name: cmd.name } : {}),
      ...(def ? { def } : {}),
      ...(def?.Constraint ? { constraint: def.Constraint as Node } : {}),
      ...(def?.ColumnDef ? { column: def.ColumnDef as Node } : {}),
    };
  });
}

/** The constraints attached to a ColumnDef. */
export function columnConstraints(col: Node): Node[] {
  return ((col.constraints as unknown[]) ?? []).map((c) => (c as { Constraint: Node }).Constraint).filter(Boolean);
}

/** Every node of a tree (depth first), as [kind, node]. */
export function* walk(v: unknown): Generator<[string, Node]> {
  if (Array.isArray(v)) {
    for (const x of v) yield* walk(x);
    return;
  }
  if (!v || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v as Node)) {
    if (x && typeof x === 'object' && !Array.isArray(x) && /^[A-Z]/.test(k)) yield [k, x as Node];
    yield* walk(x);
  }
}

/** The first byte location found in a node (for a finding's column), else undefined. */
export function firstLocation(v: unknown): number | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const loc = (v as { location?: unknown }).location;
  if (typeof loc === 'number' && loc >= 0) return loc;
  for (const x of Object.values(v as Node)) {
    const l = firstLocation(x);
    if (l !== undefined) return l;
  }
  return undefined;
}
