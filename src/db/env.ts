/**
 * The library's own reading of the connection from environment variables (for setupDatabase()
 * called without a ConnectionConfig). Per field, highest first: POSTGRES_*, then the libpq
 * PG* variables, then DATABASE_URL. Pure: takes the env as a value.
 * TLS: `sslmode` in DATABASE_URL, else PGSSLMODE; default `prefer` (libpq's), except `disable`
 * for a server on this machine (localhost, 127.0.0.1, ::1), where TLS buys nothing.
 */
import { ChatgeniusError } from '../errors.js';
import type { ConnectionConfig, SslMode } from '../config/types.js';

const SSL_MODES: Record<string, SslMode> = {
  disable: 'disable',
  allow: 'prefer', // pg cannot try plain text first; prefer is the nearest
  prefer: 'prefer',
  require: 'require',
  'no-verify': 'require', // pg's own spelling
  'verify-ca': 'verify-ca',
  'verify-full': 'verify-full',
};

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function parseSslMode(value: string, source: string): SslMode {
  const mode = SSL_MODES[value.trim().toLowerCase()];
  if (!mode) {
    throw new ChatgeniusError(
      'DB_BAD_SSLMODE',
      `${source}=${value} is not an sslmode (disable, prefer, require, verify-ca, verify-full)`,
      { variable: source, value },
    );
  }
  return mode;
}

interface UrlParts {
  host?: string;
  port?: string;
  database?: string;
  user?: string;
  password?: string;
  sslmode?: string;
  sslrootcert?: string;
}

function parseDatabaseUrl(raw: string): UrlParts {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Never echo the URL: it may hold a password.
    throw new ChatgeniusError('DB_BAD_DATABASE_URL', 'DATABASE_URL is not a valid URL (postgres://user:password@host:port/database)', {
      variable: 'DATABASE_URL',
    });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ChatgeniusError('DB_BAD_DATABASE_URL', `DATABASE_URL must start with postgres:// or postgresql:// (found ${url.protocol}//)`, {
      variable: 'DATABASE_URL',
    });
  }
  const parts: UrlParts = {};
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (url.hostname) parts.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.port) parts.port = url.port;
  const db = dec(url.pathname.replace(/^\//, ''));
  if (db) parts.database = db;
  if (url.username) parts.user = dec(url.username);
  if (url.password) parts.password = dec(url.password);
  const q = url.searchParams;
  if (q.get('host')) parts.host = q.get('host')!;
  if (q.get('port')) parts.port = q.get('port')!;
  if (q.get('sslmode')) parts.sslmode = q.get('sslmode')!;
  if (q.get('sslrootcert')) parts.sslrootcert = q.get('sslrootcert')!;
  return parts;
}

const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

export function connectionFromEnv(env: NodeJS.ProcessEnv): ConnectionConfig {
  const url = nonEmpty(env.DATABASE_URL) ? parseDatabaseUrl(env.DATABASE_URL!) : {};
  const pick = (pgVar: string, libpqVar: string, fromUrl: string | undefined) =>
    nonEmpty(env[pgVar]) ?? nonEmpty(env[libpqVar]) ?? fromUrl;
  const host = pick('POSTGRES_HOST', 'PGHOST', url.host) ?? 'localhost';
  const portText = pick('POSTGRES_PORT', 'PGPORT', url.port) ?? '5432';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ChatgeniusError('DB_BAD_PORT', `The database port ${JSON.stringify(portText)} is not a number from 1 to 65535`, {
      variable: nonEmpty(env.POSTGRES_PORT) ? 'POSTGRES_PORT' : nonEmpty(env.PGPORT) ? 'PGPORT' : 'DATABASE_URL',
      value: portText,
    });
  }
  const database = pick('POSTGRES_DB', 'PGDATABASE', url.database);
  const user = pick('POSTGRES_USER', 'PGUSER', url.user);
  if (!database || !user) {
    const missing = !database ? 'database name' : 'user';
    throw new ChatgeniusError(
      'DB_CONNECTION_NOT_CONFIGURED',
      `No ${missing} for the database connection: set DATABASE_URL, or ${!database ? 'POSTGRES_DB (or PGDATABASE)' : 'POSTGRES_USER (or PGUSER)'}`,
      { missing: !database ? 'POSTGRES_DB' : 'POSTGRES_USER' },
    );
  }
  const password = pick('POSTGRES_PASSWORD', 'PGPASSWORD', url.password);
  const sslRaw = url.sslmode !== undefined ? { v: url.sslmode, s: 'sslmode' } : nonEmpty(env.PGSSLMODE) ? { v: env.PGSSLMODE!, s: 'PGSSLMODE' } : undefined;
  const sslMode = sslRaw ? parseSslMode(sslRaw.v, sslRaw.s) : LOCAL_HOSTS.has(host) ? 'disable' : 'prefer';
  const sslRootCert = url.sslrootcert ?? nonEmpty(env.PGSSLROOTCERT);
  const conn: ConnectionConfig = { host, port, database, user, sslMode };
  if (password !== undefined) conn.password = password;
  if (sslRootCert !== undefined) conn.sslRootCert = sslRootCert;
  return conn;
}
