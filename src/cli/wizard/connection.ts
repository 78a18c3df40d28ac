/**
 * Step: the PostgreSQL connection (non-local environments). Prefilled from flags, variables and
 * env files; every field validated at its prompt (a wrong port is shown there and corrected in
 * place); the password masked, and Enter keeps the configured one.
 */
import { parseHostName, parsePort, parseSchemaName } from '../../config/validate.js';
import type { ConnectionAnswers } from './answers.js';
import type { Prompter } from './prompts.js';

/** Pure validators: undefined when fine, else the message shown at the prompt. */
export function validateHost(v: string): string | undefined {
  const p = parseHostName(v);
  return p.ok ? undefined : `The host ${p.problem}: a name (db.example.com) or an address (10.0.0.5)`;
}

export function validatePort(v: string): string | undefined {
  const p = parsePort(v);
  return p.ok ? undefined : `"${v.trim()}" ${p.problem}: PostgreSQL listens on 5432 unless told otherwise`;
}

/** Database and role names: non-empty, no spaces or URL-breaking characters, at most 63 bytes. */
export function validateIdentifier(what: string) {
  return (v: string): string | undefined => {
    const t = v.trim();
    if (t === '') return `The ${what} name is empty`;
    if (Buffer.byteLength(t) > 63) return `The ${what} name is longer than 63 bytes (PostgreSQL's limit)`;
    if (/[\s/?#@:]/.test(t)) return `The ${what} name may not contain spaces or / ? # @ :`;
    return undefined;
  };
}

export const validateSchema = (v: string): string | undefined => {
  const p = parseSchemaName(v.trim());
  return p.ok ? undefined : `The schema name ${p.problem}`;
};

export async function askConnection(p: Prompter, initial: ConnectionAnswers): Promise<ConnectionAnswers> {
  const host = (await p.text({ message: 'PostgreSQL host', initialValue: initial.host, validate: validateHost })).trim();
  const port = Number((await p.text({ message: 'PostgreSQL port', initialValue: String(initial.port), validate: validatePort })).trim());
  const database = (await p.text({ message: 'Database name', initialValue: initial.database, validate: validateIdentifier('database') })).trim();
  const user = (await p.text({ message: 'User', initialValue: initial.user, validate: validateIdentifier('user') })).trim();
  const typed = await p.password({
    message: initial.password ? 'Password (Enter keeps the configured one)' : 'Password (Enter for none)',
  });
  const out: ConnectionAnswers = { host, port, database, user };
  const password = typed !== '' ? typed : initial.password;
  if (password !== undefined && password !== '') out.password = password;
  // Keep an explicit sslmode only for the host it was configured for.
  if (initial.sslMode && host === initial.host) out.sslMode = initial.sslMode;
  return out;
}
