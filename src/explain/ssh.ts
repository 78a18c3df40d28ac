import type { ErrorFacts, ExplainTable } from './types.js';

/** explain() rows for the ssh domain. Facts come from SSHTunnelError.details; never secrets. */

const s = (v: unknown, fallback = '?'): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : fallback);
const target = (f: ErrorFacts) => `${s(f.details.host)}:${s(f.details.port)}`;
const remoteOf = (f: ErrorFacts) => `${s(f.details.remoteHost)}:${s(f.details.remotePort)}`;

export const sshTable: ExplainTable = {
  SSH_CONNECTION_REFUSED: (f) => ({
    title: 'SSH connection refused',
    cause: `Nothing accepted the SSH connection at ${target(f)} (ECONNREFUSED): the SSH server is not running there, or a firewall rejects it.`,
    hint: 'Check SSH_HOST and SSH_PORT (--ssh-host, --ssh-port; default port 22), and that `ssh -p PORT USER@HOST` works from this machine.',
  }),
  SSH_HOST_NOT_FOUND: (f) => ({
    title: 'SSH host not found',
    cause: `The name ${s(f.details.host)} does not resolve (${s(f.details.syscallCode, 'ENOTFOUND')}).`,
    hint: "Check the spelling of SSH_HOST (--ssh-host), your DNS or VPN, or use the bastion's IP address.",
  }),
  SSH_TIMEOUT: (f) => ({
    title: 'SSH connection timed out',
    cause: `No SSH handshake with ${target(f)} completed in time (${s(f.details.sshMessage, 'timeout')}).`,
    hint: 'The host may be down, a firewall may drop the packets silently, or the port may not be an SSH server. Check SSH_HOST/SSH_PORT and your VPN.',
  }),
  SSH_CONNECTION_RESET: (f) => ({
    title: 'SSH connection reset',
    cause: `The SSH server at ${target(f)} closed the connection before it was ready (${s(f.details.sshMessage, 'reset')}).`,
    hint: "The server may be restarting or limiting connections (MaxStartups). Try again; if it persists, ask the bastion's admin.",
  }),
  SSH_HANDSHAKE_FAILED: (f) => ({
    title: 'SSH handshake failed',
    cause: `The SSH connection to ${target(f)} failed: ${s(f.details.sshMessage, f.message)}.`,
    hint: 'Check that the port is an SSH server and that it supports modern algorithms; `chatgenius-db doctor --verbose` shows more.',
  }),
  SSH_KEY_NOT_FOUND: (f) => ({
    title: 'SSH key file not found',
    cause: `There is no file at ${s(f.details.path)} (ENOENT).`,
    hint: 'Set SSH_KEY_PATH (or --ssh-key) to your private key, e.g. ~/.ssh/id_ed25519; or leave it unset and run an ssh-agent (SSH_AUTH_SOCK).',
  }),
  SSH_KEY_UNREADABLE: (f) => ({
    title: 'SSH key file cannot be read',
    cause: `${s(f.details.path)} exists but this user may not read it (${s(f.details.syscallCode, 'EACCES')}).`,
    hint: 'Make the key readable by you only: `chmod 600 <key>` and check its owner.',
  }),
  SSH_KEY_BAD_FORMAT: (f) => ({
    title: 'Not a usable SSH private key',
    cause: `${s(f.details.path)} is not a private key in a format ssh2 reads (${s(f.details.parseError, 'unsupported format')}).`,
    hint: 'Point SSH_KEY_PATH at the private key (not the .pub file): OpenSSH (`-----BEGIN OPENSSH PRIVATE KEY-----`), PEM RSA/ECDSA, or PuTTY .ppk.',
  }),
  SSH_KEY_PASSPHRASE_REQUIRED: (f) => ({
    title: 'SSH key needs a passphrase',
    cause: `${s(f.details.path)} is encrypted and no passphrase was given.`,
    hint: 'Set SSH_PASSPHRASE (in .env.local, never committed), run the wizard to be asked for it, or load the key into ssh-agent and unset SSH_KEY_PATH.',
  }),
  SSH_KEY_BAD_PASSPHRASE: (f) => ({
    title: 'Wrong SSH key passphrase',
    cause: `The passphrase does not decrypt ${s(f.details.path)}.`,
    hint: 'Check SSH_PASSPHRASE; `ssh-keygen -y -f <key>` asks for it and tells you whether it is right.',
  }),
  SSH_NO_AUTH_METHOD: () => ({
    title: 'No SSH credentials',
    cause: 'No SSH key is configured and no ssh-agent is available.',
    hint: 'Set SSH_KEY_PATH (or --ssh-key), or start ssh-agent and `ssh-add` your key so SSH_AUTH_SOCK is set.',
  }),
  SSH_AUTH_FAILED: (f) => ({
    title: 'SSH authentication rejected',
    cause: `The server at ${target(f)} rejected every credential offered for user ${s(f.details.username)} (All configured authentication methods failed).`,
    hint: 'Check SSH_USER and that your public key is in ~/.ssh/authorized_keys on the bastion; `ssh -v -i <key> USER@HOST` shows which key is offered.',
  }),
  SSH_AGENT_UNAVAILABLE: (f) => ({
    title: 'ssh-agent not available',
    cause: `The ssh-agent could not be used (${s(f.details.socket ?? f.details.sshMessage, f.message)}).`,
    hint: 'Start an agent (`eval "$(ssh-agent)"`, `ssh-add`), or set SSH_KEY_PATH to a key file instead.',
  }),
  SSH_FORWARD_REFUSED: (f) => ({
    title: 'The bastion refused to forward',
    cause: `${s(f.details.host)} refused to open a channel to ${remoteOf(f)} ((SSH) Channel open failure${f.details.reason !== undefined ? `, reason ${s(f.details.reason)}` : ''}).`,
    hint: 'The SSH server does not allow TCP forwarding for this user (AllowTcpForwarding / PermitOpen in sshd_config). Ask its admin to permit forwarding to the database host:port.',
  }),
  SSH_FORWARD_CONNECT_FAILED: (f) => ({
    title: 'The bastion cannot reach the database',
    cause: `${s(f.details.host)} could not connect to ${remoteOf(f)} ((SSH) Channel open failure: connect failed).`,
    hint: 'POSTGRES_HOST/POSTGRES_PORT are as seen FROM the bastion (often a private address, or localhost when PostgreSQL runs on the bastion). Check them and that PostgreSQL listens there.',
  }),
  SSH_HOST_KEY_UNKNOWN: (f) => ({
    title: 'Unknown SSH host key',
    cause: `${s(f.details.hostName ?? f.details.host)} presented a host key that is not in known_hosts: ${s(f.details.keyType)} ${s(f.details.fingerprint)}.`,
    hint:
      `Check this fingerprint with the bastion's admin (\`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the server). If it matches: pass --accept-new-host-key once ` +
      `(the key is saved in ${s(f.details.projectKnownHosts, '.chatgenius/known_hosts')}), or pin it for CI with SSH_HOST_FINGERPRINT=${s(f.details.fingerprint)}, or run the wizard to be asked.`,
  }),
  SSH_HOST_KEY_CHANGED: (f) => ({
    title: 'SSH host key CHANGED: refused',
    cause:
      f.details.pinned === true
        ? `${s(f.details.hostName ?? f.details.host)} presented ${s(f.details.keyType)} ${s(f.details.fingerprint)}, but SSH_HOST_FINGERPRINT pins ${s(f.details.expected)}.`
        : `${s(f.details.hostName ?? f.details.host)} presented ${s(f.details.keyType)} ${s(f.details.fingerprint)}, which differs from the key recorded at ${Array.isArray(f.details.recordedAt) ? f.details.recordedAt.join(', ') : '?'}.`,
    hint:
      "Someone may be intercepting the connection, or the server was reinstalled. Nothing was sent to it. Ask the bastion's admin for the new fingerprint; " +
      'only if it matches, remove the old entry (`ssh-keygen -R HOST` or `ssh-keygen -R "[HOST]:PORT"`, with -f for the project\'s .chatgenius/known_hosts) or update SSH_HOST_FINGERPRINT, then run again.',
  }),
  SSH_HOST_KEY_REVOKED: (f) => ({
    title: 'SSH host key revoked: refused',
    cause: `${s(f.details.hostName ?? f.details.host)} presented ${s(f.details.fingerprint)}, a key marked @revoked in known_hosts.`,
    hint: "Do not connect. Tell the bastion's admin: the server still uses a key that was revoked.",
  }),
  SSH_TUNNEL_DROPPED: (f) => ({
    title: 'SSH tunnel dropped',
    cause: `The SSH connection to ${target(f)} was lost while in use (${s(f.details.sshMessage, 'connection lost')})${typeof f.details.migration === 'string' ? `, during migration ${f.details.migration}: it was rolled back, nothing of it committed` : ''}.`,
    hint: 'Each migration commits on its own, so the database is at a migration boundary: run the same command again to finish. Frequent drops: check the network or VPN.',
  }),
  SSH_TUNNEL_CLOSED: () => ({
    title: 'SSH tunnel is closed',
    cause: 'The tunnel was used after disconnect().',
    hint: 'Call connect() again (or SSHTunnel.initializeFromEnv() for a fresh instance).',
  }),
  SSH_CONFIG_MISSING: (f) => ({
    title: 'SSH tunnel not configured',
    cause: f.message,
    hint: 'Set SSH_HOST and SSH_USER (and SSH_KEY_PATH or an ssh-agent), or --ssh-host/--ssh-user; or use --no-tunnel.',
  }),
};
