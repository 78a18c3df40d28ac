/** `chatgenius-db new NAME`: write the next NNNN_name.up.sql / .down.sql pair. */
import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { MIGRATIONS_DIR_NAME } from '../../config/defaults.js';
import { bundledMigrationsDir, defaultMigrationsDir, findProjectRoot } from '../../config/project-root.js';
import { SETTINGS } from '../../config/settings.js';
import { ChatgeniusError, usageError } from '../../errors.js';
import type { CommandContext, OptionSpec } from '../command.js';
import { reporterFor } from '../output/reporter.js';

export const summary = 'Write the next NNNN_name.up.sql / .down.sql pair';

export const help = `Usage: chatgenius-db new NAME [--migrations-dir DIR]

Writes the next migration pair, numbered after the highest existing version:
  NNNN_NAME.up.sql     the change
  NNNN_NAME.down.sql   what returns the database exactly to the state before it

The template shows the safe patterns (NOT VALID + VALIDATE, CREATE INDEX CONCURRENTLY in a
file marked -- chatgenius:no-transaction); both files pass \`chatgenius-db lint\`.

NAME: lower-case letters, digits and underscores, starting with a letter (e.g. add_message_pins).

Options:
  --migrations-dir DIR   where to write (default: sql/ at the project root, the folder
                         init, status and verify read; in a project without one, the
                         package's migrations are first copied there)
  --json                 print the result as a JSON line
  --log-file PATH        append the JSON lines to PATH
  --verbose, -v          more detail

Example:
  chatgenius-db new add_message_pins
`;

export const options = {
  'migrations-dir': { type: 'string' },
  json: { type: 'boolean' },
  'log-file': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const satisfies OptionSpec;

export const allowPositionals = true;

const NAME = /^[a-z][a-z0-9_]{0,59}$/;
const FILE = /^(\d+)_([A-Za-z0-9_-]+)\.(up|down)\.sql$/;

/** Pure: the next version string after the files present (4 digits, or wider if needed). */
export function nextVersion(fileNames: string[]): string {
  let max = 0;
  let width = 4;
  for (const f of fileNames) {
    const m = FILE.exec(f);
    if (!m) continue;
    max = Math.max(max, Number(m[1]));
    width = Math.max(width, m[1]!.length);
  }
  return String(max + 1).padStart(width, '0');
}

export function validateName(name: string | undefined): string {
  if (name === undefined || name === '') {
    throw usageError('USAGE_MISSING_ARGUMENT', 'new needs the migration NAME', { argument: 'NAME', example: 'chatgenius-db new add_message_pins' });
  }
  if (!NAME.test(name)) throw usageError('NEW_BAD_NAME', `Bad migration name ${name}`, { name });
  return name;
}

export function templates(version: string, name: string): { up: string; down: string } {
  return {
    up: `-- ${version}_${name}: describe the change here.
-- Runs in one transaction with its journal row. Objects go in the target schema
-- (search_path is set to it); extensions live in public. \`chatgenius-db lint\` checks it.
--
-- Safe patterns on tables that hold rows (the app keeps reading and writing):
--   a constraint:  ALTER TABLE t ADD CONSTRAINT t_x_check CHECK (x > 0) NOT VALID;
--                  then ALTER TABLE t VALIDATE CONSTRAINT t_x_check; in its own transaction
--                  (the next migration, or the next statement of a no-transaction file)
--   a foreign key: ALTER TABLE t ADD CONSTRAINT t_u_fkey FOREIGN KEY (u_id) REFERENCES u(id) NOT VALID;
--                  then VALIDATE CONSTRAINT t_u_fkey the same way
--   an index:      CREATE INDEX CONCURRENTLY IF NOT EXISTS t_x_idx ON t (x);
--                  in a file whose FIRST line is: -- chatgenius:no-transaction
--   a column:      ALTER TABLE t ADD COLUMN x TEXT;  (no volatile DEFAULT; backfill in batches)
-- To keep an operation lint refuses, say why on a line of its own, e.g.
--   "-- chatgenius:allow ban-drop-column the app stopped using it in release 42" (without the quotes).

`,
    down: `-- ${version}_${name} (down): undo ${version}_${name}.up.sql exactly, in reverse order:
-- drop every table, index, function, trigger, constraint and column the up file creates
-- (DROP INDEX CONCURRENTLY IF EXISTS in a file whose first line is -- chatgenius:no-transaction).

`,
  };
}

export async function run(ctx: CommandContext): Promise<number> {
  const r = reporterFor(ctx);
  if (ctx.positionals.length > 1) {
    throw usageError('USAGE_UNEXPECTED_ARGUMENT', `Unexpected argument ${ctx.positionals[1]}`, { argument: ctx.positionals[1], command: 'new' });
  }
  const name = validateName(ctx.positionals[0]);
  const envDir = ctx.env[SETTINGS.migrationsDir.vars[0]];
  const given = typeof ctx.flags['migrations-dir'] === 'string' ? ctx.flags['migrations-dir'] : envDir !== undefined && envDir !== '' ? envDir : undefined;
  const root = findProjectRoot(ctx.cwd);
  let dir: string;
  if (given) {
    dir = isAbsolute(given) ? given : resolve(root, given);
    const st = await stat(dir).catch(() => null);
    if (!st?.isDirectory()) throw new ChatgeniusError('MIGRATIONS_DIR_NOT_FOUND', `No directory ${dir}`, { path: dir, flag: '--migrations-dir' });
  } else {
    // The one rule (config/project-root.ts): the project's sql/, else the package's own. A new
    // migration never goes into the installed package: the project takes its own copy first.
    dir = defaultMigrationsDir(root);
    const own = join(root, MIGRATIONS_DIR_NAME);
    if (dir === bundledMigrationsDir() && resolve(dir) !== resolve(own)) {
      await mkdir(own, { recursive: true });
      const shipped = (await readdir(dir)).filter((f) => FILE.test(f));
      for (const f of shipped) await copyFile(join(dir, f), join(own, f), fsConstants.COPYFILE_EXCL).catch(() => {});
      r.out.info(
        `Copied the package's ${shipped.length / 2} migrations into ${relative(ctx.cwd, own) || '.'}: the project keeps its own history there, and init, status and verify read it from now on.`,
      );
      dir = own;
    }
  }
  const files = await readdir(dir);
  const version = nextVersion(files);
  if (files.some((f) => FILE.exec(f)?.[2] === name)) {
    r.out.warn(`Another migration is already named ${name}; writing ${version}_${name} anyway.`);
  }
  const t = templates(version, name);
  const up = join(dir, `${version}_${name}.up.sql`);
  const down = join(dir, `${version}_${name}.down.sql`);
  for (const [path, body] of [
    [up, t.up],
    [down, t.down],
  ] as const) {
    try {
      await writeFile(path, body, { flag: 'wx' });
    } catch (e) {
      if ((e as { code?: string }).code === 'EEXIST') throw new ChatgeniusError('NEW_FILE_EXISTS', `${path} exists`, { path });
      throw e;
    }
  }
  const show = (p: string) => {
    const rel = relative(ctx.cwd, p);
    return rel.startsWith('..') ? p : rel;
  };
  r.out.success(`Wrote ${show(up)}`);
  r.out.success(`Wrote ${show(down)}`);
  r.setResult({ version, name, files: [up, down] });
  return 0;
}
