/**
 * The wizard's plan step with an unsafe migration, driven through clack's streams against a real
 * PostgreSQL: the plan shows the table it locks, the mode and the rows; in production the finding
 * is asked about on its own, default No (nothing changes); yes, then the typed name, applies it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { KEY, streamTerminal } from './helpers/pty.js';
import type { CommandContext, Flags } from '../src/cli/command.js';
import { reporterFor } from '../src/cli/output/reporter.js';
import { runCli } from './helpers/cli.js';

let db: TestPostgres;
let home: string;
let dir: string;
const DATABASE = 'wizard_lint';

before(async () => {
  db = await startPostgres();
  home = await mkdtemp(join(tmpdir(), 'cgdb-wizard-lint-home-'));
  dir = await mkdtemp(join(tmpdir(), 'cgdb-wizard-lint-'));
  const url = await db.createDatabase(DATABASE);
  await writeFile(join(dir, '0001_messages.up.sql'), 'CREATE TABLE messages (id bigint PRIMARY KEY, user_id int NOT NULL);\n');
  await writeFile(join(dir, '0001_messages.down.sql'), 'DROP TABLE messages;\n');
  const r = await runCli(['init', '--env', 'development', '--yes', '--database-url', url, '--migrations-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  await db.query('INSERT INTO messages SELECT g, g % 10 FROM generate_series(1, 5000) g; ANALYZE messages', [], DATABASE);
  await writeFile(join(dir, '0002_index.up.sql'), 'CREATE INDEX messages_user_idx ON messages (user_id);\n');
  await writeFile(join(dir, '0002_index.down.sql'), 'DROP INDEX messages_user_idx;\n');
});

after(async () => {
  await db?.stop();
  await rm(home, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

function startWizard(flags: Flags) {
  const term = streamTerminal();
  const env: NodeJS.ProcessEnv = { HOME: home, PATH: process.env.PATH, NO_COLOR: '1', ...db.env(DATABASE), CHATGENIUS_MAX_RETRIES: '1' };
  const ctx: CommandContext = {
    flags,
    positionals: [],
    env,
    cwd: dir,
    io: { stdin: term.stdin, stdout: term.stdout, stderr: term.stdout },
    interactive: true,
    signal: new AbortController().signal,
  };
  const done = import('../src/cli/wizard/init.js').then((m) => m.initWizard(ctx)).catch((e: unknown) => reporterFor(ctx).fail(e));
  return { term, done };
}

async function applied(): Promise<number> {
  const r = await db.query<{ n: string }>("SELECT count(*) AS n FROM chatgenius_migrations WHERE status = 'applied'", [], DATABASE);
  return Number(r.rows[0]!.n);
}

async function answerConnection(term: ReturnType<typeof streamTerminal>): Promise<void> {
  for (const prompt of ['PostgreSQL host', 'PostgreSQL port', 'Database name', 'User', 'Password', 'behind an SSH bastion']) {
    await term.waitFor(prompt, 30_000);
    term.send(KEY.enter);
  }
}

test('production: the plan shows the lock and rows; the unsafe finding is asked on its own, default No, and nothing changes', async () => {
  const w = startWizard({ env: 'production', 'migrations-dir': dir });
  await answerConnection(w.term);
  await w.term.waitFor(/messages: ShareLock \(blocks writes\) on 5000 rows/, 30_000);
  await w.term.waitFor(/UNSAFE {2}require-concurrent-index-creation/);
  await w.term.waitFor(/Run require-concurrent-index-creation on messages anyway\?/);
  w.term.send(KEY.enter); // default: No
  const code = await w.done;
  assert.notEqual(code, 0, w.term.text());
  assert.match(w.term.text(), /nothing changed/);
  assert.equal(await applied(), 1);
});

test('production: yes to the finding, then the typed database name, applies it', async () => {
  const w = startWizard({ env: 'production', 'migrations-dir': dir });
  await answerConnection(w.term);
  await w.term.waitFor(/Run require-concurrent-index-creation on messages anyway\?/, 30_000);
  w.term.send('y');
  w.term.send(KEY.enter);
  await w.term.waitFor(/Type the database name/);
  w.term.send(`${DATABASE}${KEY.enter}`);
  await w.term.waitFor('Save these settings', 30_000);
  w.term.send('n');
  assert.equal(await w.done, 0, w.term.text());
  assert.equal(await applied(), 2);
});
