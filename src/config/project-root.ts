/**
 * Where a project is, and where its migrations are: one rule for every command.
 *
 * The project root is found by walking up from the working directory, as git and prisma do: the
 * nearest folder with a `.chatgenius/` directory, or a package.json that depends on chatgenius-db
 * (or is chatgenius-db itself). Without one, the working directory is the root. `.env` files,
 * `.chatgenius/` and the default migrations directory resolve against it.
 *
 * The migrations directory: --migrations-dir / CHATGENIUS_MIGRATIONS_DIR when given; else the
 * project's own `sql/` when it holds migrations; else the migrations this package ships. `new`
 * follows the same rule and, in a project that has no `sql/` yet, first copies the shipped ones
 * there, so that init, status and verify read the very files `new` added to.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BUNDLED_MIGRATIONS_DIR, MIGRATIONS_DIR_NAME, STATE_DIR_NAME } from './defaults.js';

export const PACKAGE_NAME = 'chatgenius-db';
const MIGRATION_FILE = /^\d+_[A-Za-z0-9_-]+\.up\.sql$/;

/** The package's own sql/ (config/defaults.ts). */
export function bundledMigrationsDir(): string {
  return BUNDLED_MIGRATIONS_DIR;
}

/** Pure: does this package.json text make its folder a project of ours? */
export function isOurPackageJson(text: string): boolean {
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return false;
  }
  if (pkg.name === PACKAGE_NAME) return true;
  for (const k of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
    const deps = pkg[k];
    if (deps && typeof deps === 'object' && PACKAGE_NAME in deps) return true;
  }
  return false;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The nearest folder at or above `start` that is a chatgenius-db project; `start` when there is none. */
export function findProjectRoot(start: string): string {
  const from = resolve(start);
  for (let dir = from; ; dir = dirname(dir)) {
    if (isDir(join(dir, STATE_DIR_NAME))) return dir;
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (isOurPackageJson(readFileSync(pkg, 'utf8'))) return dir;
      } catch {
        /* unreadable: not ours */
      }
    }
    if (dirname(dir) === dir) return from;
  }
}

/** Does `dir` hold at least one NNNN_name.up.sql? */
export function holdsMigrations(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => MIGRATION_FILE.test(f));
  } catch {
    return false;
  }
}

/** The default migrations directory of a project (no flag or variable given): the one rule. */
export function defaultMigrationsDir(projectDir?: string): string {
  if (projectDir !== undefined) {
    const own = join(projectDir, MIGRATIONS_DIR_NAME);
    if (holdsMigrations(own)) return own;
  }
  return bundledMigrationsDir();
}
