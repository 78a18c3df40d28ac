/**
 * Generated migration directories for engine tests and benches (temp folders, removed by cleanup()).
 * Migration i creates table t_<i> with an index and a row; its down file drops the table.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GenOptions {
  /** Replace the up file of migration i (1-based) with this text. */
  override?: Record<number, string>;
  /** Extra SQL appended to the up file of migration i. */
  append?: Record<number, string>;
}

export interface MigrationDir {
  dir: string;
  count: number;
  file(i: number, direction?: 'up' | 'down'): string;
  write(i: number, text: string, direction?: 'up' | 'down'): void;
  read(i: number, direction?: 'up' | 'down'): string;
  cleanup(): void;
}

export const pad = (i: number) => String(i).padStart(4, '0');

export function upSql(i: number): string {
  return `-- migration ${i}: a table, an index, a row
CREATE TABLE t_${pad(i)} (
  id integer PRIMARY KEY,
  label text NOT NULL DEFAULT 'x'
);
CREATE INDEX t_${pad(i)}_label ON t_${pad(i)} (label);
INSERT INTO t_${pad(i)} (id, label) VALUES (${i}, 'row ${i}; with a semicolon');
`;
}

export function downSql(i: number): string {
  return `DROP TABLE t_${pad(i)};\n`;
}

export function generateMigrations(count: number, opts: GenOptions = {}): MigrationDir {
  const dir = mkdtempSync(join(tmpdir(), 'cgdb-mig-'));
  const name = (i: number, d: 'up' | 'down') => `${pad(i)}_step_${i}.${d}.sql`;
  for (let i = 1; i <= count; i++) {
    const up = opts.override?.[i] ?? upSql(i) + (opts.append?.[i] ?? '');
    writeFileSync(join(dir, name(i, 'up')), up);
    writeFileSync(join(dir, name(i, 'down')), downSql(i));
  }
  return {
    dir,
    count,
    file: (i, d = 'up') => name(i, d),
    write: (i, text, d = 'up') => writeFileSync(join(dir, name(i, d)), text),
    read: (i, d = 'up') => readFileSync(join(dir, name(i, d)), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Generated migration folders for one test file: `gen()` makes one, `cleanup()` (in `after`) removes them all. */
export function migrationDirs(): { gen(count: number, opts?: GenOptions): MigrationDir; cleanup(): void } {
  const dirs: MigrationDir[] = [];
  return {
    gen(count, opts = {}) {
      const d = generateMigrations(count, opts);
      dirs.push(d);
      return d;
    },
    cleanup() {
      for (const d of dirs.splice(0)) d.cleanup();
    },
  };
}
