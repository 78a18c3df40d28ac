/**
 * `chatgenius-db schema` as a new team member uses it, against a real PostgreSQL with every
 * migration applied: each format (the terminal tour, Mermaid, SVG, --json) shows every table,
 * column, key and reference that the catalog really holds (read here independently through
 * information_schema); the SVG is well-formed XML whose table boxes do not overlap; the Mermaid
 * text is accepted by Mermaid's own parser with one relationship per foreign key; an empty
 * database says so and suggests init; the README's diagram is the command's output.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { repoRoot, runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { readmeSchemaBlock, README_SCHEMA_START } from '../scripts/readme-schema.js';

let pg: TestPostgres;
let dir: string;
let env: Record<string, string>;

interface Truth {
  tables: string[];
  columns: Array<{ table: string; column: string }>;
  primaryKeys: Array<{ table: string; column: string }>;
  references: Array<{ table: string; columns: string; parent: string; onDelete: string }>;
  indexes: Array<{ table: string; name: string }>;
}
let truth: Truth;

/** What the catalog holds, read without any of the tool's code. */
async function readTruth(database: string): Promise<Truth> {
  const q = async <R extends Record<string, string>>(sql: string) => (await pg.query<R>(sql, [], database)).rows;
  const tables = (
    await q<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)
  ).map((r) => r.t);
  const columns = (
    await q<{ table: string; column: string }>(
      `SELECT table_name AS table, column_name AS column FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, ordinal_position`,
    )
  ).filter((c) => tables.includes(c.table));
  const primaryKeys = await q<{ table: string; column: string }>(`
    SELECT k.table_name AS table, k.column_name AS column FROM information_schema.table_constraints c
      JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name)
     WHERE c.constraint_schema = 'public' AND c.constraint_type = 'PRIMARY KEY'`);
  const references = await q<{ table: string; columns: string; parent: string; onDelete: string }>(`
    SELECT c.relname AS table, (SELECT string_agg(a.attname, ', ' ORDER BY u.o) FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n) AS columns,
           p.relname AS parent, r.delete_rule AS "onDelete"
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
      JOIN information_schema.referential_constraints r ON r.constraint_name = k.conname AND r.constraint_schema = 'public'
     WHERE k.contype = 'f' AND c.relnamespace = 'public'::regnamespace ORDER BY 1, 2`);
  const indexes = await q<{ table: string; name: string }>(`SELECT tablename AS table, indexname AS name FROM pg_indexes WHERE schemaname = 'public'`);
  return { tables, columns, primaryKeys, references, indexes };
}

const schemaCli = (args: string[], extra: Record<string, string> = {}) => runCli(['schema', '--env', 'development', ...args], { env: { ...env, ...extra }, cwd: dir });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgdb-schema-view-'));
  pg = await startPostgres();
  env = { DATABASE_URL: pg.url };
  const init = await runCli(['init', '--env', 'development', '--yes'], { env, cwd: dir });
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /Next: `chatgenius-db schema --env development`/, 'init points the new user at the schema tour');
  // Some rows, so the tour's counts can be checked against the truth.
  await pg.query(`INSERT INTO users (auth0_id, email, username) SELECT 'a' || g, 'u' || g || '@x.io', 'u' || g FROM generate_series(1, 7) g`);
  truth = await readTruth('chatgenius_test');
});

