/**
 * `init` through an SSH tunnel, end to end: the real binary, a real in-process ssh2 server that
 * forwards TCP to a real PostgreSQL. Spawns the built binary: run `npm run build` first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { makeUserKey, startSshServer, type TestSshServer } from './helpers/ssh-server.js';

const PASSPHRASE = 'tunnel-phrase-9f3';

let pg: TestPostgres;
let ssh: TestSshServer;
let dir: string;
let keyPath: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgdb-cli-tunnel-'));
  pg = await startPostgres();
  const key = makeUserKey(PASSPHRASE);
  keyPath = join(dir, 'id_ed25519');
  await writeFile(keyPath, key.private, { mode: 0o600 });
  ssh = await startSshServer({ username: 'tunnel', authorizedKeys: [key.public] });
});

after(async () => {
  await ssh?.close();
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function env(db: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    // The database as the bastion sees it.
    DATABASE_URL: pg.urlFor(db),
    SSH_HOST: ssh.host,
    SSH_PORT: String(ssh.port),
    SSH_USER: 'tunnel',
    SSH_KEY_PATH: keyPath,
    SSH_PASSPHRASE: PASSPHRASE,
    SSH_KNOWN_HOSTS: join(dir, 'known_hosts'),
    CHATGENIUS_MAX_RETRIES: '1',
    ...extra,
  };
}

test('init --yes through an SSH tunnel with a pinned host key applies the schema and closes the tunnel', async () => {
  await pg.createDatabase('via_tunnel');
  const logFile = join(dir, 'tunnel.log');
  const forwardsBefore = ssh.forwardRequests;
  const r = await runCli(['init', '--env', 'development', '--yes', '--log-file', logFile], {
    cwd: dir,
    env: env('via_tunnel', { SSH_HOST_FINGERPRINT: ssh.hostKey.fingerprint }),
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.ok(ssh.forwardRequests > forwardsBefore, 'the connection went through the bastion');
  assert.match(r.stdout, /SSH tunnel open via 127\.0\.0\.1/);
  assert.match(r.stdout, /Applied \d+ migrations to postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/via_tunnel via ssh tunnel@127\.0\.0\.1/);
  const t = await pg.query<{ n: string }>("select count(*) as n from information_schema.tables where table_schema = 'public' and table_name = 'users'", [], 'via_tunnel');
  assert.equal(t.rows[0]!.n, '1');
  assert.ok(await ssh.waitForNoConnections(5000), 'the tunnel is closed when the CLI exits');
  const log = await readFile(logFile, 'utf8');
  for (const secret of [PASSPHRASE, pg.password]) {
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret) && !log.includes(secret), 'no secret in output or log');
  }
  assert.match(log, /"event":"tunnel_open"/);
});

test('an unknown host key under --yes is refused before any credential is offered, and nothing is applied', async () => {
  await pg.createDatabase('refused_key');
  const authBefore = ssh.authAttempts;
  const r = await runCli(['init', '--env', 'development', '--yes'], { cwd: dir, env: env('refused_key') });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /✖ .*host key/i);
  assert.match(r.stderr, /SHA256:/);
  assert.equal(ssh.authAttempts, authBefore, 'no authentication attempt reached the server');
  const t = await pg.query<{ n: string }>("select count(*) as n from information_schema.tables where table_schema = 'public'", [], 'refused_key');
  assert.equal(t.rows[0]!.n, '0');
});
