/**
 * A separate process that runs the engine once (for the "two runs at once" and "killed mid-way"
 * tests). Usage: node --import tsx test/helpers/engine-child.ts <url> <migrationsDir> <schema> [up|down-all]
 * Prints one JSON line per event, then {"type":"result",...}. Connects with the product's own
 * connectClient (as the CLI does), so what a killed run's backend does is the product's setting
 * (client_connection_check_interval), not this helper's.
 */
import { connectClient } from '../../src/db/index.js';
import { migrate, rollback } from '../../src/migrate/index.js';

const [url, dir, schema, mode = 'up'] = process.argv.slice(2);
const u = new URL(url!);
const client = await connectClient(
  {
    host: u.hostname,
    port: Number(u.port),
    database: decodeURIComponent(u.pathname.slice(1)),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    sslMode: 'disable',
  },
  { applicationName: `engine-child-${process.pid}` },
);
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const opts = { schema: schema!, migrationsDir: dir!, lockTimeoutMs: 10_000, statementTimeoutMs: 60_000, lockPollMs: 100, emit: (e: unknown) => out(e) };
const r = mode === 'down-all' ? await rollback(client, { ...opts, all: true }) : await migrate(client, opts);
out({ type: 'result', ok: r.ok, results: r.results, failure: r.failure ?? null, lock: r.lock });
await client.end();
