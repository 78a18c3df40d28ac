/**
 * The guided init, driven through clack's input/output streams (a PassThrough keyboard, a
 * recording screen) against a real PostgreSQL and the in-process ssh2 server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { makeUserKey, startSshServer, type TestSshServer } from './helpers/ssh-server.js';
import { KEY, streamTerminal, type StreamTerminal } from './helpers/pty.js';
import { freePort } from './helpers/ports.js';
import { runCli } from './helpers/cli.js';
import type { CommandContext, Flags } from '../src/cli/command.js';
import { reporterFor } from '../src/cli/output/reporter.js';
import { SQL_MIGRATION_COUNT } from './helpers/schema.js';

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
export async function startWizard(kind: 'init' | 'rollback', o: { env?: Record<string, string | undefined>; flags?: Flags; cwd?: string } = {}): Promise<Run> {
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
  return { ...db.env(database), CHATGENIUS_MAX_RETRIES: '1', ...over };
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
    await term.waitFor('Where should the database password be kept');
    term.send(KEY.enter); // in .env.development.local, preselected: the next command must work as printed
    const code = await w.done;
    const screen = term.text();
    assert.equal(code, 0, screen);
    assert.ok((await appliedCount(database))! >= 5, 'every migration applied');
    assert.match(
      screen,
      new RegExp(`npx chatgenius-db init --env development --database-url postgres://postgres@127\\.0\\.0\\.1:${db.port}/${database} --no-tunnel --yes`),
    );
    assert.ok(!screen.includes(db.password), 'the password never appears on the screen');
    const saved = join(w.cwd, '.env.development.local');
    assert.equal((await stat(saved)).mode & 0o777, 0o600);
    const text = await readFile(saved, 'utf8');
    assert.match(text, new RegExp(`DATABASE_URL=postgres://postgres@127\\.0\\.0\\.1:${db.port}/${database}`));
    assert.match(text, /^POSTGRES_PASSWORD=/m, 'the password went where the person chose');
    assert.match(screen, /the password is read from \.env\.development\.local/);
    assert.doesNotMatch(screen, /with POSTGRES_PASSWORD set/);

    // The printed command works as printed, with nothing else in the environment.
    const printed = /npx chatgenius-db (init [^\n]*--yes)/.exec(screen)![1]!.split(' ');
    const direct = await runCli(printed, { cwd: w.cwd, env: { HOME: w.cwd } });
    assert.equal(direct.code, 0, direct.stderr);

    // The next run finds the saved settings, the password included.
    const again = await startWizard('init', { cwd: w.cwd, env: { CHATGENIUS_MAX_RETRIES: '1' } });
    await again.term.waitFor(/Which environment\?[\s\S]*development[^\n]*detected/);
    again.term.send(KEY.enter);
    await again.term.waitFor(/PostgreSQL host\n│  127\.0\.0\.1/);
    again.term.send(KEY.enter);
    await again.term.waitFor(new RegExp(`PostgreSQL port\\n│  ${db.port}`));
    again.term.send(KEY.enter);
    await again.term.waitFor(new RegExp(`Database name\\n│  ${database}`));
    for (const prompt of ['User', 'Password', 'behind an SSH bastion']) {
      again.term.send(KEY.enter);
      await again.term.waitFor(prompt);
    }
    again.term.send(KEY.enter);
    await again.term.waitFor(new RegExp(`Up to date: ${SQL_MIGRATION_COUNT} migrations applied, nothing to do`), 30_000);
    await again.term.waitFor('Save these settings');
    again.term.send('n');
    assert.equal(await again.done, 0, again.term.text());
    await rm(w.cwd, { recursive: true, force: true });
  });

  test('a bad port is refused at the prompt and corrected in place, without starting over', async () => {
    const database = await freshDb();
    const w = await startWizard('init', { env: pgEnv(database), flags: { env: 'development' } });
    const { term } = w;
    await term.waitFor('PostgreSQL host');
    term.send(KEY.enter);
    await term.waitFor('PostgreSQL port');
    term.send(`${KEY.clear}99999${KEY.enter}`);
    await term.waitFor(/"99999" is not a port \(1-65535\)/);
    term.send(`${KEY.clear}54x${KEY.enter}`);
    await term.waitFor(/"54x" is not a port/);
    term.send(`${KEY.clear}${db.port}${KEY.enter}`);
    await term.waitFor('Database name');
    for (const prompt of ['User', 'Password', 'behind an SSH bastion']) {
      term.send(KEY.enter);
      await term.waitFor(prompt);
    }
    term.send(KEY.enter);
    await term.waitFor(/Apply \d+ migrations\?/);
    term.send(KEY.enter);
    await term.waitFor('Save these settings');
    term.send('n');
    assert.equal(await w.done, 0, term.text());
    assert.equal(await appliedCount(database), SQL_MIGRATION_COUNT);
    // The host was asked once: the correction happened in place.
    assert.equal(term.text().match(/◆ {2}PostgreSQL host/g)?.length, 1);
    await rm(w.cwd, { recursive: true, force: true });
  });

  test('a failed connection is explained, then retried after editing the settings', async () => {
    const database = await freshDb();
    const deadPort = await freePort();
    const w = await startWizard('init', { env: pgEnv(database, { POSTGRES_PORT: String(deadPort) }), flags: { env: 'development' } });
    const { term } = w;
    for (const prompt of ['PostgreSQL host', 'PostgreSQL port', 'Database name', 'User', 'Password', 'behind an SSH bastion']) {
      await term.waitFor(prompt);
      term.send(KEY.enter);
    }
    await term.waitFor(/Why: [\s\S]*Fix: /, 30_000);
    await term.waitFor(/What now\?[\s\S]*Retry[\s\S]*Edit the settings[\s\S]*Quit/);
    assert.match(term.text(), /ECONNREFUSED|refused/i);
    term.send(KEY.enter); // "Edit the settings" is preselected
    await term.waitFor('Which environment?');
    term.send(KEY.enter);
    await term.waitFor('PostgreSQL host');
    term.send(KEY.enter);
    await term.waitFor(new RegExp(`PostgreSQL port\\n│  ${deadPort}`));
    term.send(`${KEY.clear}${db.port}${KEY.enter}`);
    for (const prompt of ['Database name', 'User', 'Password', 'behind an SSH bastion']) {
      await term.waitFor(prompt);
      term.send(KEY.enter);
    }
    await term.waitFor(/Apply \d+ migrations\?/);
    term.send(KEY.enter);
    await term.waitFor('Save these settings');
    term.send('n');
    assert.equal(await w.done, 0, term.text());
    assert.equal(await appliedCount(database), SQL_MIGRATION_COUNT);
    await rm(w.cwd, { recursive: true, force: true });
  });

  test('init development through an SSH bastion: encrypted key, passphrase checked, new host key fingerprint shown and confirmed', async () => {
    const database = await freshDb();
    // The database as seen from the bastion; no SSH settings anywhere yet.
    const w = await startWizard('init', { env: pgEnv(database), flags: { env: 'development' } });
    const { term } = w;
    for (const prompt of ['PostgreSQL host', 'PostgreSQL port', 'Database name', 'User', 'Password']) {
      await term.waitFor(prompt);
      term.send(KEY.enter);
    }
    await term.waitFor('behind an SSH bastion');
    term.send('y');
    await term.waitFor('SSH host');
    term.send(`${ssh.host}${KEY.enter}`);
    await term.waitFor('SSH port');
    term.send(`${KEY.clear}${ssh.port}${KEY.enter}`);
    await term.waitFor('SSH user');
    term.send(`tunnel${KEY.enter}`);
    await term.waitFor('Private key file');
    term.send(`${KEY.clear}${join(home, 'nope')}${KEY.enter}`);
    await term.waitFor(/nope does not exist/);
    term.send(`${KEY.clear}${keyPath}.pub${KEY.enter}`);
    await term.waitFor(/does not exist/); // no .pub written: still refused in place
    term.send(`${KEY.clear}${keyPath}${KEY.enter}`);
    await term.waitFor('it is encrypted');
    term.send(`wrong-passphrase${KEY.enter}`);
    await term.waitFor(/passphrase[^\n]*wrong|wrong[^\n]*passphrase/i);
    await term.waitFor('it is encrypted');
    term.send(`${PASSPHRASE}${KEY.enter}`);
    await term.waitFor('New SSH host key', 30_000);
    await term.waitFor(ssh.hostKey.fingerprint);
    await term.waitFor(/Trust SHA256:\S+ and connect\?/);
    term.send('y');
    await term.waitFor(/Connected to postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/\w+ via ssh tunnel@127\.0\.0\.1/, 30_000);
    await term.waitFor(/Apply \d+ migrations\?/);
    term.send(KEY.enter);
    await term.waitFor('Save these settings', 30_000);
    term.send('n');
    const code = await w.done;
    const screen = term.text();
    assert.equal(code, 0, screen);
    assert.equal(await appliedCount(database), SQL_MIGRATION_COUNT);
    assert.ok(!screen.includes(PASSPHRASE), 'the passphrase never appears');
    assert.ok(!screen.includes(db.password), 'the password never appears');
    assert.match(screen, new RegExp(`--ssh-host 127\\.0\\.0\\.1 --ssh-port ${ssh.port} --ssh-user tunnel --ssh-key ${keyPath.replace(/[.]/g, '\\.')} --yes`));
    assert.match(screen, /SSH_PASSPHRASE/);
    const known = await readFile(join(w.cwd, '.chatgenius', 'known_hosts'), 'utf8');
    assert.ok(known.trim().length > 0, 'the accepted host key is remembered');
    assert.equal(await ssh.waitForNoConnections(5000), true, 'the tunnel is closed at the end');
    await rm(w.cwd, { recursive: true, force: true });
  });

  test('production asks to type the database name: a wrong name is refused and asked again', async () => {
    const database = await freshDb();
    const w = await startWizard('init', { env: pgEnv(database), flags: { env: 'production' } });
    const { term } = w;
    for (const prompt of ['PostgreSQL host', 'PostgreSQL port', 'Database name', 'User', 'Password', 'behind an SSH bastion']) {
      await term.waitFor(prompt);
      term.send(KEY.enter);
    }
    await term.waitFor(`Type the database name (${database})`);
    term.send(`chatgenius${KEY.enter}`);
    await term.waitFor(`"chatgenius" is not ${database}`);
    assert.equal(await appliedCount(database), null, 'nothing ran on a wrong name');
    term.send(`${KEY.clear}${database}${KEY.enter}`);
    await term.waitFor('Save these settings', 30_000);
    term.send('n');
    const code = await w.done;
    assert.equal(code, 0, term.text());
    assert.equal(await appliedCount(database), SQL_MIGRATION_COUNT);
    assert.match(term.text(), new RegExp(`--env production .* --yes --confirm-database ${database}`));
    await rm(w.cwd, { recursive: true, force: true });
  });
});
