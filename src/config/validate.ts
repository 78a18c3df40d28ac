/**
 * Pure parsers for configuration values. Each returns the parsed value or a `Problem`: the
 * reason in words (no value echoed; the caller decides what may be shown). resolve.ts turns
 * a Problem into a ChatgeniusError that names the flag, the variable and where it came from.
 */
import type { SslMode } from './types.js';

export interface Problem {
  problem: string;
}
export type Parsed<T> = { ok: true; value: T } | ({ ok: false } & Problem);

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(problem: string): Parsed<T> => ({ ok: false, problem });

export function parsePort(text: string): Parsed<number> {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return bad('is not a port (1-65535)');
  const n = Number(t);
  if (n < 1 || n > 65535) return bad('is not a port (1-65535)');
  return ok(n);
}

/** A port is never secret: the problem shows the value given (a URL's other parts are not shown). */
export function badPort(value: string): string {
  return `has a bad port "${value.length > 20 ? `${value.slice(0, 17)}...` : value}" (a port is a number from 1 to 65535)`;
}

/** An integer in [min, max]. */
export function parseInteger(text: string, min: number, max: number): Parsed<number> {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) return bad(`is not a whole number (expected ${min}-${max})`);
  const n = Number(t);
  if (n < min || n > max) return bad(`is out of range (expected ${min}-${max})`);
  return ok(n);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `500ms`, `10s`, `5m`, `1h`, or a bare number of milliseconds (PostgreSQL's convention); 0 = no limit. */
export function parseDuration(text: string): Parsed<number> {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/i.exec(text);
  if (!m) return bad('is not a duration (examples: 500ms, 10s, 5m, 1h)');
  const ms = Math.round(Number(m[1]) * UNITS[(m[2] ?? 'ms').toLowerCase()]!);
  if (!Number.isFinite(ms) || ms > 2_147_483_647) return bad('is too long (at most 24 days)');
  return ok(ms);
}

const SSL_MODES: readonly SslMode[] = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'];
export function parseSslMode(text: string): Parsed<SslMode> {
  const t = text.trim().toLowerCase();
  if ((SSL_MODES as readonly string[]).includes(t)) return ok(t as SslMode);
  // libpq also knows `allow`; node-postgres cannot fall back from TLS, so it means `prefer` here.
  if (t === 'allow') return ok('prefer');
  return bad(`is not an sslmode (${SSL_MODES.join(', ')})`);
}

/**
 * A schema name we will quote but still keep simple: the engine's rule (lower-case letters,
 * digits, underscore, starting with a letter or underscore; at most 63 bytes), not a system
 * schema. Upper case is refused here, with the flag and variable named, rather than later by the
 * engine: unquoted, PostgreSQL would fold `MySchema` to `myschema` anyway.
 */
export function parseSchemaName(text: string): Parsed<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(text)) {
    return bad('is not a valid schema name (lower-case letters, digits and _, starting with a letter or _)');
  }
  if (text.length > 63) return bad('is longer than 63 characters');
  const lower = text.toLowerCase();
  if (lower.startsWith('pg_') || lower === 'information_schema') return bad('is a reserved system schema');
  return ok(text);
}

/** OpenSSH's `SHA256:` + unpadded base64 of 32 bytes (43 characters; a trailing `=` is accepted). */
export function parseFingerprint(text: string): Parsed<string> {
  const t = text.trim();
  const m = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(t);
  if (!m) return bad('is not a SHA256 host key fingerprint (SHA256: followed by 43 base64 characters, as `ssh-keygen -lf` prints)');
  return ok(`SHA256:${m[1]}`);
}

export function parseHostName(text: string): Parsed<string> {
  const t = text.trim();
  if (t === '') return bad('is empty');
  if (/[\s/?#@]/.test(t) && !t.startsWith('/')) return bad('is not a host name or address');
  return ok(t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t);
}

/** `user@host:port`, `host:port`, `host` (as ssh accepts on its command line, minus the scheme). */
export function splitSshTarget(text: string): Parsed<{ user?: string; host: string; port?: string }> {
  const t = text.trim();
  const at = t.lastIndexOf('@');
  const user = at >= 0 ? t.slice(0, at) : undefined;
  const rest = at >= 0 ? t.slice(at + 1) : t;
  if (user !== undefined && user === '') return bad('has an empty user name before @');
  let host = rest;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    port = v6[2];
  } else {
    const colons = rest.split(':').length - 1;
    if (colons === 1) {
      host = rest.slice(0, rest.indexOf(':'));
      port = rest.slice(rest.indexOf(':') + 1);
    }
  }
  const h = parseHostName(host);
  if (!h.ok) return h;
  return ok({ user, host: h.value, port });
}

export interface ParsedUrl {
  host: string;
  port: number;
  database?: string;
  user?: string;
  password?: string;
  sslMode?: string;
  sslRootCert?: string;
}

/**
 * A PostgreSQL connection URL. Problems never repeat the URL (it may hold a password).
 * Accepts `postgres://` and `postgresql://`; `?sslmode=`, `?sslrootcert=`, `?host=` (unix socket dir).
 */
export function parsePostgresUrl(text: string): Parsed<ParsedUrl> {
  const t = text.trim();
  if (!/^postgres(ql)?:\/\//i.test(t)) {
    return bad('is not a PostgreSQL URL (expected postgres://user:password@host:5432/database)');
  }
  // Look at the authority first, to say what is wrong rather than just "invalid URL".
  const parts = /^[a-z]+:\/\/(?:[^/?#]*@)?([^/?#]*)/i.exec(t);
  const authority = parts?.[1] ?? '';
  const hostPort = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority);
  if (hostPort) {
    if (hostPort[1] === '' && !/[?&]host=/.test(t)) {
      return bad('has no host (expected postgres://user:password@host:5432/database)');
    }
    if (hostPort[2] !== undefined && hostPort[2] !== '') {
      const p = parsePort(hostPort[2]);
      // An '@' further on means the authority was misread (a '/' in the password): then the
      // "port" may be part of the password, and is not shown.
      const misread = t.slice(parts?.[0]?.length ?? 0).includes('@');
      if (!p.ok) return bad(misread ? 'has a bad port, or an unencoded / in the password (percent-encode it as %2F)' : badPort(hostPort[2]));
    }
  }
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    return bad('is not a valid URL (expected postgres://user:password@host:5432/database; percent-encode special characters in the password)');
  }
  let port = 5432;
  if (u.port !== '') {
    const p = parsePort(u.port);
    if (!p.ok) return bad(badPort(u.port));
    port = p.value;
  }
  const dec = (s: string): string | undefined => {
    if (s === '') return undefined;
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const queryHost = u.searchParams.get('host') ?? undefined;
  const host = dec(u.hostname)?.replace(/^\[(.*)\]$/, '$1') ?? queryHost;
  if (!host) return bad('has no host (expected postgres://user:password@host:5432/database)');
  const path = u.pathname.replace(/^\//, '');
  if (path.includes('/')) return bad('has more than one path segment (the path is the database name)');
  const out: ParsedUrl = { host, port };
  const database = dec(path);
  if (database !== undefined) out.database = database;
  const user = dec(u.username);
  if (user !== undefined) out.user = user;
  const password = dec(u.password);
  if (password !== undefined) out.password = password;
  const sslMode = u.searchParams.get('sslmode');
  if (sslMode !== null) out.sslMode = sslMode;
  const rootCert = u.searchParams.get('sslrootcert');
  if (rootCert !== null) out.sslRootCert = rootCert;
  return ok(out);
}
