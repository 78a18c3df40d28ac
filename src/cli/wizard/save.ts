/**
 * Step: offer to save the answers to `.env.<env>.local` (mode 0600), so the next run (and the
 * app) finds them. The password only when the person asks for it. Other lines of the file are
 * kept; the keys written replace earlier ones.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  const kept = existing
    .split(/\r?\n/)
    .filter((line) => {
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

/** Returns the file written, or null. */
export async function offerSave(p: Prompter, a: Answers, dir: string): Promise<string | null> {
  if (a.env === 'local' || !a.connection) return null;
  const name = `.env.${a.env}.local`;
  const save = await p.confirm({ message: `Save these settings to ${name} (mode 0600) for next time?`, initialValue: true });
  if (!save) return null;
  let includePassword = false;
  if (a.connection.password) {
    includePassword = await p.confirm({ message: `Store the database password in ${name} too?`, initialValue: false });
  }
  const path = writeEnvFile(dir, a.env, envVarsFor(a, includePassword));
  p.success(`Saved ${name}${includePassword ? ' (with the password)' : ' (without the password: set POSTGRES_PASSWORD)'}`);
  return path;
}
