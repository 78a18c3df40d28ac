/**
 * How long a change takes to reach `listen --json`'s stdout, per real-time mode. A benchmark, not
 * a test:
 *
 *   node --import tsx bench/listen-latency.ts [--probes 200]
 *
 * Starts an embedded PostgreSQL with wal_level=logical and the schema, then in each mode runs a
 * real `chatgenius-db listen messages --json` and inserts probe messages 20 ms apart: from the
 * moment each INSERT is sent to the moment its line (found by the message id) arrives on the
 * listener's stdout. Twice: on a quiet database, and busy, with 8 other writers inserting as fast
 * as they can from a separate process (listen then reads in 10 ms gulps: what that costs in delay).
 * Prints median, p95 and max per mode and load.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startPostgres } from '../test/helpers/pg.js';
import { applySqlFiles } from '../test/helpers/schema.js';
import { binPath } from '../test/helpers/cli.js';
import { useLogical, useNotify } from '../src/ops/realtime.js';

const { values: args } = parseArgs({ options: { probes: { type: 'string', default: '200' } } });
const probes = Number(args.probes);
const log = (s = '') => process.stdout.write(`${s}\n`);

/** 8 writers inserting as fast as they can, in a process of their own (not this one's event loop). */
const LOAD = `
const pg = require('pg');
const [url, ch, u] = process.argv.slice(1);
let stop = false;
process.on('SIGINT', () => { stop = true; });
(async () => {
  const cs = await Promise.all(Array.from({ length: 8 }, async () => { const c = new pg.Client({ connectionString: url }); await c.connect(); return c; }));
  process.stdout.write('ready\\n');
  await Promise.all(cs.map(async (c) => { while (!stop) await c.query({ name: 'i', text: 'insert into messages (channel_id, user_id, content) values ($1, $2, $3)', values: [ch, u, 'load'] }); }));
  await Promise.all(cs.map((c) => c.end()));
  process.exit(0);
})();`;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function main(): Promise<void> {
  const db = await startPostgres({ postgresFlags: ['-c', 'wal_level=logical', '-c', 'max_connections=40'] });
  const admin = await db.client();
  try {
    await applySqlFiles(admin, 'public', 'up');
    await admin.query('set search_path to public');
    const u = (await admin.query<{ id: string }>(`insert into users (auth0_id, email, username) values ('a|1', 'u@x', 'u') returning id`)).rows[0]!.id;
    const ch = (await admin.query<{ id: string }>(`insert into channels (name) values ('c') returning id`)).rows[0]!.id;
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', CI: 'true', DATABASE_URL: db.url };
    log(`insert -> listen --json stdout, ${probes} probes 20 ms apart per cell (ms)`);
    log('');
    log('| mode | load | median | p95 | max |');
    log('|---|---|---|---|---|');
    for (const mode of ['notify', 'logical'] as const) {
      if (mode === 'logical') await useLogical(admin, 'public', 'bench');
      else await useNotify(admin, 'public');
      for (const busy of [false, true]) {
        const arrived = new Map<string, number>();
        const child = spawn(process.execPath, [binPath, 'listen', 'messages', '--json', '--env', 'development', '--schema', 'public'], {
          env,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        let buf = '';
        const listening = new Promise<void>((resolve) => {
          child.stdout.on('data', (d: Buffer) => {
            const now = performance.now();
            buf += d.toString();
            let i: number;
            while ((i = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              if (line.includes('"event":"listening"')) resolve();
              const m = /"id":"([0-9A-Z]{26})"/.exec(line);
              if (m) arrived.set(m[1]!, now);
            }
          });
        });
        await listening;
        const load = busy ? spawn(process.execPath, ['-e', LOAD, db.url, ch, u], { stdio: ['ignore', 'pipe', 'inherit'] }) : null;
        if (load) await new Promise((r) => load.stdout!.once('data', r));
        const sent = new Map<string, number>();
        for (let p = 0; p < probes; p++) {
          const t0 = performance.now();
          const id = (await admin.query<{ id: string }>(`insert into messages (channel_id, user_id, content) values ($1, $2, 'probe') returning id`, [ch, u])).rows[0]!
            .id;
          sent.set(id, t0);
          await new Promise((r) => setTimeout(r, 20));
        }
        if (load) {
          const done = new Promise((r) => load.on('close', r));
          load.kill('SIGINT');
          await done;
        }
        const deadline = Date.now() + 30_000;
        while ([...sent.keys()].some((id) => !arrived.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const exited = new Promise((r) => child.on('close', r));
        child.kill('SIGINT');
        await exited;
        const ms = [...sent].filter(([id]) => arrived.has(id)).map(([id, t0]) => arrived.get(id)! - t0);
        const missing = sent.size - ms.length;
        log(
          `| ${mode} | ${busy ? 'busy (8 writers)' : 'quiet'} | ${pct(ms, 0.5).toFixed(1)} | ${pct(ms, 0.95).toFixed(1)} | ${Math.max(...ms).toFixed(1)} |${missing ? ` ${missing} MISSING` : ''}`,
        );
      }
    }
    await useNotify(admin, 'public');
  } finally {
    await admin.end().catch(() => {});
    await db.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
