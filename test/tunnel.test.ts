/**
 * The SSH tunnel against a real in-process ssh2 server that really forwards TCP, to a real
 * PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { makeHostKey, makeUserKey, startSshServer, type TestSshServer } from './helpers/ssh-server.js';
import { freePort } from './helpers/ports.js';
import { openTunnel } from '../src/tunnel/index.js';
import { hashHostName } from '../src/tunnel/known-hosts.js';
import { explain } from '../src/explain/index.js';
import type { TunnelConfig } from '../src/config/types.js';
import type { ChatgeniusEvent } from '../src/events.js';
import { ChatgeniusError } from '../src/errors.js';

let db: TestPostgres;
let dir: string;
const user = makeUserKey();
const PASSPHRASE = 'correct-horse-battery';
const encUser = makeUserKey(PASSPHRASE);
let keyPath: string;
let encKeyPath: string;
let ssh: TestSshServer;

before(async () => {
  db = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), 'cgdb-tunnel-'));
  keyPath = join(dir, 'id_ed25519');
  encKeyPath = join(dir, 'id_enc');
  await writeFile(keyPath, user.private, { mode: 0o600 });
  await writeFile(encKeyPath, encUser.private, { mode: 0o600 });
  ssh = await startSshServer({ authorizedKeys: [user.public, encUser.public] });
});

after(async () => {
  await ssh?.close();
  await db?.stop();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
/** A config for the shared server, its fingerprint pinned unless overridden. */
function cfgFor(server: TestSshServer, over: Partial<TunnelConfig> = {}): TunnelConfig {
  n++;
  return {
    host: server.host,
    port: server.port,
    username: 'tunnel',
    keyPath,
    knownHostsPath: join(dir, `kh-user-${n}`),
    projectKnownHostsPath: join(dir, `proj-${n}`, '.chatgenius', 'known_hosts'),
    hostFingerprint: server.hostKey.fingerprint,
    acceptNewHostKey: false,
    keepaliveIntervalMs: 5000,
    readyTimeoutMs: 5000,
    ...over,
  };
}

const remote = () => ({ host: '127.0.0.1', port: db.port });

async function pgThrough(localPort: number): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: localPort, user: db.user, password: db.password, database: db.database });
  c.on('error', () => {});
  await c.connect();
  return c;
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

