/**
 * The CLI through an SSH tunnel: the real binary (a child process) against the in-process ssh2
 * server (in this test process) forwarding to a real PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestPostgres } from './helpers/pg.js';
import { makeHostKey, makeUserKey, startSshServer, type TestSshServer } from './helpers/ssh-server.js';
import { startBastion, type Bastion } from './helpers/bastion.js';
import { binPath, runCli, type CliResult } from './helpers/cli.js';

let world: Bastion;
let db: TestPostgres;
let ssh: TestSshServer;
let dir: string;
let key: Bastion['key'];

before(async () => {
  world = await startBastion('cgdb-tunnel-cli-');
  ({ db, ssh, dir, key } = world);
});

after(async () => {
  await world?.close();
});

function env(over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return world.env(over);
}

interface LogLine {
  level: string;
  event: string;
  data?: Record<string, unknown>;
}
const lines = (r: CliResult): LogLine[] =>
  r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogLine);

/** The tunnel was closed by the command itself, and nothing is left on the bastion or the database. */
async function assertTornDown(r: CliResult): Promise<void> {
  const ev = lines(r);
  const open = ev.find((e) => e.event === 'tunnel_open');
  assert.ok(open, 'a tunnel was opened');
  assert.ok(
    ev.some((e) => e.event === 'tunnel_closed'),
    'the command closed its tunnel',
  );
  assert.ok(await ssh.waitForNoConnections(), 'no SSH connection or forwarded socket left on the bastion');
  // A backend exits a moment after its client's Terminate: poll briefly.
  let n = -1;
  for (let i = 0; i < 50 && n !== 0; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 40));
    const left = await db.query(`select count(*)::int n from pg_stat_activity where application_name like 'chatgenius%'`);
    n = left.rows[0]!.n as number;
  }
  assert.equal(n, 0, 'no session left on the database');
}

const journal = async () => (await db.query<{ version: string }>('select version from public.chatgenius_migrations order by version')).rows.map((r) => r.version);

/**
 * A fresh project directory whose .chatgenius/known_hosts already holds the bastion's current key
 * (as a previous `--accept-new-host-key` run leaves it): each test sets up its own.
 */
async function knownProject(): Promise<string> {
  const project = await mkdtemp(join(dir, 'proj-'));
  await mkdir(join(project, '.chatgenius'), { recursive: true, mode: 0o700 });
  await writeFile(join(project, '.chatgenius', 'known_hosts'), `[${ssh.host}]:${ssh.port} ${ssh.hostKey.public}\n`, { mode: 0o600 });
  return project;
}

