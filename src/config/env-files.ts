/**
 * Reading the project's `.env` files, in the design's precedence, without touching process.env.
 *
 * Highest first: `.env.<env>.local`, `.env.local` (not for env test), `.env.<env>`, `.env`
 * (flags and the process environment sit above all of them; see layers.ts).
 * A missing file is skipped; an unreadable or malformed one is a CONFIG_ENV_FILE error that
 * names the file and the line, never its content (it may hold secrets).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { ChatgeniusError } from '../errors.js';
import type { EnvName } from './types.js';

export interface EnvFile {
  /** File name relative to the project dir, e.g. `.env.development.local`. */
  name: string;
  path: string;
  vars: Record<string, string>;
}

/** The env files that apply to `env`, highest precedence first. */
export function envFileNames(env: EnvName): string[] {
  const names = [`.env.${env}.local`];
  if (env !== 'test') names.push('.env.local');
  names.push(`.env.${env}`, '.env');
  return names;
}

/** Pure: the git-ignored file where a person puts settings (and secrets) for `env`: `.env.local`, but `.env.test.local` for test, which never reads `.env.local`. */
export function personalEnvFile(env: EnvName): string {
  return envFileNames(env).includes('.env.local') ? '.env.local' : `.env.${env}.local`;
}

/** Read and parse the files that apply to `env` (missing ones are left out), highest first. */
export function readEnvFiles(dir: string, env: EnvName): EnvFile[] {
  return readNamedEnvFiles(dir, envFileNames(env));
}

export function readNamedEnvFiles(dir: string, names: string[]): EnvFile[] {
  const out: EnvFile[] = [];
  for (const name of names) {
    const file = readEnvFile(dir, name);
    if (file) out.push(file);
  }
  return out;
}

/** One file; null when it does not exist. */
export function readEnvFile(dir: string, name: string): EnvFile | null {
  const path = join(dir, name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new ChatgeniusError(
      'CONFIG_ENV_FILE',
      `Cannot read ${name} (${code === 'EISDIR' ? 'it is a directory' : (code ?? 'unknown error')})`,
      { file: name, path, reason: code },
      { cause: err },
    );
  }
  const bad = findMalformedLine(text);
  if (bad !== null) {
    throw new ChatgeniusError('CONFIG_ENV_FILE', `${name} line ${bad.line} is not a KEY=value line${bad.reason ? ` (${bad.reason})` : ''}`, {
      file: name,
      path,
      line: bad.line,
    });
  }
  return { name, path, vars: parse(text) };
}

const ASSIGN = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s?(.*)$/;

/**
 * dotenv silently skips lines it does not understand; we would rather say so, since a skipped
 * line is usually a typo that leaves a variable unset. Pure: returns the first bad line (1-based).
 */
export function findMalformedLine(text: string): { line: number; reason?: string } | null {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = ASSIGN.exec(line);
    if (!m) return { line: i + 1 };
    const value = m[2]!.trimStart();
    const q = value[0];
    if (q === '"' || q === "'" || q === '`') {
      // A quoted value may span lines: find its closing quote.
      if (value.indexOf(q, 1) !== -1) continue;
      let j = i + 1;
      while (j < lines.length && !lines[j]!.includes(q)) j++;
      if (j >= lines.length) return { line: i + 1, reason: `the ${q} quote is never closed` };
      i = j;
    }
  }
  return null;
}