async function failure(p: Promise<unknown>): Promise<ChatgeniusError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ChatgeniusError, `expected a ChatgeniusError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the tunnel to fail');
}

function assertExplained(err: ChatgeniusError, code: string): void {
  assert.equal(err.code, code);
  const ex = explain(err);
  assert.equal(ex.code, code);
  assert.notEqual(ex.title, 'Something went wrong', `explain() has no row for ${code}`);
  const all = `${err.message}\n${ex.title}\n${ex.cause}\n${ex.hint}\n${JSON.stringify(err.details)}`;
  assert.ok(!all.includes(PASSPHRASE), 'the passphrase leaked');
  for (const k of [user.private, encUser.private]) {
    const body = k.split('\n')[2]!; // a line of the key's base64 body
    assert.ok(body.length > 20 && !all.includes(body), 'key content leaked');
  }
}

describe('a tunnel to a real PostgreSQL', () => {
  test('openTunnel forwards a pg session through the bastion, and close() releases the port and the SSH connection', async () => {
    const events: ChatgeniusEvent[] = [];
    const before = ssh.connections;
    const t = await openTunnel(cfgFor(ssh), remote(), { emit: (e) => events.push(e) });
    assert.equal(t.localHost, '127.0.0.1');
    assert.ok(t.localPort > 0);
    const c = await pgThrough(t.localPort);
    const r = await c.query('select 1 as one, inet_client_addr()::text as addr');
    assert.equal(r.rows[0].one, 1);
    assert.ok(ssh.openForwards >= 1, 'the bastion holds the forwarded connection');
    await c.end();
    // The session's forwarded connection is torn down on both ends while the tunnel stays up
    // (no half-open socket left in CLOSE_WAIT).
    for (let i = 0; i < 100 && ssh.openForwards > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(ssh.openForwards, 0, 'the bastion closed its connection to PostgreSQL');
    assert.equal(ssh.openConnections, 1, 'the SSH connection itself is still open');
    assert.equal(ssh.connections, before + 1, 'one SSH connection for the tunnel');
    assert.ok(events.some((e) => e.type === 'tunnel:hostkey' && e.status === 'pinned'));
    assert.ok(events.some((e) => e.type === 'tunnel:open' && e.localPort === t.localPort));
    await t.close();
    await t.close(); // idempotent
    assert.ok(await portRefuses(t.localPort), 'the local port is released');
    assert.ok(await ssh.waitForNoConnections(), 'the server sees the SSH connection end');
    assert.ok(events.some((e) => e.type === 'tunnel:closed'));
  });

  test('two pg sessions share one tunnel', async () => {
    const t = await openTunnel(cfgFor(ssh), remote());
    try {
      const [a, b] = await Promise.all([pgThrough(t.localPort), pgThrough(t.localPort)]);
      const [ra, rb] = await Promise.all([a.query('select pg_backend_pid() p'), b.query('select pg_backend_pid() p')]);
      assert.notEqual(ra.rows[0].p, rb.rows[0].p);
      await Promise.all([a.end(), b.end()]);
    } finally {
      await t.close();
    }
  });

  test('an aborted signal closes the tunnel', async () => {
    const ac = new AbortController();
    const events: ChatgeniusEvent[] = [];
    const t = await openTunnel(cfgFor(ssh), remote(), { signal: ac.signal, emit: (e) => events.push(e) });
    try {
      assert.equal(await portRefuses(t.localPort), false, 'the tunnel is open before the abort');
      ac.abort();
      // Only the signal may close it here: t.close() is not called until the checks are done.
      let refused = false;
      for (let i = 0; i < 100 && !(refused = await portRefuses(t.localPort)); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(refused, 'the abort released the local port');
      assert.ok(await ssh.waitForNoConnections(), 'the abort ended the SSH connection');
      assert.ok(
        events.some((e) => e.type === 'tunnel:closed'),
        'the abort closed the tunnel',
      );
    } finally {
      await t.close();
    }
  });

  test('an encrypted key with its passphrase logs in', async () => {
    const t = await openTunnel(cfgFor(ssh, { keyPath: encKeyPath, passphrase: PASSPHRASE }), remote());
    const c = await pgThrough(t.localPort);
    assert.equal((await c.query('select 2 as two')).rows[0].two, 2);
    await c.end();
    await t.close();
  });
});

describe('ssh-agent', () => {
  test('with no key configured, the agent behind SSH_AUTH_SOCK logs in', async () => {
    const sock = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await stat(sock);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      execFileSync('ssh-add', [keyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const before = ssh.authAttempts;
      const t = await openTunnel(cfgFor(ssh, { keyPath: undefined, agentSocket: sock }), remote());
      const c = await pgThrough(t.localPort);
      assert.equal((await c.query('select 3 as three')).rows[0].three, 3);
      await c.end();
      await t.close();
      assert.ok(ssh.authAttempts > before);
    } finally {
      agent.kill();
    }
  });

  test('an agent socket that does not exist, and no key nor agent at all, are explained', async () => {
    const missing = await failure(openTunnel(cfgFor(ssh, { keyPath: undefined, agentSocket: join(dir, 'no-agent.sock') }), remote()));
    assertExplained(missing, 'SSH_AGENT_UNAVAILABLE');
    const none = await failure(openTunnel(cfgFor(ssh, { keyPath: undefined }), remote()));
    assertExplained(none, 'SSH_NO_AUTH_METHOD');
    assert.match(explain(none).hint, /SSH_KEY_PATH/);
  });
});

describe('host keys are verified before authentication', () => {
  test('an unknown host key is refused without --accept-new-host-key, with its fingerprint and the ways to accept it', async () => {
    const events: ChatgeniusEvent[] = [];
    const auths = ssh.authAttempts;
    const err = await failure(openTunnel(cfgFor(ssh, { hostFingerprint: undefined }), remote(), { emit: (e) => events.push(e) }));
    assert.equal(ssh.authAttempts, auths, 'no credential was offered before the host key was trusted');
    assertExplained(err, 'SSH_HOST_KEY_UNKNOWN');
    const ex = explain(err);
    assert.match(`${ex.cause} ${ex.hint}`, new RegExp(ssh.hostKey.fingerprint.replace(/[+/]/g, '\\$&')));
    assert.match(ex.hint, /--accept-new-host-key/);
    assert.match(ex.hint, /SSH_HOST_FINGERPRINT/);
    assert.ok(events.some((e) => e.type === 'tunnel:hostkey' && e.status === 'unknown'));
  });

  test('an accepted new key is written to the project known_hosts (0600, dir 0700) and known on the next run', async () => {
    const cfg = cfgFor(ssh, { hostFingerprint: undefined, acceptNewHostKey: true });
    const t = await openTunnel(cfg, remote());
    await t.close();
    const st = await stat(cfg.projectKnownHostsPath);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal((await stat(join(cfg.projectKnownHostsPath, '..'))).mode & 0o777, 0o700);
    const text = await readFile(cfg.projectKnownHostsPath, 'utf8');
    assert.ok(text.startsWith(`[127.0.0.1]:${ssh.port} ssh-ed25519 `), text);
    const events: ChatgeniusEvent[] = [];
    const t2 = await openTunnel({ ...cfg, acceptNewHostKey: false }, remote(), { emit: (e) => events.push(e) });
    await t2.close();
    assert.ok(events.some((e) => e.type === 'tunnel:hostkey' && e.status === 'known'));
  });

  test('the wizard hook is asked about an unknown key; a no refuses, a yes accepts', async () => {
    const asked: string[] = [];
    const cfg = cfgFor(ssh, { hostFingerprint: undefined });
    const no = await failure(openTunnel(cfg, remote(), { confirmHostKey: async (i) => (asked.push(i.fingerprint), false) }));
    assert.equal(no.code, 'SSH_HOST_KEY_UNKNOWN');
    const t = await openTunnel(cfg, remote(), { confirmHostKey: async (i) => (asked.push(i.fingerprint), true) });
    await t.close();
    assert.deepEqual(asked, [ssh.hostKey.fingerprint, ssh.hostKey.fingerprint]);
  });

  test('the time a person takes to answer the host key prompt does not count against readyTimeout', async () => {
    // The answer takes twice the ready timeout; the timeout is still generous for the handshake
    // itself on a loaded machine.
    const cfg = cfgFor(ssh, { hostFingerprint: undefined, readyTimeoutMs: 2000 });
    let asked = 0;
    const slowYes = async () => {
      asked++;
      await new Promise((r) => setTimeout(r, 4000));
      return true;
    };
    const events: ChatgeniusEvent[] = [];
    const t0 = Date.now();
    const t = await openTunnel(cfg, remote(), { confirmHostKey: slowYes, emit: (e) => events.push(e) });
    await t.close();
    assert.equal(asked, 1, 'the host key prompt ran once');
    assert.ok(Date.now() - t0 >= 4000, 'the tunnel waited for the answer');
    assert.ok(
      events.some((e) => e.type === 'tunnel:hostkey' && e.status === 'new-accepted'),
      'the unknown key was accepted by the answer',
    );
  });

  test('hashed known_hosts entries and [host]:port entries are matched', async () => {
    const hashedFile = join(dir, 'kh-hashed');
    await writeFile(hashedFile, `# comment\n${hashHostName(`[127.0.0.1]:${ssh.port}`)} ${ssh.hostKey.public}\n`);
    const t = await openTunnel(cfgFor(ssh, { hostFingerprint: undefined, knownHostsPath: hashedFile }), remote());
    await t.close();
    const plainFile = join(dir, 'kh-plain');
    await writeFile(plainFile, `otherhost,[127.0.0.1]:${ssh.port} ${ssh.hostKey.public}\n`);
    const t2 = await openTunnel(cfgFor(ssh, { hostFingerprint: undefined, knownHostsPath: plainFile }), remote());
    await t2.close();
    // The same key recorded for port 22 only does not vouch for another port.
    const port22 = join(dir, 'kh-22');
    await writeFile(port22, `127.0.0.1 ${ssh.hostKey.public}\n`);
    const err = await failure(openTunnel(cfgFor(ssh, { hostFingerprint: undefined, knownHostsPath: port22 }), remote()));
    assert.equal(err.code, 'SSH_HOST_KEY_UNKNOWN');
  });

  test('a changed host key is refused, even with --accept-new-host-key, and no key is offered to it', async () => {
    const other = makeHostKey();
    const file = join(dir, 'kh-changed');
    await writeFile(file, `[127.0.0.1]:${ssh.port} ${other.public}\n`);
    const events: ChatgeniusEvent[] = [];
    const auths = ssh.authAttempts;
    const err = await failure(
      openTunnel(cfgFor(ssh, { hostFingerprint: undefined, knownHostsPath: file, acceptNewHostKey: true }), remote(), {
        emit: (e) => events.push(e),
      }),
    );
    assertExplained(err, 'SSH_HOST_KEY_CHANGED');
    const ex = explain(err);
    assert.match(ex.hint, /ssh-keygen -R/);
    assert.match(ex.cause, new RegExp(file.replace(/[.+/]/g, '\\$&')));
    assert.ok(events.some((e) => e.type === 'tunnel:hostkey' && e.status === 'changed'));
    assert.ok(!events.some((e) => e.type === 'retry'), 'a host key refusal is not retried');
    assert.equal(ssh.authAttempts, auths, 'no credential was offered to the changed host');
  });

  test('a pinned fingerprint is honoured over known_hosts, and a wrong pin is refused as changed', async () => {
    const ok = await openTunnel(cfgFor(ssh, { hostFingerprint: ssh.hostKey.fingerprint + '=' }), remote());
    await ok.close();
    const wrong = makeHostKey().fingerprint;
    const err = await failure(openTunnel(cfgFor(ssh, { hostFingerprint: wrong, acceptNewHostKey: true }), remote()));
    assertExplained(err, 'SSH_HOST_KEY_CHANGED');
    assert.match(err.message, new RegExp(wrong.replace(/[+/]/g, '\\$&')));
  });

  test('a host key marked @revoked is refused', async () => {
    const file = join(dir, 'kh-revoked');
    await writeFile(file, `@revoked * ${ssh.hostKey.public}\n`);
    const err = await failure(openTunnel(cfgFor(ssh, { hostFingerprint: undefined, knownHostsPath: file, acceptNewHostKey: true }), remote()));
    assertExplained(err, 'SSH_HOST_KEY_REVOKED');
  });
});

