/**
 * The usual SSH test world: a real PostgreSQL, an in-process ssh2 bastion that forwards to it,
 * a user key authorised on the bastion, and a temp HOME. `env()` gives the variables that point
 * chatgenius-db at the database through the bastion (as the bastion sees it).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './pg.js';
import { makeUserKey, startSshServer, type SshServerOptions, type TestSshServer } from './ssh-server.js';

export interface Bastion {
  db: TestPostgres;
  /** The bastion; a test may replace it (e.g. a new host key), and close() closes the current one. */
  ssh: TestSshServer;
  /** Temp dir used as HOME and project dir; holds the user key. */
  dir: string;
  keyPath: string;
  key: { private: string; public: string };
  /** POSTGRES_* + SSH_* for this world; `over` replaces or (with undefined) removes variables. */
  env(over?: Record<string, string | undefined>): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startBastion(prefix: string, sshOptions: SshServerOptions = {}): Promise<Bastion> {
  const key = makeUserKey();
  const db = await startPostgres();
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const keyPath = join(dir, 'id_ed25519');
  let ssh: TestSshServer;
  try {
    await writeFile(keyPath, key.private, { mode: 0o600 });
    ssh = await startSshServer({ authorizedKeys: [key.public], ...sshOptions });
  } catch (err) {
    // A half-built world must not leave PostgreSQL running (the test process would never exit).
    await db.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const world: Bastion = {
    db,
    ssh,
    dir,
    keyPath,
    key,
    env(over = {}) {
      const e: Record<string, string | undefined> = {
        HOME: dir,
        ...db.env(),
        SSH_HOST: world.ssh.host,
        SSH_PORT: String(world.ssh.port),
        SSH_USER: 'tunnel',
        SSH_KEY_PATH: keyPath,
        ...over,
      };
      for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
      return e as NodeJS.ProcessEnv;
    },
    async close() {
      await world.ssh.close();
      await db.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}
