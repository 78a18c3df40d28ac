/** The SSH tunnel's settings (host, port, user, key or agent, host key checks), or null when no tunnel is configured. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_KEEPALIVE_MS, DEFAULT_SSH_PORT, DEFAULT_SSH_READY_TIMEOUT_MS, ENV_DEFAULTS } from './defaults.js';
import { describeFound, type Layers } from './layers.js';
import { absolutePath, badValue, missingValue, type Reader } from './reader.js';
import { SETTINGS } from './settings.js';
import type { EnvName, TunnelConfig } from './types.js';
import { badPort, parseFingerprint, parsePort, splitSshTarget } from './validate.js';

export function resolveTunnel(r: Reader, layers: Layers, env: EnvName, projectDir: string, home: string, stateDir: string): TunnelConfig | null {
  const hostFound = r.get(SETTINGS.sshHost);
  if (!hostFound) return null;
  if (layers.flagBool('no-tunnel')) return null;
  const target = splitSshTarget(hostFound.value);
  if (!target.ok) throw badValue('CONFIG_BAD_VALUE', hostFound, SETTINGS.sshHost, target.problem);

  const portFound = r.get(SETTINGS.sshPort);
  let port = DEFAULT_SSH_PORT;
  if (portFound) {
    const p = parsePort(portFound.value);
    if (!p.ok) throw badValue('CONFIG_BAD_PORT', portFound, SETTINGS.sshPort, p.problem);
    port = p.value;
  } else if (target.value.port !== undefined) {
    const p = parsePort(target.value.port);
    if (!p.ok) throw badValue('CONFIG_BAD_PORT', hostFound, SETTINGS.sshHost, badPort(target.value.port));
    port = p.value;
  }

  const userFound = r.get(SETTINGS.sshUser);
  const username = userFound?.value ?? target.value.user;
  if (!username) {
    throw missingValue(
      'The SSH user',
      SETTINGS.sshUser,
      `a tunnel is configured by ${describeFound(hostFound, false)}`,
      hostFound.kind === 'flag',
      ' (or give --ssh-host user@host)',
      env,
    );
  }

  const tunnel: TunnelConfig = {
    host: target.value.host,
    port,
    username,
    knownHostsPath: absolutePath(r.get(SETTINGS.sshKnownHosts)?.value ?? '~/.ssh/known_hosts', projectDir, home),
    projectKnownHostsPath: join(stateDir, 'known_hosts'),
    acceptNewHostKey: layers.flagBool('accept-new-host-key'),
    keepaliveIntervalMs: DEFAULT_KEEPALIVE_MS,
    readyTimeoutMs: DEFAULT_SSH_READY_TIMEOUT_MS,
  };

  const keyFound = r.get(SETTINGS.sshKey);
  const defaultKey = ENV_DEFAULTS[env].sshKeyPath;
  if (keyFound) {
    if (keyFound.value.trim() === '') throw badValue('CONFIG_BAD_VALUE', keyFound, SETTINGS.sshKey, 'is empty');
    tunnel.keyPath = absolutePath(keyFound.value, projectDir, home);
  } else if (defaultKey && existsSync(absolutePath(defaultKey, projectDir, home))) {
    tunnel.keyPath = absolutePath(defaultKey, projectDir, home);
    r.noteDefault('SSH_KEY_PATH', SETTINGS.sshKey);
  } else {
    const agent = r.get(SETTINGS.sshAgent);
    if (agent) tunnel.agentSocket = agent.value;
    // Neither key nor agent: the tunnel reports SSH_NO_AUTH_METHOD (doctor shows it as a check).
  }
  const passphrase = r.get(SETTINGS.sshPassphrase);
  if (passphrase) tunnel.passphrase = passphrase.value;
  const fp = r.parse(SETTINGS.sshFingerprint, parseFingerprint, 'CONFIG_BAD_FINGERPRINT');
  if (fp !== undefined) tunnel.hostFingerprint = fp;
  return tunnel;
}
