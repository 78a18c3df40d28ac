/**
 * The libpq password file (~/.pgpass, or the file PGPASSFILE names), read as libpq reads it:
 * lines `hostname:port:database:username:password`, `*` matches anything in the first four
 * fields, `\:` and `\\` are a literal colon and backslash, `#` starts a comment line, the first
 * matching line wins. On POSIX a file that group or others may read is ignored (libpq warns and
 * does the same). A unix-socket host matches `localhost`, as in libpq.
 * Parsing and matching are pure; readPgpass() is the one edge that touches the file system.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface PgpassEntry {
  host: string;
  port: string;
  database: string;
  user: string;
  password: string;
}

export interface PgpassTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** Split one line on unescaped colons, unescaping `\:` and `\\`. Null when it has < 5 fields. */
export function parsePgpassLine(line: string): PgpassEntry | null {
  const fields: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i]!;
    } else if (c === ':' && fields.length < 4) {
      fields.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  fields.push(cur);
  if (fields.length < 5) return null;
  const [host, port, database, user, password] = fields as [string, string, string, string, string];
  return { host, port, database, user, password };
}

export function parsePgpass(text: string): PgpassEntry[] {
  const out: PgpassEntry[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const e = parsePgpassLine(raw);
    if (e) out.push(e);
  }
  return out;
}

/** The password of the first line that matches the target, or undefined. */
export function matchPgpass(entries: PgpassEntry[], t: PgpassTarget): string | undefined {
  const host = t.host.startsWith('/') || t.host === '' ? 'localhost' : t.host;
  const is = (field: string, value: string) => field === '*' || field === value;
  for (const e of entries) {
    if (is(e.host, host) && is(e.port, String(t.port)) && is(e.database, t.database) && is(e.user, t.user)) {
      return e.password;
    }
  }
  return undefined;
}

/** Where the password file is: PGPASSFILE, else ~/.pgpass (%APPDATA%\postgresql\pgpass.conf on Windows). */
export function pgpassPath(pgpassFile: string | undefined, home: string, env: NodeJS.ProcessEnv, platform = process.platform): string {
  if (pgpassFile && pgpassFile.trim() !== '') return pgpassFile;
  if (platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'postgresql', 'pgpass.conf');
  return join(home, '.pgpass');
}

export interface PgpassLookup {
  /** The file consulted (shown in messages: a path, never its content). */
  path: string;
  password?: string;
  /** Why the file was not used, when it exists but could not be: e.g. its mode. */
  problem?: string;
}

/** Read the file and look the target up. A missing file is no problem; a readable-by-others one is ignored. */
export function readPgpass(path: string, target: PgpassTarget, platform = process.platform): PgpassLookup {
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return { path, problem: 'it is not a plain file' };
    mode = st.mode;
  } catch {
    return { path };
  }
  if (platform !== 'win32' && (mode & 0o077) !== 0) {
    return {
      path,
      problem: `it may be read by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); like libpq we ignore it until \`chmod 600 ${path}\``,
    };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { path, problem: `it cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  const password = matchPgpass(parsePgpass(text), target);
  return password === undefined ? { path } : { path, password };
}

/** The line to add to the password file for this target (for hints; the password is a placeholder). */
export function pgpassLineFor(t: PgpassTarget, password = 'PASSWORD'): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
  const host = t.host.startsWith('/') ? 'localhost' : t.host;
  return [host, String(t.port), t.database, t.user, password].map(esc).join(':');
}
