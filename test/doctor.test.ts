import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestPostgres } from './helpers/pg.js';
import { startBastion, type Bastion } from './helpers/bastion.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { makeUserKey, startSshServer, type TestSshServer } from './helpers/ssh-server.js';

let world: Bastion;
let db: TestPostgres;
let ssh: TestSshServer;
let dir: string;
let keyPath: string;
let knownHosts: string;

before(async () => {
  world = await startBastion('cgdb-doctor-');
  ({ db, ssh, dir, keyPath } = world);
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${ssh.port} ${ssh.hostKey.public}\n`, { mode: 0o600 });
});

after(async () => {
  await world?.close();
});

function doctor(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(['doctor', '--env', 'development', ...args], { cwd: dir, env: { HOME: dir, CI: 'true', ...env } });
}

/** The env of a setup that reaches PostgreSQL through the SSH server. */
function tunnelEnv(over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return world.env({ HOME: undefined, SSH_HOST: '127.0.0.1', SSH_KNOWN_HOSTS: knownHosts, ...over });
}

/** The line of one check (its mark, title, summary) and the lines under it up to the next check. */
function block(out: string, title: string): string {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => /^[✔✖▲–] /.test(l) && l.slice(2).startsWith(title));
  assert.ok(i >= 0, `no line for "${title}" in:\n${out}`);
  const rest = lines.slice(i + 1);
  const end = rest.findIndex((l) => /^[✔✖▲–] /.test(l) || l === '');
  return [lines[i]!, ...rest.slice(0, end < 0 ? rest.length : end)].join('\n');
}

const ALL_TITLES = [
  'Env files',
  'Configuration',
  'SSH key file',
  'SSH server reachable',
  'SSH host key known',
  'SSH authentication',
  'SSH port forwarding',
  'PostgreSQL reachable',
  'PostgreSQL authentication',
  'Server version >= 14',
  'Extensions available',
  'CREATE privilege',
  'Migration journal',
  'No transaction-mode pooler',
  'Migration lock',
  'Real-time',
];

test('doctor on a healthy setup through an SSH tunnel passes every link and exits 0', async () => {
  const r = await doctor([], tunnelEnv());
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const title of ALL_TITLES) assert.match(block(r.stdout, title), /^✔ /, `${title} passes:\n${r.stdout}`);
  assert.match(block(r.stdout, 'SSH host key known'), new RegExp(ssh.hostKey.fingerprint.replace(/[+/]/g, '\\$&')));
  assert.match(block(r.stdout, 'PostgreSQL reachable'), /\(\d+ ms\)/);
  assert.match(block(r.stdout, 'Server version >= 14'), /PostgreSQL 1\d/);
  assert.match(block(r.stdout, 'Env files'), /POSTGRES_PASSWORD=\*\*\*\*/);
  assert.ok(!(r.stdout + r.stderr).includes(db.password), 'never the password');
  assert.match(r.stdout, /16 passed, 0 warnings, 0 failed, 0 skipped/);
  // This server runs with wal_level=replica: notify mode passes, and says what logical mode would need.
  assert.match(block(r.stdout, 'Real-time'), /notify mode; logical mode would need: wal_level = replica/);
});

test('doctor --json prints one LogFormat line per check and a result line, nothing else on stdout', async () => {
  const r = await doctor(['--json', '--database-url', db.url]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { timestamp: string; correlationId: string; level: string; event: string; data: Record<string, unknown> });
  const checks = lines.filter((l) => l.event === 'doctor_check');
  assert.deepEqual(
    checks.map((l) => l.data.title),
    ALL_TITLES,
  );
  for (const c of checks) assert.ok(['pass', 'skip'].includes(c.data.status as string), JSON.stringify(c));
  assert.equal(checks.find((c) => c.data.id === 'ssh-host-key')!.data.status, 'skip', 'no tunnel configured');
  const last = lines.at(-1)!;
  assert.equal(last.event, 'result');
  assert.equal(last.data.ok, true);
  assert.equal(last.data.fail, 0);
  assert.equal(new Set(lines.map((l) => l.correlationId)).size, 1);
  assert.ok(!r.stdout.includes(db.password));
});

test('doctor with a wrong password names "PostgreSQL authentication" and the fix, exit 1', async () => {
  const r = await doctor(['--database-url', db.urlFor(db.database, db.user, 'not-the-password')]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(block(r.stdout, 'PostgreSQL reachable'), /^✔/);
  const b = block(r.stdout, 'PostgreSQL authentication');
  assert.match(b, /^✖/);
  assert.match(b, /28P01|password/i);
  assert.match(b, /→ .*POSTGRES_PASSWORD/);
  assert.match(block(r.stdout, 'Server version >= 14'), /^– .*skipped: "PostgreSQL authentication" failed/);
  assert.match(r.stdout, /fix "PostgreSQL authentication" first/);
  assert.ok(!r.stdout.includes('not-the-password'), 'never the password, even a wrong one');
});

test('doctor with a missing key file names "SSH key file" and the fix, exit 1', async () => {
  const missing = join(dir, 'no-such-key');
  const r = await doctor([], tunnelEnv({ SSH_KEY_PATH: missing }));
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const b = block(r.stdout, 'SSH key file');
  assert.match(b, /^✖/);
  assert.ok(b.includes(missing), b);
  assert.match(b, /→ .*SSH_KEY_PATH/);
  assert.match(block(r.stdout, 'SSH authentication'), /^– .*skipped: "SSH key file" failed/);
  assert.match(block(r.stdout, 'PostgreSQL reachable'), /^– /);
});

test('doctor with an unknown host key names "SSH host key known", shows the fingerprint, offers no credential, exit 1', async () => {
  const empty = join(dir, 'known_hosts_empty');
  writeFileSync(empty, '', { mode: 0o600 });
  const authBefore = ssh.authAttempts;
  const r = await doctor([], tunnelEnv({ SSH_KNOWN_HOSTS: empty }));
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(block(r.stdout, 'SSH server reachable'), /^✔/);
  const b = block(r.stdout, 'SSH host key known');
  assert.match(b, /^✖/);
  assert.ok(b.includes(ssh.hostKey.fingerprint), b);
  assert.match(b, /→ .*(--accept-new-host-key|SSH_HOST_FINGERPRINT)/);
  assert.equal(ssh.authAttempts, authBefore, 'doctor never authenticates to an unknown host');
});

test('doctor with an encrypted key and no passphrase, or a key others can read, says so on the "SSH key file" line', async () => {
  const enc = makeUserKey('right-passphrase');
  const encPath = join(dir, 'id_encrypted');
  writeFileSync(encPath, enc.private, { mode: 0o600 });
  const r = await doctor([], tunnelEnv({ SSH_KEY_PATH: encPath }));
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const b = block(r.stdout, 'SSH key file');
  assert.match(b, /^✖ .*encrypted/i);
  assert.match(b, /→ .*SSH_PASSPHRASE/);

  const withPass = await doctor([], tunnelEnv({ SSH_KEY_PATH: encPath, SSH_PASSPHRASE: 'wrong-passphrase' }));
  assert.match(block(withPass.stdout, 'SSH key file'), /^✖ .*passphrase/i);
  assert.ok(!(withPass.stdout + withPass.stderr).includes('wrong-passphrase'), 'never the passphrase');

  const loose = join(dir, 'id_loose');
  writeFileSync(loose, readFileSync(keyPath));
  chmodSync(loose, 0o644);
  const l = await doctor([], tunnelEnv({ SSH_KEY_PATH: loose }));
  const lb = block(l.stdout, 'SSH key file');
  assert.match(lb, /^▲ .*mode 0644/);
  assert.match(lb, /→ chmod 600 /);
});

test('doctor through a bastion that refuses forwarding names "SSH port forwarding", exit 1', async () => {
  const user = makeUserKey();
  const strict = await startSshServer({ authorizedKeys: [user.public], refuseForwarding: true });
  try {
    const k = join(dir, 'id_strict');
    writeFileSync(k, user.private, { mode: 0o600 });
    const kh = join(dir, 'known_hosts_strict');
    writeFileSync(kh, `[127.0.0.1]:${strict.port} ${strict.hostKey.public}\n`, { mode: 0o600 });
    const r = await doctor([], tunnelEnv({ SSH_PORT: String(strict.port), SSH_KEY_PATH: k, SSH_KNOWN_HOSTS: kh }));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(block(r.stdout, 'SSH authentication'), /^✔/);
    const b = block(r.stdout, 'SSH port forwarding');
    assert.match(b, /^✖/);
    assert.match(b, /→ .*(AllowTcpForwarding|forward)/i);
    assert.match(block(r.stdout, 'PostgreSQL reachable'), /^– .*skipped: "SSH port forwarding" failed/);
  } finally {
    await strict.close();
  }
});

test('doctor as a role without CREATE names "CREATE privilege" and the GRANT that fixes it, exit 1', async () => {
  const url = await db.createDatabase('nocreate');
  // The admin already created the extensions; the app role may connect and read, not create.
  await db.query('CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE EXTENSION IF NOT EXISTS "uuid-ossp"', [], 'nocreate');
  await db.query("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'; REVOKE CREATE ON SCHEMA public FROM PUBLIC");
  await db.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC', [], 'nocreate');
  assert.ok(url.endsWith('/nocreate'));
  const r = await doctor(['--database-url', db.urlFor('nocreate', 'reader', 'reader-pw')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(block(r.stdout, 'PostgreSQL authentication'), /^✔/);
  assert.match(block(r.stdout, 'Extensions available'), /^✔/);
  const b = block(r.stdout, 'CREATE privilege');
  assert.match(b, /^✖/);
  assert.match(b, /reader/);
  assert.match(b, /→ .*GRANT CREATE, USAGE ON SCHEMA "public" TO "reader"/);
  assert.match(r.stdout, /fix "CREATE privilege" first/);
});

test('doctor after init reports the journal up to date, and warns (exit 0) with the pid of a session holding the migration lock', async () => {
  const db2 = await db.createDatabase('withjournal');
  const init = await runCli(['init', '--env', 'development', '--yes', '--database-url', db2], { cwd: dir, env: { HOME: dir, CI: 'true' } });
  assert.equal(init.code, 0, init.stdout + init.stderr);
  const holder = await db.client('withjournal');
  await holder.query("select set_config('application_name', 'chatgenius-db', false)");
  const pid = (await holder.query<{ pid: number }>("select pg_backend_pid() as pid, pg_advisory_lock(hashtext(current_database()), hashtext('chatgenius-db:public'))"))
    .rows[0]!.pid;
  try {
    const r = await doctor(['--database-url', db2]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const j = block(r.stdout, 'Migration journal');
    assert.match(j, /^✔ .*up to date/);
    assert.match(j, /\((\d+) applied, 0 pending\)/);
    const l = block(r.stdout, 'Migration lock');
    assert.match(l, /^▲ /);
    assert.ok(l.includes(`session ${pid}`), l);
    assert.match(l, /pg_terminate_backend\(\d+\)/);
    assert.match(r.stdout, /1 warning, 0 failed/);
  } finally {
    await holder.query('select pg_advisory_unlock_all()');
  }
  const free = await doctor(['--database-url', db2]);
  assert.match(block(free.stdout, 'Migration lock'), /^✔ .*free/);
});

test('doctor names a failed last run, then drift, on the "Migration journal" line with the fix', async () => {
  const url = await db.createDatabase('journalstates');
  const mig = join(dir, 'journal-migrations');
  mkdirSync(mig, { recursive: true });
  writeFileSync(join(mig, '0001_things.up.sql'), 'CREATE TABLE things (n int);\n');
  writeFileSync(join(mig, '0001_things.down.sql'), 'DROP TABLE things;\n');
  writeFileSync(join(mig, '0002_broken.up.sql'), 'SELECT 1 / 0;\n');
  writeFileSync(join(mig, '0002_broken.down.sql'), 'SELECT 1;\n');
  const init = await runCli(['init', '--env', 'development', '--yes', '--database-url', url, '--migrations-dir', mig], { cwd: dir, env: { HOME: dir, CI: 'true' } });
  assert.equal(init.code, 1, init.stdout + init.stderr);

  const failed = await doctor(['--database-url', url, '--migrations-dir', mig]);
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  const f = block(failed.stdout, 'Migration journal');
  assert.match(f, /^✖ .*0002/);
  assert.match(f, /→ .*repair/);

  writeFileSync(join(mig, '0001_things.up.sql'), 'CREATE TABLE things (n bigint);\n'); // an applied file edited
  const drift = await doctor(['--database-url', url, '--migrations-dir', mig]);
  assert.equal(drift.code, 1);
  const d = block(drift.stdout, 'Migration journal');
  assert.match(d, /^✖ .*0001_things/);
  assert.match(d, /→ .*(git checkout|repair)/);
});

test('doctor --env local before the local server exists names "PostgreSQL reachable" and `local start`, exit 1', async () => {
  const project = mkdtempSync(join(dir, 'local-'));
  const r = await runCli(['doctor', '--env', 'local'], { cwd: project, env: { HOME: dir, CI: 'true' } });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(block(r.stdout, 'Configuration'), /^✔ .*env local/);
  assert.match(block(r.stdout, 'SSH key file'), /^– /);
  const b = block(r.stdout, 'PostgreSQL reachable');
  assert.match(b, /^✖ .*local PostgreSQL/);
  assert.match(b, /→ .*chatgenius-db local start/);
});

test('doctor with a bad value in the configuration names "Configuration" and the variable to fix, exit 1', async () => {
  const r = await doctor([], { POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: 'fivefour', POSTGRES_DB: 'x', POSTGRES_USER: 'u', POSTGRES_PASSWORD: 'pw-secret-1' });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(block(r.stdout, 'Env files'), /^✔ .*POSTGRES_PASSWORD=\*\*\*\*/s);
  const b = block(r.stdout, 'Configuration');
  assert.match(b, /^✖/);
  assert.match(b, /POSTGRES_PORT/);
  assert.match(block(r.stdout, 'PostgreSQL reachable'), /^– .*skipped: "Configuration" failed/);
  assert.ok(!(r.stdout + r.stderr).includes('pw-secret-1'));
});

test('doctor against a stopped database names "PostgreSQL reachable" and how to start it, exit 1', async () => {
  await db.pause();
  let r: CliResult;
  try {
    r = await doctor(['--database-url', db.url]);
  } finally {
    await db.start(); // the server is back for whatever runs next
  }
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(block(r.stdout, 'Configuration'), /^✔/);
  const b = block(r.stdout, 'PostgreSQL reachable');
  assert.match(b, /^✖/);
  assert.match(b, /ECONNREFUSED|refused/i);
  assert.ok(b.includes(String(db.port)), b);
  assert.match(b, /→ .*(Start|start)/);
  assert.match(block(r.stdout, 'PostgreSQL authentication'), /^– .*skipped: "PostgreSQL reachable" failed/);
});
