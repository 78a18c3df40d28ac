/**
 * Step: offer to save the answers to `.env.<env>.local` (mode 0600), so the next run (and the
 * app) finds them. The password only when the person asks for it. Other lines of the file are
 * kept; the keys written replace earlier ones.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pgpassLineFor } from '../../config/pgpass.js';
import { CONNECTION_PRIMARY_VARS, SSH_PRIMARY_VARS } from '../../config/settings.js';
import type { Answers } from './answers.js';
import { urlWithoutPassword } from './answers.js';
import type { Prompter } from './prompts.js';

/** The variables the wizard writes (and replaces in an existing file): config's names for them. */
const MANAGED = [...CONNECTION_PRIMARY_VARS, ...SSH_PRIMARY_VARS];

function quoteValue(v: string): string {
  return /^[A-Za-z0-9_@%+=:,./~-]*$/.test(v) ? v : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Pure: the variables to write for these answers. */
export function envVarsFor(a: Answers, includePassword: boolean): Record<string, string> {
  const vars: Record<string, string> = {};
  if (!a.connection) return vars;
  vars.DATABASE_URL = urlWithoutPassword(a.connection);
  if (includePassword && a.connection.password) vars.POSTGRES_PASSWORD = a.connection.password;
  if (a.tunnel) {
    vars.SSH_HOST = a.tunnel.host;
    vars.SSH_PORT = String(a.tunnel.port);
    vars.SSH_USER = a.tunnel.user;
    if (a.tunnel.keyPath) vars.SSH_KEY_PATH = a.tunnel.keyPath;
  }
  return vars;
}

/** Pure: the new file text: other lines kept, managed keys replaced by `vars`. */
export function mergeEnvText(existing: string, vars: Record<string, string>): string {
  const kept = existing.split(/\r?\n/).filter((line) => {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    return !(m && MANAGED.includes(m[1]!));
  });
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
  const added = Object.entries(vars).map(([k, v]) => `${k}=${quoteValue(v)}`);
  const header = kept.length === 0 ? ['# Written by chatgenius-db init (the wizard). Keep out of git.'] : [];
  return [...header, ...kept, ...added].join('\n') + '\n';
}

export function writeEnvFile(dir: string, env: string, vars: Record<string, string>): string {
  const path = join(dir, `.env.${env}.local`);
  let existing = '';
  try {
    existing = readFileSync(path, 'utf8');
  } catch {
    existing = '';
  }
  writeFileSync(path, mergeEnvText(existing, vars), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** Where the wizard put the password, so the printed next command finds it. */
export type PasswordHome = 'env-file' | 'pgpass' | 'nowhere' | 'none-needed';

export interface SaveResult {
  /** The env file written, or null. */
  path: string | null;
  password: PasswordHome;
  /** The file that now holds the password (env file or password file), for the closing note. */
  passwordFile?: string;
}

/**
 * Add the target's line to the libpq password file (mode 0600); an earlier line for the same
 * host:port:database:user is replaced. Returns the file's path.
 */
export function writePgpassLine(path: string, c: { host: string; port: number; database: string; user: string; password: string }): string {
  let existing = '';
  try {
    existing = readFileSync(path, 'utf8');
  } catch {
    existing = '';
  }
  const prefix = pgpassLineFor(c, '');
  const kept = existing.split(/\r?\n/).filter((l) => l !== '' && !l.startsWith(prefix));
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, [...kept, pgpassLineFor(c, c.password)].join('\n') + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** Offer to save the settings, and ask where the password should live so the next run finds it. */
export async function offerSave(p: Prompter, a: Answers, dir: string, home: string): Promise<SaveResult> {
  if (a.env === 'local' || !a.connection) return { path: null, password: 'none-needed' };
  const name = `.env.${a.env}.local`;
  const save = await p.confirm({ message: `Save these settings to ${name} (mode 0600) for next time?`, initialValue: true });
  const hasPassword = a.connection.password !== undefined && a.connection.password !== '';
  let where: PasswordHome = hasPassword ? 'nowhere' : 'none-needed';
  // Declining to save means saving nothing; the closing note then names POSTGRES_PASSWORD.
  if (save && hasPassword) {
    where = await p.select<PasswordHome>({
      message: 'Where should the database password be kept, so later runs find it?',
      options: [
        { value: 'env-file', label: `In ${name} too`, hint: 'mode 0600; keep it out of git' },
        { value: 'pgpass', label: 'In ~/.pgpass', hint: 'psql reads it too' },
        { value: 'nowhere', label: 'Nowhere', hint: 'set POSTGRES_PASSWORD yourself before each run' },
      ],
      initialValue: 'env-file',
    });
  }
  const path = save ? writeEnvFile(dir, a.env, envVarsFor(a, where === 'env-file')) : null;
  let passwordFile: string | undefined;
  if (where === 'env-file' && path) passwordFile = name;
  if (where === 'pgpass') {
    const c = a.connection;
    passwordFile = writePgpassLine(join(home, '.pgpass'), { host: c.host, port: c.port, database: c.database, user: c.user, password: c.password! });
  }
  if (path) {
    const note = where === 'env-file' ? ' (with the password)' : where === 'nowhere' ? ' (without the password: set POSTGRES_PASSWORD before the next run)' : '';
    p.success(`Saved ${name}${note}`);
  }
  if (where === 'pgpass') p.success(`Added the password to ${passwordFile} (mode 0600)`);
  return passwordFile ? { path, password: where, passwordFile } : { path, password: where };
}
