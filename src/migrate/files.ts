/**
 * Read NNNN_name.up.sql / NNNN_name.down.sql pairs from a directory, checksum the up files and
 * decide which files must run outside a transaction. Refuses (ChatgeniusError) bad names,
 * duplicate versions, missing halves, and files that manage their own transactions.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ChatgeniusError } from '../errors.js';
import { splitStatements, type SqlStatement } from './sql-text.js';
import type { MigrationFile } from './types.js';

export const MIGRATION_FILE_NAME = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_-]*)\.(up|down)\.sql$/;
export const NO_TRANSACTION_DIRECTIVE = /^\s*--\s*chatgenius:no-transaction\b/i;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

/** Compare versions numerically (then as text), so 0002 < 0010 < 10000. */
export function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

export interface FileAnalysis {
  transactional: boolean;
  addsEnumValue: boolean;
  /** Why it cannot run in a transaction (for messages). */
  reason?: string;
  /**
   * Written in online forms (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT) and nothing else
   * that needs to be outside a transaction: on a database this run has just created (no one
   * else can use its tables) the engine runs it plainly inside the batch; elsewhere one
   * statement at a time, each in a transaction of its own.
   */
  online: boolean;
  /** For an online file: where plainText() blanks CONCURRENTLY (kept so a run need not split the file again). */
  concurrentlyAt?: number[];
}

/** CREATE [UNIQUE] INDEX CONCURRENTLY. */
export function isConcurrentIndex(s: SqlStatement): boolean {
  const k = s.keywords;
  return k[0] === 'CREATE' && (k[1] === 'INDEX' || (k[1] === 'UNIQUE' && k[2] === 'INDEX')) && s.words.includes('CONCURRENTLY');
}

/** Offsets of the CONCURRENTLY keyword of each CREATE INDEX among `statements` (never a comment's word). */
export function concurrentlyOffsets(statements: SqlStatement[]): number[] {
  const at: number[] = [];
  for (const s of statements) {
    if (!isConcurrentIndex(s)) continue;
    const start = s.end - s.text.length;
    // Comments blanked (same length) so a CONCURRENTLY in a comment is not taken for the keyword.
    const code = s.text.replace(/--[^\n]*/g, (c) => ' '.repeat(c.length));
    const m = /\bINDEX\s+(CONCURRENTLY)\b/i.exec(code);
    if (m) at.push(start + m.index + m[0].length - m[1]!.length);
  }
  return at;
}

/**
 * Pure: an online file's text for a plain run: CONCURRENTLY of each CREATE INDEX blanked out
 * with spaces (same length, so error positions still map to file:line:column). `at`: the
 * keywords' offsets when known (readMigrations keeps them), else found by splitting the text.
 */
export function plainText(text: string, at: number[] = concurrentlyOffsets(splitStatements(text))): string {
  let out = text;
  const word = 'CONCURRENTLY'.length;
  for (const i of at) out = out.slice(0, i) + ' '.repeat(word) + out.slice(i + word);
  return out;
}

/** ALTER TABLE ... VALIDATE CONSTRAINT. */
export function isValidateConstraint(s: SqlStatement): boolean {
  const k = s.keywords;
  const i = s.words.indexOf('VALIDATE');
  return k[0] === 'ALTER' && k[1] === 'TABLE' && i >= 0 && s.words[i + 1] === 'CONSTRAINT';
}

const TX_CONTROL = new Set(['BEGIN', 'COMMIT', 'ROLLBACK', 'END', 'ABORT', 'START', 'SAVEPOINT', 'RELEASE']);

