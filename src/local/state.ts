/**
 * local.json: the remembered port and the generated password (mode 0600), and the state
 * directory itself (0700; 0711 when running as root, so the postgres OS user can reach
 * pgdata/ without being able to list the directory).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChatgeniusError } from '../errors.js';
import { LOCAL_DATABASE, LOCAL_USER, localPaths } from './paths.js';

export interface LocalState {
  version: 1;
  port: number;
  user: string;
  password: string;
  database: string;
  createdAt: string;
}

export function newState(port: number): LocalState {
  return {
    version: 1,
    port,
    user: LOCAL_USER,
    // URL-safe, so the URL needs no escaping.
    password: randomBytes(18).toString('base64url'),
    database: LOCAL_DATABASE,
    createdAt: new Date().toISOString(),
  };
}

/** Pure: is this parsed JSON a LocalState? */
export function isLocalState(v: unknown): v is LocalState {
  if (!v || typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return (
    s.version === 1 &&
    typeof s.port === 'number' &&
    Number.isInteger(s.port) &&
    s.port > 0 &&
    s.port < 65536 &&
    typeof s.user === 'string' &&
    typeof s.password === 'string' &&
    s.password.length > 0 &&
    typeof s.database === 'string'
  );
}

export async function readState(stateDir: string): Promise<LocalState | null> {
  const { stateFile } = localPaths(stateDir);
  let text: string;
  try {
    text = await readFile(stateFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ChatgeniusError('LOCAL_STATE_CORRUPT', `Cannot read ${stateFile}`, { path: stateFile }, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isLocalState(parsed)) {
    throw new ChatgeniusError('LOCAL_STATE_CORRUPT', `${stateFile} is not a chatgenius-db local state file`, {
      path: stateFile,
    });
  }
  return parsed;
}

/** Atomic write, mode 0600 (it holds the local server's password). */
export async function writeState(stateDir: string, state: LocalState): Promise<void> {
  const { stateFile } = localPaths(stateDir);
  const tmp = `${stateFile}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, stateFile);
}

/** Create the state dir (0700, or 0711 as root so the postgres user can traverse it). */
export async function ensureStateDir(stateDir: string, asRoot: boolean): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const want = asRoot ? 0o711 : 0o700;
  const st = await stat(stateDir);
  if ((st.mode & 0o777) !== want) await chmod(stateDir, want);
  // Never committed by accident, even where the project's .gitignore forgot it.
  await writeFile(join(stateDir, '.gitignore'), '*\n', { flag: 'wx', mode: 0o644 }).catch(() => undefined);
}
