/**
 * The host key policy, applied BEFORE authentication (ssh2's hostVerifier), so no credential is
 * offered to an impostor:
 *  - pinned fingerprint (SSH_HOST_FINGERPRINT): must match, else refused as changed;
 *  - known_hosts (SSH_KNOWN_HOSTS or ~/.ssh/known_hosts, plus the project's .chatgenius/known_hosts):
 *    known -> go; changed or revoked -> refuse, always;
 *  - unknown -> ask (the wizard's confirmHostKey), else accept only with --accept-new-host-key,
 *    else refuse with the fingerprint and the ways to accept or pin it.
 * Accepted new keys are appended to the project's known_hosts (0600).
 */
import type { TunnelConfig } from '../config/types.js';
import type { Emit } from '../events.js';
import { SSHTunnelError } from './errors.js';
import { appendKnownHost, checkHostKey, fingerprint, hostLookupName, keyTypeOf, normalizeFingerprint } from './known-hosts.js';

export type ConfirmHostKey = (info: { host: string; port: number; fingerprint: string; keyType: string }) => Promise<boolean>;

export type HostKeyPolicyConfig = Pick<TunnelConfig, 'host' | 'port' | 'knownHostsPath' | 'projectKnownHostsPath' | 'hostFingerprint' | 'acceptNewHostKey'>;

export function knownHostsFiles(cfg: Pick<TunnelConfig, 'knownHostsPath' | 'projectKnownHostsPath'>): string[] {
  return [...new Set([cfg.knownHostsPath, cfg.projectKnownHostsPath].filter((f): f is string => Boolean(f)))];
}

/** Resolves when the key may be trusted; throws an explained SSHTunnelError otherwise. */
export async function verifyHostKey(
  cfg: HostKeyPolicyConfig,
  key: Buffer,
  opts: { emit: Emit; confirmHostKey?: ConfirmHostKey },
): Promise<'known' | 'pinned' | 'new-accepted'> {
  const fp = fingerprint(key);
  const keyType = keyTypeOf(key);
  const name = hostLookupName(cfg.host, cfg.port);
  const files = knownHostsFiles(cfg);
  const facts = { host: cfg.host, port: cfg.port, hostName: name, fingerprint: fp, keyType };
  const check = await checkHostKey({ host: cfg.host, port: cfg.port, key }, files);

  if (check.status === 'revoked') {
    opts.emit({ type: 'tunnel:hostkey', host: name, fingerprint: fp, status: 'changed' });
    throw new SSHTunnelError('SSH_HOST_KEY_REVOKED', `The host key of ${name} (${fp}) is marked @revoked in known_hosts`, facts);
  }

  if (cfg.hostFingerprint) {
    const pinned = normalizeFingerprint(cfg.hostFingerprint);
    if (pinned === fp) {
      opts.emit({ type: 'tunnel:hostkey', host: name, fingerprint: fp, status: 'pinned' });
      return 'pinned';
    }
    opts.emit({ type: 'tunnel:hostkey', host: name, fingerprint: fp, status: 'changed' });
    throw new SSHTunnelError('SSH_HOST_KEY_CHANGED', `The host key of ${name} does not match the pinned SSH_HOST_FINGERPRINT: expected ${pinned}, got ${fp}`, {
      ...facts,
      expected: pinned,
      pinned: true,
      files,
    });
  }

  if (check.status === 'known') {
    opts.emit({ type: 'tunnel:hostkey', host: name, fingerprint: fp, status: 'known' });
    return 'known';
  }
  if (check.status === 'changed') {
    opts.emit({ type: 'tunnel:hostkey', host: name, fingerprint: fp, status: 'changed' });
    throw new SSHTunnelError(
      'SSH_HOST_KEY_CHANGED',
      `The host key of ${name} has CHANGED: it is now ${keyType} ${fp}, which does not match ${check.recordedAt.join(', ')}`,
      { ...facts, recordedAt: check.recordedAt, pinned: false, files },
    );
  }

  // unknown
  let accept = false;
  let declined = false;
  if (opts.confirmHostKey) {
    accept = await opts.confirmHostKey({ host: cfg.host, port: cfg.port, fingerprint: fp, keyType });
    declined = !accept;
  } else if (cfg.acceptNewHostKey) {
    accept = true;
  }
  if (accept) {
    await appendKnownHost(cfg.projectKnownHostsPath, cfg.host, cfg.port, key);
    opts.emit({ type: 'tunnel:hostkey', host: name, fingerprint: fp, status: 'new-accepted' });
    return 'new-accepted';
  }
  opts.emit({ type: 'tunnel:hostkey', host: name, fingerprint: fp, status: 'unknown' });
  throw new SSHTunnelError(
    'SSH_HOST_KEY_UNKNOWN',
    declined ? `The host key of ${name} (${keyType} ${fp}) was not accepted` : `The host key of ${name} is not known: ${keyType} ${fp}`,
    { ...facts, declined, files, projectKnownHosts: cfg.projectKnownHostsPath },
  );
}
