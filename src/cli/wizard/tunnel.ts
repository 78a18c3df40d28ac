/**
 * Step: "behind an SSH bastion?" then host, port, user and key. The key path is checked as it is
 * typed (exists, readable, a private key); the passphrase is asked only when the key is
 * encrypted, and checked by decrypting the key (the tunnel's inspectKey) before going on.
 * The host key fingerprint is confirmed later, when the tunnel opens (connect.ts).
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { explain } from '../../explain/index.js';
import type { TunnelAnswers } from './answers.js';
import { validateHost, validatePort } from './connection.js';
import type { Prompter } from './prompts.js';
import { inspectKey } from '../../tunnel/index.js';

/** `~/x` -> home/x; relative -> from the project dir. */
export function expandPath(p: string, cwd: string, home: string): string {
  const t = p.trim();
  const e = t === '~' ? home : t.startsWith('~/') ? join(home, t.slice(2)) : t;
  return isAbsolute(e) ? e : resolve(cwd, e);
}

/** Pure-ish (reads the file): why this path is not a usable private key file, or undefined. */
export function checkKeyFile(path: string, opts: { cwd: string; home: string; agent: boolean }): string | undefined {
  if (path.trim() === '') {
    return opts.agent ? undefined : 'No key given and no ssh-agent (SSH_AUTH_SOCK) is running: give the path of a private key';
  }
  const full = expandPath(path, opts.cwd, opts.home);
  let st;
  try {
    st = statSync(full);
  } catch {
    return `${full} does not exist`;
  }
  if (st.isDirectory()) return `${full} is a directory, not a key file`;
  try {
    accessSync(full, constants.R_OK);
  } catch {
    return `${full} cannot be read (permission denied)`;
  }
  let head = '';
  try {
    head = readFileSync(full, 'latin1').slice(0, 200);
  } catch {
    return `${full} cannot be read`;
  }
  if (/^ssh-|^ecdsa-|PUBLIC KEY/.test(head)) return `${full} is a public key: give the private half (the file without .pub)`;
  if (!/PRIVATE KEY-----|^PuTTY-User-Key-File/.test(head)) return `${full} is not a private key file`;
  return undefined;
}

export async function askTunnelWanted(p: Prompter, initial: boolean): Promise<boolean> {
  return p.confirm({ message: 'Is the database behind an SSH bastion (a tunnel)?', initialValue: initial });
}

export async function askTunnel(p: Prompter, initial: TunnelAnswers, env: { cwd: string; env: NodeJS.ProcessEnv }): Promise<TunnelAnswers> {
  const home = env.env.HOME && env.env.HOME !== '' ? env.env.HOME : homedir();
  const agent = Boolean(env.env.SSH_AUTH_SOCK);
  const host = (await p.text({ message: 'SSH host (the bastion)', initialValue: initial.host, validate: validateHost })).trim();
  const port = Number((await p.text({ message: 'SSH port', initialValue: String(initial.port), validate: validatePort })).trim());
  const user = (
    await p.text({
      message: 'SSH user',
      initialValue: initial.user,
      validate: (v) => (/^[A-Za-z0-9._-]+$/.test(v.trim()) ? undefined : 'An SSH user name: letters, digits, . _ -'),
    })
  ).trim();
  const keyOpts = { cwd: env.cwd, home, agent };
  for (;;) {
    const keyPath = (
      await p.text({
        message: agent ? 'Private key file (Enter with an empty path: use ssh-agent)' : 'Private key file',
        initialValue: initial.keyPath ?? '',
        validate: (v) => checkKeyFile(v, keyOpts),
      })
    ).trim();
    const out: TunnelAnswers = { host, port, user };
    if (keyPath === '') return out;
    const full = expandPath(keyPath, env.cwd, home);
    out.keyPath = full;
    let info;
    try {
      info = await inspectKey(full);
    } catch (e) {
      const x = explain(e);
      p.error(`${x.title}\n${x.hint}`);
      initial = { ...initial, keyPath };
      continue;
    }
    if (!info.encrypted) return out;
    if (initial.passphrase) {
      try {
        await inspectKey(full, initial.passphrase);
        out.passphrase = initial.passphrase;
        return out;
      } catch {
        /* the configured one is wrong: ask */
      }
    }
    for (;;) {
      const passphrase = await p.password({
        message: `Passphrase for ${full} (it is encrypted)`,
        validate: (v) => (v === '' ? 'The key is encrypted: type its passphrase (Esc to cancel)' : undefined),
      });
      try {
        await inspectKey(full, passphrase);
        out.passphrase = passphrase;
        return out;
      } catch (e) {
        p.error(explain(e).title);
      }
    }
  }
}
