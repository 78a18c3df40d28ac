/**
 * The spec's programmatic flow, through a real in-process ssh2 server to a real PostgreSQL:
 *   const tunnel = SSHTunnel.initializeFromEnv(); await tunnel.connect(); const { pool } = await setupDatabase();
 * The pool must dial the tunnel's local port (not a hard-coded localhost:5432).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestPostgres } from './helpers/pg.js';
import type { TestSshServer } from './helpers/ssh-server.js';
import { startBastion, type Bastion } from './helpers/bastion.js';
import { SSHTunnel } from '../src/library/index.js';
import { setupDatabase, closePool, poolInfo } from '../src/library/index.js';

let world: Bastion;
let db: TestPostgres;
let ssh: TestSshServer;
let dir: string;

before(async () => {
  world = await startBastion('cgdb-db-tunnel-');
  ({ db, ssh, dir } = world);
});
after(async () => {
  await closePool();
  try {
    await SSHTunnel.getInstance().disconnect();
  } catch {
    /* not initialised */
  }
  SSHTunnel.resetInstance();
  await world?.close();
});

function env(): NodeJS.ProcessEnv {
  return world.env({ CHATGENIUS_ENV: 'development', SSH_HOST_FINGERPRINT: ssh.hostKey.fingerprint });
}

test('setupDatabase(true) after SSHTunnel.connect() routes every pooled connection through the tunnel', async () => {
  const before = ssh.forwardRequests;
  const tunnel = SSHTunnel.initializeFromEnv(env(), { cwd: dir });
  const localPort = await tunnel.connect();
  const { pool } = await setupDatabase({ isTest: true, env: env(), cwd: dir, migrate: false });
  try {
    assert.deepEqual(poolInfo(pool)?.via, { host: '127.0.0.1', port: localPort });
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    try {
      for (const c of clients) {
        const r = await c.query<{ sp: string; db: string }>(`select current_setting('search_path') as sp, current_database() as db`);
        assert.deepEqual(r.rows[0], { sp: 'test, public', db: db.database });
      }
      assert.equal(ssh.openForwards, 3, 'the three pooled connections are forwarded by the SSH server');
    } finally {
      for (const c of clients) c.release();
    }
    // The tunnel's own probe channel (reused by setupDatabase's first connection) plus three pooled ones.
    assert.ok(ssh.forwardRequests - before >= 4, `forwarded ${ssh.forwardRequests - before}`);
  } finally {
    await closePool(pool);
    await SSHTunnel.getInstance().disconnect();
    SSHTunnel.resetInstance();
  }
});

test('with SSH_HOST set and no tunnel open, setupDatabase() opens its own and closePool() closes it', async () => {
  const before = ssh.forwardRequests;
  const { pool } = await setupDatabase({ env: env(), cwd: dir, migrate: false });
  const via = poolInfo(pool)?.via;
  assert.ok(via && via.host === '127.0.0.1' && via.port !== db.port, 'dials a local tunnel port');
  const r = await pool.query<{ db: string }>('select current_database() as db');
  assert.equal(r.rows[0]!.db, db.database);
  assert.ok(ssh.forwardRequests > before, 'went through the SSH server');
  assert.ok(ssh.openConnections >= 1);
  await closePool(pool);
  assert.ok(await ssh.waitForNoConnections(5_000), 'the tunnel is closed with the pool');
});
