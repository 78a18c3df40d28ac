/**
 * Does the schema hold at chat scale? A benchmark, not a test:
 *
 *   node --import tsx bench/schema.ts [--messages 1000000] [--users N] [--channels N] [--iterations 200] [--seed S]
 *
 * Starts an embedded PostgreSQL, applies our migrations (sql/) in schema `chat` and the
 * spec's ten bare CREATE TABLEs (sql/0002 alone: no extra indexes, triggers or cursor table) in
 * schema `bare`, seeds both with the same data (src/seed), then:
 * 1. load rate (rows/s) and the loader's peak RSS (flat memory: the data is streamed);
 * 2. p50/p95 of the queries a chat app makes, ours vs bare, each EXPLAINed for index use;
 * 3. message insert throughput with the notification trigger off vs on (a LISTEN client attached
 *    and reading, in a process of its own), single-row autocommit inserts (how the app writes) and 500-row batches.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { startPostgres } from '../test/helpers/pg.js';
import { applySqlFiles, sqlDir } from '../test/helpers/schema.js';
import { seedDatabase, type SeedResult } from '../src/seed/load.js';
import { createRng } from '../src/seed/prng.js';
import { ulidAt } from '../src/seed/ulid.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    users: { type: 'string' },
    channels: { type: 'string' },
    iterations: { type: 'string', default: '200' },
    seed: { type: 'string', default: 'bench' },
    /** Comma-separated sections to run: queries (needs the bare schema too), inserts. Default both. */
    only: { type: 'string', default: 'queries,inserts' },
  },
});
const messages = Number(args.messages);
const users = args.users ? Number(args.users) : Math.max(300, Math.round(messages / 200));
const channels = args.channels ? Number(args.channels) : Math.max(40, Math.round(messages / 2000));
const iterations = Number(args.iterations);
const sections = new Set(args.only!.split(',').map((x) => x.trim()));
const TIME_BUDGET_MS = 3000; // per query and schema: slow bare queries stop early (min 5 runs)

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
const fmt = (n: number) => n.toLocaleString('en-US');
const log = (s = '') => process.stdout.write(`${s}\n`);

interface QuerySpec {
  name: string;
  ours: string;
  /** Same SQL unless the bare tables need another form (no cursor table). */
  bare?: string;
  params: unknown[];
}

interface PlanFacts {
  indexes: string[];
  seqScans: string[];
}

function walkPlan(node: Record<string, unknown>, out: PlanFacts, big: Set<string>): void {
  const type = node['Node Type'];
  if (typeof node['Index Name'] === 'string') out.indexes.push(node['Index Name'] as string);
  if (type === 'Seq Scan' && typeof node['Relation Name'] === 'string') {
    const rel = node['Relation Name'] as string;
    out.seqScans.push(big.has(rel) ? `${rel} (BIG)` : rel);
  }
  for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) walkPlan(child, out, big);
  // InitPlans/SubPlans are children in Plans too (with Subplan Name).
}

async function explain(client: pg.Client, sql: string, params: unknown[], big: Set<string>): Promise<PlanFacts> {
  const r = await client.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const facts: PlanFacts = { indexes: [], seqScans: [] };
  walkPlan(r.rows[0]!['QUERY PLAN'][0]!.Plan, facts, big);
  facts.indexes = [...new Set(facts.indexes)];
  facts.seqScans = [...new Set(facts.seqScans)];
  return facts;
}

async function timeQuery(client: pg.Client, name: string, sql: string, params: unknown[]): Promise<{ p50: number; p95: number; runs: number; rows: number }> {
  const q = { name, text: sql, values: params };
  let rows = 0;
  for (let i = 0; i < 10; i++) rows = (await client.query(q)).rowCount ?? 0; // warm up (and settle the plan cache)
  const times: number[] = [];
  const start = Date.now();
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await client.query(q);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (i >= 4 && Date.now() - start > TIME_BUDGET_MS) break;
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
  return { p50: at(0.5), p95: at(0.95), runs: times.length, rows };
}