/** Why a statement cannot run inside a transaction block, or null. ADD VALUE is reported separately. */
export function nonTransactionalReason(s: SqlStatement): string | null {
  const k = s.keywords;
  const has = (w: string) => s.words.includes(w);
  if (k[0] === 'CREATE' && (k[1] === 'INDEX' || (k[1] === 'UNIQUE' && k[2] === 'INDEX')) && has('CONCURRENTLY')) return 'CREATE INDEX CONCURRENTLY';
  if (k[0] === 'DROP' && k[1] === 'INDEX' && k[2] === 'CONCURRENTLY') return 'DROP INDEX CONCURRENTLY';
  if (k[0] === 'REINDEX' && has('CONCURRENTLY')) return 'REINDEX CONCURRENTLY';
  if (k[0] === 'ALTER' && k[1] === 'TABLE' && has('DETACH') && has('CONCURRENTLY')) return 'DETACH PARTITION CONCURRENTLY';
  if (k[0] === 'VACUUM') return 'VACUUM';
  if (k[0] === 'ALTER' && k[1] === 'SYSTEM') return 'ALTER SYSTEM';
  if ((k[0] === 'CREATE' || k[0] === 'DROP') && (k[1] === 'DATABASE' || k[1] === 'TABLESPACE')) return `${k[0]} ${k[1]}`;
  return null;
}

export function isAddEnumValue(s: SqlStatement): boolean {
  const k = s.keywords;
  if (!(k[0] === 'ALTER' && k[1] === 'TYPE')) return false;
  const i = s.words.indexOf('ADD');
  return i >= 0 && s.words[i + 1] === 'VALUE';
}

/** Analyse one file's text. Throws MIGRATION_BAD_FILE for BEGIN/COMMIT inside the file. */
export function analyseSql(sql: string, fileName: string): FileAnalysis {
  const statements = splitStatements(sql);
  for (const s of statements) {
    const k0 = s.keywords[0];
    const isTx = k0 !== undefined && TX_CONTROL.has(k0) && !(k0 === 'START' && s.keywords[1] !== 'TRANSACTION') && !(k0 === 'END' && s.keywords.length > 2);
    if (isTx || (k0 === 'PREPARE' && s.keywords[1] === 'TRANSACTION') || (k0 === 'COMMIT' && s.keywords[1] === 'PREPARED')) {
      throw new ChatgeniusError(
        'MIGRATION_BAD_FILE',
        `${fileName}:${s.line}:${s.column} contains its own ${k0} statement. The engine wraps each migration and its journal row in one transaction of its own; remove the BEGIN/COMMIT lines (or mark the file with "-- chatgenius:no-transaction" in its first line to run it outside a transaction).`,
        { file: fileName, line: s.line, column: s.column, statement: s.text.trim().slice(0, 200) },
      );
    }
  }
  const directive = NO_TRANSACTION_DIRECTIVE.test(sql.split('\n', 1)[0] ?? '');
  let reason: string | undefined = directive ? 'the -- chatgenius:no-transaction directive' : undefined;
  if (!reason) {
    for (const s of statements) {
      const r = nonTransactionalReason(s);
      if (r) {
        reason = r;
        break;
      }
    }
  }
  const online =
    !directive &&
    statements.some((s) => isConcurrentIndex(s) || isValidateConstraint(s)) &&
    statements.every((s) => isConcurrentIndex(s) || nonTransactionalReason(s) === null) &&
    !statements.some(isAddEnumValue);
  return {
    transactional: !reason,
    addsEnumValue: statements.some(isAddEnumValue),
    online,
    ...(reason ? { reason } : {}),
    ...(online ? { concurrentlyAt: concurrentlyOffsets(statements) } : {}),
  };
}

function bad(message: string, details: Record<string, unknown>): ChatgeniusError {
  return new ChatgeniusError('MIGRATION_BAD_FILE', message, details);
}

/**
 * Analyses remembered by the sha256 of the text they were made from: analyseSql() is a pure
 * function of the text, and the CLI keeps its results across runs (src/lint/memory.ts).
 */
export interface AnalysisMemory {
  get(textHash: string): FileAnalysis | undefined;
  set(textHash: string, analysis: FileAnalysis): void;
}

