/**
 * The import-boundary check (`npm run boundaries`, part of `npm test`). Its rules are made from
 * architecture.json (the design's parts and "never" rules as data), so the two cannot disagree:
 * one forbidden rule per "never" pair, plus no circles of files.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const architecture = JSON.parse(readFileSync(join(__dirname, 'architecture.json'), 'utf8'));

/** "src/cli/" -> ^src/cli/ ; "src/run.ts" -> ^src/run\.ts$ */
function pathPattern(paths) {
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return paths.map((p) => (p.endsWith('/') ? `^${esc(p)}` : `^${esc(p)}$`)).join('|');
}

function partPattern(name) {
  const part = architecture.parts[name];
  if (!part) throw new Error(`architecture.json: a "never" rule names the unknown part ${name}`);
  return pathPattern(part.is);
}

const never = architecture.never.map(([from, to, why]) => ({
  name: `never-${from}-to-${to}`,
  comment: why,
  severity: 'error',
  from: { path: partPattern(from) },
  to: { path: partPattern(to) },
}));

module.exports = {
  forbidden: [
    ...never,
    {
      name: 'no-circular',
      comment: 'files that import each other in a loop: one of them is in the wrong place',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
