/**
 * Seed speed against the floor: PostgreSQL's own COPY of the very same rows with the triggers off.
 *
 *   node --import tsx bench/seed.ts [--messages 300000] [--users 3000] [--channels 200] [--runs 1]
 *
 * In one run, on one fresh embedded PostgreSQL:
 * - seed:       seedDatabase() into an applied, empty schema (generation, COPY, derived tables,
 *               the one NOTIFY, commit; VACUUM ANALYZE is timed apart, it is not part of the load);
 * - plain COPY: the same rows, rendered to COPY text in memory beforehand, copied with
 *               pg-copy-streams in one transaction with session_replication_role = replica;
 * and the two hand-written parts beside the packages that could replace them:
 * - ULIDs/s: src/seed/ulid.ts against the `ulid` package fed the same seeded PRNG;
 * - the COPY writer: src/seed/copy.ts against pg-copy-streams, the same in-memory rows.
 *
 * A benchmark, not a test: it prints figures (and the ratio seed / plain COPY, target <= 1.5).
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFromStream } from 'pg-copy-streams';
import { ulid as ulidPackage } from 'ulid';
import { startPostgres } from '../test/helpers/pg.js';
import { applySqlFiles } from '../test/helpers/schema.js';
import { seedDatabase } from '../src/seed/load.js';
import { copyFrom, copyLine } from '../src/seed/copy.js';
import { generateSeed, TABLE_COLUMNS, TABLE_ORDER, type TableName } from '../src/seed/generate.js';
import { createRng } from '../src/seed/prng.js';
import { ulidAt } from '../src/seed/ulid.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const size = { users: Number(arg('users', '3000')), channels: Number(arg('channels', '200')), messages: Number(arg('messages', '300000')) };
const runs = Number(arg('runs', '1'));
const seed = 'bench';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Every table's rows as COPY text chunks, rendered before any timing starts. */
function renderRows(): { chunks: Record<TableName, string[]>; rows: number } {
  const gen = generateSeed({ ...size, seed });
  const chunks = Object.fromEntries(TABLE_ORDER.map((t) => [t, [] as string[]])) as Record<TableName, string[]>;
  const parts = Object.fromEntries(TABLE_ORDER.map((t) => [t, [] as string[]])) as Record<TableName, string[]>;
  let rows = 0;
  const add = (t: TableName, line: string): void => {
    parts[t].push(line);
    rows++;
    if (parts[t].length >= 2000) {
      chunks[t].push(parts[t].join(''));
      parts[t] = [];
    }
  };
  for (const t of TABLE_ORDER) {
    if (t === 'messages' || t === 'files' || t === 'reactions' || t === 'message_reads') continue;
    for (const row of gen.staticRows(t)) add(t, copyLine(row));
  }
  for (const [t, row] of gen.activityRows()) add(t, copyLine(row));
  for (const t of TABLE_ORDER) if (parts[t].length > 0) chunks[t].push(parts[t].join(''));
  return { chunks, rows };
}

const copySql = (schema: string, t: TableName): string => `COPY "${schema}".${t} (${TABLE_COLUMNS[t].join(', ')}) FROM STDIN`;

/** Plain COPY of the pre-rendered rows, triggers off, one transaction; returns ms. */
async function plainCopy(client: pg.Client, schema: string, chunks: Record<TableName, string[]>, writer: 'pg-copy-streams' | 'ours'): Promise<number> {
  const t0 = performance.now();
  await client.query('BEGIN; SET LOCAL session_replication_role = replica; SET LOCAL synchronous_commit = off');
  for (const t of TABLE_ORDER) {
    if (writer === 'pg-copy-streams') await pipeline(Readable.from(chunks[t]), client.query(copyFromStream(copySql(schema, t))));
    else await copyFrom(client, copySql(schema, t), chunks[t]);
  }
  await client.query('COMMIT');
  return performance.now() - t0;
}

function ulidRates(): { ours: number; pkg: number } {
  const N = 500_000;
  const time = (make: (ms: number) => string): number => {
    const t0 = performance.now();
    let len = 0;
    for (let i = 0; i < N; i++) len += make(1_700_000_000_000 + i).length;
    if (len !== N * 26) throw new Error('bad ULID length');
    return N / ((performance.now() - t0) / 1000);
  };
  const a = createRng(seed, 'ids');
  const b = createRng(seed, 'ids');
  time((ms) => ulidAt(ms, a.u32)); // warm up
  return { ours: time((ms) => ulidAt(ms, a.u32)), pkg: time((ms) => ulidPackage(ms, b)) };
}

const server = await startPostgres();
const client = await server.client();
try {
  console.log(`seed bench: ${fmt(size.users)} users, ${fmt(size.channels)} channels, ${fmt(size.messages)} messages, ${runs} run(s), PostgreSQL on this machine`);
  const { chunks, rows } = renderRows();
  const seedMs: number[] = [];
  const analyzeMs: number[] = [];
  const copyMs: number[] = [];
  const oursMs: number[] = [];
  let seededRows = 0;
  for (let i = 0; i < runs; i++) {
    for (const s of [`copy_${i}`, `seed_${i}`, `ours_${i}`]) await applySqlFiles(client, s, 'up');
    await client.query('CHECKPOINT');
    copyMs.push(await plainCopy(client, `copy_${i}`, chunks, 'pg-copy-streams'));
    await client.query('CHECKPOINT');
    const t0 = performance.now();
    const res = await seedDatabase(client, { ...size, seed, schema: `seed_${i}`, analyze: false });
    seedMs.push(performance.now() - t0);
    seededRows = res.totalRows;
    const a0 = performance.now();
    await client.query(`VACUUM (ANALYZE) ${TABLE_ORDER.map((t) => `seed_${i}.${t}`).join(', ')}`);
    analyzeMs.push(performance.now() - a0);
    await client.query('CHECKPOINT');
    oursMs.push(await plainCopy(client, `ours_${i}`, chunks, 'ours'));
  }
  if (seededRows !== rows) throw new Error(`seed loaded ${seededRows} rows, the plain COPY ${rows}`);
  const s = median(seedMs);
  const c = median(copyMs);
  const o = median(oursMs);
  const u = ulidRates();
  console.log(`rows per run: ${fmt(rows)} (${TABLE_ORDER.map((t) => `${t} ${fmt(chunks[t].reduce((n, x) => n + x.split('\n').length - 1, 0))}`).join(', ')})`);
  console.log(`seed (seedDatabase, generation included):  ${fmt(s)} ms  ${fmt(rows / (s / 1000))} rows/s   (+ VACUUM ANALYZE ${fmt(median(analyzeMs))} ms)`);
  console.log(`plain COPY, pre-rendered, triggers off:     ${fmt(c)} ms  ${fmt(rows / (c / 1000))} rows/s   (pg-copy-streams)`);
  console.log(`ratio seed / plain COPY:                    ${(s / c).toFixed(2)}   (target <= 1.5)`);
  console.log(`COPY writer, same rows: src/seed/copy.ts ${fmt(o)} ms vs pg-copy-streams ${fmt(c)} ms (${(o / c).toFixed(2)}x)`);
  console.log(`ULIDs/s: src/seed/ulid.ts ${fmt(u.ours)} vs ulid package ${fmt(u.pkg)} (${(u.ours / u.pkg).toFixed(1)}x)`);
} finally {
  await client.end();
  await server.stop();
}
