/**
 * A separate process that runs the engine once (for the "two runs at once" and "killed mid-way"
 * tests). Usage: node --import tsx test/helpers/engine-child.ts <url> <migrationsDir> <schema> [up|down-all]
 * Prints one JSON line per event, then {"type":"result",...}. Sets client_connection_check_interval
 * the way the CLI's clientConfig does, so a killed run's backend notices at once.
 */
import pg from 'pg';
import { migrate, rollback } from '../../src/migrate/index.js';

const [url, dir, schema, mode = 'up'] = process.argv.slice(2);
const client = new pg.Client({ connectionString: url, options: '-c client_connection_check_interval=100', application_name: `engine-child-${process.pid}` });
client.on('error', () => {});
await client.connect();
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const opts = { schema: schema!, migrationsDir: dir!, lockTimeoutMs: 10_000, statementTimeoutMs: 60_000, lockPollMs: 100, emit: (e: unknown) => out(e) };
const r = mode === 'down-all' ? await rollback(client, { ...opts, all: true }) : await migrate(client, opts);
out({ type: 'result', ok: r.ok, results: r.results, failure: r.failure ?? null, lock: r.lock });
await client.end();