/** analyseSql(), or the remembered result for the same text. */
function analysed(text: string, fileName: string, memory: AnalysisMemory | undefined): FileAnalysis {
  if (!memory) return analyseSql(text, fileName);
  const key = createHash('sha256').update(text, 'utf8').digest('hex');
  const known = memory.get(key);
  if (known) return known;
  const a = analyseSql(text, fileName);
  memory.set(key, a);
  return a;
}

/** Read every migration pair of `dir`, sorted by version. Other files (README.md...) are ignored. */
export async function readMigrations(dir: string, opts: { analyses?: AnalysisMemory } = {}): Promise<MigrationFile[]> {
  const abs = resolve(dir);
  let names: string[];
  try {
    const st = await stat(abs);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    names = await readdir(abs);
  } catch (err) {
    throw new ChatgeniusError('MIGRATIONS_DIR_NOT_FOUND', `Migrations directory not found: ${abs}`, { path: abs }, { cause: err });
  }
  const byVersion = new Map<string, { version: string; name: string; up?: string; down?: string }>();
  const numeric = new Map<string, string>(); // BigInt text -> version as written
  for (const f of names.sort()) {
    if (!f.endsWith('.sql')) continue;
    const m = MIGRATION_FILE_NAME.exec(f);
    if (!m) {
      throw bad(`${f} is not a valid migration file name: expected NNNN_name.up.sql or NNNN_name.down.sql.`, { file: f });
    }
    const [, version, name, dirn] = m as unknown as [string, string, string, 'up' | 'down'];
    const key = BigInt(version).toString();
    const seen = numeric.get(key);
    const entry = byVersion.get(version);
    if ((seen !== undefined && seen !== version) || (entry && entry.name !== name)) {
      const other = entry ? `${entry.version}_${entry.name}` : `${seen}_…`;
      throw bad(`Duplicate migration version ${version}: ${f} and ${other}.*.sql. Each version must be unique.`, { file: f, version });
    }
    numeric.set(key, version);
    const e = entry ?? { version, name };
    if (e[dirn]) throw bad(`Duplicate migration file ${f}.`, { file: f, version });
    e[dirn] = f;
    byVersion.set(version, e);
  }
  const out: MigrationFile[] = [];
  for (const e of [...byVersion.values()].sort((a, b) => compareVersions(a.version, b.version))) {
    if (!e.up) throw bad(`${e.down} has no matching up file ${e.version}_${e.name}.up.sql.`, { file: e.down, version: e.version });
    if (!e.down) {
      throw new ChatgeniusError('MIGRATION_MISSING_DOWN', `${e.up} has no matching down file ${e.version}_${e.name}.down.sql.`, {
        file: e.up,
        version: e.version,
      });
    }
    const path = join(abs, e.up);
    const downPath = join(abs, e.down);
    // Synchronous: a few small files; the thread pool's round trips cost more than the reads.
    const up = readFileSync(path, 'utf8');
    const down = readFileSync(downPath, 'utf8');
    if (up.includes('\u0000') || down.includes('\u0000')) throw bad(`${e.up} or ${e.down} contains a NUL byte.`, { file: e.up });
    const ua = analysed(up, e.up, opts.analyses);
    const da = analysed(down, e.down, opts.analyses);
    out.push({
      version: e.version,
      name: e.name,
      file: e.up,
      downFile: e.down,
      path,
      downPath,
      up,
      down,
      checksum: checksumOf(up),
      upTransactional: ua.transactional,
      downTransactional: da.transactional,
      upAddsEnumValue: ua.addsEnumValue,
      downAddsEnumValue: da.addsEnumValue,
      upOnline: ua.online,
      downOnline: da.online,
      ...(ua.concurrentlyAt ? { upConcurrentlyAt: ua.concurrentlyAt } : {}),
      ...(da.concurrentlyAt ? { downConcurrentlyAt: da.concurrentlyAt } : {}),
    });
  }
  return out;
}
