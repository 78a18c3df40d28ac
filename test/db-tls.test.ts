/**
 * TLS against a real PostgreSQL started with ssl=on and a self-signed certificate made at test
 * time by the openssl CLI (for CN/SAN localhost only), with a pg_hba.conf that allows the test
 * database over TLS only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile, rm, chmod, chown } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { connectClient, setupDatabase, closePool } from '../src/db/index.js';
import { explain } from '../src/explain/index.js';
import type { ChatgeniusEvent } from '../src/events.js';
import type { ConnectionConfig } from '../src/config/types.js';

let pg: TestPostgres;
let dir: string;
let certFile: string;
let conn: ConnectionConfig;

/** uid/gid of the `postgres` user the embedded server runs as when we are root. */
function postgresIds(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
    };
  } catch {
    return undefined;
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgdb-tls-'));
  certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
  ], { stdio: 'ignore' });
  const hba = join(dir, 'pg_hba.conf');
  await writeFile(
    hba,
    [
      'local all all password',
      // The harness creates the test database over a plain connection to `postgres`.
      'hostnossl postgres all 127.0.0.1/32 password',
      'hostnossl postgres all ::1/128 password',
      'hostssl all all 127.0.0.1/32 password',
      'hostssl all all ::1/128 password',
      '',
    ].join('\n'),
  );
  await chmod(dir, 0o755);
  await chmod(keyFile, 0o600);
  const ids = postgresIds();
  if (ids) for (const f of [keyFile, certFile, hba]) await chown(f, ids.uid, ids.gid);
  pg = await startPostgres({
    postgresFlags: ['-c', 'ssl=on', '-c', `ssl_cert_file=${certFile}`, '-c', `ssl_key_file=${keyFile}`, '-c', `hba_file=${hba}`],
  });
  conn = { host: 'localhost', port: pg.port, database: pg.database, user: pg.user, password: pg.password, sslMode: 'require' };
});
after(async () => {
  await closePool();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

const fast = { retry: { maxRetries: 3, retryDelayMs: 10 } };

async function tlsInUse(c: ConnectionConfig, opts: Parameters<typeof connectClient>[1] = {}): Promise<boolean> {
  const client = await connectClient(c, { ...fast, ...opts });
  try {
    const r = await client.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
    return r.rows[0]!.ssl;
  } finally {
    await client.end();
  }
}

test('sslmode require encrypts without checking the certificate', async () => {
  assert.equal(await tlsInUse({ ...conn, sslMode: 'require' }), true);
});

test('sslmode prefer takes TLS when the server offers it', async () => {
  assert.equal(await tlsInUse({ ...conn, sslMode: 'prefer' }), true);
});

test('sslmode verify-full with PGSSLROOTCERT trusts the self-signed certificate and checks the host name', async () => {
  assert.equal(await tlsInUse({ ...conn, sslMode: 'verify-full', sslRootCert: certFile }), true);
});

test('verify-full without the root certificate is refused at once and explained with PGSSLROOTCERT', async () => {
  const events: ChatgeniusEvent[] = [];
  const err = await connectClient({ ...conn, sslMode: 'verify-full' }, { ...fast, emit: (e) => events.push(e) }).catch((e) => e);
  assert.ok(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'].includes(err.code), err.code);
  assert.equal(events.filter((e) => e.type === 'connect:start').length, 1, 'not retried');
  const x = explain(err);
  assert.equal(x.title, "The server's TLS certificate is not trusted");
  assert.match(x.hint, /PGSSLROOTCERT/);
});

test('verify-full by IP address fails on the host name; verify-ca accepts the same certificate', async () => {
  const byIp = { ...conn, host: '127.0.0.1', sslRootCert: certFile };
  const err = await connectClient({ ...byIp, sslMode: 'verify-full' }, fast).catch((e) => e);
  assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.match(explain(err).hint, /verify-ca/);
  assert.equal(await tlsInUse({ ...byIp, sslMode: 'verify-ca' }), true);
});

test('through a tunnel (127.0.0.1) verify-full checks the configured host name instead', async () => {
  assert.equal(await tlsInUse({ ...conn, host: '127.0.0.1', sslMode: 'verify-full', sslRootCert: certFile }, { tlsServerName: 'localhost' }), true);
});

test('a server that requires TLS rejects sslmode disable; explained as "requires TLS" with the PGSSLMODE fix', async () => {
  const err = await connectClient({ ...conn, sslMode: 'disable' }, fast).catch((e) => e);
  assert.equal(err.code, '28000');
  assert.match(err.message, /no encryption/);
  const x = explain(err);
  assert.equal(x.title, 'The server requires TLS (SSL)');
  assert.match(x.hint, /PGSSLMODE=require/);
  assert.ok(!JSON.stringify(x).includes(pg.password));
});

test('setupDatabase(true) over TLS: every pooled connection encrypted, search_path test, public', async () => {
  const { pool } = await setupDatabase({ isTest: true, connection: { ...conn, sslMode: 'verify-full', sslRootCert: certFile }, migrate: false });
  try {
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    try {
      for (const c of clients) {
        const r = await c.query<{ ssl: boolean; sp: string }>(
          `select s.ssl, current_setting('search_path') as sp from pg_stat_ssl s where s.pid = pg_backend_pid()`,
        );
        assert.deepEqual(r.rows[0], { ssl: true, sp: 'test, public' });
      }
    } finally {
      for (const c of clients) c.release();
    }
  } finally {
    await closePool(pool);
  }
});
