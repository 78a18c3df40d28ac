/**
 * The SSH credentials: a private key file (SSH_KEY_PATH, `~` expanded, optional passphrase) or
 * an ssh-agent (SSH_AUTH_SOCK) when no key is configured. Every failure is an SSHTunnelError
 * with a stable code; messages name the file, never its content or the passphrase.
 * ssh2 is imported lazily (the CLI's --help must not load it).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { SSHTunnelError } from './errors.js';

export interface KeyInfo {
  /** `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`... */
  type: string;
  encrypted: boolean;
  /** SHA256 fingerprint of the public half, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** File mode bits (e.g. 0o600), for the doctor's "key readable by others" check. */
  mode: number;
  /** The comment stored in the key, if any. */
  comment?: string;
}

export interface SshAuth {
  /** Key content, to hand to ssh2 (never logged). */
  privateKey?: Buffer;
  passphrase?: string;
  /** Agent socket path. */
  agent?: string;
  /** How we authenticate, for events and --verbose: `key <path>` or `agent`. */
  method: string;
}

/** `~` and `~/x` to the home directory; everything else resolved against cwd. */
export function expandHome(p: string, home: string = homedir()): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return resolve(home, p.slice(2));
  return resolve(p);
}

async function readKeyFile(path: string): Promise<{ data: Buffer; mode: number }> {
  const full = expandHome(path);
  try {
    const st = await stat(full);
    if (st.isDirectory()) {
      throw new SSHTunnelError('SSH_KEY_BAD_FORMAT', `SSH key path ${full} is a directory, not a private key file`, { path: full });
    }
    const data = await readFile(full);
    return { data, mode: st.mode & 0o777 };
  } catch (err) {
    if (err instanceof SSHTunnelError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SSHTunnelError('SSH_KEY_NOT_FOUND', `SSH key file ${full} not found`, { path: full, syscallCode: 'ENOENT' }, { cause: err });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new SSHTunnelError('SSH_KEY_UNREADABLE', `SSH key file ${full} cannot be read (permission denied)`, { path: full, syscallCode: code }, { cause: err });
    }
    throw new SSHTunnelError('SSH_KEY_UNREADABLE', `SSH key file ${full} cannot be read (${code ?? 'error'})`, { path: full, syscallCode: code }, { cause: err });
  }
}

type ParsedKey = {
  type: string;
  comment: string;
  getPrivatePEM(): string | null;
  getPublicSSH(): Buffer;
};

/** Parse with ssh2 and turn its Error results into our codes. */
async function parsePrivateKey(data: Buffer, path: string, passphrase?: string): Promise<{ key: ParsedKey; encrypted: boolean }> {
  const { utils } = (await import('ssh2')).default;
  const full = expandHome(path);
  const first = utils.parseKey(data) as unknown;
  let encrypted = false;
  let result = first;
  if (first instanceof Error && /no passphrase given/i.test(first.message)) {
    encrypted = true;
    if (!passphrase) {
      throw new SSHTunnelError('SSH_KEY_PASSPHRASE_REQUIRED', `SSH key ${full} is encrypted and no passphrase was given`, { path: full });
    }
    result = utils.parseKey(data, passphrase) as unknown;
    if (result instanceof Error) {
      if (/passphrase|integrity check|decrypt/i.test(result.message)) {
        throw new SSHTunnelError('SSH_KEY_BAD_PASSPHRASE', `The passphrase for SSH key ${full} is wrong`, { path: full });
      }
      throw new SSHTunnelError('SSH_KEY_BAD_FORMAT', `SSH key ${full} cannot be used: ${result.message}`, { path: full, parseError: result.message });
    }
  }
  if (result instanceof Error) {
    throw new SSHTunnelError('SSH_KEY_BAD_FORMAT', `${full} is not a private key ssh2 can read (${result.message})`, { path: full, parseError: result.message });
  }
  const key = (Array.isArray(result) ? result[0] : result) as ParsedKey | undefined;
  if (!key || typeof key.getPrivatePEM !== 'function' || key.getPrivatePEM() === null) {
    throw new SSHTunnelError('SSH_KEY_BAD_FORMAT', `${full} holds a public key, not a private key`, { path: full, parseError: 'public key only' });
  }
  return { key, encrypted };
}

