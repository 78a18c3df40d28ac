#!/usr/bin/env node
// Shim: the CLI is written in TypeScript and built to dist/ by `npm run build` (run by `npm ci`).
// Commands run the one-file bundle dist/bundle/cli.js (scripts/bundle.mjs); help and version,
// which only print, load the few unbundled modules they need instead of the whole bundle. Both
// are built from the same source, so the choice changes only how fast it starts.
const args = process.argv.slice(2);
const printsOnly = args.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V') || args[0] === 'help';
const { main } = await import(printsOnly ? '../dist/cli/main.js' : '../dist/bundle/cli.js');
main(args).then((code) => {
  process.exitCode = code;
});
