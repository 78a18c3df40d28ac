/**
 * The guided rollback through an SSH bastion (the in-process ssh2 server, which really forwards
 * TCP): the connection check, the preview of what is dropped and the rollback itself share one
 * tunnel, so a person types a passphrase, or confirms a host key, once, and the bastion sees one
 * login.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { makeUserKey, startSshServer, type TestSshServer } from './helpers/ssh-server.js';
import { KEY, streamTerminal } from './helpers/pty.js';
import type { CommandContext } from '../src/cli/command.js';
import { reporterFor } from '../src/cli/output/reporter.js';

let db: TestPostgres;
let ssh: TestSshServer;
let home: string;
const key = makeUserKey();

before(async () => {
  db = await startPostgres();
  home = await mkdtemp(join(tmpdir(), 'cgdb-rollback-tunnel-'));
  await writeFile(join(home, 'id_ed25519'), key.private, { mode: 0o600 });
  ssh = await startSshServer({ authorizedKeys: [key.public] });
});

after(async () => {
  await ssh?.close();
  await db?.stop();
  await rm(home, { recursive: true, force: true });
});

test('the rollback wizard opens the tunnel once: check, preview and rollback on one SSH login', { timeout: 90_000 }, async () => {
  const url = await db.createDatabase();
  const database = new URL(url).pathname.slice(1);
  const applied = await runCli(['init', '--env', 'development', '--yes', '--no-tunnel'], { env: { DATABASE_URL: url } });
  assert.equal(applied.code, 0, applied.stderr);
  const appliedCount = async (): Promise<number> =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM public.chatgenius_migrations WHERE status = 'applied'`, [], database)).rows[0]!.n);
  const before = await appliedCount();

  const term = streamTerminal();
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    PATH: process.env.PATH,
    NO_COLOR: '1',
    ...db.env(database),
    SSH_HOST: ssh.host,
    SSH_PORT: String(ssh.port),
    SSH_USER: 'tunnel',
    SSH_KEY_PATH: join(home, 'id_ed25519'),
  };
  const ctx: CommandContext = {
    flags: { env: 'development' },
    positionals: [],
    env,
    cwd: home,
    io: { stdin: term.stdin, stdout: term.stdout, stderr: term.stdout },
    interactive: true,
    signal: new AbortController().signal,
  };
  const { rollbackWizard } = await import('../src/cli/wizard/init.js');
  const done = rollbackWizard(ctx).catch((e: unknown) => reporterFor(ctx).fail(e));
  for (const prompt of [
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
  ]) {
    await term.waitFor(prompt);
    term.send(KEY.enter);
  }
  await term.waitFor(/Trust SHA256:\S+ and connect\?/, 30_000);
  term.send('y');
  await term.waitFor(new RegExp(`Connected to postgres://[^\\n]* via ssh tunnel@127\\.0\\.0\\.1:${ssh.port}`), 30_000);
  await term.waitFor('Roll back down to and including which migration?');
  term.send(KEY.enter);
  await term.waitFor(/Down files, in this order:/, 30_000);
  await term.waitFor('Roll back 1 migration?');
  term.send('y');
  const code = await done;
  const screen = term.text();
  assert.equal(code, 0, screen);
  assert.match(screen, /Rolled back 1 migration/);
  assert.equal(ssh.connections, 1, `SSH logins: ${ssh.connections}\n${screen}`);
  assert.equal(await ssh.waitForNoConnections(5000), true, 'the tunnel is closed at the end');
  assert.equal(await appliedCount(), before - 1);
});
