/**
 * Lint and the lock-aware plan, measured:
 *   1. lint of 200 generated migration pairs (400 files), after the parser is loaded (target < 1 s);
 *   2. the dry-run plan's extra cost: the engine's dry run alone vs. dry run + traced plan, in
 *      round trips and ms, through a TCP proxy adding 25 ms each way (target: + 1 round trip).
 *
 *   node --import tsx bench/lint.ts [--delay 25] [--files 200]
 *
 * A benchmark, not a test: it prints figures.
 */
import pg from 'pg';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres } from '../test/helpers/pg.js';
import { startProxy } from '../test/helpers/proxy.js';
import { generateMigrations } from '../test/helpers/engine-fixtures.js';
import { loadParser } from '../src/lint/parser.js';
import { lintPairs, lockPlan, pairFiles } from '../src/lint/index.js';
import { migrate, readMigrations } from '../src/migrate/index.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const delayMs = Number(arg('delay', '25'));
const count = Number(arg('files', '200'));

// 1. Lint.
const t0 = performance.now();
await loadParser();
const loadMs = performance.now() - t0;
const gen = generateMigrations(count);
const entries = readdirSync(gen.dir).map((name) => ({ name, text: readFileSync(join(gen.dir, name), 'utf8') }));
const runs: number[] = [];
let findings = 0;
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const r = await lintPairs(pairFiles(entries));
  runs.push(performance.now() - t);
  findings = r.findings.length;
}
runs.sort((a, b) => a - b);
process.stderr.write(
  `lint: parser load ${loadMs.toFixed(0)} ms; ${count} migrations (${entries.length} files): median ${runs[2]!.toFixed(0)} ms, best ${runs[0]!.toFixed(0)} ms (${findings} findings)\n`,
);

// 2. The plan's extra round trips at `delayMs` one way.
const server = await startPostgres();
const proxy = await startProxy({ host: server.host, port: server.port }, { delayMs });
const plan = generateMigrations(10);
const o = { schema: 'bench', migrationsDir: plan.dir, lockTimeoutMs: 10_000, statementTimeoutMs: 60_000 };
{
  // Apply 5 of 10 so the plan has applied files to replay and pending ones to trace.
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  const files = await readMigrations(plan.dir);
  const half = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'cgdb-half-'));
  for (const f of files.slice(0, 5)) {
    (await import('node:fs')).writeFileSync(join(half, `${f.version}_${f.name}.up.sql`), f.up);
    (await import('node:fs')).writeFileSync(join(half, `${f.version}_${f.name}.down.sql`), f.down);
  }
  const r = await migrate(c, { ...o, migrationsDir: half });
  if (!r.ok) throw new Error('setup failed');
  await c.query("INSERT INTO bench.t_0001 SELECT g, 'x' FROM generate_series(100, 100000) g; ANALYZE bench.t_0001");
  await c.end();
}

async function measure(label: string, fn: (c: pg.Client) => Promise<unknown>): Promise<{ trips: number; ms: number }> {
  const c = new pg.Client({ connectionString: proxy.url(server.url) });
  await c.connect();
  proxy.reset();
  const t = performance.now();
  await fn(c);
  const ms = performance.now() - t;
  const trips = proxy.flights;
  await c.end();
  process.stderr.write(`  ${label.padEnd(34)} ${trips} round trips, ${ms.toFixed(0)} ms\n`);
  return { trips, ms };
}

await loadParser();
const base = await measure('engine dry run', (c) => migrate(c, { ...o, dryRun: true }));
const traced = await measure('engine dry run + traced lock plan', async (c) => {
  const r = await migrate(c, { ...o, dryRun: true });
  const p = await lockPlan(c, {
    schema: 'bench',
    applied: r.plan.applied.map((a) => a.file),
    pending: r.plan.pending,
    all: [...r.plan.applied.map((a) => a.file), ...r.plan.pending],
  });
  if (p.traceError) throw new Error(p.traceError);
});
process.stderr.write(
  `plan at ${delayMs} ms one way: +${traced.trips - base.trips} round trip(s), +${(traced.ms - base.ms).toFixed(0)} ms (5 applied files replayed, 5 pending traced)\n`,
);

await proxy.close();
await server.stop();
gen.cleanup();
plan.cleanup();
