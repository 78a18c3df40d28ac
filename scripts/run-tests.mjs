// Runs every test/**/*.test.ts with node's own test runner (Node 20 does not glob .ts files itself).
// Usage: node scripts/run-tests.mjs [filter...]   (filters match on the file path)
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'helpers' ? [] : walk(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}
const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('No test files matched.');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// A hung test fails after 3 minutes instead of holding CI to its 90-minute limit, and the whole
// run has a 30-minute watchdog (the suite takes about 2.5 minutes on 2 cores).
const testTimeoutMs = Number(process.env.TEST_TIMEOUT_MS ?? 180_000);
const watchdogMs = Number(process.env.TEST_WATCHDOG_MS ?? 30 * 60_000);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${testTimeoutMs}`, ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FORCE_COLOR: '0' },
  timeout: watchdogMs,
  killSignal: 'SIGKILL',
});
if (r.error || r.signal) {
  console.error(`Test run stopped: ${r.error?.message ?? r.signal} (watchdog ${watchdogMs / 60_000} min).`);
  process.exit(1);
}
process.exit(r.status ?? 1);
