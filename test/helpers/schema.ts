/**
 * Apply the sql/ files directly, in order, each in a transaction: for tests that need the schema
 * (or want to test the SQL itself) without going through the engine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
// Online files (CONCURRENTLY) run here as the engine runs them on a fresh database: plainly, in one transaction.
import { plainText } from '../../src/migrate/files.js';

export const sqlDir = fileURLToPath(new URL('../../sql/', import.meta.url));

export function sqlFiles(direction: 'up' | 'down', dir = sqlDir): string[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(`.${direction}.sql`))
    .sort();
  return direction === 'up' ? files : files.reverse();
}

/** How many migrations sql/ holds: tests of the real schema count with this, never a literal. */
export const SQL_MIGRATION_COUNT = sqlFiles('up').length;

export async function applySqlFiles(client: pg.Client, schema: string, direction: 'up' | 'down', dir = sqlDir, count = Infinity): Promise<string[]> {
  const done: string[] = [];
  for (const f of sqlFiles(direction, dir).slice(0, count)) {
    const sql = readFileSync(join(dir, f), 'utf8');
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}", public`);
    await client.query(`BEGIN; ${plainText(sql)}\n; COMMIT;`).catch(async (e) => {
      await client.query('ROLLBACK').catch(() => {});
      throw Object.assign(e, { file: f });
    });
    done.push(f);
  }
  return done;
}
