/**
 * The real binary under a real pseudo-terminal (python3's pty module): a person types through
 * `init --env local` by pressing Enter on every default, and the schema exists at the end.
 * And the other side of the rule: no prompt ever appears without a person (stdin not a TTY,
 * --yes, CI=true).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { binPath, runCli } from './helpers/cli.js';
import { KEY, spawnInPty } from './helpers/pty.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { makeUserKey, startSshServer, type TestSshServer } from './helpers/ssh-server.js';
import { startSilentServer } from './helpers/ports.js';
import { writeFile } from 'node:fs/promises';
import { SQL_MIGRATION_COUNT, sqlFiles } from './helpers/schema.js';

/** The newest migration of sql/ (what a one-step rollback picks by default). */
const NEWEST = sqlFiles('up')
  .at(-1)!
  .replace(/\.up\.sql$/, '');

let db: TestPostgres;
let ssh: TestSshServer;
let silent: Awaited<ReturnType<typeof startSilentServer>>;
let silentPort: number;
const userKey = makeUserKey();
const dirs: string[] = [];

before(async () => {
  db = await startPostgres();
  ssh = await startSshServer({ authorizedKeys: [userKey.public] });
  // A database that accepts TCP and never answers: the connecting spinner spins until Ctrl-C.
  silent = await startSilentServer();
  silentPort = silent.port;
});

after(async () => {
  const { stopLocalServer } = await import('../src/local/index.js');
  for (const d of dirs) {
    await stopLocalServer(join(d, '.chatgenius')).catch(() => {});
    await rm(d, { recursive: true, force: true });
  }
  await silent?.close();
  await ssh?.close();
  await db?.stop();
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cgdb-wizard-pty-'));
  dirs.push(d);
  return d;
}

const PROMPT_TEXT = /Which environment\?|PostgreSQL host|behind an SSH bastion|Apply \d+ migrations\?|Type the database name/;

describe('the wizard in a real terminal', () => {
  test('a person types through `init --env local` under a pty by pressing Enter, and the schema exists', { timeout: 110_000 }, async () => {
    const cwd = await tempDir();
    const p = spawnInPty(process.execPath, [binPath, 'init', '--env', 'local'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: cwd, TERM: 'xterm-256color' },
      timeoutMs: 100_000,
    });
    await p.waitFor('chatgenius-db: set up the ChatGenius database', 20_000);
    await p.waitFor(/Apply \d+ migrations\?/, 90_000);
    p.send(KEY.enter);
    await p.waitFor('All set.', 60_000);
    const code = await p.exited;
    const screen = p.text();
    assert.equal(code, 0, screen);
    assert.match(screen, /Starting the local PostgreSQL/);
    assert.match(screen, /npx chatgenius-db init --env local --yes/);

    const { ensureLocalServer } = await import('../src/local/index.js');
    const conn = await ensureLocalServer(join(cwd, '.chatgenius'));
    const client = new pg.Client({ host: conn.host, port: conn.port, user: conn.user, password: conn.password, database: conn.database });
    await client.connect();
    try {
      const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM public.chatgenius_migrations WHERE status = 'applied'`);
      assert.equal(Number(r.rows[0]!.n), SQL_MIGRATION_COUNT);
      const t = await client.query<{ t: string | null }>(`SELECT to_regclass('public.messages')::text AS t`);
      assert.equal(t.rows[0]!.t, 'messages');
    } finally {
      await client.end();
    }
  });

  test('Ctrl-C at a prompt of the real binary under a pty: "Cancelled, nothing changed", exit 130', { timeout: 60_000 }, async () => {
    const cwd = await tempDir();
    const database = new URL(await db.createDatabase()).pathname.slice(1);
    const p = spawnInPty(process.execPath, [binPath, 'init', '--env', 'development'], {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: cwd,
        TERM: 'xterm-256color',
        POSTGRES_HOST: '127.0.0.1',
        POSTGRES_PORT: String(db.port),
        POSTGRES_DB: database,
        POSTGRES_USER: db.user,
        POSTGRES_PASSWORD: db.password,
      },
    });
    await p.waitFor('PostgreSQL host', 20_000);
    p.send(KEY.ctrlC);
    const code = await p.exited;
    assert.equal(code, 130, p.text());
    assert.match(p.text(), /Cancelled, nothing changed/);
    const r = await db.query<{ t: string | null }>(`SELECT to_regclass('public.chatgenius_migrations')::text AS t`, [], database);
    assert.equal(r.rows[0]!.t, null);
  });
});

describe('the guided rollback in a real terminal', () => {
  test('`rollback` run by a person: pick the newest migration, confirm, and it is rolled back', { timeout: 60_000 }, async () => {
    const cwd = await tempDir();
    const url = await db.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const init = await runCli(['init', '--env', 'development', '--yes', '--database-url', url], { cwd, env: { HOME: cwd } });
    assert.equal(init.code, 0, init.stderr);
    const p = spawnInPty(process.execPath, [binPath, 'rollback', '--env', 'development', '--database-url', url], {
      cwd,
      env: { PATH: process.env.PATH, HOME: cwd, TERM: 'xterm-256color' },
    });
    for (const prompt of ['PostgreSQL host', 'PostgreSQL port', 'Database name', 'User', 'Password', 'behind an SSH bastion']) {
      await p.waitFor(prompt, 20_000);
      p.send(KEY.enter);
    }
    await p.waitFor(new RegExp(`which migration\\?[\\s\\S]*${NEWEST}`), 20_000);
    p.send(KEY.enter);
    await p.waitFor(new RegExp(`${NEWEST}\\.down\\.sql[\\s\\S]*No table is dropped`), 20_000);
    await p.waitFor('Roll back 1 migration?');
    p.send('y');
    const code = await p.exited;
    assert.equal(code, 0, p.text());
    assert.match(p.text(), /npx chatgenius-db rollback --steps 1 --env development/);
    assert.doesNotMatch(p.text(), new RegExp(db.password));
    const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM public.chatgenius_migrations WHERE status = 'applied'`, [], database);
    assert.equal(Number(r.rows[0]!.n), SQL_MIGRATION_COUNT - 1);
  });
});

