#!/usr/bin/env node
// Shim: the CLI is written in TypeScript and built to dist/ by `npm run build` (run by `npm ci`).
import { main } from '../dist/cli/main.js';
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
