/**
 * The guided init, driven through clack's input/output streams (a PassThrough keyboard, a
 * recording screen) against a real PostgreSQL and the in-process ssh2 server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { makeUserKey, startSshServer, type TestSshServer } from './helpers/ssh-server.js';
import { KEY, streamTerminal, type StreamTerminal } from './helpers/pty.js';
import { freePort } from './helpers/ports.js';
import type { CommandContext, Flags } from '../src/cli/command.js';
import { reporterFor } from '../src/cli/output/reporter.js';

let db: TestPostgres;
let ssh: TestSshServer;
let home: string;
let keyPath: string;
const PASSPHRASE = 'open-sesame-42';
const key = makeUserKey(PASSPHRASE);

before(async () => {
  db = await startPostgres();
  home = await mkdtemp(join(tmpdir(), 'cgdb-wizard-home-'));
  keyPath = join(home, 'id_ed25519');
  await writeFile(keyPath, key.private, { mode: 0o600 });
  ssh = await startSshServer({ authorizedKeys: [key.public] });
});

after(async () => {
  await ssh?.close();
  await db?.stop();
  await rm(home, { recursive: true, force: true });
});

export interface Run {
  term: StreamTerminal;
  done: Promise<number>;
  cwd: string;
  abort(): void;
}

/** Start a wizard in-process, as main.ts would for a person at a terminal. */
export async function startWizard(
  kind: 'init' | 'rollback',
  o: { env?: Record<string, string | undefined>; flags?: Flags; cwd?: string } = {},
): Promise<Run> {
  const term = streamTerminal();
  const cwd = o.cwd ?? (await mkdtemp(join(tmpdir(), 'cgdb-wizard-')));
  const controller = new AbortController();
  const env: NodeJS.ProcessEnv = { HOME: home, PATH: process.env.PATH, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(o.env ?? {})) if (v !== undefined) env[k] = v;
  const ctx: CommandContext = {
    flags: o.flags ?? {},
    positionals: [],
    env,
    cwd,
    io: { stdin: term.stdin, stdout: term.stdout, stderr: term.stdout },
    interactive: true,
    signal: controller.signal,
  };
  const mod = await import('../src/cli/wizard/init.js');
  const run = kind === 'init' ? mod.initWizard(ctx) : mod.rollbackWizard(ctx);
  const done = run.catch((e: unknown) => reporterFor(ctx).fail(e));
  return { term, done, cwd, abort: () => controller.abort() };
}

function pgEnv(database: string, over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    POSTGRES_HOST: '127.0.0.1',
    POSTGRES_PORT: String(db.port),
    POSTGRES_DB: database,
    POSTGRES_USER: db.user,
    POSTGRES_PASSWORD: db.password,
    CHATGENIUS_MAX_RETRIES: '1',
    ...over,
  };
}

async function freshDb(): Promise<string> {
  const url = await db.createDatabase();
  return new URL(url).pathname.slice(1);
}

async function appliedCount(database: string, schema = 'public'): Promise<number | null> {
  const r = await db.query<{ t: string | null }>(`SELECT to_regclass('${schema}.chatgenius_migrations')::text AS t`, [], database);
  if (!r.rows[0]?.t) return null;
  const c = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.chatgenius_migrations WHERE status = 'applied'`, [], database);
  return Number(c.rows[0]!.n);
}

describe('guided init', () => {
  test('init development by pressing Enter on every prefilled answer applies every migration and saves the settings', async () => {
    const database = await freshDb();
    const w = await startWizard('init', { env: pgEnv(database) });
    const { term } = w;
    await term.waitFor(/Which environment\?[\s\S]*development[\s\S]*detected/);
    term.send(KEY.enter);
    await term.waitFor('PostgreSQL host');
    term.send(KEY.enter);
    await term.waitFor('PostgreSQL port');
    term.send(KEY.enter);
    await term.waitFor('Database name');
    term.send(KEY.enter);
    await term.waitFor('User');
    term.send(KEY.enter);
    await term.waitFor('Enter keeps the configured one');
    term.send(KEY.enter);
    await term.waitFor('behind an SSH bastion');
    term.send(KEY.enter);
    await term.waitFor(/pending migrations? \(0 already applied\)/);
    await term.waitFor(/Apply \d+ migrations\?/);
    term.send(KEY.enter);
    await term.waitFor(/Save these settings to \.env\.development\.local/, 30_000);
    term.send(KEY.enter);
    await term.waitFor('Store the database password');
    term.send(KEY.enter);
    const code = await w.done;
    const screen = term.text();
    assert.equal(code, 0, screen);
    assert.ok((await appliedCount(database))! >= 5, 'every migration applied');
    assert.match(screen, new RegExp(`npx chatgenius-db init --env development --database-url postgres://postgres@127\\.0\\.0\\.1:${db.port}/${database} --no-tunnel --yes`));
    assert.ok(!screen.includes(db.password), 'the password never appears on the screen');
    const saved = join(w.cwd, '.env.development.local');
    assert.equal((await stat(saved)).mode & 0o777, 0o600);
    const text = await readFile(saved, 'utf8');
    assert.match(text, new RegExp(`DATABASE_URL=postgres://postgres@127\\.0\\.0\\.1:${db.port}/${database}`));
    assert.ok(!text.includes(db.password), 'the password is saved only when asked');
    await rm(w.cwd, { recursive: true, force: true });
  });
});
