// The CLI as the bin runs its commands: dist/cli/ (tsc's output) bundled into one CommonJS file,
// dist/bundle/cli.cjs. A command then loads one file instead of ~45 modules, and CommonJS because
// esbuild then wraps every module in a lazy initialiser: a module's code and the packages it
// requires load when it is first used, not all at start as an ES module bundle must (measured:
// loading the ES module bundle took ~60 ms over an empty script, the CommonJS one ~40 ms; see
// bench/wall.ts). Help and version do not load it (bin/chatgenius-db.js prints them). Packages
// stay external, and our code loads every heavy one with `await import()` or on first use.
// dist/bundle sits two levels below the package root like every dist/<part>/, so the paths the
// code builds from import.meta.url (sql/, package.json) are the same. The library
// (dist/index.js) is not bundled. Also writes the lint code's stamp (see src/lint/memory.ts).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { LINT_STAMP_FILE, lintCodeHash } from '../dist/lint/memory.js';

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/bundle/cli.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // import.meta.url of the bundled modules: this file's URL (same depth below the package root).
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
  logLevel: 'warning',
});

// Loading the bundle must start no heavy package (they load where used): checked in a fresh process.
// The packages that load only where they are needed (one list: test/cli-basics.test.ts reads it too).
const HEAVY = JSON.parse(readFileSync('scripts/heavy-packages.json', 'utf8'));
const probe = spawnSync(process.execPath, ['-e', "require('./dist/bundle/cli.cjs'); process.stdout.write(JSON.stringify(Object.keys(require.cache)))"], {
  encoding: 'utf8',
});
if (probe.status !== 0) throw new Error(`dist/bundle/cli.cjs does not load: ${probe.stderr}`);
const started = JSON.parse(probe.stdout).filter((f) => HEAVY.some((h) => f.includes(`/node_modules/${h}/`)));
if (started.length) throw new Error(`dist/bundle/cli.cjs loads ${started.join(', ')} at start: load it where it is used`);

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
