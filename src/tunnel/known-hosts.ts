/**
 * OpenSSH known_hosts: parse, match a host, decide known / unknown / changed / revoked, append.
 * Pure except for reading and appending the files. No ssh2 import: keys are handled as the raw
 * SSH wire blobs ssh2's hostVerifier hands us.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  marker: 'revoked' | 'cert-authority' | null;
  /** The raw host pattern field (comma list or |1|salt|hash). */
  hosts: string;
  keyType: string;
  key: Buffer;
  file: string;
  line: number;
}

export type HostKeyStatus = 'known' | 'unknown' | 'changed' | 'revoked';

export interface HostKeyCheck {
  status: HostKeyStatus;
  keyType: string;
  fingerprint: string;
  /** For `changed`: where the recorded key(s) for this host are (file:line), for the hint. */
  recordedAt: string[];
  /** Key types recorded for this host (to prefer them in the key exchange). */
  knownTypes: string[];
}

/** `SHA256:` + unpadded base64 of the key blob, as `ssh-keygen -l` and `ssh` print it. */
export function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** Normalise a user-supplied fingerprint (`SHA256:abc=`, `sha256:abc`, `abc`) for comparison. */
export function normalizeFingerprint(fp: string): string {
  const s = fp
    .trim()
    .replace(/^sha256:/i, '')
    .replace(/=+$/, '');
  return 'SHA256:' + s;
}

/** The key type written inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, ...). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > key.length) return 'unknown';
  return key.subarray(4, 4 + len).toString('latin1');
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Parse the text of one known_hosts file. Bad lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file = '<known_hosts>'): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const key = Buffer.from(b64, 'base64');
    if (keyTypeOf(key) !== keyType) continue; // corrupt or mismatched line
    out.push({ marker, hosts, keyType, key, file, line: i + 1 });
  }
  return out;
}

/** Glob match with `*` and `?` as OpenSSH patterns use them (case-insensitive). */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
    'i',
  );
  return re.test(name);
}

function hashedMatch(field: string, name: string): boolean {
  const parts = field.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && got.equals(want);
}

/** Does an entry's host field name this host? Handles hashed entries, comma lists, wildcards, `!negation`. */
export function hostFieldMatches(field: string, lookupName: string): boolean {
  if (field.startsWith('|')) return hashedMatch(field, lookupName);
  let matched = false;
  for (const p of field.split(',')) {
    if (p === '') continue;
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), lookupName)) return false; // a negated match wins
    } else if (globMatch(p, lookupName)) {
      matched = true;
    }
  }
  return matched;
}

/** The pure decision: given the entries and the presented key, what is it? */
export function decideHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyCheck {
  const name = hostLookupName(host, port);
  const keyType = keyTypeOf(key);
  const fp = fingerprint(key);
  const forHost = entries.filter((e) => hostFieldMatches(e.hosts, name));
  const base = { keyType, fingerprint: fp };
  // A revoked key is refused wherever it shows up (OpenSSH: @revoked applies to matching hosts;
  // a revoked key is never acceptable, so we refuse it for any host).
  if (entries.some((e) => e.marker === 'revoked' && e.key.equals(key))) {
    return { ...base, status: 'revoked', recordedAt: [], knownTypes: [] };
  }
  const plain = forHost.filter((e) => e.marker === null);
  const knownTypes = [...new Set(plain.map((e) => e.keyType))];
  if (plain.some((e) => e.key.equals(key))) return { ...base, status: 'known', recordedAt: [], knownTypes };
  if (plain.length > 0) {
    return { ...base, status: 'changed', recordedAt: plain.map((e) => `${e.file}:${e.line}`), knownTypes };
  }
  return { ...base, status: 'unknown', recordedAt: [], knownTypes };
}

/** Read and parse every file that exists (missing files are empty). */
export async function loadKnownHosts(files: string[]): Promise<KnownHostEntry[]> {
  const out: KnownHostEntry[] = [];
  for (const f of [...new Set(files.filter(Boolean))]) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES') continue;
      throw err;
    }
    out.push(...parseKnownHosts(text, f));
  }
  return out;
}

/** Check a presented host key against known_hosts files. */
export async function checkHostKey(target: { host: string; port: number; key: Buffer }, files: string[]): Promise<HostKeyCheck> {
  return decideHostKey(await loadKnownHosts(files), target.host, target.port, target.key);
}

/** Key types recorded for a host in these files (to prefer them when negotiating). */
export async function knownKeyTypes(host: string, port: number, files: string[]): Promise<string[]> {
  const name = hostLookupName(host, port);
  const entries = await loadKnownHosts(files);
  return [...new Set(entries.filter((e) => e.marker === null && hostFieldMatches(e.hosts, name)).map((e) => e.keyType))];
}

/** A hashed host field (`|1|salt|hash`), as `ssh-keygen -H` writes it. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const h = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${h}`;
}

/** The known_hosts line for a host key. */
export function knownHostLine(host: string, port: number, key: Buffer, opts: { hashed?: boolean } = {}): string {
  const name = hostLookupName(host, port);
  const field = opts.hashed ? hashHostName(name) : name;
  return `${field} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/** Append an accepted key (directory 0700, file 0600, created if missing). */
export async function appendKnownHost(file: string, host: string, port: number, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let existing = Buffer.alloc(0);
  try {
    existing = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const needsNl = existing.length > 0 && existing.at(-1) !== 0x0a;
  await appendFile(file, (needsNl ? '\n' : '') + knownHostLine(host, port, key) + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
}
