/**
 * Round trips and wall time of the engine against a naive one-statement-at-a-time runner, through
 * a TCP proxy that adds 25 ms each way (a 50 ms round trip, like a cloud database behind a bastion).
 *
 *   node --import tsx bench/roundtrips.ts [--delay 25] [--counts 5,200]
 *
 * A benchmark, not a test: it prints figures.
 */
import pg from 'pg';
import { startPostgres } from '../test/helpers/pg.js';
import { startProxy } from '../test/helpers/proxy.js';
import { generateMigrations } from '../test/helpers/engine-fixtures.js';
import { sqlDir } from '../test/helpers/schema.js';
import { migrate, readMigrations, rollback, splitStatements, type MigrationFile } from '../src/migrate/index.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const delayMs = Number(arg('delay', '25'));
const counts = arg('counts', '5,200').split(',').map(Number);

/** The naive runner most hand-written scripts are: one statement per query. */
async function naiveUp(c: pg.Client, schema: string, files: MigrationFile[]): Promise<void> {
  await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await c.query(`CREATE TABLE IF NOT EXISTS "${schema}".naive_journal (version text PRIMARY KEY, checksum text)`);
  await c.query(`SELECT pg_advisory_lock(hashtext(current_database()), hashtext('naive:${schema}'))`);
  const done = new Set((await c.query(`SELECT version FROM "${schema}".naive_journal`)).rows.map((r) => r.version));
  await c.query(`SET search_path TO "${schema}", public`);
  for (const f of files) {
    if (done.has(f.version)) continue;
    await c.query('BEGIN');
    for (const s of splitStatements(f.up)) await c.query(s.text);
    await c.query(`INSERT INTO "${schema}".naive_journal VALUES ($1, $2)`, [f.version, f.checksum]);
    await c.query('COMMIT');
  }
  await c.query(`SELECT pg_advisory_unlock(hashtext(current_database()), hashtext('naive:${schema}'))`);
}

async function naiveDownAll(c: pg.Client, schema: string, files: MigrationFile[]): Promise<void> {
  await c.query(`SELECT pg_advisory_lock(hashtext(current_database()), hashtext('naive:${schema}'))`);
  const done = (await c.query(`SELECT version FROM "${schema}".naive_journal ORDER BY version DESC`)).rows.map((r) => r.version as string);
  await c.query(`SET search_path TO "${schema}", public`);
  for (const v of done) {
    const f = files.find((x) => x.version === v)!;
    await c.query('BEGIN');
    for (const s of splitStatements(f.down)) await c.query(s.text);
    await c.query(`DELETE FROM "${schema}".naive_journal WHERE version = $1`, [v]);
    await c.query('COMMIT');
  }
  await c.query(`SELECT pg_advisory_unlock(hashtext(current_database()), hashtext('naive:${schema}'))`);
}

const server = await startPostgres();
const proxy = await startProxy({ host: server.host, port: server.port }, { delayMs });
const rows: Array<{ runner: string; migrations: number | string; scenario: string; login: number; trips: number; ms: number }> = [];

async function measure(runner: string, migrations: number | string, scenario: string, fn: (c: pg.Client) => Promise<unknown>): Promise<void> {
  proxy.reset();
  const t0 = performance.now();
  const c = new pg.Client({ connectionString: proxy.url(server.url) });
  await c.connect();
  const login = proxy.flights;
  await fn(c);
  const trips = proxy.flights - login;
  const ms = performance.now() - t0;
  await c.end();
  rows.push({ runner, migrations, scenario, login, trips, ms });
  process.stderr.write(`  ${runner.padEnd(10)} ${String(migrations).padStart(4)} ${scenario.padEnd(14)} login ${login} + ${trips} round trips, ${ms.toFixed(0)} ms\n`);
}

async function compare(label: number | string, dir: string, schema: string): Promise<void> {
  const files = await readMigrations(dir);
  const o = { schema: `eng_${schema}`, migrationsDir: dir, lockTimeoutMs: 10_000, statementTimeoutMs: 60_000 };
  await measure('engine', label, 'fresh apply', async (c) => {
    const r = await migrate(c, o);
    if (!r.ok) throw new Error(JSON.stringify(r.failure));
  });
  await measure('engine', label, 'no-op', (c) => migrate(c, o));
  await measure('engine', label, 'full rollback', async (c) => {
    const r = await rollback(c, { ...o, all: true });
    if (!r.ok) throw new Error(JSON.stringify(r.failure));
  });
  const ns = `naive_${schema}`;
  await measure('naive', label, 'fresh apply', (c) => naiveUp(c, ns, files));
  await measure('naive', label, 'no-op', (c) => naiveUp(c, ns, files));
  await measure('naive', label, 'full rollback', (c) => naiveDownAll(c, ns, files));
}

const labels: Array<number | string> = [];
try {
  if ((await readMigrations(sqlDir)).length > 0) {
    labels.push("sql/ (the project's 5)");
    await compare(labels[0]!, sqlDir, 'project');
  }
  for (const count of counts) {
    const m = generateMigrations(count);
    labels.push(count);
    try {
      await compare(count, m.dir, String(count));
    } finally {
      m.cleanup();
    }
  }
} finally {
  await proxy.close();
  await server.stop();
}

console.log(`\nRound trips after login and wall time (login included), through a proxy adding ${delayMs} ms each way:\n`);
console.log('| migrations | scenario | engine round trips | engine wall | naive round trips | naive wall |');
console.log('|---:|---|---:|---:|---:|---:|');
for (const count of labels) {
  for (const scenario of ['fresh apply', 'no-op', 'full rollback']) {
    const e = rows.find((r) => r.runner === 'engine' && r.migrations === count && r.scenario === scenario)!;
    const n = rows.find((r) => r.runner === 'naive' && r.migrations === count && r.scenario === scenario)!;
    console.log(`| ${count} | ${scenario} | login ${e.login} + ${e.trips} | ${e.ms.toFixed(0)} ms | login ${n.login} + ${n.trips} | ${n.ms.toFixed(0)} ms |`);
  }
}
