/**
 * TLS against a real PostgreSQL started with ssl=on and a self-signed certificate made at test
 * time (for CN/SAN localhost only; built with node:crypto below, so no openssl CLI is needed),
 * with a pg_hba.conf that allows the test database over TLS only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtemp, writeFile, rm, chmod, chown } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { connectClient } from '../src/db/index.js';
import { setupDatabase, closePool } from '../src/library/index.js';
import { explain } from '../src/explain/index.js';
import type { ChatgeniusEvent } from '../src/events.js';
import type { ConnectionConfig } from '../src/config/types.js';
import { makeUserKey, startSshServer } from './helpers/ssh-server.js';
import { resolveConfig } from '../src/config/index.js';
import { openTarget } from '../src/run.js';
import { runCli } from './helpers/cli.js';

/* ---- a minimal DER encoder: enough for one self-signed ECDSA P-256 certificate ---- */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...c: Buffer[]) => der(0x30, ...c);
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) chunk.unshift((x & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}
const utcTime = (d: Date) => der(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));

/** A self-signed certificate for `name` (CN and DNS SAN), CA:true like `openssl req -x509`. */
function selfSignedCert(name: string): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const subject = seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(name)))));
  const serial = randomBytes(8);
  serial[0] = serial[0]! & 0x7f;
  const now = Date.now();
  const extensions = der(
    0xa3,
    seq(
      seq(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, seq(der(0x01, Buffer.from([0xff]))))),
      seq(oid('2.5.29.17'), der(0x04, seq(der(0x82, Buffer.from(name))))),
    ),
  );
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    ecdsaSha256,
    subject,
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 2 * 86_400_000))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const cert = seq(tbs, ecdsaSha256, der(0x03, Buffer.from([0]), signature));
  const b64 = cert
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

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
  const { certPem, keyPem } = selfSignedCert('localhost');
  const x509 = new X509Certificate(certPem);
  assert.equal(x509.subjectAltName, 'DNS:localhost');
  assert.ok(x509.verify(x509.publicKey), 'self-signed');
  await writeFile(certFile, certPem);
  await writeFile(keyFile, keyPem, { mode: 0o600 });
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
        const r = await c.query<{ ssl: boolean; sp: string }>(`select s.ssl, current_setting('search_path') as sp from pg_stat_ssl s where s.pid = pg_backend_pid()`);
        assert.deepEqual(r.rows[0], { ssl: true, sp: 'test, public' });
      }
    } finally {
      for (const c of clients) c.release();
    }
  } finally {
    await closePool(pool);
  }
});

test("through a real SSH tunnel, init's openTarget with verify-full checks the certificate against the database host, not 127.0.0.1", async () => {
  const key = makeUserKey();
  const keyPath = join(dir, 'id_tunnel');
  await writeFile(keyPath, key.private, { mode: 0o600 });
  const ssh = await startSshServer({ authorizedKeys: [key.public] });
  try {
    const config = resolveConfig({
      flags: {},
      cwd: dir,
      env: {
        HOME: dir,
        CHATGENIUS_ENV: 'development',
        POSTGRES_HOST: 'localhost', // the name in the certificate, as the bastion sees the database
        POSTGRES_PORT: String(pg.port),
        POSTGRES_DB: pg.database,
        POSTGRES_USER: pg.user,
        POSTGRES_PASSWORD: pg.password,
        PGSSLMODE: 'verify-full',
        PGSSLROOTCERT: certFile,
        SSH_HOST: ssh.host,
        SSH_PORT: String(ssh.port),
        SSH_USER: 'tunnel',
        SSH_KEY_PATH: keyPath,
        SSH_HOST_FINGERPRINT: ssh.hostKey.fingerprint,
      },
    });
    assert.ok(config.tunnel, 'a tunnel is configured');
    const t = await openTarget({ ...config, retry: { maxRetries: 1, retryDelayMs: 0 } }, { emit: () => {} });
    try {
      assert.equal(t.connection.host, '127.0.0.1', 'dialled the tunnel');
      assert.ok(ssh.forwardRequests > 0, 'through the bastion');
      const r = await t.client.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
      assert.equal(r.rows[0]!.ssl, true);
    } finally {
      await t.close();
    }
  } finally {
    await ssh.close();
  }
});

test('doctor through a tunnel checks the certificate against the configured database host (verify-full passes; a wrong host name fails)', async () => {
  const key = makeUserKey();
  const keyPath = join(dir, 'id_doctor');
  await writeFile(keyPath, key.private, { mode: 0o600 });
  const ssh = await startSshServer({ authorizedKeys: [key.public] });
  try {
    const env = (host: string) => ({
      HOME: dir,
      CI: 'true',
      POSTGRES_HOST: host, // as the bastion sees the database; the certificate names localhost
      POSTGRES_PORT: String(pg.port),
      POSTGRES_DB: pg.database,
      POSTGRES_USER: pg.user,
      POSTGRES_PASSWORD: pg.password,
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: certFile,
      SSH_HOST: ssh.host,
      SSH_PORT: String(ssh.port),
      SSH_USER: 'tunnel',
      SSH_KEY_PATH: keyPath,
      SSH_HOST_FINGERPRINT: ssh.hostKey.fingerprint,
      CHATGENIUS_MAX_RETRIES: '1',
    });
    // The TLS handshake (and its certificate check) happens at "PostgreSQL authentication".
    const authLine = (out: string) => out.split('\n').find((l) => /^[✔✖▲–] PostgreSQL authentication/.test(l)) ?? `no "PostgreSQL authentication" line in:\n${out}`;
    // Dialled at 127.0.0.1 through the tunnel, the name checked is the configured one: localhost.
    const ok = await runCli(['doctor', '--env', 'development'], { cwd: dir, env: env('localhost') });
    assert.match(authLine(ok.stdout), /^✔ /, ok.stdout + ok.stderr);
    assert.ok(ssh.forwardRequests > 0, 'doctor went through the bastion');
    // The same server configured as 127.0.0.1: the certificate (for localhost) does not name it.
    const wrong = await runCli(['doctor', '--env', 'development'], { cwd: dir, env: env('127.0.0.1') });
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
    assert.match(authLine(wrong.stdout), /^✖ .*another host name/, wrong.stdout);
    assert.ok(!(ok.stdout + ok.stderr + wrong.stdout + wrong.stderr).includes(pg.password), 'never the password');
  } finally {
    await ssh.close();
  }
});
