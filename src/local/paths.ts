/** Where the local server keeps its things, all under the project's `.chatgenius/`. */
import { join } from 'node:path';

export interface LocalPaths {
  stateDir: string;
  /** The PostgreSQL cluster (owned by the postgres OS user when we run as root). */
  dataDir: string;
  /** port, user, generated password (mode 0600). */
  stateFile: string;
  /** The server's own log (appended). */
  logFile: string;
  /** Held while a process starts, stops or resets the server. */
  lockFile: string;
}

export function localPaths(stateDir: string): LocalPaths {
  return {
    stateDir,
    dataDir: join(stateDir, 'pgdata'),
    stateFile: join(stateDir, 'local.json'),
    logFile: join(stateDir, 'postgres.log'),
    lockFile: join(stateDir, 'local.lock'),
  };
}

/** The database the local server creates on first start and returns connections to. */
export const LOCAL_DATABASE = 'chatgenius';
export const LOCAL_USER = 'postgres';
export const LOCAL_HOST = '127.0.0.1';
