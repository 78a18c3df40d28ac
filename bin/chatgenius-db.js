#!/usr/bin/env node
// Shim: the CLI is written in TypeScript, built to dist/ by `npm run build` (run by `npm ci`) and
// bundled into dist/bundle/ (scripts/bundle.mjs).
import { main } from '../dist/bundle/main.js';
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
