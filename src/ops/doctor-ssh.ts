/**
 * The SSH links of the chain: key file, bastion reachable, host key, authentication, forwarding.
 * All are skipped (without blocking) when no tunnel is configured.
 * One real tunnel is opened (by src/tunnel's openTunnel, which checks the host key before it
 * authenticates and verifies one forward) and each check reports its own part of the outcome.
 */
import { ChatgeniusError, errorCode } from '../errors.js';
import type { ChatgeniusEvent } from '../events.js';
import type { ConfigFlags } from '../config/types.js';
import type { Check, CheckResult } from './checks.js';
import { notApplicable } from './checks.js';
import { failWith, type DoctorContext } from './doctor-context.js';
import { inspectKeyFile } from './keyfile.js';
import { tcpConnectMs } from './probe.js';
import { openTunnel, knownHostsFiles, preferredHostKeyAlgorithms, verifyHostKey } from '../tunnel/index.js';
import { classifySshError } from '../tunnel/errors.js';
import { knownKeyTypes } from '../tunnel/known-hosts.js';

/** Why the SSH checks do not apply (SSH_HOST may sit in an env file as well as in the environment). */
export function noTunnelReason(flags: ConfigFlags, env: string | undefined): string {
  if (flags['no-tunnel'] === true) return 'tunnel disabled (--no-tunnel)';
  if (env === 'local') return 'not used by --env local (embedded PostgreSQL)';
  return 'no SSH tunnel configured (SSH_HOST not set)';
}

const noTunnel = (ctx: DoctorContext): CheckResult | null => (ctx.config?.tunnel ? null : notApplicable(noTunnelReason(ctx.flags, ctx.config?.env ?? ctx.envName)));

const FORWARD_CODES = /^SSH_FORWARD_/;

/** Open the tunnel once (first check that needs it), remembering the outcome for the others. */
async function ensureTunnel(ctx: DoctorContext): Promise<void> {
  if (ctx.tunnel || ctx.tunnelError) return;
  const cfg = ctx.config!.tunnel!;
  const conn = ctx.config!.connection;
  try {
    const opts: Parameters<typeof openTunnel>[2] = {
      emit: (e) => {
        ctx.tunnelEvents.push(e);
        ctx.emit(e);
      },
      // doctor only looks: one attempt, and an unknown host key is reported, not accepted.
      retry: { maxRetries: 1, retryDelayMs: 0 },
      confirmHostKey: async () => false,
    };
    if (ctx.signal) opts.signal = ctx.signal;
    ctx.tunnel = await openTunnel(cfg, { host: conn?.host ?? 'localhost', port: conn?.port ?? 5432 }, opts);
  } catch (err) {
    ctx.tunnelError = err;
  }
}

export const keyFileCheck: Check<DoctorContext> = {
  id: 'ssh-key',
  title: 'SSH key file',
  needs: ['config'],
  async run(ctx) {
    const na = noTunnel(ctx);
    if (na) return na;
    const t = ctx.config!.tunnel!;
    if (!t.keyPath) {
      if (t.agentSocket) return { status: 'pass', summary: `no key file configured; using ssh-agent (${t.agentSocket})` };
      return failWith(new ChatgeniusError('SSH_NO_AUTH_METHOD', 'No SSH key is configured (SSH_KEY_PATH / --ssh-key) and no ssh-agent is running (SSH_AUTH_SOCK)'));
    }
    const k = await inspectKeyFile(t.keyPath, t.passphrase);
    if (!k.exists) {
      if (k.problem === 'not-found') return failWith(new ChatgeniusError('DOCTOR_KEY_NOT_FOUND', `SSH key file ${t.keyPath} not found`, { path: t.keyPath }));
      return failWith(new ChatgeniusError('DOCTOR_KEY_UNREADABLE', `cannot read ${t.keyPath}: ${k.message ?? ''}`, { path: t.keyPath }));
    }
    if (k.problem === 'not-a-key') return failWith(new ChatgeniusError('DOCTOR_KEY_UNREADABLE', k.message ?? 'not a private key', { path: t.keyPath }));
    if (k.problem === 'needs-passphrase') return failWith(new ChatgeniusError('DOCTOR_KEY_NEEDS_PASSPHRASE', 'encrypted key, no passphrase', { path: t.keyPath }));
    if (k.problem === 'wrong-passphrase')
      return failWith(new ChatgeniusError('SSH_KEY_BAD_PASSPHRASE', `The passphrase for SSH key ${t.keyPath} is wrong`, { path: t.keyPath }));
    const facts = `${t.keyPath}, ${k.type ?? 'unknown type'}, mode ${k.mode}${k.encrypted ? ', encrypted (passphrase opens it)' : ', not encrypted'}`;
    if (k.looseMode) {
      return {
        ...failWith(new ChatgeniusError('DOCTOR_KEY_MODE', 'key readable by others', { path: t.keyPath, mode: k.mode }), 'warn'),
        summary: `${facts}: readable by other users`,
      };
    }
    return { status: 'pass', summary: facts };
  },
};

