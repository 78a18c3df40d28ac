/**
 * Which env files exist for an environment and which variables each supplies, values of
 * secrets masked. The files and their precedence are the config resolver's own
 * (src/config readEnvFiles): `.env.<env>.local`, `.env.local` (not for test), `.env.<env>`, `.env`.
 */
import { statSync } from 'node:fs';
import { readEnvFiles } from '../config/env-files.js';
import type { EnvName } from '../config/types.js';
import { maskUrl } from '../log/redact.js';

/** Variables the tool reads (the others in a file are the app's business and are not listed). */
export const RELEVANT = /^(DATABASE_URL|POSTGRES_[A-Z_]+|PG(HOST|PORT|DATABASE|USER|PASSWORD|SSLMODE|SSLROOTCERT)|SSH_[A-Z_]+|CHATGENIUS_[A-Z_]+)$/;
const SECRET = /PASS(WORD|PHRASE)?|SECRET|TOKEN|PRIVATE_?KEY/;

/** `NAME=value` for a person to read: secrets as ****, URLs with their password masked. */
export function showVariable(name: string, value: string): string {
  if (SECRET.test(name)) return `${name}=****`;
  return `${name}=${maskUrl(value)}`;
}

export interface EnvFileInfo {
  name: string;
  path: string;
  /** NAME=value of the relevant variables, secrets masked, in file order. */
  shown: string[];
  /** Group/other can read a file that holds a secret. */
  looseSecrets: boolean;
  mode: string;
}

export function scanEnvFiles(projectDir: string, env: EnvName): EnvFileInfo[] {
  return readEnvFiles(projectDir, env).map((f) => {
    const pairs = Object.entries(f.vars).filter(([k]) => RELEVANT.test(k));
    const hasSecret = pairs.some(([k, v]) => SECRET.test(k) || maskUrl(v) !== v);
    let mode = 0o600;
    try {
      mode = statSync(f.path).mode & 0o777;
    } catch {
      /* gone since it was read */
    }
    return {
      name: f.name,
      path: f.path,
      shown: pairs.map(([k, v]) => showVariable(k, v)),
      looseSecrets: hasSecret && (mode & 0o077) !== 0,
      mode: `0${mode.toString(8).padStart(3, '0')}`,
    };
  });
}

/** The relevant variables the process environment itself supplies (masked). */
export function processEnvVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((k) => RELEVANT.test(k) && env[k] !== undefined && env[k] !== '')
    .sort()
    .map((k) => showVariable(k, env[k]!));
}
