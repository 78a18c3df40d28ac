// The CLI as the bin runs it: dist/cli/ (tsc's output) bundled into dist/bundle/, one ES module
// per lazily loaded part (code splitting keeps every `await import()` lazy, so `--help` still
// loads only what it needs). One file instead of ~50 saves the module resolution and loading
// of each (measured: ~35 ms of CPU on an `init`, see bench/wall.ts). Packages stay external;
// dist/bundle sits two levels below the package root like every dist/<part>/, so the paths the
// code builds from import.meta.url (sql/, package.json) are the same. The library
// (dist/index.js) is not bundled. Also writes the lint code's stamp (see src/lint/memory.ts).
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { LINT_STAMP_FILE, lintCodeHash } from '../dist/lint/memory.js';

const result = await build({
  metafile: true,
  entryPoints: ['dist/cli/main.js'],
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});

// The lint memory's key part for this build (src/lint/memory.ts): computed once here, not on every run.
writeFileSync(`dist/bundle/${LINT_STAMP_FILE}`, `${lintCodeHash('dist/lint')}\n`);

// Which built modules each chunk holds (tests read it: "--help loads no command module").
const sources = Object.fromEntries(Object.entries(result.metafile.outputs).map(([out, o]) => [out.replace(/^dist\/bundle\//, ''), Object.keys(o.inputs)]));
writeFileSync('dist/bundle/sources.json', `${JSON.stringify(sources, null, 1)}\n`);