describe('Ctrl-C during the connecting spinner of the real binary', () => {
  test("exits 130 (not clack's exit 0), closes the tunnel and changes nothing", { timeout: 60_000 }, async (t) => {
    const cwd = await tempDir();
    const keyPath = join(cwd, 'id_ed25519');
    await writeFile(keyPath, userKey.private, { mode: 0o600 });
    const p = spawnInPty(process.execPath, [binPath, 'init'], {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: cwd,
        TERM: 'xterm-256color',
        POSTGRES_HOST: '127.0.0.1',
        POSTGRES_PORT: String(silentPort),
        POSTGRES_DB: 'chatgenius',
        POSTGRES_USER: 'postgres',
        SSH_HOST: ssh.host,
        SSH_PORT: String(ssh.port),
        SSH_USER: 'tunnel',
        SSH_KEY_PATH: keyPath,
        SSH_HOST_FINGERPRINT: ssh.hostKey.fingerprint,
      },
    });
    const prompts = [
      'Which environment?',
      'PostgreSQL host',
      'PostgreSQL port',
      'Database name',
      'User',
      'Password',
      'behind an SSH bastion',
      'SSH host',
      'SSH port',
      'SSH user',
      'Private key file',
    ];
    for (const prompt of prompts) {
      await p.waitFor(prompt, 20_000);
      p.send(KEY.enter);
    }
    await p.waitFor(/Tunnel open/, 20_000);
    assert.ok(ssh.openConnections > 0, 'the tunnel is up while the spinner spins');
    const sent = Date.now();
    p.send(KEY.ctrlC);
    const code = await p.exited;
    const took = Date.now() - sent;
    assert.equal(code, 130, p.text());
    assert.match(p.text(), /Cancelled, nothing changed/);
    t.diagnostic(`exited ${took} ms after Ctrl-C`);
    assert.ok(took < 5000, `exited ${took} ms after Ctrl-C`);
    assert.equal(await ssh.waitForNoConnections(5000), true, 'the tunnel is closed');
  });
});

describe('no prompt without a person', () => {
  test('stdin not a TTY: no prompt, a clear error naming the flag and variable', async () => {
    const cwd = await tempDir();
    const r = await runCli(['init', '--env', 'development'], { cwd, env: { HOME: cwd }, timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, PROMPT_TEXT);
    assert.match(r.stderr, /--database-url/);
    assert.match(r.stderr, /DATABASE_URL/);
  });

  for (const [name, args, env] of [
    ['under --yes (in a pty)', ['--yes'], {}],
    ['with CI=true (in a pty)', [], { CI: 'true' }],
    ['under --json (in a pty)', ['--json'], {}],
  ] as const) {
    test(`${name}: no prompt, the same run as non-interactive`, { timeout: 60_000 }, async () => {
      const cwd = await tempDir();
      const database = new URL(await db.createDatabase()).pathname.slice(1);
      const p = spawnInPty(process.execPath, [binPath, 'init', '--env', 'development', ...args], {
        cwd,
        env: {
          PATH: process.env.PATH,
          HOME: cwd,
          TERM: 'xterm-256color',
          DATABASE_URL: `${db.urlFor(database)}`,
          ...env,
        },
      });
      const code = await p.exited;
      const screen = p.text();
      assert.equal(code, 0, screen);
      assert.doesNotMatch(screen, PROMPT_TEXT);
      assert.match(screen, new RegExp(`Applied ${SQL_MIGRATION_COUNT} migrations`));
    });
  }

  test('a TTY but --env production without --yes in CI: refused with exit 2, no prompt', { timeout: 60_000 }, async () => {
    const cwd = await tempDir();
    const database = new URL(await db.createDatabase()).pathname.slice(1);
    const p = spawnInPty(process.execPath, [binPath, 'init', '--env', 'production'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: cwd, TERM: 'xterm-256color', CI: 'true', DATABASE_URL: db.urlFor(database) },
    });
    const code = await p.exited;
    assert.equal(code, 2, p.text());
    assert.doesNotMatch(p.text(), PROMPT_TEXT);
    assert.match(p.text(), /--confirm-database/);
  });
});
