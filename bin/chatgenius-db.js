#!/usr/bin/env node
// Shim (CommonJS: bin/package.json). The CLI is written in TypeScript and built to dist/ by
// `npm run build` (run by `npm ci`). A command runs the one-file bundle dist/bundle/cli.cjs
// (scripts/bundle.mjs). Help and version only print: `--help`, `-h`, `--version`, `-V`,
// `<command> --help` and `help [command]` print the text the build wrote from the same source
// (dist/bundle/help.json) without loading any module of ours, so they start about as fast as
// node itself; anything else, however close, goes through main().
'use strict';
const args = process.argv.slice(2);
const printed = printOnly(args);
if (printed !== undefined) {
  process.stdout.write(printed);
} else {
  require('../dist/bundle/cli.cjs')
    .main(args)
    .then((code) => {
      process.exitCode = code;
    });
}

function printOnly(a) {
  if (a.length === 0 || a.length > 2) return undefined;
  const version = () => require('../package.json').version;
  if (a.length === 1 && (a[0] === '--version' || a[0] === '-V')) return `${version()}\n`;
  let help;
  try {
    help = require('../dist/bundle/help.json');
  } catch {
    return undefined; // not built with it: main() prints
  }
  const top = () => help.top.replace('{{version}}', version());
  const [x, y] = a;
  if (a.length === 1) return x === '--help' || x === '-h' || x === 'help' ? top() : undefined;
  if ((y === '--help' || y === '-h') && Object.hasOwn(help.commands, x)) return help.commands[x];
  if (x === 'help') return Object.hasOwn(help.commands, y) ? help.commands[y] : top();
  return undefined;
}
