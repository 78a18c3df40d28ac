/**
 * What the CLI remembers between runs to start fast (src/lint/memory.ts): lint findings and file
 * analyses are pure functions of the files' text, so a run over files it has seen reuses them
 * instead of loading PostgreSQL's parser and splitting every file again. These tests show the
 * remembered answer is the same as a fresh one, that it really is read from memory, and that a
 * changed file is analysed and linted again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analysisMemory, findingsOf } from '../src/lint/memory.js';
import { findingsByVersion } from '../src/lint/plan.js';
import { loadParser } from '../src/lint/parser.js';
import { plainText, readMigrations } from '../src/migrate/files.js';
import { lineColumn, lineColumnCursor } from '../src/code-frame.js';
import { sqlDir } from './helpers/schema.js';

let dir: string;
let migrations: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgdb-memory-'));
  migrations = join(dir, 'sql');
  cpSync(sqlDir, migrations, { recursive: true });
  // A finding to remember: a plain index on an existing table.
  await writeFile(join(migrations, '0100_plain_index.up.sql'), 'CREATE INDEX messages_plain_idx ON messages (created_at);\n');
  await writeFile(join(migrations, '0100_plain_index.down.sql'), 'DROP INDEX messages_plain_idx;\n');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('remembered lint findings equal a fresh lint, are read from memory, and a changed file is linted again', async () => {
  const memory = join(dir, 'findings.json');
  const files = await readMigrations(migrations);
  const fresh = findingsByVersion(await loadParser(), files);
  assert.ok((fresh.get('0100')?.findings.length ?? 0) > 0, 'the plain index has a finding');

  const first = await findingsOf(files, memory);
  assert.deepEqual([...first], [...fresh]);
  const second = await findingsOf(files, memory);
  assert.deepEqual([...second], [...fresh]);

  // Read from memory: a planted answer comes back for the same files.
  const stored = JSON.parse(await readFile(memory, 'utf8')) as Array<[string, Array<[string, { findings: Array<{ message: string }> }]>]>;
  const entry = stored.at(-1)![1].find(([v]) => v === '0100')![1];
  entry.findings[0]!.message = 'planted in memory';
  await writeFile(memory, JSON.stringify(stored));
  assert.equal((await findingsOf(files, memory)).get('0100')?.findings[0]?.message, 'planted in memory');

  // A changed file gets a new key: linted again, the planted answer is not used.
  const changed = files.map((f) => (f.version === '0100' ? { ...f, up: `${f.up}-- changed\n` } : f));
  assert.notEqual((await findingsOf(changed, memory)).get('0100')?.findings[0]?.message, 'planted in memory');
});

test('remembered file analyses give the same migration files, and are used on the next read', async () => {
  const file = join(dir, 'analyses.json');
  const plain = await readMigrations(migrations);
  const mem = analysisMemory(file);
  assert.deepEqual(await readMigrations(migrations, { analyses: mem }), plain);
  mem.save();
  const again = analysisMemory(file);
  let hits = 0;
  const counting = {
    get: (k: string) => {
      const a = again.get(k);
      if (a) hits++;
      return a;
    },
    set: again.set,
  };
  assert.deepEqual(await readMigrations(migrations, { analyses: counting }), plain);
  assert.equal(hits, plain.length * 2, 'every up and down file came from memory');
  // The remembered CONCURRENTLY offsets blank the same words as splitting the file again.
  const online = plain.filter((f) => f.upConcurrentlyAt?.length);
  assert.ok(online.length > 0, 'sql/ has an online file with CREATE INDEX CONCURRENTLY');
  for (const f of online) {
    assert.equal(plainText(f.up, f.upConcurrentlyAt), plainText(f.up), f.file);
    assert.doesNotMatch(plainText(f.up, f.upConcurrentlyAt), /INDEX\s+CONCURRENTLY/i);
  }

  // A file whose BEGIN makes it invalid is never remembered as good: it is analysed and refused every time.
  await writeFile(join(migrations, '0101_bad.up.sql'), 'BEGIN;\nSELECT 1;\nCOMMIT;\n');
  await writeFile(join(migrations, '0101_bad.down.sql'), 'SELECT 1;\n');
  for (let i = 0; i < 2; i++) {
    await assert.rejects(readMigrations(migrations, { analyses: analysisMemory(file) }), { code: 'MIGRATION_BAD_FILE' });
  }
  await rm(join(migrations, '0101_bad.up.sql'));
  await rm(join(migrations, '0101_bad.down.sql'));
});

test('line and column read in one pass agree with the plain lookup at every offset', () => {
  const text = "CREATE TABLE a (x int);\n-- é comment\n\nSELECT 1;\r\nSELECT '🙂';\n";
  const at = lineColumnCursor(text);
  for (let o = 0; o <= text.length; o++) assert.deepEqual(at(o), lineColumn(text, o), `offset ${o}`);
  // Asked backwards, it still answers correctly.
  assert.deepEqual(at(3), lineColumn(text, 3));
});