after(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the terminal tour shows every table with its purpose, every column, key, reference with its ON DELETE rule, index and notify channel, within 80 columns and without colour codes off a TTY', async () => {
  const r = await schemaCli([]);
  assert.equal(r.code, 0, r.stderr);
  const text = r.stdout;
  assert.doesNotMatch(text, /\x1b\[/, 'no colour codes when stdout is not a terminal');
  for (const line of text.split('\n')) assert.ok(line.length <= 80, `fits 80 columns: ${JSON.stringify(line)} (${line.length})`);
  const section = (table: string) => {
    const start = text.search(new RegExp(`^${table}\\s{2,}`, 'm'));
    assert.ok(start >= 0, `table ${table} has a section`);
    const rest = text.slice(start + table.length);
    const next = rest.search(/\n\n/);
    return text.slice(start, start + table.length + (next < 0 ? rest.length : next));
  };
  for (const t of truth.tables) {
    const s = section(t);
    assert.doesNotMatch(s, /no description/, `${t} has a purpose (COMMENT ON TABLE)`);
    for (const c of truth.columns.filter((c) => c.table === t)) assert.match(s, new RegExp(`^    ${c.column}\\s`, 'm'), `${t}.${c.column} listed`);
    for (const k of truth.primaryKeys.filter((k) => k.table === t)) assert.match(s, new RegExp(`^    ${k.column}\\s.*\\bPK\\b`, 'm'), `${t}.${k.column} marked PK`);
    for (const i of truth.indexes.filter((i) => i.table === t)) assert.ok(s.includes(i.name), `index ${i.name} listed under ${t}`);
  }
  for (const f of truth.references) {
    assert.ok(section(f.table).includes(`${f.columns} → ${f.parent}(`), `${f.table}(${f.columns}) → ${f.parent}`);
    assert.match(section(f.table), new RegExp(`${f.columns} → ${f.parent}\\([^)]*\\) ON DELETE ${f.onDelete}`), `ON DELETE ${f.onDelete} shown`);
    assert.ok(section(f.parent).includes(`${f.table}(${f.columns}) ON DELETE ${f.onDelete}`), `${f.parent} lists ${f.table} under Referenced by`);
  }
  assert.match(section('messages'), /serves: Latest messages of a channel/, 'an index says which query it serves');
  assert.match(section('messages'), /→ NOTIFY\s+chatgenius_messages/, 'the notify trigger names its channel');
  assert.match(section('users'), /^users\s+7 rows · \d/m, 'rows on this target (counted: a small table)');
});

