/**
 * The schema as a self-contained SVG picture: a box per table (its columns, PK and FK marked),
 * an edge per foreign key from the child to the parent it references. The layout comes from a
 * graph-layout library (elkjs, the Eclipse Layout Kernel's layered algorithm, loaded only here),
 * which places boxes without overlaps and routes the edges orthogonally. Each table's box carries
 * data-table="<name>" so tests (and tools) can read the rectangles back.
 */
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { SchemaModel, SchemaTable } from './model.js';
import { shortType } from './types.js';

/** Monospace metrics (the SVG asks for a monospace font, so widths are predictable). */
const FONT_SIZE = 13;
const CHAR_W = 7.9;
const ROW_H = 20;
const HEAD_H = 26;
const PAD_X = 10;
/** Characters of the key gutter before each column name ("PK FK "). */
const MARK_W = 6;
/** The picture is drawn for this width (readable at 1600 px); taller layouts scroll. */
export const SVG_TARGET_WIDTH = 1600;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface BoxLayout {
  table: SchemaTable;
  width: number;
  height: number;
  nameW: number;
}

function measure(t: SchemaTable): BoxLayout {
  const nameW = Math.max(...t.columns.map((c) => c.name.length + 2 + MARK_W), t.name.length);
  const typeW = Math.max(0, ...t.columns.map((c) => shortType(c.type).length));
  const width = Math.ceil((nameW + 2 + typeW) * CHAR_W + 2 * PAD_X + 24);
  return { table: t, width: Math.max(width, Math.ceil(t.name.length * CHAR_W * 1.1 + 2 * PAD_X)), height: HEAD_H + t.columns.length * ROW_H + 6, nameW };
}

function boxSvg(b: BoxLayout, x: number, y: number): string {
  const t = b.table;
  const parts = [
    `<g class="table" data-table="${esc(t.name)}">`,
    `<rect data-table="${esc(t.name)}" x="${x}" y="${y}" width="${b.width}" height="${b.height}" rx="4" class="box"/>`,
    `<rect x="${x}" y="${y}" width="${b.width}" height="${HEAD_H}" rx="4" class="head"/>`,
    `<text x="${x + PAD_X}" y="${y + 18}" class="title">${esc(t.name)}</text>`,
  ];
  if (t.comment) parts.push(`<title>${esc(t.comment)}</title>`);
  t.columns.forEach((c, i) => {
    const cy = y + HEAD_H + i * ROW_H + 15;
    // Keys in a fixed-width gutter: "PK", "FK" or "PK FK" (a key column that also references).
    const mark = [c.primaryKey ? 'PK' : '', c.foreignKey ? 'FK' : ''].filter(Boolean).join(' ');
    parts.push(
      `<text x="${x + PAD_X}" y="${cy}" class="${c.primaryKey ? 'pk' : c.foreignKey ? 'fk' : 'col'}" data-column="${esc(c.name)}" xml:space="preserve"><tspan class="mark">${mark.padEnd(MARK_W)}</tspan>${esc(c.name)}${c.nullable ? '' : ' *'}</text>`,
      `<text x="${x + b.width - PAD_X}" y="${cy}" class="type" text-anchor="end">${esc(shortType(c.type))}</text>`,
    );
  });
  parts.push('</g>');
  return parts.join('');
}

export async function renderSvg(model: SchemaModel): Promise<string> {
  // elkjs is CommonJS: under NodeNext its constructor is the module's default export.
  const mod = (await import('elkjs/lib/elk.bundled.js')) as unknown as { default: new () => { layout(g: ElkNode): Promise<ElkNode> } };
  const elk = new mod.default();
  const boxes = new Map(model.tables.map((t) => [t.name, measure(t)]));
  const edges: ElkExtendedEdge[] = model.tables.flatMap((t) =>
    t.references.filter((r) => boxes.has(r.table)).map((r) => ({ id: `${t.name}:${r.name}`, sources: [t.name], targets: [r.table] })),
  );
  const graph: ElkNode = {
    id: 'schema',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'LEFT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '40',
      'elk.layered.spacing.nodeNodeBetweenLayers': '80',
      'elk.layered.spacing.edgeNodeBetweenLayers': '30',
      'elk.aspectRatio': '1.6',
      'elk.separateConnectedComponents': 'true',
      'elk.spacing.componentComponent': '60',
      'elk.padding': '[top=24,left=24,bottom=24,right=24]',
    },
    children: [...boxes.values()].map((b) => ({ id: b.table.name, width: b.width, height: b.height })),
    edges,
  };
  const laid = await elk.layout(graph);
  const w = Math.ceil(laid.width ?? 800);
  const h = Math.ceil(laid.height ?? 600);
  const body: string[] = [];
  for (const e of (laid.edges ?? []) as ElkExtendedEdge[]) {
    for (const s of e.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
      body.push(`<polyline class="fk" data-edge="${esc(e.id)}" points="${pts}" marker-end="url(#arrow)"/>`);
    }
  }
  for (const n of laid.children ?? []) body.push(boxSvg(boxes.get(n.id)!, n.x ?? 0, n.y ?? 0));
  const scale = w > SVG_TARGET_WIDTH ? SVG_TARGET_WIDTH / w : 1;
  const style = [
    `text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:${FONT_SIZE}px;fill:#1f2937}`,
    '.box{fill:#fff;stroke:#475569;stroke-width:1.2}',
    '.head{fill:#e0e7ff;stroke:#475569;stroke-width:1.2}',
    '.title{font-weight:bold;fill:#1e3a8a}',
    '.type{fill:#6b7280}',
    '.mark{font-weight:bold;fill:#b45309}',
    '.pk{font-weight:bold}',
    'polyline.fk{fill:none;stroke:#64748b;stroke-width:1.3}',
  ].join('');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(w * scale)}" height="${Math.round(h * scale)}" viewBox="0 0 ${w} ${h}">`,
    `<title>Schema ${esc(model.schema)}: ${model.tables.length} tables (PK primary key, FK foreign key, * not null)</title>`,
    `<defs><style>${style}</style><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>`,
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#f8fafc"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