describe('each failure is explained', () => {
  test('connection refused (nothing listens on the port)', async () => {
    const port = await freePort();
    const err = await failure(openTunnel(cfgFor(ssh, { port }), remote(), { retry: { maxRetries: 1, retryDelayMs: 10 } }));
    assertExplained(err, 'SSH_CONNECTION_REFUSED');
    assert.equal(err.details.syscallCode, 'ECONNREFUSED');
  });

  test('host not found', async () => {
    const err = await failure(openTunnel(cfgFor(ssh, { host: 'nonexistent.invalid' }), remote()));
    assertExplained(err, 'SSH_HOST_NOT_FOUND');
    assert.match(explain(err).cause, /nonexistent\.invalid/);
  });

  test('timeout: a server that accepts TCP and never speaks', async () => {
    const silent: Server = createServer((s) => s.on('error', () => {}));
    const conns = new Set<import('node:net').Socket>();
    silent.on('connection', (s) => conns.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const t0 = Date.now();
      const err = await failure(openTunnel(cfgFor(ssh, { port, readyTimeoutMs: 300 }), remote(), { retry: { maxRetries: 1, retryDelayMs: 10 } }));
      assertExplained(err, 'SSH_TIMEOUT');
      assert.ok(Date.now() - t0 < 3000, 'readyTimeout is honoured');
    } finally {
      for (const s of conns) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test('key file missing', async () => {
    const err = await failure(openTunnel(cfgFor(ssh, { keyPath: join(dir, 'no-such-key') }), remote()));
    assertExplained(err, 'SSH_KEY_NOT_FOUND');
    assert.equal(err.details.syscallCode, 'ENOENT');
    assert.match(explain(err).hint, /SSH_KEY_PATH/);
  });

  test('key file unreadable (EACCES)', async () => {
    const sub = join(dir, 'locked');
    await mkdir(sub, { recursive: true });
    await chmod(sub, 0o711);
    const locked = join(sub, 'id_locked');
    await writeFile(locked, user.private, { mode: 0o600 });
    await chmod(locked, 0o000);
    if (process.getuid?.() !== 0) {
      assertExplained(await failure(openTunnel(cfgFor(ssh, { keyPath: locked }), remote())), 'SSH_KEY_UNREADABLE');
      return;
    }
    // root reads any file: ask as an unprivileged user (nobody) in a child process.
    await chmod(dir, 0o711); // let nobody reach the probe (the keys in it stay 0600)
    const probe = join(sub, 'probe.mjs');
    const modUrl = new URL('../src/tunnel/keys.ts', import.meta.url).href;
    const explainUrl = new URL('../src/explain/index.ts', import.meta.url).href;
    await writeFile(
      probe,
      `const { loadAuth } = await import(${JSON.stringify(modUrl)});
       const { explain } = await import(${JSON.stringify(explainUrl)});
       try { await loadAuth({ keyPath: ${JSON.stringify(locked)} }); console.log('{"code":"READ"}'); }
       catch (e) { console.log(JSON.stringify({ code: e.code, title: explain(e).title, hint: explain(e).hint })); }`,
      { mode: 0o644 },
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', probe], {
      uid: 65534,
      gid: 65534,
      cwd: new URL('..', import.meta.url).pathname,
      env: { PATH: process.env.PATH, HOME: tmpdir() },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { code: string; title: string; hint: string };
    assert.equal(out.code, 'SSH_KEY_UNREADABLE');
    assert.equal(out.title, 'SSH key file cannot be read');
    assert.match(out.hint, /chmod 600/);
  });

  test('key path is a directory or not a private key (wrong format)', async () => {
    const sub = join(dir, 'a-directory');
    await mkdir(sub, { recursive: true });
    assertExplained(await failure(openTunnel(cfgFor(ssh, { keyPath: sub }), remote())), 'SSH_KEY_BAD_FORMAT');
    const junk = join(dir, 'not-a-key');
    await writeFile(junk, 'hello, I am not a key\n');
    assertExplained(await failure(openTunnel(cfgFor(ssh, { keyPath: junk }), remote())), 'SSH_KEY_BAD_FORMAT');
    const pub = join(dir, 'id.pub');
    await writeFile(pub, user.public + '\n');
    const e = await failure(openTunnel(cfgFor(ssh, { keyPath: pub }), remote()));
    assertExplained(e, 'SSH_KEY_BAD_FORMAT');
    assert.match(e.message, /public key/);
  });

  test('an encrypted key without a passphrase, and with a wrong one', async () => {
    const needs = await failure(openTunnel(cfgFor(ssh, { keyPath: encKeyPath }), remote()));
    assertExplained(needs, 'SSH_KEY_PASSPHRASE_REQUIRED');
    assert.match(explain(needs).hint, /SSH_PASSPHRASE/);
    const wrong = await failure(openTunnel(cfgFor(ssh, { keyPath: encKeyPath, passphrase: 'not-' + PASSPHRASE }), remote()));
    assertExplained(wrong, 'SSH_KEY_BAD_PASSPHRASE');
    assert.ok(!JSON.stringify(explain(wrong)).includes('not-' + PASSPHRASE));
  });

  test('authentication rejected (key not authorized) is not retried', async () => {
    const stranger = makeUserKey();
    const p = join(dir, 'stranger');
    await writeFile(p, stranger.private, { mode: 0o600 });
    const events: ChatgeniusEvent[] = [];
    const before = ssh.connections;
    const err = await failure(openTunnel(cfgFor(ssh, { keyPath: p }), remote(), { emit: (e) => events.push(e), retry: { maxRetries: 3, retryDelayMs: 10 } }));
    assertExplained(err, 'SSH_AUTH_FAILED');
    assert.equal(ssh.connections, before + 1, 'exactly one attempt');
    assert.ok(!events.some((e) => e.type === 'retry'));
  });

  test('forwarding refused by the bastion', async () => {
    const strict = await startSshServer({ authorizedKeys: [user.public], refuseForwarding: true });
    try {
      const err = await failure(openTunnel(cfgFor(strict), remote()));
      assertExplained(err, 'SSH_FORWARD_REFUSED');
      assert.ok(await strict.waitForNoConnections(), 'the SSH connection is closed after the refusal');
    } finally {
      await strict.close();
    }
  });

  test('the bastion cannot reach the database host:port', async () => {
    const closed = await freePort();
    const err = await failure(openTunnel(cfgFor(ssh), { host: '127.0.0.1', port: closed }));
    assertExplained(err, 'SSH_FORWARD_CONNECT_FAILED');
    assert.match(explain(err).cause, new RegExp(`127\\.0\\.0\\.1:${closed}`));
  });
});

describe('drops and retries', () => {
  test('a tunnel that drops mid-use fires onDrop with SSH_TUNNEL_DROPPED and a pg query fails fast', { timeout: 15_000 }, async () => {
    const own = await startSshServer({ authorizedKeys: [user.public] });
    try {
      const t = await openTunnel(cfgFor(own), remote());
      const c = await pgThrough(t.localPort);
      await c.query('select 1');
      const dropped = new Promise<Error>((resolve) => t.onDrop(resolve));
      const q = c.query('select pg_sleep(30)');
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      own.dropAll();
      const err = await dropped;
      assertExplained(err as ChatgeniusError, 'SSH_TUNNEL_DROPPED');
      await assert.rejects(q);
      assert.ok(Date.now() - t0 < 2000, `the query failed after ${Date.now() - t0} ms`);
      // Registered after the drop: still told.
      const late = await new Promise<Error>((resolve) => t.onDrop(resolve));
      assert.equal((late as ChatgeniusError).code, 'SSH_TUNNEL_DROPPED');
      assert.ok(await portRefuses(t.localPort), 'the dropped tunnel released its port');
      await t.close();
      // The backend of the cut session goes away too (client_connection_check_interval is the
      // db layer's job; here the bastion closed its socket, so PostgreSQL sees EOF).
    } finally {
      await own.close();
    }
  });

  test('keepalive notices a bastion that went silent (no FIN, no reply) and reports the drop', { timeout: 15_000 }, async () => {
    const own = await startSshServer({ authorizedKeys: [user.public] });
    try {
      const t = await openTunnel(cfgFor(own, { keepaliveIntervalMs: 150 }), remote());
      const c = await pgThrough(t.localPort);
      await c.query('select 1');
      const dropped = new Promise<Error>((resolve) => t.onDrop(resolve));
      const t0 = Date.now();
      own.freezeAll();
      const q = c.query('select 1');
      const err = (await dropped) as ChatgeniusError;
      const ms = Date.now() - t0;
      assert.equal(err.code, 'SSH_TUNNEL_DROPPED');
      assert.match(String(err.details.sshMessage), /Keepalive timeout/);
      assert.ok(ms >= 300 && ms < 3000, `noticed after ${ms} ms (keepalive 150 ms x 3)`);
      await assert.rejects(q);
      await t.close();
    } finally {
      await own.close();
    }
  });

  test('a bastion that starts listening late is reached on a later attempt', async () => {
    const port = await freePort();
    let late: TestSshServer | undefined;
    const timer = setTimeout(async () => {
      late = await startSshServer({ authorizedKeys: [user.public], port });
    }, 1500);
    const events: ChatgeniusEvent[] = [];
    try {
      const t = await openTunnel(cfgFor(ssh, { port, hostFingerprint: undefined, acceptNewHostKey: true }), remote(), {
        emit: (e) => events.push(e),
        retry: { maxRetries: 4, retryDelayMs: 500 },
      });
      const c = await pgThrough(t.localPort);
      assert.equal((await c.query('select 1 as one')).rows[0].one, 1);
      await c.end();
      await t.close();
      const attempts = events.filter((e) => e.type === 'tunnel:connecting').length;
      assert.ok(attempts >= 2, `connected on attempt ${attempts}`);
      assert.ok(events.some((e) => e.type === 'retry' && e.code === 'SSH_CONNECTION_REFUSED'));
    } finally {
      clearTimeout(timer);
      await late?.close();
    }
  });
});
