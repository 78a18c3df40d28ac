/**
 * Lint findings (and the statement splitter's file analyses) remembered across runs. Linting needs PostgreSQL's parser (WebAssembly: ~40 ms
 * to load, more to compile and warm up), yet the answer is a pure function of the files' text
 * and of the lint code itself, and most runs lint the same files as the run before. So a result
 * is kept under a key made of both (the text of every file, and a hash of the lint code as
 * built), and the parser is loaded only for a file set it has not seen: a changed file, or a
 * changed rule, gives a new key. The memory is a small JSON file in the OS temp directory, mode
 * 0600 in a 0700 directory of this user's; one that cannot be read or written only costs time.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnalysisMemory, FileAnalysis } from '../migrate/files.js';
import type { MigrationFile } from '../migrate/types.js';
import { loadParser } from './parser.js';
import { findingsByVersion, type VersionFindings } from './plan.js';

/** The directory this user's remembered parser results live in. */
export function memoryDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `chatgenius-db-${uid}`);
}

const KEEP = 20;
let stamp: string | undefined;

/**
 * A hash of the lint code as built: this folder and the statement splitter it uses. The CLI's
 * bundle (scripts/bundle.mjs) computes it at build time into lint-stamp.txt beside its chunks;
 * unbundled (the library, tests), the files are read and hashed once.
 */
function codeStamp(): string {
  if (stamp) return stamp;
  const here = dirname(fileURLToPath(import.meta.url));
  try {
    stamp = readFileSync(join(here, LINT_STAMP_FILE), 'utf8').trim();
    if (stamp) return stamp;
  } catch {
    /* not the bundle */
  }
  stamp = lintCodeHash(here);
  return stamp;
}

/** The name of the bundle's build-time stamp (written by scripts/bundle.mjs). */
export const LINT_STAMP_FILE = 'lint-stamp.txt';

/** Hash of the lint code in `lintDir` (dist/lint or src/lint) and the two migrate files it uses. */
export function lintCodeHash(lintDir: string): string {
  const h = createHash('sha256');
  const files = [...readdirSync(lintDir).map((f) => join(lintDir, f)), join(lintDir, '../migrate/files.js'), join(lintDir, '../migrate/sql-text.js')];
  for (const f of files.sort()) {
    try {
      h.update(f.slice(lintDir.length)).update(readFileSync(f));
    } catch {
      /* a .ts source tree has no .js siblings: its own files still make the stamp */
    }
  }
  return h.digest('hex');
}

function keyOf(files: MigrationFile[]): string {
  const h = createHash('sha256').update(codeStamp());
  for (const f of files) h.update(`\0${f.version}\0${f.file}\0${f.downFile}\0${f.up}\0${f.down}`);
  return h.digest('hex');
}

type Stored = Array<[string, Array<[string, VersionFindings]>]>;

/** A remembered value (parsed JSON), or undefined when there is none or it cannot be read. */
export function recall(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Remember `value` in `file` (this user's 0700 directory, a 0600 file, replaced whole); a memory that cannot be written only costs time. */
export function remember(file: string, value: unknown): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    /* only costs time */
  }
}

/**
 * Lint findings of every file, by the up file's version: from memory when this file set was
 * linted by this build before, else linted now (and remembered). `memoryFile` null: no memory.
 */
export async function findingsOf(files: MigrationFile[], memoryFile: string | null = join(memoryDir(), 'findings.json')): Promise<Map<string, VersionFindings>> {
  const key = memoryFile ? keyOf(files) : '';
  const v = memoryFile ? recall(memoryFile) : undefined;
  const stored = Array.isArray(v) ? (v as Stored) : [];
  const hit = stored.find(([k]) => k === key);
  if (hit) return new Map(hit[1]);
  const result = findingsByVersion(await loadParser(), files);
  if (memoryFile) remember(memoryFile, [...stored.filter(([k]) => k !== key), [key, [...result]]].slice(-KEEP));
  return result;
}

const KEEP_ANALYSES = 500;

/**
 * The file analyses of readMigrations() remembered across runs (splitting every file into
 * statements on every run cost ~15 ms). Entries made by another build are dropped. save()
 * writes what was added.
 */
export function analysisMemory(file: string = join(memoryDir(), 'analyses.json')): AnalysisMemory & { save(): void } {
  const v = recall(file) as { stamp?: string; entries?: Array<[string, FileAnalysis]> } | undefined;
  const entries = new Map<string, FileAnalysis>(v?.stamp === codeStamp() && Array.isArray(v.entries) ? v.entries : []);
  let added = false;
  return {
    get: (key) => entries.get(key),
    set: (key, analysis) => {
      entries.set(key, analysis);
      added = true;
    },
    save: () => {
      if (added) remember(file, { stamp: codeStamp(), entries: [...entries].slice(-KEEP_ANALYSES) });
    },
  };
}
