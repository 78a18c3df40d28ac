/**
 * Online adoption under load: a database made by the spec's plain script with N messages is
 * adopted (`baseline --to 0002`, then `init`, the real CLI binary: run `npm run build` first)
 * while 10 writers insert messages and read receipts and 5 readers read channels. Printed per
 * size, for today's online files and for the 0.1.0 plain statements (test/fixtures/sql-0.1.0:
 * 0003 validating in one transaction, 0004 without CONCURRENTLY): init's time, each client's
 * longest stall, and writes per second before, during and after.
 *
 * --watch: also sample pg_stat_activity and print which of init's statements the app's clients
 * queued behind (on a lock), for how long, and the longest any app query ran.
 *
 *   node --import tsx bench/online.ts [--messages 200000,1000000] [--modes online,plain] [--watch]
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from '../test/helpers/pg.js';
import { runCli } from '../test/helpers/cli.js';
import { SPEC_SCRIPT } from '../test/helpers/catalog.js';
import { sqlDir } from '../test/helpers/schema.js';
import { startWriters, ulid } from '../test/helpers/app-traffic.js';
import { watchLocks } from './lock-watch.js';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '200000,1000000' }, modes: { type: 'string', default: 'online,plain' }, watch: { type: 'boolean', default: false } },
});
const sizes = values.messages!.split(',').map(Number);
const modes = values.modes!.split(',') as Array<'online' | 'plain'>;

const work = mkdtempSync(join(tmpdir(), 'cgdb-bench-online-'));
const plainDir = join(work, 'sql-plain');
cpSync(sqlDir, plainDir, { recursive: true });
const fixtures = new URL('../test/fixtures/sql-0.1.0/', import.meta.url).pathname;
for (const f of readdirSync(fixtures)) cpSync(join(fixtures, f), join(plainDir, f));

const db = await startPostgres();
const cli = (url: string, args: string[]) =>
  runCli([...args, '--env', 'development', '--yes', '--database-url', url], { cwd: work, env: { HOME: work, CI: 'true' }, timeoutMs: 30 * 60_000 });

async function populated(n: number): Promise<{ url: string; users: string[]; channels: string[] }> {
  const url = await db.createDatabase();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const users = Array.from({ length: 500 }, () => ulid());
  const channels = Array.from({ length: 50 }, () => ulid());
  await c.query(SPEC_SCRIPT);
  await c.query(`INSERT INTO users (id, auth0_id, email, username) SELECT u, 'auth0|' || u, lower(u) || '@x.io', 'user ' || u FROM unnest($1::text[]) u`, [users]);
  await c.query(`INSERT INTO channels (id, name) SELECT ch, 'channel ' || ch FROM unnest($1::text[]) ch`, [channels]);
  await c.query(
    `INSERT INTO messages (id, channel_id, user_id, content, created_at)
     SELECT '0' || upper(substr(md5(i::text), 1, 25)), ($1::text[])[1 + i % 50], ($2::text[])[1 + i % 500], 'message number ' || i || ' with some text', now() - (i || ' s')::interval
       FROM generate_series(1, $3::int) i`,
    [channels, users, n],
  );
  await c.query(
    `INSERT INTO message_reads (message_id, user_id) SELECT '0' || upper(substr(md5(i::text), 1, 25)), ($1::text[])[1 + i % 500] FROM generate_series(1, $2::int, 10) i`,
    [users, n],
  );
  await c.query('VACUUM ANALYZE');
  await c.end();
  return { url, users, channels };
}

const rate = (times: number[], from: number, to: number) => (to > from ? (times.filter((t) => t >= from && t < to).length * 1000) / (to - from) : 0);
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

const rows: string[] = [];
for (const n of sizes) {
  for (const mode of modes) {
    const { url, users, channels } = await populated(n);
    const b = await cli(url, ['baseline', '--to', '0002']);
    if (b.code !== 0) throw new Error(`baseline failed: ${b.stdout}${b.stderr}`);
    const traffic = await startWriters(url, 10, users, channels, { readers: 5 });
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 5000));
    const watch = values.watch ? await watchLocks(url) : null;
    const before = traffic.period();
    const t1 = Date.now();
    const init = await cli(url, ['init', ...(mode === 'plain' ? ['--migrations-dir', plainDir, '--lock-timeout', '0', '--statement-timeout', '0'] : [])]);
    const t2 = Date.now();
    const during = traffic.period();
    const watched = await watch?.stop();
    await new Promise((r) => setTimeout(r, 5000));
    const t3 = Date.now();
    const afterStalls = traffic.period();
    const res = await traffic.stop();
    if (init.code !== 0) throw new Error(`init (${mode}) failed: ${init.stdout}${init.stderr}`);
    const stalls = [...res.stallsMs].sort((a, b) => b - a);
    const line =
      `${fmt(n)} messages, ${mode.padEnd(6)}: init ${((t2 - t1) / 1000).toFixed(1)} s; longest stall ${fmt(stalls[0] ?? 0)} ms ` +
      `(per client, ms: ${stalls.map(fmt).join(' ')}); writes/s before ${fmt(rate(res.writeTimes, t0, t1))}, during ${fmt(rate(res.writeTimes, t1, t2))}, after ${fmt(rate(res.writeTimes, t2, t3))}; ${res.errors.length} client errors${res.errors.length ? ` (${[...new Set(res.errors.map((e) => e.split(':')[0]))].join(', ')})` : ''}`;
    const top = (xs: number[]) => fmt(Math.max(0, ...xs));
    const retried = (`${init.stdout}${init.stderr}`.match(/Retrying in/g) ?? []).length;
    const phases = `  longest operation before / during / after init: writers ${top(before.slice(0, 10))} / ${top(during.slice(0, 10))} / ${top(afterStalls.slice(0, 10))} ms, readers ${top(before.slice(10))} / ${top(during.slice(10))} / ${top(afterStalls.slice(10))} ms; ${retried} lock attempts retried`;
    console.log(line);
    console.log(phases);
    rows.push(`${line}\n  ${phases}`);
    if (watched) {
      const waits = [...watched.lockWaitMs.entries()].sort((a, b) => b[1] - a[1]);
      const waitLine = `  longest lock wait per client during init (sampled every 20 ms): ${waits.map(([app, ms]) => `${app} ${fmt(ms)}`).join(', ')}`;
      console.log(waitLine);
      rows.push(`  ${waitLine}`);
      console.log(`  longest app query: ${fmt(watched.longestAppQueryMs)} ms; app clients queued on a lock behind init's statement:`);
      for (const q of watched.queued.slice(0, 8))
        console.log(
          `    ${fmt(q.longestMs).padStart(6)} ms, up to ${q.mostWaiting} waiting (init: ${q.migrationWait || 'running'}${q.blockers ? `, behind ${q.blockers}` : ''}): ${q.statement}`,
        );
    }
  }
}
console.log('\nSummary (10 writers + 5 readers during `baseline --to 0002` then `init`):');
for (const r of rows) console.log(`  ${r}`);
await db.stop();
rmSync(work, { recursive: true, force: true });
