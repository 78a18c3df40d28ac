/**
 * Check migration files with PostgreSQL's own parser before anything connects: a syntax error
 * in any file that could run is reported as file:line:column with its code frame, and nothing
 * is sent, not even a login. Deliberately all or nothing: when a later file is broken, the
 * valid ones before it are not applied either, so a run never stops half-way on a file that is
 * already known to be broken (the fix is one edit and one run).
 *
 * A file the parser accepted is remembered by its checksum (and this tool's version, which pins
 * the parser), so the next run skips the parser and its start-up cost (~40 ms to load, more to
 * warm up) for files it has seen; a changed file is parsed again.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { codeFrameIn } from '../code-frame.js';
import type { MigrationFailure, MigrationFile } from '../migrate/types.js';
import { loadParser, parseSqlWith, SqlSyntaxError } from '../lint/parser.js';
import { analysisMemory, memoryDir, recall, remember } from '../lint/memory.js';
import { loadPg } from '../db/driver.js';
import { readMigrations } from '../migrate/files.js';
import { failureError } from './output/engine-results.js';

export interface SyntaxCheckOptions {
  /** Where accepted checksums are remembered; null: no memory. Default: a file in the OS temp dir. */
  cacheFile?: string | null;
  /** Cache key part: the tool's version (it pins the parser's). */
  toolVersion: string;
}

const MAX_REMEMBERED = 5000;

export function defaultCacheFile(): string {
  return join(memoryDir(), 'parsed.json');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function readRemembered(file: string | null): Set<string> {
  const v = file ? recall(file) : undefined;
  return new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
}

function rememberAccepted(file: string | null, known: Set<string>, added: string[]): void {
  if (file && added.length > 0) remember(file, [...known, ...added].slice(-MAX_REMEMBERED));
}

/**
 * The first syntax error among `files` (their `direction` side), in version order, as a
 * MigrationFailure (phase 'precheck'), or null when all parse. Throws only if the parser cannot load.
 */
export async function findSyntaxError(files: MigrationFile[], direction: 'up' | 'down', opts: SyntaxCheckOptions): Promise<MigrationFailure | null> {
  const cacheFile = opts.cacheFile === undefined ? defaultCacheFile() : opts.cacheFile;
  const known = readRemembered(cacheFile);
  const keyOf = (text: string) => `${opts.toolVersion}:${sha256(text)}`;
  const todo = files.map((f) => ({ f, text: direction === 'up' ? f.up : f.down })).filter((x) => !known.has(keyOf(x.text)));
  if (todo.length === 0) return null;
  const parser = await loadParser();
  const accepted: string[] = [];
  try {
    for (const { f, text } of todo) {
      try {
        parseSqlWith(parser, text);
        accepted.push(keyOf(text));
      } catch (err) {
        if (!(err instanceof SqlSyntaxError)) throw err;
        return {
          version: f.version,
          name: f.name,
          file: direction === 'up' ? f.file : f.downFile,
          line: err.line,
          column: err.column,
          frame: codeFrameIn(text, err.line, err.column),
          code: '42601',
          message: err.message,
          phase: 'precheck',
        };
      }
    }
    return null;
  } finally {
    rememberAccepted(cacheFile, known, accepted);
  }
}

/**
 * Read and checksum the migration files and check the `direction` side of each with the parser;
 * a syntax error is thrown as the file:line:column failure. Starts loading the database driver
 * meanwhile, so connecting right after costs no module load.
 */
export async function checkedFiles(dir: string, direction: 'up' | 'down', toolVersion: string) {
  for (const m of [loadPg(), import('../run.js'), import('../db/connect.js'), import(direction === 'up' ? '../migrate/apply.js' : '../migrate/rollback.js')])
    m.catch(() => undefined);
  const analyses = analysisMemory();
  const files = await readMigrations(dir, { analyses });
  analyses.save();
  const bad = await findSyntaxError(files, direction, { toolVersion });
  if (bad) {
    throw failureError(bad, direction);
  }
  return files;
}
