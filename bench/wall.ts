/**
 * Wall time of the real CLI (a whole process, node start to exit) beside the minimal pg script
 * with the same round trips (bench/minimal-pg.mjs), in the same run, interleaved: fresh apply,
 * no-op and full rollback of the project's sql/, at 0 and 25 ms one way. Also where the CLI's
 * time goes (node start, module load + config + files, login, lock + journal, apply, exit), seen
 * from a timing proxy between it and the server, and the bytes each sends.
 *
 *   npm run build && node --import tsx bench/wall.ts [--runs 5] [--delays 0,25]
 *
 * A benchmark, not a test: it prints figures.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../test/helpers/pg.js';
import { sqlDir } from '../test/helpers/schema.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const runs = Number(arg('runs', '5'));
const delays = arg('delays', '0,25').split(',').map(Number);
const bin = fileURLToPath(new URL('../bin/chatgenius-db.js', import.meta.url));
const minimal = fileURLToPath(new URL('./minimal-pg.mjs', import.meta.url));
const sqlBytes = readdirSync(sqlDir)
  .filter((f) => f.endsWith('.up.sql'))
  .reduce((n, f) => n + readFileSync(join(sqlDir, f)).length, 0);

/** What the proxy saw of one client connection. */
interface Seen {
  open: number;
  queries: number[]; // times of client chunks starting with a simple Query ('Q')
  close: number;
  bytesUp: number;
}

function startTimingProxy(target: { host: string; port: number }, delayMs: number) {
  let current: Seen[] = [];
  const sockets = new Set<Socket>();
  const later = (fn: () => void) => (delayMs > 0 ? setTimeout(fn, delayMs) : fn());
  const server = createServer((client) => {
    const seen: Seen = { open: performance.now(), queries: [], close: 0, bytesUp: 0 };
    current.push(seen);
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) sockets.add(s);
    client.on('data', (chunk) => {
      seen.bytesUp += chunk.length;
      if (chunk[0] === 0x51) seen.queries.push(performance.now());
      if (chunk[0] === 0x58 && !seen.close) seen.close = performance.now();
      later(() => upstream.writable && upstream.write(chunk));
    });
    upstream.on('data', (chunk) => later(() => client.writable && client.write(chunk)));
    client.on('end', () => later(() => upstream.end()));
    upstream.on('end', () => later(() => client.end()));
    const destroy = () => (client.destroy(), upstream.destroy());
    client.on('error', destroy);
    upstream.on('error', destroy);
    client.on('close', () => {
      if (!seen.close) seen.close = performance.now();
      sockets.delete(client);
      later(() => upstream.destroy());
    });
    upstream.on('close', () => sockets.delete(upstream));
  });
  return new Promise<{ port: number; take(): Seen[]; close(): Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        take() {
          const s = current;
          current = [];
          return s;
        },
        async close() {
          for (const s of sockets) s.destroy();
          await new Promise((r) => server.close(r));
        },
      }),
    ),
  );
}