export const sshReachableCheck: Check<DoctorContext> = {
  id: 'ssh-reachable',
  title: 'SSH server reachable',
  needs: ['config'],
  async run(ctx) {
    const na = noTunnel(ctx);
    if (na) return na;
    const t = ctx.config!.tunnel!;
    try {
      const { ms } = await tcpConnectMs(t.host, t.port);
      return { status: 'pass', summary: `${t.host}:${t.port} accepts TCP connections`, figure: `${ms} ms` };
    } catch (err) {
      return failWith(classifySshError(err, { host: t.host, port: t.port, username: t.username }));
    }
  },
};

/**
 * The server's host key, fetched on a connection of its own that is dropped right after the key
 * exchange: no authentication is attempted, so this works even when the key file is broken, and
 * no credential is ever offered to the server.
 */
export async function fetchHostKey(host: string, port: number, algorithms: string[], timeoutMs = 10_000): Promise<Buffer> {
  const { Client } = (await import('ssh2')).default;
  return new Promise<Buffer>((resolve, reject) => {
    const c = new Client();
    let key: Buffer | undefined;
    const done = () => {
      c.on('error', () => {});
      c.end();
      c.destroy();
    };
    c.on('error', (e: Error) => {
      done();
      if (key) resolve(key);
      else reject(e);
    });
    c.on('close', () =>
      key ? resolve(key) : reject(Object.assign(new Error(`SSH connection to ${host}:${port} closed before the key exchange`), { code: 'ECONNRESET' })),
    );
    c.on('ready', done);
    c.connect({
      host,
      port,
      username: 'chatgenius-db-doctor',
      readyTimeout: timeoutMs,
      algorithms: { serverHostKey: algorithms as never },
      hostVerifier: (k: Buffer, verify: (ok: boolean) => void) => {
        key = Buffer.from(k);
        resolve(key);
        verify(false);
      },
    });
  });
}

export const hostKeyCheck: Check<DoctorContext> = {
  id: 'ssh-host-key',
  title: 'SSH host key known',
  needs: ['ssh-reachable'],
  async run(ctx) {
    const na = noTunnel(ctx);
    if (na) return na;
    const t = ctx.config!.tunnel!;
    const files = knownHostsFiles(t);
    let key: Buffer;
    try {
      key = await fetchHostKey(t.host, t.port, preferredHostKeyAlgorithms(await knownKeyTypes(t.host, t.port, files)), t.readyTimeoutMs);
    } catch (err) {
      return failWith(classifySshError(err, { host: t.host, port: t.port, username: t.username }));
    }
    const events: ChatgeniusEvent[] = [];
    try {
      // Report only: never accept (nor record) a new key here.
      const how = await verifyHostKey({ ...t, acceptNewHostKey: false }, key, { emit: (e) => events.push(e) });
      const seen = events.find((e) => e.type === 'tunnel:hostkey');
      const name = seen && seen.type === 'tunnel:hostkey' ? seen.host : t.host;
      const fp = seen && seen.type === 'tunnel:hostkey' ? seen.fingerprint : '';
      const text = how === 'pinned' ? 'matches the pinned SSH_HOST_FINGERPRINT' : `is in ${files.join(' or ')}`;
      return { status: 'pass', summary: `${name} ${text}`, ...(fp ? { figure: fp } : {}) };
    } catch (err) {
      return failWith(err);
    }
  },
};

export const sshAuthCheck: Check<DoctorContext> = {
  id: 'ssh-auth',
  title: 'SSH authentication',
  needs: ['ssh-host-key', 'ssh-key'],
  async run(ctx) {
    const na = noTunnel(ctx);
    if (na) return na;
    await ensureTunnel(ctx);
    const t = ctx.config!.tunnel!;
    const code = errorCode(ctx.tunnelError);
    const how = t.keyPath ? `key ${t.keyPath}` : 'ssh-agent';
    if (ctx.tunnel || (code && FORWARD_CODES.test(code))) return { status: 'pass', summary: `logged in as ${t.username}@${t.host} with ${how}` };
    return failWith(ctx.tunnelError);
  },
};

export const forwardingCheck: Check<DoctorContext> = {
  id: 'ssh-forwarding',
  title: 'SSH port forwarding',
  needs: ['ssh-auth'],
  async run(ctx) {
    const na = noTunnel(ctx);
    if (na) return na;
    await ensureTunnel(ctx);
    const remote = `${ctx.config!.connection?.host ?? 'localhost'}:${ctx.config!.connection?.port ?? 5432}`;
    if (ctx.tunnel) {
      const open = ctx.tunnelEvents.find((e) => e.type === 'tunnel:open');
      const figure = open && open.type === 'tunnel:open' ? `${open.ms} ms` : undefined;
      return { status: 'pass', summary: `127.0.0.1:${ctx.tunnel.localPort} -> ${remote} (as the bastion sees it)`, ...(figure ? { figure } : {}) };
    }
    return failWith(ctx.tunnelError);
  },
};

export const sshChecks = [keyFileCheck, sshReachableCheck, hostKeyCheck, sshAuthCheck, forwardingCheck];
