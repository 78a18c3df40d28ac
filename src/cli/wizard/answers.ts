/**
 * What the wizard collected, and the pure translations of it: into flags + environment for D's
 * resolveConfig (the wizard is a face, not a second path), and into the equivalent
 * non-interactive command (secrets left out).
 */
import { defaultSslMode } from '../../config/defaults.js';
import type { EnvName, SslMode } from '../../config/types.js';
import type { Flags } from '../command.js';

export interface ConnectionAnswers {
  host: string;
  port: number;
  database: string;
  user: string;
  /** Typed by the person or taken from the configuration; never printed. */
  password?: string;
  sslMode?: SslMode;
}

export interface TunnelAnswers {
  host: string;
  port: number;
  user: string;
  /** Empty: ssh-agent. */
  keyPath?: string;
  passphrase?: string;
}

export interface Answers {
  env: EnvName;
  /** Non-local environments only. */
  connection?: ConnectionAnswers;
  /** null: connect directly (no bastion). */
  tunnel?: TunnelAnswers | null;
}

/** postgres://user@host:port/db[?sslmode=..] — never with the password. */
export function urlWithoutPassword(c: ConnectionAnswers): string {
  const host = c.host.includes(':') && !c.host.startsWith('[') ? `[${c.host}]` : c.host;
  const ssl = c.sslMode && c.sslMode !== defaultSslMode(c.host) ? `?sslmode=${c.sslMode}` : '';
  return `postgres://${encodeURIComponent(c.user)}@${host}:${c.port}/${encodeURIComponent(c.database)}${ssl}`;
}

/** Flags that reproduce the answers (the command's own flags kept: --schema, --migrations-dir...). */
export function answersToFlags(base: Flags, a: Answers): Flags {
  const flags: Flags = { ...base, env: a.env };
  for (const k of ['database-url', 'ssh-host', 'ssh-port', 'ssh-user', 'ssh-key', 'no-tunnel']) delete flags[k];
  if (a.env === 'local') return flags;
  if (a.connection) flags['database-url'] = urlWithoutPassword(a.connection);
  if (a.tunnel) {
    flags['ssh-host'] = a.tunnel.host;
    flags['ssh-port'] = String(a.tunnel.port);
    flags['ssh-user'] = a.tunnel.user;
    if (a.tunnel.keyPath) flags['ssh-key'] = a.tunnel.keyPath;
  } else if (a.tunnel === null) {
    flags['no-tunnel'] = true;
  }
  return flags;
}

/** The process environment with the secrets the person typed (resolveConfig reads them there). */
export function answersToEnv(env: NodeJS.ProcessEnv, a: Answers): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  if (a.connection) {
    if (a.connection.password !== undefined && a.connection.password !== '') {
      out.POSTGRES_PASSWORD = a.connection.password;
    } else {
      delete out.POSTGRES_PASSWORD;
      delete out.PGPASSWORD;
    }
  }
  if (a.tunnel?.passphrase) out.SSH_PASSPHRASE = a.tunnel.passphrase;
  return out;
}

/** Quote a shell word only when needed. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./~-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The non-interactive command that does what the wizard just did. Secrets are left out: the
 * password and passphrase come from POSTGRES_PASSWORD / SSH_PASSPHRASE (or a saved env file).
 */
export function equivalentCommand(
  command: 'init' | 'rollback',
  a: Answers,
  extra: { schema?: string; migrationsDir?: string; confirmDatabase?: string; steps?: number; logFile?: string } = {},
): string {
  const parts = ['npx', 'chatgenius-db', command];
  if (command === 'rollback' && extra.steps !== undefined) parts.push('--steps', String(extra.steps));
  parts.push('--env', a.env);
  if (a.env !== 'local' && a.connection) parts.push('--database-url', urlWithoutPassword(a.connection));
  if (a.tunnel) {
    parts.push('--ssh-host', a.tunnel.host);
    if (a.tunnel.port !== 22) parts.push('--ssh-port', String(a.tunnel.port));
    parts.push('--ssh-user', a.tunnel.user);
    if (a.tunnel.keyPath) parts.push('--ssh-key', a.tunnel.keyPath);
  } else if (a.tunnel === null && a.env !== 'local') {
    parts.push('--no-tunnel');
  }
  if (extra.schema) parts.push('--schema', extra.schema);
  if (extra.migrationsDir) parts.push('--migrations-dir', extra.migrationsDir);
  if (extra.logFile) parts.push('--log-file', extra.logFile);
  parts.push('--yes');
  if (a.env === 'production' && extra.confirmDatabase) parts.push('--confirm-database', extra.confirmDatabase);
  return parts.map(shellWord).join(' ');
}

/** Which secrets the equivalent command needs from the environment (names only). */
export function secretsNeeded(a: Answers): string[] {
  const out: string[] = [];
  if (a.connection?.password) out.push('POSTGRES_PASSWORD');
  if (a.tunnel?.passphrase) out.push('SSH_PASSPHRASE');
  return out;
}