/** Facts about a key file for the doctor and the wizard: type, encrypted, fingerprint, mode. */
export async function inspectKey(path: string, passphrase?: string): Promise<KeyInfo> {
  const { data, mode } = await readKeyFile(path);
  const { utils } = (await import('ssh2')).default;
  const probe = utils.parseKey(data) as unknown;
  if (probe instanceof Error && /no passphrase given/i.test(probe.message) && !passphrase) {
    // Encrypted: type is readable from the public part of OpenSSH's format without decrypting.
    const pub = publicHalfOfOpenSshKey(data);
    return {
      type: pub ? keyTypeOfBlob(pub) : 'unknown',
      encrypted: true,
      fingerprint: pub ? 'SHA256:' + createHash('sha256').update(pub).digest('base64').replace(/=+$/, '') : 'unknown',
      mode,
    };
  }
  const { key, encrypted } = await parsePrivateKey(data, path, passphrase);
  const pub = key.getPublicSSH();
  const info: KeyInfo = {
    type: key.type,
    encrypted,
    fingerprint: 'SHA256:' + createHash('sha256').update(pub).digest('base64').replace(/=+$/, ''),
    mode,
  };
  if (key.comment) info.comment = key.comment;
  return info;
}

function keyTypeOfBlob(b: Buffer): string {
  if (b.length < 4) return 'unknown';
  const n = b.readUInt32BE(0);
  return n > 0 && n < 64 && 4 + n <= b.length ? b.subarray(4, 4 + n).toString('latin1') : 'unknown';
}

/** The first public key blob of an `-----BEGIN OPENSSH PRIVATE KEY-----` file (stored unencrypted). */
function publicHalfOfOpenSshKey(data: Buffer): Buffer | null {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]+?)-----END OPENSSH PRIVATE KEY-----/.exec(data.toString('utf8'));
  if (!m) return null;
  const bin = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (bin.subarray(0, magic.length).toString('latin1') !== magic) return null;
  let pos = magic.length;
  const readStr = (): Buffer | null => {
    if (pos + 4 > bin.length) return null;
    const n = bin.readUInt32BE(pos);
    pos += 4;
    if (pos + n > bin.length) return null;
    const s = bin.subarray(pos, pos + n);
    pos += n;
    return s;
  };
  if (!readStr() || !readStr() || !readStr()) return null; // cipher, kdf, kdf options
  if (pos + 4 > bin.length) return null;
  pos += 4; // number of keys
  return readStr();
}

/**
 * Decide how to authenticate: an explicit key (validated and decrypted here, so a bad file or
 * passphrase fails before any network traffic), else the agent, else an explained error.
 */
export async function loadAuth(cfg: { keyPath?: string; passphrase?: string; agentSocket?: string }): Promise<SshAuth> {
  if (cfg.keyPath) {
    const { data } = await readKeyFile(cfg.keyPath);
    await parsePrivateKey(data, cfg.keyPath, cfg.passphrase);
    const auth: SshAuth = { privateKey: data, method: `key ${expandHome(cfg.keyPath)}` };
    if (cfg.passphrase) auth.passphrase = cfg.passphrase;
    return auth;
  }
  if (cfg.agentSocket) {
    try {
      await stat(cfg.agentSocket);
    } catch (err) {
      throw new SSHTunnelError(
        'SSH_AGENT_UNAVAILABLE',
        `No SSH key is configured and the ssh-agent socket ${cfg.agentSocket} (SSH_AUTH_SOCK) does not exist`,
        { socket: cfg.agentSocket, syscallCode: (err as NodeJS.ErrnoException).code },
        { cause: err },
      );
    }
    return { agent: cfg.agentSocket, method: 'agent' };
  }
  throw new SSHTunnelError('SSH_NO_AUTH_METHOD', 'No SSH key is configured (SSH_KEY_PATH / --ssh-key) and no ssh-agent is running (SSH_AUTH_SOCK)', {});
}
