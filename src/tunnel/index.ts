/** The SSH tunnel: openTunnel (the agreed interface), keys, known_hosts. */
export { openTunnel, preferredHostKeyAlgorithms } from './tunnel.js';
export type { OpenTunnel, OpenTunnelOptions } from './tunnel.js';
export { SSHTunnelError, classifySshError, classifyForwardError, isTransientSshError } from './errors.js';
export type { SshErrorCode } from './errors.js';
export { inspectKey, loadAuth, expandHome } from './keys.js';
export type { KeyInfo, SshAuth } from './keys.js';
export {
  appendKnownHost,
  checkHostKey,
  decideHostKey,
  fingerprint,
  hashHostName,
  hostLookupName,
  knownHostLine,
  normalizeFingerprint,
  parseKnownHosts,
} from './known-hosts.js';
export type { HostKeyCheck, HostKeyStatus, KnownHostEntry } from './known-hosts.js';
export { verifyHostKey, knownHostsFiles } from './host-key.js';
export type { ConfirmHostKey } from './host-key.js';
