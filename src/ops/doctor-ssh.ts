/**
 * The SSH links of the chain: key file, bastion reachable, host key, authentication, forwarding.
 * All are skipped (without blocking) when no tunnel is configured.
 * One real tunnel is opened (by src/tunnel's openTunnel, which checks the host key before it
 * authenticates and verifies one forward) and each check reports its own part of the outcome.
 */
import { ChatgeniusError, errorCode } from '../errors.js';
import type { Check, CheckResult } from './checks.js';
import { notApplicable } from './checks.js';
import { failWith, type DoctorContext } from './doctor-context.js';
import { inspectKeyFile } from './keyfile.js';
import { tcpConnectMs } from './probe.js';

const noTunnel = (ctx: DoctorContext): CheckResult | null =>
  ctx.config?.tunnel ? null : notApplicable(ctx.config && ctx.env.SSH_HOST ? 'tunnel disabled (--no-tunnel)' : 'no SSH tunnel configured (SSH_HOST not set)');

const HOST_KEY_CODES = /^SSH_HOST_KEY_/;
const REACH_CODES = new Set(['SSH_CONNECTION_REFUSED', 'SSH_HOST_NOT_FOUND', 'SSH_TIMEOUT', 'SSH_CONNECTION_RESET', 'SSH_HANDSHAKE_FAILED']);
const FORWARD_CODES = /^SSH_FORWARD_/;

/** Open the tunnel once (first check that needs it), remembering the outcome for the others. */
async function ensureTunnel(ctx: DoctorContext): Promise<void> {
  if (ctx.tunnel || ctx.tunnelError) return;
  const cfg = ctx.config!.tunnel!;
  const conn = ctx.config!.connection;
  const { openTunnel } = await import('../tunnel/index.js');
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
    if (k.problem === 'wrong-passphrase') return failWith(new ChatgeniusError('SSH_KEY_BAD_PASSPHRASE', `The passphrase for SSH key ${t.keyPath} is wrong`, { path: t.keyPath }));
    const facts = `${t.keyPath}, ${k.type ?? 'unknown type'}, mode ${k.mode}${k.encrypted ? ', encrypted (passphrase opens it)' : ', not encrypted'}`;
    if (k.looseMode) {
      return { ...failWith(new ChatgeniusError('DOCTOR_KEY_MODE', 'key readable by others', { path: t.keyPath, mode: k.mode }), 'warn'), summary: `${facts}: readable by other users` };
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
      const { classifySshError } = await import('../tunnel/errors.js');
      return failWith(classifySshError(err, { host: t.host, port: t.port, username: t.username }));
    }
  },
};

export const hostKeyCheck: Check<DoctorContext> = {
  id: 'ssh-host-key',
  title: 'SSH host key known',
  needs: ['ssh-reachable'],
  async run(ctx) {
    const na = noTunnel(ctx);
    if (na) return na;
    await ensureTunnel(ctx);
    const seen = ctx.tunnelEvents.find((e) => e.type === 'tunnel:hostkey');
    const code = errorCode(ctx.tunnelError);
    if (code && HOST_KEY_CODES.test(code)) return failWith(ctx.tunnelError);
    if (code && REACH_CODES.has(code) && !seen) return failWith(ctx.tunnelError);
    if (seen && seen.type === 'tunnel:hostkey' && seen.status !== 'unknown' && seen.status !== 'changed') {
      const how = seen.status === 'pinned' ? 'matches the pinned SSH_HOST_FINGERPRINT' : seen.status === 'known' ? 'is in known_hosts' : 'was accepted and recorded';
      return { status: 'pass', summary: `${seen.host} ${how}`, figure: seen.fingerprint };
    }
    if (ctx.tunnel) return { status: 'pass', summary: 'verified' };
    return failWith(ctx.tunnelError ?? new Error('the SSH server did not show a host key'));
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
