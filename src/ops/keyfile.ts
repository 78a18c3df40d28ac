/**
 * What doctor says about the SSH key file: exists, mode, type, encrypted (and whether the
 * configured passphrase opens it). Never returns or shows the key's content.
 */
import { readFile, stat } from 'node:fs/promises';

export interface KeyFileFacts {
  path: string;
  exists: boolean;
  mode?: string; // "0600"
  /** Group or others may read it. */
  looseMode?: boolean;
  type?: string; // ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256
  encrypted?: boolean;
  /** Parsed with the configured passphrase (or needs none). */
  usable?: boolean;
  problem?: 'not-found' | 'not-a-key' | 'needs-passphrase' | 'wrong-passphrase' | 'unreadable';
  message?: string;
}

export async function inspectKeyFile(path: string, passphrase?: string): Promise<KeyFileFacts> {
  let mode: number;
  try {
    const st = await stat(path);
    mode = st.mode & 0o777;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { path, exists: false, problem: code === 'ENOENT' ? 'not-found' : 'unreadable', message: code ?? String(e) };
  }
  const facts: KeyFileFacts = { path, exists: true, mode: `0${mode.toString(8).padStart(3, '0')}`, looseMode: (mode & 0o077) !== 0 };
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    return { ...facts, problem: 'unreadable', message: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  const { utils } = (await import('ssh2')).default;
  const plain = utils.parseKey(data);
  if (!(plain instanceof Error)) {
    const k = Array.isArray(plain) ? plain[0] : plain;
    return { ...facts, type: k?.type, encrypted: false, usable: true };
  }
  if (!/encrypt|passphrase/i.test(plain.message)) {
    return { ...facts, problem: 'not-a-key', message: plain.message };
  }
  facts.encrypted = true;
  if (!passphrase) return { ...facts, usable: false, problem: 'needs-passphrase' };
  const opened = utils.parseKey(data, passphrase);
  if (opened instanceof Error) return { ...facts, usable: false, problem: 'wrong-passphrase', message: 'the configured SSH_PASSPHRASE does not open it' };
  const k = Array.isArray(opened) ? opened[0] : opened;
  return { ...facts, type: k?.type, usable: true };
}