describe('the CLI through an SSH tunnel', () => {
  test('init --yes through the tunnel applies the schema, accepting the new host key by flag', async () => {
    const project = await mkdtemp(join(dir, 'proj-'));
    const r = await runCli(['init', '--env', 'development', '--yes', '--accept-new-host-key', '--json'], { env: env(), cwd: project });
    assert.equal(r.code, 0, r.stderr);
    const result = lines(r).at(-1)!;
    assert.equal(result.event, 'result');
    assert.match(String(result.data?.target), /via ssh/);
    const tables = await db.query(`select count(*)::int n from information_schema.tables where table_schema = 'public' and table_name = any($1)`, [
      ['users', 'channels', 'messages', 'channel_members', 'reactions', 'files', 'user_settings', 'user_status', 'message_reads', 'sync_state'],
    ]);
    assert.equal(tables.rows[0]!.n, 10);
    assert.ok((await journal()).length >= 1);
    const kh = join(project, '.chatgenius', 'known_hosts');
    assert.equal((await stat(kh)).mode & 0o777, 0o600);
    assert.ok(r.stdout.includes(ssh.hostKey.fingerprint));
    await assertTornDown(r);
  });

  test('status and rollback --yes --steps 1 through it, the saved host key now known', async () => {
    const project = await knownProject();
    // Needs an applied schema: set it up unless an earlier test already did (init is idempotent).
    const hasJournal = (await db.query(`select to_regclass('public.chatgenius_migrations') is not null as j`)).rows[0]!.j as boolean;
    if (!hasJournal || (await journal()).length < 2) {
      const init = await runCli(['init', '--env', 'development', '--yes', '--json'], { env: env(), cwd: project });
      assert.equal(init.code, 0, init.stderr);
    }
    const applied = await journal();
    assert.ok(applied.length >= 2, `migrations to roll back: ${applied.join(', ')}`);
    const st = await runCli(['status', '--env', 'development', '--json'], { env: env(), cwd: project });
    assert.equal(st.code, 0, st.stderr);
    assert.ok(lines(st).some((e) => e.event === 'tunnel_hostkey' && e.data?.status === 'known'));
    await assertTornDown(st);
    const rb = await runCli(['rollback', '--env', 'development', '--yes', '--steps', '1', '--json'], { env: env(), cwd: project });
    assert.equal(rb.code, 0, rb.stderr);
    assert.deepEqual(await journal(), applied.slice(0, -1));
    await assertTornDown(rb);
    // and init again finishes the job
    const again = await runCli(['init', '--env', 'development', '--yes', '--json'], { env: env(), cwd: project });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await journal(), applied);
  });

  test('a pinned SSH_HOST_FINGERPRINT is honoured in a fresh checkout (CI), and a wrong pin refused', async () => {
    const ci = await mkdtemp(join(dir, 'ci-'));
    const ok = await runCli(['status', '--env', 'development', '--json'], { env: env({ SSH_HOST_FINGERPRINT: ssh.hostKey.fingerprint }), cwd: ci });
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(lines(ok).some((e) => e.event === 'tunnel_hostkey' && e.data?.status === 'pinned'));
    const wrong = makeHostKey().fingerprint;
    const bad = await runCli(['status', '--env', 'development'], { env: env({ SSH_HOST_FINGERPRINT: wrong }), cwd: ci });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /SSH_HOST_KEY_CHANGED/);
    assert.ok(bad.stderr.includes(wrong) && bad.stderr.includes(ssh.hostKey.fingerprint), bad.stderr);
  });

  test('an unknown host key under --yes is refused with its fingerprint and how to accept it', async () => {
    const fresh = await mkdtemp(join(dir, 'fresh-'));
    const auths = ssh.authAttempts;
    const r = await runCli(['init', '--env', 'development', '--yes'], { env: env(), cwd: fresh });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SSH_HOST_KEY_UNKNOWN/);
    assert.ok(r.stderr.includes(ssh.hostKey.fingerprint), r.stderr);
    assert.match(r.stderr, /--accept-new-host-key/);
    assert.equal(ssh.authAttempts, auths, 'no credential offered to an unverified host');
  });

  test('a wrong key passphrase is explained and never printed', async () => {
    const enc = makeUserKey('the-right-one');
    const p = join(dir, 'enc_key');
    await writeFile(p, enc.private, { mode: 0o600 });
    const secret = 'wrong-passphrase-XYZ';
    const r = await runCli(['status', '--env', 'development', '--json'], {
      env: env({ SSH_KEY_PATH: p, SSH_PASSPHRASE: secret, SSH_HOST_FINGERPRINT: ssh.hostKey.fingerprint }),
      cwd: await mkdtemp(join(dir, 'pass-')),
    });
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /SSH_KEY_BAD_PASSPHRASE/);
    assert.ok(!(r.stdout + r.stderr).includes(secret), 'the passphrase leaked');
    assert.ok(!(r.stdout + r.stderr).includes(db.password), 'the database password leaked');
  });

  test('a host key changed between two runs is refused (exit 1), and nothing is offered to the new host', async () => {
    // A project that knows the bastion's key; then the bastion is replaced by one with another
    // host key, on the same port.
    const project = await knownProject();
    const port = ssh.port;
    await ssh.close();
    ssh = world.ssh = await startSshServer({ authorizedKeys: [key.public], port, hostKey: makeHostKey() });
    const r = await runCli(['status', '--env', 'development', '--accept-new-host-key'], { env: env(), cwd: project });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SSH_HOST_KEY_CHANGED/);
    assert.ok(r.stderr.includes(ssh.hostKey.fingerprint), r.stderr);
    assert.match(r.stderr, /ssh-keygen -R/);
    assert.equal(ssh.authAttempts, 0);
    assert.ok(await ssh.waitForNoConnections());
  });

  /** A fresh database and a migrations dir whose 0002 sleeps 3 s; a child CLI running init on it. */
  async function slowInit() {
    const url = await db.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const migrations = join(dir, `slow-${database}`);
    await mkdir(migrations, { recursive: true });
    await writeFile(join(migrations, '0001_a.up.sql'), 'create table a (id int);\n');
    await writeFile(join(migrations, '0001_a.down.sql'), 'drop table a;\n');
    await writeFile(join(migrations, '0002_slow.up.sql'), 'select pg_sleep(3);\ncreate table b (id int);\n');
    await writeFile(join(migrations, '0002_slow.down.sql'), 'drop table b;\n');
    await writeFile(join(migrations, '0003_c.up.sql'), 'create table c (id int);\n');
    await writeFile(join(migrations, '0003_c.down.sql'), 'drop table c;\n');
    const e = env({ POSTGRES_DB: database, SSH_HOST_FINGERPRINT: ssh.hostKey.fingerprint });
    const args = ['init', '--env', 'development', '--yes', '--migrations-dir', migrations];
    const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '', NO_COLOR: '1' };
    for (const [k, v] of Object.entries(e)) if (v !== undefined) childEnv[k] = v;
    const project = await mkdtemp(join(dir, 'slow-proj-'));
    const child = spawn(process.execPath, [binPath, ...args], { cwd: project, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { text: '' };
    child.stderr.on('data', (d) => (out.text += d));
    child.stdout.on('data', (d) => (out.text += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Wait until the slow migration runs.
    let sleeping = false;
    let done = false;
    void exited.then(() => (done = true));
    for (let i = 0; i < 400 && !sleeping && !done; i++) {
      const r = await db.query(`select count(*)::int n from pg_stat_activity where wait_event = 'PgSleep' and datname = $1`, [database]);
      sleeping = r.rows[0]!.n > 0;
      if (!sleeping) await new Promise((r2) => setTimeout(r2, 25));
    }
    assert.ok(sleeping, `the slow migration started (exited: ${done}): ${out.text}`);
    const versions = async () =>
      (await db.query<{ version: string }>('select version from public.chatgenius_migrations order by version', [], database)).rows.map((r) => r.version);
    /** b exists exactly when 0002 is recorded: the database is at a migration boundary. */
    const assertBoundary = async () => {
      const v = await versions();
      assert.ok(!v.includes('0003'), 'the run did not finish');
      const b = await db.query(`select to_regclass('public.b') is not null as b`, [], database);
      assert.equal(b.rows[0]!.b, v.includes('0002'));
    };
    return { child, out, exited, versions, assertBoundary, args, env: e, project };
  }

  test('a tunnel that drops mid-run fails the run with an explanation, at a migration boundary; the next run finishes', async () => {
    const run = await slowInit();
    const t0 = Date.now();
    ssh.dropAll();
    const code = await run.exited;
    assert.equal(code, 1, run.out.text);
    assert.ok(Date.now() - t0 < 2500, `the run ended ${Date.now() - t0} ms after the drop`);
    assert.match(run.out.text, /SSH tunnel .*dropped/, 'the drop is reported');
    // The final error is the drop (not its symptom, a "SQL error" on the lost connection) ...
    assert.match(run.out.text, /SSH tunnel dropped \(SSH_TUNNEL_DROPPED\)/, run.out.text);
    assert.match(run.out.text, /during migration 0002_slow: it was rolled back/);
    assert.match(run.out.text, /migration boundary: run the same command again to finish/);
    assert.doesNotMatch(run.out.text, /MIGRATION_SQL_ERROR|Fix the statement/);
    // ... and the tunnel's closing is told once.
    assert.equal(run.out.text.match(/SSH tunnel to \S+ closed:/g)?.length, 1, run.out.text);
    await run.assertBoundary();
    const again = await runCli(run.args, { env: run.env, cwd: run.project, timeoutMs: 30_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await run.versions(), ['0001', '0002', '0003']);
  });

  test('Ctrl-C during a run closes the tunnel: exit 130, nothing left on the bastion, a boundary kept', async () => {
    const run = await slowInit();
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const code = await run.exited;
    assert.equal(code, 130, run.out.text);
    assert.ok(Date.now() - t0 < 2500, `the run ended ${Date.now() - t0} ms after Ctrl-C`);
    assert.ok(await ssh.waitForNoConnections(), 'no SSH connection or forwarded socket left on the bastion');
    await run.assertBoundary();
    const again = await runCli(run.args, { env: run.env, cwd: run.project, timeoutMs: 30_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await run.versions(), ['0001', '0002', '0003']);
  });
});
