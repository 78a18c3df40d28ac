/**
 * One lock, one run: every direction (up, down, repair, baseline) goes through runDirection, and
 * only withMigrationLock takes and lets go of the migration lock. A second hand-written
 * acquire/run/release sequence fails here; so does a lock left held when a run throws.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { lockKeysSql, withMigrationLock } from '../src/migrate/lock.js';

const src = join(import.meta.dirname, '..', 'src');
const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
const files = walk(src).map((f) => ({ path: f.slice(src.length + 1), text: readFileSync(f, 'utf8') }));
const calling = (re: RegExp) =>
  files
    .filter((f) => re.test(f.text))
    .map((f) => f.path)
    .sort();

test('only withMigrationLock takes and releases the migration lock, and only the one run calls it', () => {
  assert.deepEqual(calling(/\bacquireAndRead\(/), [join('migrate', 'lock.ts')]);
  assert.deepEqual(calling(/\breleaseLock\(/), [join('migrate', 'lock.ts')]);
  // Called (the definition is `withMigrationLock<T>(`) by the one run alone.
  assert.deepEqual(calling(/\bwithMigrationLock\(/), [join('migrate', 'direction.ts')]);
});

test('up, down, repair and baseline all go through runDirection', () => {
  for (const name of ['apply.ts', 'rollback.ts', 'repair.ts', 'baseline.ts']) {
    const text = files.find((f) => f.path === join('migrate', name))!.text;
    assert.match(text, /\brunDirection\(/, `${name} runs through runDirection`);
    assert.doesNotMatch(text, /\b(acquireAndRead|readState|releaseLock)\b/, `${name} holds no lock of its own`);
  }
});

let db: TestPostgres;
before(async () => {
  db = await startPostgres();
});
after(async () => {
  await db?.stop();
});

test('a run that throws under the lock still lets go of it: the next run takes it at once', async () => {
  const client = new pg.Client({ connectionString: db.url });
  const other = new pg.Client({ connectionString: db.url });
  await client.connect();
  await other.connect();
  try {
    const [k1, k2] = lockKeysSql('public');
    const lockOpts = { take: true, release: { kind: 'never' } as const, emit: () => {}, waitTimeoutMs: 2000 };
    await assert.rejects(
      withMigrationLock(client, 'public', lockOpts, async (held) => {
        assert.equal(held.holding, true);
        const seen = await other.query<{ got: boolean }>(`SELECT pg_try_advisory_lock(${k1}, ${k2}) AS got`);
        assert.equal(seen.rows[0]!.got, false, 'held while the body runs');
        throw new Error('the body failed');
      }),
      /the body failed/,
    );
    const free = await other.query<{ got: boolean }>(`SELECT pg_try_advisory_lock(${k1}, ${k2}) AS got`);
    assert.equal(free.rows[0]!.got, true, 'released after the body threw');
    await other.query(`SELECT pg_advisory_unlock(${k1}, ${k2})`);
  } finally {
    await client.end();
    await other.end();
  }
});
