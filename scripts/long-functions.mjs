#!/usr/bin/env node
/**
 * Lists the functions in src/ longer than a limit (default 80 lines), longest first, and says
 * which carry a reason next to them (a "Long on purpose:" comment right above). Reads the code
 * with the TypeScript compiler's parser; runs nothing.
 *
 *   node scripts/long-functions.mjs [--limit 80] [--all]   (--all: also the ones with a reason)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const limit = Number(args[args.indexOf('--limit') + 1]) || 80;
const showAll = args.includes('--all');
const root = join(import.meta.dirname, '..');

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) yield p;
  }
}

function nameOf(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p) && p.name) return p.name.getText();
  return '(anonymous)';
}

/** The comment right above the function (or above the statement that declares it). */
function reasonAbove(node, sf) {
  let n = node;
  while (n.parent && !ts.isSourceFile(n.parent) && !ts.isBlock(n.parent) && !ts.isClassDeclaration(n.parent) && !ts.isModuleBlock(n.parent)) n = n.parent;
  const ranges = ts.getLeadingCommentRanges(sf.text, n.pos) ?? [];
  return ranges.some((r) => /Long on purpose/i.test(sf.text.slice(r.pos, r.end)));
}

/** A function inside a long function whose reason is written (the reason covers what it holds). */
function insideReasoned(node, sf) {
  for (let p = node.parent; p; p = p.parent) if (ts.isFunctionLike(p) && reasonAbove(p, sf)) return true;
  return false;
}

const rows = [];
for (const file of files(join(root, 'src'))) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const end = sf.getLineAndCharacterOfPosition(node.end).line + 1;
      const lines = end - start + 1;
      if (lines > limit) rows.push({ file: relative(root, file), start, lines, name: nameOf(node), reason: reasonAbove(node, sf) || insideReasoned(node, sf) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
rows.sort((a, b) => b.lines - a.lines);
const without = rows.filter((r) => !r.reason);
for (const r of showAll ? rows : without) console.log(`${String(r.lines).padStart(4)}  ${r.file}:${r.start}  ${r.name}${r.reason ? '  (reason given)' : ''}`);
console.log(`${rows.length} functions over ${limit} lines; ${rows.length - without.length} with a reason written above, ${without.length} without`);