async function seedWithRss(client: pg.Client, schema: string): Promise<{ res: SeedResult; peakRss: number; startRss: number }> {
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 25);
  let lastPct = -1;
  try {
    const res = await seedDatabase(client, {
      users,
      channels,
      messages,
      seed: args.seed!,
      schema,
      emit: (e) => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        if (e.type === 'seed:progress' && e.percent >= lastPct + 10) {
          lastPct = e.percent - (e.percent % 10);
          process.stderr.write(`  ${schema}: ${e.percent}% (${e.table})\n`);
        }
      },
    });
    return { res, peakRss, startRss };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  log(`# bench/schema: ${fmt(messages)} messages, ${fmt(users)} users, ${fmt(channels)} channels, seed "${args.seed}"`);
  log(`# node ${process.version}, ${process.platform}/${process.arch}; embedded PostgreSQL (default settings); loader and queries in this process`);
  const db = await startPostgres({ database: 'chatgenius_bench' });
  try {
    const admin = await db.client();
    const version = (await admin.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    log(`# PostgreSQL ${version}`);
    await applySqlFiles(admin, 'chat', 'up');
    if (sections.has('queries')) {
      await admin.query(`CREATE SCHEMA bare; SET search_path TO bare, public`);
      await admin.query(readFileSync(join(sqlDir, '0002_tables.up.sql'), 'utf8'));
    }

    // 1. Load.
    log('\n## Load (COPY FROM STDIN, one transaction, triggers quiet; VACUUM ANALYZE after)');
    log('schema | rows | load s | rows/s | VACUUM ANALYZE s | loader RSS start -> peak');
    for (const schema of sections.has('queries') ? ['chat', 'bare'] : ['chat']) {
      const { res, peakRss, startRss } = await seedWithRss(admin, schema);
      log(
        `${schema} | ${fmt(res.totalRows)} | ${(res.loadMs / 1000).toFixed(1)} | ${fmt(res.rowsPerSec)} | ${(res.analyzeMs / 1000).toFixed(1)} | ${mb(startRss)} -> ${mb(peakRss)}`,
      );
      if (schema === 'chat') {
        log(
          `  counts: ${Object.entries(res.counts)
            .map(([t, n]) => `${t} ${fmt(n)}`)
            .join(', ')}; derived: ${res.derived.join(', ') || 'none'}`,
        );
      }
    }

    // 2. Queries.
    const ours = await db.client();
    await ours.query('SET search_path TO chat, public');
    const bare = await db.client();
    await bare.query('SET search_path TO bare, public');
    const pick = async <T extends pg.QueryResultRow>(sql: string): Promise<T> => (await ours.query<T>(sql)).rows[0]!;
    const big = await pick<{ channel_id: string; n: string }>(
      `SELECT channel_id, count(*) AS n FROM messages GROUP BY channel_id ORDER BY count(*) DESC, channel_id LIMIT 1`,
    );
    const heavy = await pick<{ user_id: string; n: string }>(
      `SELECT cm.user_id, count(*) AS n FROM channel_members cm JOIN users u ON u.id = cm.user_id
        WHERE u.deleted_at IS NULL GROUP BY cm.user_id ORDER BY count(*) DESC, cm.user_id LIMIT 1`,
    );
    // A member of the big channel who is behind on it (so the unread count has work to do).
    const reader = await pick<{ user_id: string }>(
      `SELECT c.user_id FROM channel_read_cursors c JOIN users u ON u.id = c.user_id AND u.deleted_at IS NULL
        WHERE c.channel_id = '${big.channel_id}' ORDER BY c.last_read_at, c.user_id LIMIT 1`,
    );
    const someone = await pick<{ email: string }>(`SELECT email FROM users WHERE deleted_at IS NULL ORDER BY id OFFSET ${Math.floor(users / 2)} LIMIT 1`);
    const page1 = await ours.query<{ id: string; created_at: Date }>(
      `SELECT id, created_at FROM messages WHERE channel_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 50`,
      [big.channel_id],
    );
    const lastOfPage = page1.rows.at(-1)!;
    const since = await pick<{ since: Date }>(`SELECT max(updated_at) - interval '1 day' AS since FROM messages WHERE channel_id = '${big.channel_id}'`);
    if (sections.has('queries'))
      log(`\n## Queries (p50/p95 ms over up to ${iterations} runs each, prepared statements; big channel ${fmt(Number(big.n))} messages; user in ${heavy.n} channels)`);

    const latest = `SELECT id, user_id, content, created_at, metadata FROM messages
                     WHERE channel_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 50`;
    const unreadOneOurs = `SELECT count(*) AS unread FROM (
        SELECT 1 FROM messages m
         WHERE m.channel_id = $2 AND m.deleted_at IS NULL
           AND (m.created_at, m.id) > (SELECT coalesce(max(c.last_read_at), '-infinity'), coalesce(max(c.last_read_message_id), '')
                                          FROM channel_read_cursors c WHERE c.user_id = $1 AND c.channel_id = $2)
         LIMIT 100) x`;
    const unreadOneBare = `SELECT count(*) AS unread FROM (
        SELECT 1 FROM messages m
         WHERE m.channel_id = $2 AND m.deleted_at IS NULL
           AND m.id > (SELECT coalesce(max(r.message_id), '') FROM message_reads r JOIN messages rm ON rm.id = r.message_id
                        WHERE r.user_id = $1 AND rm.channel_id = $2)
         LIMIT 100) x`;
    const unreadAllOurs = `SELECT cm.channel_id, (
        SELECT count(*) FROM (
          SELECT 1 FROM messages m
           WHERE m.channel_id = cm.channel_id AND m.deleted_at IS NULL
             AND (m.created_at, m.id) > (coalesce(c.last_read_at, '-infinity'), coalesce(c.last_read_message_id, ''))
           LIMIT 100) x) AS unread
      FROM channel_members cm LEFT JOIN channel_read_cursors c ON c.user_id = cm.user_id AND c.channel_id = cm.channel_id
     WHERE cm.user_id = $1`;
    const unreadAllBare = `SELECT cm.channel_id, (
        SELECT count(*) FROM (
          SELECT 1 FROM messages m
           WHERE m.channel_id = cm.channel_id AND m.deleted_at IS NULL
             AND m.id > (SELECT coalesce(max(r.message_id), '') FROM message_reads r JOIN messages rm ON rm.id = r.message_id
                          WHERE r.user_id = cm.user_id AND rm.channel_id = cm.channel_id)
           LIMIT 100) x) AS unread
      FROM channel_members cm
     WHERE cm.user_id = $1`;
    const queries: QuerySpec[] = [
      { name: 'latest 50 messages of a channel', ours: latest, params: [big.channel_id] },
      {
        name: 'next page (keyset)',
        ours: `SELECT id, user_id, content, created_at, metadata FROM messages
                WHERE channel_id = $1 AND deleted_at IS NULL AND (created_at, id) < ($2, $3)
                ORDER BY created_at DESC, id DESC LIMIT 50`,
        params: [big.channel_id, lastOfPage.created_at, lastOfPage.id],
      },
      { name: 'unread count, one channel (99+)', ours: unreadOneOurs, bare: unreadOneBare, params: [reader.user_id, big.channel_id] },
      { name: `unread counts, all ${heavy.n} channels of a user (99+)`, ours: unreadAllOurs, bare: unreadAllBare, params: [heavy.user_id] },
      {
        name: 'members of a channel (first 100)',
        ours: `SELECT u.id, u.username, u.avatar_url, cm.role FROM channel_members cm JOIN users u ON u.id = cm.user_id
                WHERE cm.channel_id = $1 AND u.deleted_at IS NULL ORDER BY cm.user_id LIMIT 100`,
        params: [big.channel_id],
      },
      {
        name: 'channels of a user',
        ours: `SELECT c.id, c.name, cm.role FROM channel_members cm JOIN channels c ON c.id = cm.channel_id
                WHERE cm.user_id = $1 AND c.deleted_at IS NULL ORDER BY c.name`,
        params: [heavy.user_id],
      },
      {
        name: 'reactions of a page of 50 messages',
        ours: `SELECT message_id, emoji, count(*) AS n FROM reactions WHERE message_id = ANY($1::varchar[]) GROUP BY message_id, emoji`,
        params: [page1.rows.map((r) => r.id)],
      },
      { name: 'user by email, case-insensitive', ours: `SELECT id, username FROM users WHERE lower(email) = lower($1)`, params: [someone.email.toUpperCase()] },
      {
        name: 'messages changed since a sync point',
        ours: `SELECT id, updated_at, deleted_at FROM messages
                WHERE channel_id = $1 AND (updated_at, id) > ($2, '') ORDER BY updated_at, id LIMIT 200`,
        params: [big.channel_id, since.since],
      },
    ];

    if (sections.has('queries')) {
      const bigTables = new Set(['messages', 'reactions', 'message_reads', 'channel_members', 'files']);
      log('query | ours p50/p95 | bare p50/p95 | ratio (bare/ours p50) | index used (ours) | bare plan');
      log('--- | --- | --- | --- | --- | ---');
      let qi = 0;
      for (const q of queries) {
        qi++;
        const o = await timeQuery(ours, `q${qi}_ours`, q.ours, q.params);
        const b = await timeQuery(bare, `q${qi}_bare`, q.bare ?? q.ours, q.params);
        const po = await explain(ours, q.ours, q.params, bigTables);
        const pb = await explain(bare, q.bare ?? q.ours, q.params, bigTables);
        const flag = po.seqScans.some((s) => s.endsWith('(BIG)')) ? ` ⚠ SEQ SCAN ${po.seqScans.join(',')}` : po.seqScans.length ? ` (seq: ${po.seqScans.join(',')})` : '';
        const slow = o.p50 >= 2 ? ' ⚠ p50 >= 2 ms' : '';
        log(
          `${q.name} | ${o.p50.toFixed(3)} / ${o.p95.toFixed(3)} | ${b.p50.toFixed(3)} / ${b.p95.toFixed(3)} (${b.runs} runs) | ${(b.p50 / o.p50).toFixed(1)}x | ${po.indexes.join(', ') || 'none'}${flag}${slow} | ${pb.seqScans.length ? `Seq Scan ${pb.seqScans.join(', ')}` : pb.indexes.join(', ')}`,
        );
      }
    }

    if (sections.has('inserts')) {
      // 3. Insert throughput with and without the notification trigger.
      log('\n## Message inserts: notification trigger off vs on (LISTEN client attached and reading chatgenius_messages)');
      // The listener runs in a process of its own, as an app's would: reading notifications on
      // this process's event loop would delay the writer's next insert and count that against the
      // trigger. bench/floor-consumer.mjs LISTENs and counts (it reads in gulps, as listen does).
      const listener = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'floor-consumer.mjs'), db.url, 'notify'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let listenerOut = '';
      listener.stdout!.on('data', (d: Buffer) => (listenerOut += d.toString()));
      while (!listenerOut.includes('ready')) await new Promise((r) => setTimeout(r, 20));
      const author = await pick<{ user_id: string }>(`SELECT user_id FROM channel_members WHERE channel_id = '${big.channel_id}' AND role = 'owner'`);
      const rng = createRng('bench-inserts');
      let clock = Date.now();
      const nextId = () => ulidAt(++clock, rng.u32);
      const single = { name: 'ins1', text: `INSERT INTO messages (id, channel_id, user_id, content) VALUES ($1, $2, $3, $4)` };
      const batchSql = {
        name: 'ins500',
        text: `INSERT INTO messages (id, channel_id, user_id, content)
               SELECT id, $2, $3, 'bench message ' || id FROM unnest($1::varchar[]) AS t(id)`,
      };
      // The notification triggers on messages (one per event, statement-level): the INSERT
      // one is switched off and on; the UPDATE and DELETE ones are not involved.
      const MODES = { off: false, ours: true } as const;
      type Mode = keyof typeof MODES;
      const setMode = async (mode: Mode) => {
        await ours.query(`ALTER TABLE chat.messages ${MODES[mode] ? 'ENABLE' : 'DISABLE'} TRIGGER messages_notify`);
      };

      // Per-operation times, medians compared: robust against other load on a shared machine.
      type Kind = 'single' | 'async' | 'batch';
      const times = Object.fromEntries(Object.keys(MODES).map((m) => [m, { single: [], async: [], batch: [] }])) as unknown as Record<Mode, Record<Kind, number[]>>;
      // Many short blocks, the modes' order rotating every round, so that load from other processes
      // on a shared machine falls on every mode alike; medians per operation.
      const ROUNDS = 24;
      const SINGLE_PER_ROUND = 40;
      const BATCHES_PER_ROUND = 3;
      let notifiedExpected = 0;
      const timed = async (fn: () => Promise<unknown>): Promise<number> => {
        const t0 = process.hrtime.bigint();
        await fn();
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      const modes = Object.keys(MODES) as Mode[];
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? modes : [...modes].reverse(); // off first, then on first, ...
        for (const mode of order) {
          await setMode(mode);
          // single: how the app writes (commit waits for the WAL flush).
          // async: synchronous_commit off, so the trigger's own CPU cost shows.
          for (const kind of ['single', 'async'] as const) {
            if (kind === 'async') await ours.query('SET synchronous_commit = off');
            for (let i = 0; i < SINGLE_PER_ROUND; i++) {
              const id = nextId();
              times[mode][kind].push(await timed(() => ours.query({ ...single, values: [id, big.channel_id, author.user_id, `bench message ${id}`] })));
            }
            if (kind === 'async') await ours.query('RESET synchronous_commit');
            if (mode === 'ours') notifiedExpected += SINGLE_PER_ROUND;
          }
          for (let b = 0; b < BATCHES_PER_ROUND; b++) {
            const ids = Array.from({ length: 500 }, nextId);
            times[mode].batch.push(await timed(() => ours.query({ ...batchSql, values: [ids, big.channel_id, author.user_id] })));
          }
          if (mode === 'ours') notifiedExpected += BATCHES_PER_ROUND * 500;
        }
      }
      await setMode('ours');
      await new Promise((r) => setTimeout(r, 500));
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
      const label: Record<Kind, string> = {
        single: 'single-row INSERT, autocommit (app default)',
        async: 'single-row INSERT, autocommit, synchronous_commit off',
        batch: '500-row INSERT per transaction',
      };
      const rateOf = (kind: Kind, mode: Mode) => Math.round(((kind === 'batch' ? 500 : 1) * 1000) / median(times[mode][kind]));
      const over = (kind: Kind, mode: Mode) => `${((median(times[mode][kind]) / median(times.off[kind]) - 1) * 100).toFixed(1)}%`;
      log('insert | ops | trigger off rows/s | trigger on rows/s | overhead');
      log('--- | --- | --- | --- | ---');
      for (const kind of ['single', 'async', 'batch'] as const) {
        log(`${label[kind]} | ${times.off[kind].length} | ${fmt(rateOf(kind, 'off'))} | ${fmt(rateOf(kind, 'ours'))} | ${over(kind, 'ours')}`);
      }
      log('(rows/s from the median time per operation; overhead = median time with the trigger / without - 1; target < 25%)');
      const exited = new Promise((r) => listener.on('close', r));
      listener.kill('SIGINT');
      await exited;
      const notified = Number(/received (\d+)/.exec(listenerOut)?.[1] ?? 0);
      log(`notifications received by the listener: ${fmt(notified)} (expected ${fmt(notifiedExpected)}: one per row inserted with the trigger on)`);
    }
  } finally {
    await db.stop();
  }
}

await main();