function spawnTimed(args: string[]): Promise<{ start: number; exit: number; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', CI: 'true' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ start, exit: performance.now(), code, out }));
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Sample {
  wall: number;
  bytesUp: number;
  trips: number;
  phases: { beforeConnect: number; login: number; lockJournal: number; apply: number; exit: number };
}

const server = await startPostgres();
const results = new Map<string, Sample[]>();
const nodeStart: number[] = [];
const helpWall: number[] = [];
try {
  for (const delay of delays) {
    const proxy = await startTimingProxy({ host: server.host, port: server.port }, delay);
    const url = `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${proxy.port}/${server.database}?sslmode=disable`;
    const record = (key: string, r: { start: number; exit: number; code: number | null; out: string }) => {
      if (r.code !== 0) throw new Error(`${key} exited ${r.code}:\n${r.out}`);
      const [s] = proxy.take();
      if (!s) throw new Error(`${key}: no connection seen`);
      const q = s.queries;
      const login = (q[0] ?? s.close) - s.open;
      const lockJournal = (q[1] ?? s.close) - (q[0] ?? s.close);
      const apply = q[1] !== undefined ? s.close - q[1] : 0;
      const sample: Sample = {
        wall: r.exit - r.start,
        bytesUp: s.bytesUp,
        trips: q.length,
        phases: { beforeConnect: s.open - r.start, login, lockJournal, apply, exit: r.exit - s.close },
      };
      results.set(key, [...(results.get(key) ?? []), sample]);
    };
    for (let i = 0; i < runs + 1; i++) {
      const warm = i === 0; // the first round warms the file cache (and the parser's memory of sql/)
      const schema = `w${delay}_${i}`;
      const n = await spawnTimed(['-e', '0']);
      if (!warm) nodeStart.push(n.exit - n.start);
      const h = await spawnTimed([bin, '--help']);
      if (!warm) helpWall.push(h.exit - h.start);
      const cli = (cmd: string[]) => spawnTimed([bin, ...cmd, '--env', 'development', '--yes', '--database-url', url, '--schema', `c${schema}`]);
      const min = (mode: string) => spawnTimed([minimal, mode, url, `m${schema}`, sqlDir]);
      const steps: Array<[string, () => ReturnType<typeof spawnTimed>]> = [
        ['cli fresh', () => cli(['init'])],
        ['min fresh', () => min('up')],
        ['cli no-op', () => cli(['init'])],
        ['min no-op', () => min('noop')],
        ['cli rollback', () => cli(['rollback', '--all'])],
        ['min rollback', () => min('down')],
      ];
      for (const [key, fn] of steps) {
        const r = await fn();
        if (warm) {
          if (r.code !== 0) throw new Error(`${key} exited ${r.code}:\n${r.out}`);
          proxy.take();
        } else record(`${delay} ${key}`, r);
      }
    }
    await proxy.close();
  }
} finally {
  await server.stop();
}

const f = (ms: number) => `${ms.toFixed(0)} ms`;
const med = (key: string, pick: (s: Sample) => number) => median(results.get(key)!.map(pick));
console.log(`\nWall time, median of ${runs} interleaved runs per row (whole processes; node -e 0: ${f(median(nodeStart))}).`);
console.log(`The project's sql/: ${(sqlBytes / 1024).toFixed(1)} kB of up SQL.`);
console.log(`--help: ${f(median(helpWall))} beside node -e 0: ${f(median(nodeStart))} (${(median(helpWall) / median(nodeStart)).toFixed(2)}x; target <= 1.2x)\n`);
console.log('| one way | scenario | chatgenius-db | minimal pg script | ratio | round trips (after login) | bytes sent (CLI / minimal / SQL) |');
console.log('|---:|---|---:|---:|---:|---|---|');
for (const delay of delays) {
  for (const sc of ['fresh', 'no-op', 'rollback']) {
    const c = `${delay} cli ${sc}`;
    const m = `${delay} min ${sc}`;
    const cw = med(c, (s) => s.wall);
    const mw = med(m, (s) => s.wall);
    const bytes = `${(med(c, (s) => s.bytesUp) / 1024).toFixed(1)} kB / ${(med(m, (s) => s.bytesUp) / 1024).toFixed(1)} kB${sc === 'fresh' ? ` / ${(sqlBytes / 1024).toFixed(1)} kB (${(med(c, (s) => s.bytesUp) / sqlBytes).toFixed(2)}x)` : ''}`;
    console.log(`| ${delay} ms | ${sc} | ${f(cw)} | ${f(mw)} | ${(cw / mw).toFixed(2)}x | ${med(c, (s) => s.trips)} / ${med(m, (s) => s.trips)} | ${bytes} |`);
  }
}
console.log('\nWhere the time goes (medians; "start + load" = spawn to TCP connect, node start included):\n');
console.log('| one way | run | node start | start + load (config, files, parse) | login | lock + journal | apply | exit | wall |');
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
for (const delay of delays) {
  for (const key of ['cli fresh', 'min fresh', 'cli no-op', 'min no-op', 'cli rollback', 'min rollback']) {
    const k = `${delay} ${key}`;
    const p = (pick: (s: Sample['phases']) => number) => f(med(k, (s) => pick(s.phases)));
    console.log(
      `| ${delay} ms | ${key} | ${f(median(nodeStart))} | ${p((x) => x.beforeConnect)} | ${p((x) => x.login)} | ${p((x) => x.lockJournal)} | ${p((x) => x.apply)} | ${p((x) => x.exit)} | ${f(med(k, (s) => s.wall))} |`,
    );
  }
}
