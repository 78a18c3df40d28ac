/**
 * What real-time costs the writers, per mode. A benchmark, not a test:
 *
 *   node --import tsx bench/realtime.ts [--seconds 5] [--rounds 2] [--writers 1,4,16] [--no-legacy]
 *
 * Starts an embedded PostgreSQL with wal_level=logical, applies sql/ in schema public, then for
 * each number of writers measures single-row autocommit inserts into `messages` (how the app
 * writes) for `--seconds` in each mode, the modes alternating within a round:
 *   off      the notify trigger of messages disabled (the floor: what the insert itself costs)
 *   0005     notify mode with sql/0005's function (EXCEPTION block: a subtransaction per statement)
 *   notify   notify mode with sql/0009's function (what ships)
 *   logical  `realtime use logical`: the notify triggers disabled, changes decoded from the WAL
 * In 0005/notify/logical a real `chatgenius-db listen messages --json` runs as a child process
 * writing to a file, and every row it printed is counted after the inserts (the writers' process,
 * like the app, never reads the listener's output): "delivered" must equal the rows inserted.
 * Prints rows/s (best of the rounds) and the ratio to `off`, then a Markdown table for the README.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { startPostgres, type TestPostgres } from '../test/helpers/pg.js';
import { applySqlFiles, sqlDir } from '../test/helpers/schema.js';
import { binPath } from '../test/helpers/cli.js';
import { useLogical, useNotify } from '../src/ops/realtime.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    writers: { type: 'string', default: '1,4,16' },
    'no-legacy': { type: 'boolean', default: false },
    /** sync: durable commits (the app's default: each commit waits for its WAL flush); async: synchronous_commit off (CPU cost only). */
    commit: { type: 'string', default: 'sync,async' },
    /** Statements per trigger-CPU sample (0: skip that section). */
    statements: { type: 'string', default: '5000' },
    /**
     * Seconds of the interleaved notify-vs-off measurement per writer count (0: skip): the
     * trigger switched on and off every --slice-ms while the same writers insert and one
     * listener stays attached, so a drift of the disk's fsync time falls on both sides alike.
     */
    'ab-seconds': { type: 'string', default: '20' },
    'slice-ms': { type: 'string', default: '500' },
    /**
     * Attach bench/floor-consumer.mjs instead of `listen`: a consumer that receives the changes
     * and does nothing with them. What the writers lose then is delivery's own cost on this
     * machine, below which no listener can go.
     */
    floor: { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const rounds = Number(args.rounds);
const writerCounts = args.writers!.split(',').map(Number);
type Mode = 'off' | '0005' | 'notify' | 'logical';
const commitKinds = args.commit!.split(',') as Array<'sync' | 'async'>;
const modes: Mode[] = args['no-legacy'] ? ['off', 'notify', 'logical'] : ['off', '0005', 'notify', 'logical'];
const log = (s = '') => process.stdout.write(`${s}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Run {
  commit: 'sync' | 'async';
  mode: Mode;
  writers: number;
  rowsPerSec: number;
  inserted: number;
  delivered: number | null;
  /** Mean time inside chatgenius_notify per statement (µs), from pg_stat_user_functions: robust to a busy machine. */
  fnMicros: number | null;
  /** CPU per inserted row (µs): the writers' backends. */
  writerCpu: number;
  /** CPU per inserted row (µs) spent delivering: the LISTEN backend or WAL sender, plus the listen process. */
  deliveryCpu: number;
}

/** CPU time (ms, user + system) a process has used so far: a cost that a busy machine does not inflate. */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/**
 * The real `listen` as a child process, its output going to a file that is counted after the
 * inserts: the writers' process (the app) never reads the listener's output, as in production,
 * so the measurement does not charge the writers for parsing what the listener prints.
 */
class Listener {
  delivered = 0;
  serverPid = 0;
  readonly child;
  private readonly fd: number;
  private offset = 0;
  private carry = Buffer.alloc(0);
  private readonly file: string;
  private stderr = '';
  private stopped = false;
  private finalCpu = 0;
  /** CPU (ms) used so far by the consumer process and its server process (the LISTEN backend or the WAL sender); as at its stop once stopped. */
  cpu(): number {
    return this.stopped ? this.finalCpu : cpuMs(this.serverPid) + cpuMs(this.child.pid!);
  }
  /** floor: bench/floor-consumer.mjs in this mode instead of `listen` (--floor). */
  constructor(
    env: Record<string, string>,
    private readonly floor: { url: string; mode: 'notify' | 'logical' } | null = null,
  ) {
    this.file = join(mkdtempSync(join(tmpdir(), 'cgdb-rt-')), 'listen.jsonl');
    const out = openSync(this.file, 'w');
    const argv = floor
      ? [join(dirname(fileURLToPath(import.meta.url)), 'floor-consumer.mjs'), floor.url, floor.mode]
      : [binPath, 'listen', 'messages', '--json', '--env', 'development', '--schema', 'public'];
    this.child = spawn(process.execPath, argv, { env, stdio: ['ignore', out, 'pipe'] });
    closeSync(out);
    this.fd = openSync(this.file, 'r');
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`listen exited ${code}: ${this.stderr}\n`);
    });
  }
  /** Reads what the listener wrote since the last call; counts notification lines; returns the new complete lines' text only when asked. */
  private read(wantText = false): string {
    const chunk = Buffer.alloc(1 << 20);
    let text = '';
    for (;;) {
      const n = readSync(this.fd, chunk, 0, chunk.length, this.offset);
      if (n === 0) break;
      this.offset += n;
      const buf = this.carry.length ? Buffer.concat([this.carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const end = buf.lastIndexOf(10) + 1;
      const lines = buf.subarray(0, end);
      this.carry = Buffer.from(buf.subarray(end));
      for (let i = lines.indexOf(NOTIFICATION); i >= 0; i = lines.indexOf(NOTIFICATION, i + NOTIFICATION.length)) this.delivered++;
      if (wantText) text += lines.toString();
    }
    return text;
  }
  async started(): Promise<string> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      for (const line of this.read(true).split('\n')) {
        if (this.floor && line.startsWith('ready ')) {
          this.serverPid = Number(line.slice(6));
          return this.floor.mode;
        }
        if (!line.includes('"event":"listening"')) continue;
        const d = (JSON.parse(line) as { data: { mode: string; pid: number } }).data;
        this.serverPid = d.pid; // the LISTEN backend (notify) or the WAL sender (logical)
        return d.mode;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`listen did not start: ${this.stderr}`);
  }
  async drain(expected: number, timeoutMs = 60_000): Promise<number> {
    if (this.floor) {
      // It counts without printing: give the last changes a moment, stop it, read its count.
      await new Promise((r) => setTimeout(r, 500));
      await this.stop(false);
      const m = /received (\d+)/.exec(readFileSync(this.file, 'utf8'));
      this.delivered = m ? Number(m[1]) : 0;
      rmSync(dirname(this.file), { recursive: true, force: true });
      return this.delivered;
    }
    const deadline = Date.now() + timeoutMs;
    for (this.read(); this.delivered < expected && Date.now() < deadline; this.read()) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200)); // and nothing more
    this.read();
    return this.delivered;
  }
  async stop(cleanUp = true): Promise<void> {
    if (!this.stopped) {
      this.finalCpu = this.cpu();
      this.stopped = true;
      const exited = new Promise((r) => this.child.on('close', r));
      this.child.kill('SIGINT');
      await exited;
      closeSync(this.fd);
    }
    if (cleanUp) rmSync(dirname(this.file), { recursive: true, force: true });
  }
}
const NOTIFICATION = Buffer.from('"event":"notification"');

async function insertFor(
  db: TestPostgres,
  writers: number,
  ms: number,
  ids: { channel: string; user: string }[],
  commit: 'sync' | 'async',
): Promise<{ total: number; cpuMs: number }> {
  const clients = await Promise.all(Array.from({ length: writers }, () => db.client()));
  const pids = await Promise.all(clients.map(async (c) => Number((await c.query<{ p: number }>('select pg_backend_pid() as p')).rows[0]!.p)));
  const cpu0 = pids.reduce((a, p) => a + cpuMs(p), 0);
  if (commit === 'async') await Promise.all(clients.map((c) => c.query('set synchronous_commit = off')));
  let total = 0;
  const end = Date.now() + ms;
  await Promise.all(
    clients.map(async (c, w) => {
      const who = ids[w % ids.length]!;
      while (Date.now() < end) {
        await c.query({ name: 'ins', text: 'insert into messages (channel_id, user_id, content) values ($1, $2, $3)', values: [who.channel, who.user, 'bench message'] });
        total++;
      }
    }),
  );
  const cpu = pids.reduce((a, p) => a + cpuMs(p), 0) - cpu0;
  await Promise.all(clients.map((c) => c.end()));
  return { total, cpuMs: cpu };
}

/**
 * The trigger's own cost, isolated: N single-row INSERT transactions in one server-side loop
 * (each fires the statement trigger and commits, with synchronous_commit off: NOTIFY's commit
 * lock and queue are counted, the fsync is not), measured as the backend's CPU time, variants
 * interleaved, 5 samples each, median. What a writer pays per statement for real-time, whatever
 * the machine's load.
 */
async function triggerCpu(admin: pg.Client, fns: { f0005: string; f0007: string; f0009: string }, who: { channel: string; user: string }, n: number): Promise<void> {
  if (n <= 0) return;
  const pid = Number((await admin.query<{ p: number }>('select pg_backend_pid() as p')).rows[0]!.p);
  const loop = `do $$ begin for i in 1..${n} loop insert into messages (channel_id, user_id, content) values ('${who.channel}', '${who.user}', 'x'); commit; end loop; end $$`;
  const variants = ['off', '0005', '0007', '0009', 'logical'] as const;
  const samples: Record<(typeof variants)[number], number[]> = { off: [], '0005': [], '0007': [], '0009': [], logical: [] };
  await admin.query('set search_path to public');
  await admin.query('set synchronous_commit = off');
  for (let i = 0; i < 5; i++) {
    for (const v of variants) {
      await admin.query(v === '0005' ? fns.f0005 : v === '0007' ? fns.f0007 : fns.f0009);
      // The mode first (use notify enables the triggers, use logical disables them), then 'off'.
      if (v === 'logical') await useLogical(admin, 'public', 'bench');
      else await useNotify(admin, 'public');
      if (v === 'off') await admin.query('alter table messages disable trigger messages_notify');
      const c0 = cpuMs(pid);
      await admin.query(loop);
      samples[v].push(((cpuMs(pid) - c0) * 1000) / n);
    }
  }
  await admin.query('set synchronous_commit = on');
  await useNotify(admin, 'public');
  await admin.query(fns.f0009);
  await admin.query('alter table messages enable trigger messages_notify');
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
  const off = med(samples.off);
  const cell = (label: string, v: (typeof variants)[number]) => `${label} ${med(samples[v]).toFixed(1)} (+${(med(samples[v]) - off).toFixed(1)})`;
  log(`Backend CPU per single-row INSERT transaction (µs, median of 5 x ${fmt(n)}; server-side loop, a commit each, synchronous_commit off):`);
  log(
    `  triggers off ${off.toFixed(1)}  |  ${cell('0005 function', '0005')}  |  ${cell('0007 (mode check)', '0007')}  |  ${cell('0009 notify (ships)', '0009')}  |  ${cell('logical mode', 'logical')}`,
  );
  log('');
}

/**
 * Notify mode against triggers off, interleaved: `writers` clients insert without a pause for
 * `ms` while the notify trigger of messages is switched on and off every `sliceMs` (ALTER TABLE
 * ... ENABLE/DISABLE TRIGGER: a catalog update, a millisecond), with no listener (what the
 * trigger and NOTIFY's commit cost the writers) or a real `listen` attached throughout. Each insert counts for the state it completed in. With durable commits one writer
 * is bound by the fsync time, which drifts by 30% from minute to minute on this disk: cells run
 * seconds apart compare different disks, slices half a second apart the same one.
 */
async function interleaved(
  db: TestPostgres,
  admin: pg.Client,
  env: Record<string, string>,
  writers: number,
  ms: number,
  sliceMs: number,
  ids: { channel: string; user: string }[],
  attached: boolean,
): Promise<{ off: number; notify: number; notifyRows: number; delivered: number | null }> {
  await useNotify(admin, 'public');
  const listener = attached ? new Listener(env, args.floor ? { url: db.url, mode: 'notify' } : null) : null;
  if (listener && (await listener.started()) !== 'notify') throw new Error('listen is not in notify mode');
  const clients = await Promise.all(Array.from({ length: writers }, () => db.client()));
  let on = true;
  const rows = { off: 0, notify: 0 };
  const time = { off: 0, notify: 0 };
  let stop = false;
  const work = Promise.all(
    clients.map(async (c, w) => {
      const who = ids[w % ids.length]!;
      while (!stop) {
        await c.query({ name: 'ins', text: 'insert into messages (channel_id, user_id, content) values ($1, $2, $3)', values: [who.channel, who.user, 'bench message'] });
        rows[on ? 'notify' : 'off']++;
      }
    }),
  );
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, sliceMs));
    time[on ? 'notify' : 'off'] += performance.now() - t0;
    await admin.query(`alter table messages ${on ? 'disable' : 'enable'} trigger messages_notify`);
    on = !on;
  }
  stop = true;
  await work;
  await Promise.all(clients.map((c) => c.end()));
  await admin.query('alter table messages enable trigger messages_notify');
  const delivered = listener ? await listener.drain(rows.notify, 10_000) : null;
  await listener?.stop();
  return { off: (rows.off * 1000) / time.off, notify: (rows.notify * 1000) / time.notify, notifyRows: rows.notify, delivered };
}

async function main(): Promise<void> {
  const db = await startPostgres({ postgresFlags: ['-c', 'wal_level=logical', '-c', 'max_connections=60', '-c', 'track_functions=pl'] });
  const admin = await db.client();
  try {
    await applySqlFiles(admin, 'public', 'up');
    const ids: { channel: string; user: string }[] = [];
    for (let i = 0; i < 16; i++) {
      const u = (await admin.query<{ id: string }>(`insert into users (auth0_id, email, username) values ($1, $2, $3) returning id`, [`a|${i}`, `u${i}@x`, `u${i}`]))
        .rows[0]!.id;
      const ch = (await admin.query<{ id: string }>(`insert into channels (name) values ($1) returning id`, [`c${i}`])).rows[0]!.id;
      ids.push({ channel: ch, user: u });
    }
    const v = (await admin.query<{ v: string }>('select current_setting($1) as v', ['server_version'])).rows[0]!.v;
    const cores = (await import('node:os')).cpus().length;
    log(
      `PostgreSQL ${v}, ${cores} cores (load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}); single-row autocommit inserts into messages, ${seconds} s per cell, best of ${rounds} rounds`,
    );
    // The function as each migration left it: 0005's (0007's down file), 0007's (0009's down file), 0009's (what ships).
    log(
      args.floor
        ? 'consumer attached: bench/floor-consumer.mjs, which receives every change and does nothing with it (the floor: what delivery itself costs here)'
        : 'consumer attached: a real `chatgenius-db listen messages --json`',
    );
    const oldFn = readFileSync(join(sqlDir, '0007_realtime.down.sql'), 'utf8');
    const fn0007 = readFileSync(join(sqlDir, '0009_notify_lean.down.sql'), 'utf8');
    const newFn = readFileSync(join(sqlDir, '0009_notify_lean.up.sql'), 'utf8');
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', CI: 'true', DATABASE_URL: db.url };
    await triggerCpu(admin, { f0005: oldFn, f0007: fn0007, f0009: newFn }, ids[0]!, Number(args.statements));
    const runs: Run[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const commit of commitKinds)
        for (const writers of writerCounts) {
          for (const mode of modes) {
            await admin.query('set search_path to public');
            await admin.query(mode === '0005' ? oldFn : newFn);
            // The mode first (use notify enables the triggers, use logical disables them), then 'off'.
            if (mode === 'logical') await useLogical(admin, 'public', 'bench');
            else await useNotify(admin, 'public');
            if (mode === 'off') await admin.query('alter table messages disable trigger messages_notify');
            await admin.query('checkpoint');
            const listener = mode === 'off' ? null : new Listener(env, args.floor ? { url: db.url, mode: mode === 'logical' ? 'logical' : 'notify' } : null);
            if (listener) {
              const got = await listener.started();
              if (got !== (mode === 'logical' ? 'logical' : 'notify')) throw new Error(`listen is in ${got} mode, expected ${mode}`);
            }
            await admin.query('select pg_stat_reset()');
            const d0 = listener?.cpu() ?? 0;
            const { total: inserted, cpuMs: wCpu } = await insertFor(db, writers, seconds * 1000, ids, commit);
            const delivered = listener ? await listener.drain(inserted) : null;
            const dCpu = (listener?.cpu() ?? 0) - d0;
            await listener?.stop();
            await new Promise((r) => setTimeout(r, 600)); // backends report their function stats at most every 500 ms... and at exit
            const fs = await admin.query<{ calls: string; total: number }>(
              `select calls, total_time as total from pg_stat_user_functions where funcname = 'chatgenius_notify'`,
            );
            const fnMicros = fs.rows[0] && Number(fs.rows[0].calls) > 0 ? (fs.rows[0].total * 1000) / Number(fs.rows[0].calls) : null;
            const run = {
              commit,
              mode,
              writers,
              rowsPerSec: inserted / seconds,
              inserted,
              delivered,
              fnMicros,
              writerCpu: (wCpu * 1000) / inserted,
              deliveryCpu: (dCpu * 1000) / inserted,
            };
            runs.push(run);
            log(
              `  round ${round}  ${commit.padEnd(5)}  ${String(writers).padStart(2)} writers  ${mode.padEnd(8)} ${fmt(run.rowsPerSec).padStart(7)} rows/s${delivered === null ? '' : `  delivered ${fmt(delivered)}/${fmt(inserted)}${delivered === inserted ? '' : '  MISSING'}`}  CPU/row: writers ${run.writerCpu.toFixed(0)} µs${listener ? `, delivery ${run.deliveryCpu.toFixed(0)} µs` : ''}${fnMicros === null ? '' : `  trigger ${fnMicros.toFixed(1)} µs/statement (wall)`}`,
            );
          }
        }
    }
    // Best of the rounds per cell (the machine is shared: the best is the least disturbed).
    for (const commit of rounds > 0 ? commitKinds : []) {
      const cell = (mode: Mode, writers: number) => runs.filter((r) => r.commit === commit && r.mode === mode && r.writers === writers);
      const best = (mode: Mode, writers: number) => cell(mode, writers).sort((a, b) => b.rowsPerSec - a.rowsPerSec)[0]!;
      const allDelivered = (mode: Mode, writers: number) => cell(mode, writers).every((r) => r.delivered === null || r.delivered === r.inserted);
      log('');
      log(commit === 'sync' ? 'Durable commits (synchronous_commit on, the default): rows/s' : 'synchronous_commit off (CPU cost alone): rows/s');
      log('');
      log(
        `| writers | ${modes.map((m) => ({ off: 'triggers off', '0005': 'notify, 0005 function', notify: 'notify (0009)', logical: 'logical (listener attached)' })[m]).join(' | ')} |`,
      );
      log(`|---|${modes.map(() => '---').join('|')}|`);
      for (const w of writerCounts) {
        const off = best('off', w).rowsPerSec;
        const cells = modes.map((m) => {
          const r = best(m, w);
          const ratio = m === 'off' ? '' : ` (${(r.rowsPerSec / off).toFixed(2)}x)`;
          return `${fmt(r.rowsPerSec)}${ratio}${allDelivered(m, w) ? '' : ' MISSING ROWS'}`;
        });
        log(`| ${w} | ${cells.join(' | ')} |`);
      }
      const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      log('');
      log("CPU per inserted row, µs (median over cells; robust to a busy machine): writers' backends / delivery (LISTEN backend or WAL sender + the listen process)");
      log('');
      log(`| writers | ${modes.join(' | ')} |`);
      log(`|---|${modes.map(() => '---').join('|')}|`);
      for (const w of writerCounts) {
        log(
          `| ${w} | ${modes
            .map((m) => {
              const rs = cell(m, w);
              return `${med(rs.map((r) => r.writerCpu)).toFixed(0)}${m === 'off' ? '' : ` / ${med(rs.map((r) => r.deliveryCpu)).toFixed(0)}`}`;
            })
            .join(' | ')} |`,
        );
      }
      const fn = (m: Mode) => {
        const xs = runs
          .filter((r) => r.commit === commit && r.mode === m && r.fnMicros !== null)
          .map((r) => r.fnMicros!)
          .sort((a, b) => a - b);
        return xs.length ? `${xs[Math.floor(xs.length / 2)]!.toFixed(1)} µs` : 'n/a';
      };
      log('');
      log(
        `time inside chatgenius_notify per statement (median over cells): 0005 ${modes.includes('0005') ? fn('0005') : 'n/a'}, 0009 notify ${fn('notify')}, logical ${fn('logical')}`,
      );
      // The ratio within each round (the cell beside its own 'off', measured minutes apart at
      // most), median over rounds: the disk's fsync time drifts between rounds, and a best-of
      // ratio divides two cells that may come from different rounds.
      const paired = (mode: Mode, writers: number) => {
        const xs = cell(mode, writers).map((r, i) => r.rowsPerSec / cell('off', writers)[i]!.rowsPerSec);
        return med(xs);
      };
      log('');
      log(`ratio to off within each round, median of ${rounds} round(s):`);
      for (const w of writerCounts)
        log(
          `  ${String(w).padStart(2)} writers: ${modes
            .filter((m) => m !== 'off')
            .map((m) => `${m} ${paired(m, w).toFixed(2)}x`)
            .join(', ')}`,
        );
      const w1 = writerCounts[0]!;
      const wMax = writerCounts.at(-1)!;
      log('');
      log(
        `target notify >= 0.85 x off at ${w1} writer(s): best of rounds ${(best('notify', w1).rowsPerSec / best('off', w1).rowsPerSec).toFixed(2)}, within rounds (median) ${paired('notify', w1).toFixed(2)}`,
      );
      log(
        `target logical >= 0.85 x off at ${wMax} writers: best of rounds ${(best('logical', wMax).rowsPerSec / best('off', wMax).rowsPerSec).toFixed(2)}, within rounds (median) ${paired('logical', wMax).toFixed(2)}, every row delivered: ${writerCounts.every((w) => allDelivered('logical', w))}`,
      );
    }
    const abSeconds = Number(args['ab-seconds']);
    if (abSeconds > 0) {
      log('');
      log(
        `Notify mode against triggers off, interleaved (durable commits; the trigger switched every ${args['slice-ms']} ms for ${abSeconds} s while the same writers insert), rows/s. Without a listener: what the trigger and NOTIFY's commit cost the writers; with one attached throughout: delivery's cost too.`,
      );
      log('');
      log('| writers | consumer | triggers off | notify (0009) | ratio | printed / inserted while on |');
      log('|---|---|---|---|---|---|');
      for (const w of writerCounts) {
        for (const attached of [false, true]) {
          const r = await interleaved(db, admin, env, w, abSeconds * 1000, Number(args['slice-ms']), ids, attached);
          // A row that completed during a switch may count for either side (one per switch and writer at most).
          log(
            `| ${w} | ${attached ? (args.floor ? 'floor consumer' : 'listen') : 'none'} | ${fmt(r.off)} | ${fmt(r.notify)} | ${(r.notify / r.off).toFixed(2)}x | ${r.delivered === null ? 'n/a' : `${fmt(r.delivered)} / ${fmt(r.notifyRows)}`} |`,
          );
        }
      }
    }
    await useNotify(admin, 'public');
    await admin.query('alter table messages enable trigger messages_notify');
  } finally {
    await admin.end().catch(() => {});
    await db.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
