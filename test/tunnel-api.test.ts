/**
 * The feature spec's SSHTunnel API (initializeFromEnv / connect / getInstance / disconnect /
 * resetInstance, SSHTunnelError with code) against a real ssh2 server and a real PostgreSQL.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import type { TestPostgres } from './helpers/pg.js';
import { makeUserKey, type TestSshServer } from './helpers/ssh-server.js';
import { startBastion, type Bastion } from './helpers/bastion.js';
import { freePort } from './helpers/ports.js';
import { SSHTunnelError, inspectKey } from '../src/tunnel/index.js';
import { SSHTunnel, activeTunnel } from '../src/library/index.js';

let world: Bastion;
let db: TestPostgres;
let ssh: TestSshServer;
let dir: string;
let keyPath: string;
let key: Bastion['key'];

before(async () => {
  world = await startBastion('cgdb-tunnel-api-');
  ({ db, ssh, dir, keyPath, key } = world);
});

afterEach(async () => {
  try {
    await SSHTunnel.getInstance().disconnect();
  } catch {
    /* not initialised */
  }
  SSHTunnel.resetInstance();
});

after(async () => {
  await world?.close();
});

function env(over: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return world.env({ CHATGENIUS_ENV: 'development', SSH_HOST_FINGERPRINT: ssh.hostKey.fingerprint, ...over });
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

describe('SSHTunnel, the spec API', () => {
  test('initializeFromEnv + connect opens a tunnel the pool can use, disconnect releases it', async () => {
    const tunnel = SSHTunnel.initializeFromEnv(env(), { cwd: dir });
    assert.equal(SSHTunnel.getInstance(), tunnel);
    assert.equal(tunnel.enabled, true);
    const port = await tunnel.connect();
    assert.notEqual(port, 5432, 'a random local port, not the spec hard-coded 5432');
    assert.equal(await tunnel.connect(), port, 'connect() twice reuses the tunnel');
    assert.deepEqual(activeTunnel(), { host: '127.0.0.1', port, remote: { host: '127.0.0.1', port: db.port } });
    const c = new pg.Client(tunnel.connectionConfig());
    await c.connect();
    assert.equal((await c.query('select current_database() as d')).rows[0].d, db.database);
    await c.end();
    await SSHTunnel.getInstance().disconnect();
    SSHTunnel.resetInstance();
    assert.equal(activeTunnel(), null);
    assert.ok(await portRefuses(port));
    assert.ok(await ssh.waitForNoConnections());
    assert.throws(
      () => SSHTunnel.getInstance(),
      (e: unknown) => e instanceof SSHTunnelError && e.code === 'SSH_CONFIG_MISSING',
    );
  });

  test("the spec's main(): initializeFromEnv, connect, setupDatabase through the tunnel, disconnect, resetInstance", async () => {
    const { setupDatabase, closePool } = await import('../src/library/index.js');
    const url = await db.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const e = env({ POSTGRES_DB: database });
    const forwardsBefore = ssh.forwardRequests;
    const tunnel = SSHTunnel.initializeFromEnv(e, { cwd: dir });
    try {
      await tunnel.connect();
      const { pool } = await setupDatabase({ env: e, cwd: dir });
      try {
        const r = await pool.query(`select count(*)::int n from information_schema.tables where table_schema = 'public' and table_name = 'users'`);
        assert.equal(r.rows[0].n, 1, 'the schema was applied');
        // The forward probe accounts for one request; every pg connection after the first asks for its own.
        assert.ok(ssh.forwardRequests - forwardsBefore >= 2, 'the pool went through the tunnel');
      } finally {
        await closePool(pool);
      }
    } finally {
      await SSHTunnel.getInstance().disconnect();
      SSHTunnel.resetInstance();
    }
    assert.ok(await ssh.waitForNoConnections(), 'nothing left on the bastion');
  });

  test('the spec error codes stay recognisable: ECONNREFUSED and ENOENT as syscallCode', async () => {
    const closed = await freePort();
    const t1 = SSHTunnel.initializeFromEnv(env({ SSH_PORT: String(closed) }), { cwd: dir, retry: { maxRetries: 1, retryDelayMs: 10 } });
    await assert.rejects(t1.connect(), (e: unknown) => {
      assert.ok(e instanceof SSHTunnelError);
      assert.equal(e.code, 'SSH_CONNECTION_REFUSED');
      assert.equal(e.syscallCode, 'ECONNREFUSED');
      return true;
    });
    SSHTunnel.resetInstance();
    const t2 = SSHTunnel.initializeFromEnv(env({ SSH_KEY_PATH: join(dir, 'missing') }), { cwd: dir });
    await assert.rejects(t2.connect(), (e: unknown) => {
      assert.ok(e instanceof SSHTunnelError);
      assert.equal(e.code, 'SSH_KEY_NOT_FOUND');
      assert.equal(e.syscallCode, 'ENOENT');
      return true;
    });
  });

  test('without SSH_HOST the instance is disabled and connects directly', async () => {
    const t = SSHTunnel.initializeFromEnv(env({ SSH_HOST: undefined }), { cwd: dir });
    assert.equal(t.enabled, false);
    assert.equal(await t.connect(), db.port);
    assert.equal(t.connectionConfig().port, db.port);
  });

  test('the retry policy of the environment applies: a refused bastion is tried maxRetries times', async () => {
    const closed = await freePort();
    const events: string[] = [];
    const t = SSHTunnel.initializeFromEnv(env({ SSH_PORT: String(closed) }), {
      cwd: dir,
      retry: { maxRetries: 3, retryDelayMs: 20 },
      emit: (e) => events.push(e.type),
    });
    await assert.rejects(t.connect());
    assert.equal(events.filter((e) => e === 'tunnel:connecting').length, 3);
    assert.equal(events.filter((e) => e === 'retry').length, 2);
  });
});

describe('inspectKey, for doctor and the wizard', () => {
  test('reports type, encryption, fingerprint and mode without the passphrase', async () => {
    const info = await inspectKey(keyPath);
    assert.equal(info.type, 'ssh-ed25519');
    assert.equal(info.encrypted, false);
    assert.equal(info.mode, 0o600);
    const blob = Buffer.from(key.public.split(' ')[1]!, 'base64');
    const { createHash } = await import('node:crypto');
    assert.equal(info.fingerprint, 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, ''));
    const enc = makeUserKey('s3cret-phrase');
    const encPath = join(dir, 'enc');
    await writeFile(encPath, enc.private, { mode: 0o644 });
    const locked = await inspectKey(encPath);
    assert.equal(locked.encrypted, true);
    assert.equal(locked.type, 'ssh-ed25519');
    assert.equal(locked.mode, 0o644);
    const unlocked = await inspectKey(encPath, 's3cret-phrase');
    assert.equal(unlocked.encrypted, true);
    assert.equal(unlocked.fingerprint, locked.fingerprint, 'the fingerprint is readable without the passphrase');
    await assert.rejects(inspectKey(encPath, 'wrong'), (e: unknown) => e instanceof SSHTunnelError && e.code === 'SSH_KEY_BAD_PASSPHRASE');
  });
});
