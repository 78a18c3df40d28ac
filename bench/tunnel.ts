/**
 * What the SSH tunnel costs, over a slow link. A delaying TCP proxy (DELAY ms each way, so one
 * round trip = 2 x DELAY) sits in front of the SSH server for the tunnelled case, and in front
 * of PostgreSQL for the direct case; the same real PostgreSQL and in-process ssh2 server behind.
 * Prints milliseconds and the round trips they amount to (ms / RTT): opening the tunnel (SSH
 * handshake, auth, the forwarding probe), a pg login, `select 1`, and an `init` no-op (the
 * engine's migrate() on an up-to-date database) through the tunnel vs direct.
 * Usage: node --import tsx bench/tunnel.ts [delayMs=25] [runs=5]
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from '../test/helpers/pg.js';
import { makeUserKey, startSshServer } from '../test/helpers/ssh-server.js';
import { openTunnel } from '../src/tunnel/index.js';
import type { TunnelConfig } from '../src/config/types.js';

const DELAY = Number(process.argv[2] ?? 25);
const RUNS = Number(process.argv[3] ?? 5);
const RTT = 2 * DELAY;

/** A TCP proxy that holds every chunk DELAY ms in each direction (order kept). */
async function delayProxy(targetPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const socks = new Set<Socket>();
  const relay = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), DELAY));
    from.on('end', () => setTimeout(() => to.end(), DELAY));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), DELAY + 5));
  };
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      socks.add(s);
      s.setNoDelay(true);
      s.on('close', () => socks.delete(s));
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const s of socks) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const db = await startPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'cgdb-bench-tunnel-'));
  const key = makeUserKey();
  const keyPath = join(dir, 'id');
  await writeFile(keyPath, key.private, { mode: 0o600 });
  const ssh = await startSshServer({ authorizedKeys: [key.public] });
  const sshProxy = await delayProxy(ssh.port);
  const pgProxy = await delayProxy(db.port);
  const cfg: TunnelConfig = {
    host: '127.0.0.1',
    port: sshProxy.port,
    username: 'tunnel',
    keyPath,
    knownHostsPath: join(dir, 'known_hosts'),
    projectKnownHostsPath: join(dir, '.chatgenius', 'known_hosts'),
    hostFingerprint: ssh.hostKey.fingerprint,
    acceptNewHostKey: false,
    keepaliveIntervalMs: 10_000,
    readyTimeoutMs: 20_000,
  };
  const pgConf = (port: number) => ({ host: '127.0.0.1', port, user: db.user, password: db.password, database: db.database });

  // An init no-op is the engine's migrate() on an up-to-date database.
  const { migrate } = await import('../src/migrate/index.js');
  const engineOpts = { schema: 'public', migrationsDir: new URL('../sql/', import.meta.url).pathname, lockTimeoutMs: 10_000, statementTimeoutMs: 60_000 };
  {
    const c = new pg.Client(pgConf(db.port));
    await c.connect();
    await migrate(c, engineOpts); // bring it up to date once, without the delay
    await c.end();
  }

  const rows: Record<string, { direct: number[]; tunnel: number[] }> = {
    'open tunnel (TCP + SSH handshake + auth + forward probe)': { direct: [], tunnel: [] },
    'pg login (SCRAM)': { direct: [], tunnel: [] },
    'select 1': { direct: [], tunnel: [] },
    'init no-op (migrate on an up-to-date database)': { direct: [], tunnel: [] },
    'whole run: open + login + init no-op + close': { direct: [], tunnel: [] },
  };

  async function session(port: number, side: 'direct' | 'tunnel', t0: number) {
    let t = now();
    const c = new pg.Client(pgConf(port));
    c.on('error', () => {});
    await c.connect();
    rows['pg login (SCRAM)']![side].push(now() - t);
    t = now();
    await c.query('select 1');
    rows['select 1']![side].push(now() - t);
    t = now();
    await migrate(c, engineOpts);
    rows['init no-op (migrate on an up-to-date database)']![side].push(now() - t);
    await c.end();
    return now() - t0;
  }

  for (let i = 0; i < RUNS + 1; i++) {
    const warm = i === 0;
    // direct, through the same delay
    const d0 = now();
    const directTotal = await session(pgProxy.port, 'direct', d0);
    // tunnelled
    const t0 = now();
    const tunnel = await openTunnel(cfg, { host: '127.0.0.1', port: db.port });
    const opened = now() - t0;
    await session(tunnel.localPort, 'tunnel', t0);
    await tunnel.close();
    const tunnelTotal = now() - t0;
    if (warm) {
      for (const r of Object.values(rows)) {
        r.direct.length = 0;
        r.tunnel.length = 0;
      }
      continue;
    }
    rows['open tunnel (TCP + SSH handshake + auth + forward probe)']!.tunnel.push(opened);
    rows['open tunnel (TCP + SSH handshake + auth + forward probe)']!.direct.push(0);
    rows['whole run: open + login + init no-op + close']!.direct.push(directTotal);
    rows['whole run: open + login + init no-op + close']!.tunnel.push(tunnelTotal);
  }

  console.log(`SSH tunnel cost over a delaying proxy: ${DELAY} ms each way (1 round trip = ${RTT} ms), median of ${RUNS} runs`);
  console.log(`${'step'.padEnd(52)} ${'direct'.padStart(16)} ${'tunnel'.padStart(16)} ${'extra'.padStart(16)}`);
  const fmt = (ms: number) => `${ms.toFixed(0)} ms ~${(ms / RTT).toFixed(1)} RT`;
  for (const [label, r] of Object.entries(rows)) {
    if (r.tunnel.length === 0) continue;
    const d = median(r.direct);
    const t = median(r.tunnel);
    console.log(`${label.padEnd(52)} ${fmt(d).padStart(16)} ${fmt(t).padStart(16)} ${fmt(t - d).padStart(16)}`);
  }

  await sshProxy.close();
  await pgProxy.close();
  await ssh.close();
  await db.stop();
  await rm(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
