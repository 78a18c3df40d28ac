// The CLI as the bin runs its commands: dist/cli/ (tsc's output) bundled into one ES module,
// dist/bundle/cli.js. A command then loads one file instead of ~45 (measured: ~50 ms less CPU
// on an `init`, see bench/wall.ts), while help and version, which only print, keep loading the
// few unbundled modules they need (bin/chatgenius-db.js chooses). Packages stay external, and
// our code loads every heavy one with `await import()`, so the bundle starts none of them.
// dist/bundle sits two levels below the package root like every dist/<part>/, so the paths the
// code builds from import.meta.url (sql/, package.json) are the same. The library
// (dist/index.js) is not bundled. Also writes the lint code's stamp (see src/lint/memory.ts).
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { LINT_STAMP_FILE, lintCodeHash } from '../dist/lint/memory.js';

const result = await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/bundle/cli.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  metafile: true,
  logLevel: 'warning',
});

// Which built modules the bundle holds (tests read it).
const sources = Object.fromEntries(Object.entries(result.metafile.outputs).map(([out, o]) => [out.replace(/^dist\/bundle\//, ''), Object.keys(o.inputs)]));
writeFileSync('dist/bundle/sources.json', `${JSON.stringify(sources, null, 1)}\n`);

// The lint memory's key part for this build (src/lint/memory.ts): computed once here, not on every run.
writeFileSync(`dist/bundle/${LINT_STAMP_FILE}`, `${lintCodeHash('dist/lint')}\n`);