test('--json gives the same model as data: tables, columns, keys, references, indexes, triggers, rows', async () => {
  const r = await schemaCli(['--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .find((l) => l.event === 'result');
  const tables = result.data.tables as Array<{
    name: string;
    columns: Array<{ name: string }>;
    primaryKey: string[];
    references: Array<{ columns: string[]; table: string; onDelete: string }>;
    indexes: Array<{ name: string }>;
    triggers: unknown[];
    rows: number;
  }>;
  assert.deepEqual(tables.map((t) => t.name).sort(), truth.tables);
  for (const c of truth.columns)
    assert.ok(
      tables.find((t) => t.name === c.table)!.columns.some((x) => x.name === c.column),
      `${c.table}.${c.column}`,
    );
  for (const k of truth.primaryKeys) assert.ok(tables.find((t) => t.name === k.table)!.primaryKey.includes(k.column));
  const refs = tables.flatMap((t) => t.references.map((r) => `${t.name}(${r.columns.join(', ')})->${r.table}:${r.onDelete}`)).sort();
  assert.deepEqual(refs, truth.references.map((f) => `${f.table}(${f.columns})->${f.parent}:${f.onDelete}`).sort());
  assert.deepEqual(tables.flatMap((t) => t.indexes.map((i) => i.name)).sort(), truth.indexes.map((i) => i.name).sort());
  assert.ok(tables.find((t) => t.name === 'messages')!.triggers.length > 0);
  assert.equal(tables.find((t) => t.name === 'users')!.rows, 7);
});

test("mermaid: accepted by Mermaid's own parser, every table and column, one relationship per foreign key", async () => {
  const r = await schemaCli(['--format', 'mermaid']);
  assert.equal(r.code, 0, r.stderr);
  const mermaid = (await import('mermaid')).default;
  const parsed = await mermaid.parse(r.stdout);
  assert.equal(parsed?.diagramType, 'er');
  await assert.rejects(mermaid.parse(r.stdout.replace('erDiagram', 'erDiagram\n    users {{ broken')), 'the parser does reject bad text');
  for (const t of truth.tables) assert.match(r.stdout, new RegExp(`^    ${t} \\{$`, 'm'), `entity ${t}`);
  const entity = (t: string) => r.stdout.slice(r.stdout.indexOf(`    ${t} {`), r.stdout.indexOf('    }', r.stdout.indexOf(`    ${t} {`)));
  for (const c of truth.columns) assert.match(entity(c.table), new RegExp(`^        \\S+ ${c.column}\\b`, 'm'), `${c.table}.${c.column}`);
  for (const k of truth.primaryKeys) assert.match(entity(k.table), new RegExp(`^        \\S+ ${k.column} PK\\b`, 'm'), `${k.table}.${k.column} marked PK`);
  const rels = r.stdout.split('\n').filter((l) => /^\s+\w+ [|}][|o]--[o|][{|] \w+ : /.test(l));
  assert.equal(rels.length, truth.references.length, 'one relationship per foreign key');
  for (const f of truth.references)
    assert.ok(
      rels.some((l) => l.includes(`${f.parent} `) && l.includes(` ${f.table} : "${f.columns}`)),
      `${f.parent} -> ${f.table}`,
    );
});

test('svg: well-formed XML holding every table and column name, one edge per foreign key, and no two table boxes overlap', async () => {
  const out = join(dir, 'schema.svg');
  const r = await schemaCli(['--output', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /Wrote .*schema\.svg: svg/);
  const svg = await readFile(out, 'utf8');
  assert.equal(XMLValidator.validate(svg), true, 'parses as XML');
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg);
  assert.ok(Number(doc.svg.width) <= 1600, 'drawn for 1600 px');
  const rects: Array<{ table: string; x: number; y: number; w: number; h: number }> = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
      return;
    }
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (typeof o['data-table'] === 'string' && o.width !== undefined) rects.push({ table: o['data-table'], x: +o.x!, y: +o.y!, w: +o.width!, h: +o.height! });
    Object.values(o).forEach(walk);
  };
  walk(doc);
  assert.deepEqual(rects.map((b) => b.table).sort(), truth.tables, 'a box per table');
  for (const a of rects) {
    for (const b of rects) {
      if (a === b) continue;
      const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      assert.ok(!overlap, `${a.table} and ${b.table} do not overlap`);
    }
  }
  const box = (t: string) => svg.slice(svg.indexOf(`<g class="table" data-table="${t}">`), svg.indexOf('</g>', svg.indexOf(`<g class="table" data-table="${t}">`)));
  for (const c of truth.columns) assert.ok(box(c.table).includes(`data-column="${c.column}"`), `${c.table}.${c.column} drawn in its box`);
  for (const k of truth.primaryKeys)
    assert.match(box(k.table), new RegExp(`class="pk" data-column="${k.column}"[^>]*><tspan class="mark">PK`), `${k.table}.${k.column} marked PK`);
  assert.equal((svg.match(/<polyline class="fk"/g) ?? []).length >= truth.references.length, true, 'an edge per foreign key');
});

test('on an empty database it says there is nothing yet and suggests init (exit 1, no driver message)', async () => {
  const url = await pg.createDatabase('schema_empty');
  const r = await runCli(['schema', '--env', 'development'], { env: { DATABASE_URL: url }, cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No tables to show yet \(SCHEMA_EMPTY\)/);
  assert.match(r.stderr, /chatgenius-db init --env development/);
});

test('a bad --format is a usage error naming the formats (exit 2, before connecting)', async () => {
  const r = await runCli(['schema', '--format', 'png', '--database-url', 'postgres://u@127.0.0.1:1/x'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--format text, --format mermaid or --format svg/);
});

test("the README's schema diagram is exactly what `schema --format mermaid` prints for a fresh database", async () => {
  const r = await schemaCli(['--format', 'mermaid']);
  assert.equal(r.code, 0, r.stderr);
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  assert.ok(readme.includes(README_SCHEMA_START), 'the README has the generated block');
  assert.equal(readmeSchemaBlock(readme), r.stdout, 'README diagram is stale: run `node --import tsx scripts/readme-schema.ts` to regenerate it');
});
