/**
 * openTunnel: local port forwarding over SSH, on ssh2 directly.
 *
 * A TCP server on 127.0.0.1:<random free port>; each accepted socket goes through
 * `client.forwardOut` to the database host:port as the bastion sees it, piped both ways with
 * stream.pipeline. The traps of ssh2 are handled here: a hostVerifier always (it decides before
 * authentication), keepalive on, a NEW Client per connection attempt, an 'error' listener on
 * every client, server, socket and channel. Never prints: emits events.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { pipeline } from 'node:stream';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import type { RetryPolicy, TunnelConfig } from '../config/types.js';
import { CancelledError } from '../errors.js';
import { noEmit, type Emit } from '../events.js';
import { classifyForwardError, classifySshError, isTransientSshError, SSHTunnelError } from './errors.js';
import { verifyHostKey, knownHostsFiles, type ConfirmHostKey } from './host-key.js';
import { loadAuth, type SshAuth } from './keys.js';
import { knownKeyTypes } from './known-hosts.js';
import { executeWithRetry } from '../db/retry.js';

export interface OpenTunnel {
  localHost: '127.0.0.1';
  localPort: number;
  /** Close the listener, destroy forwarded sockets, end the SSH connection. Idempotent. */
  close(): Promise<void>;
  /** Called once if the SSH connection drops while the tunnel is open (SSH_TUNNEL_DROPPED). */
  onDrop(cb: (err: Error) => void): void;
}

export interface OpenTunnelOptions {
  emit?: Emit;
  retry?: RetryPolicy;
  confirmHostKey?: ConfirmHostKey;
  signal?: AbortSignal;
  /**
   * Open (and close) one forwarded channel before returning, so a bastion that refuses to
   * forward, or cannot reach the database, fails here with an explanation instead of as a
   * reset socket under the pg client. The probe's channel then carries the first forwarded
   * connection, so it costs no extra round trip when a client connects soon after. Default true.
   */
  verifyForward?: boolean;
}

const KEEPALIVE_COUNT_MAX = 3;
const SPARE_CHANNEL_MS = 5000;
const HOST_KEY_ALGOS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** Host key algorithms with the types already recorded for this host first (as OpenSSH does). */
export function preferredHostKeyAlgorithms(knownTypes: string[]): string[] {
  const algosFor = (t: string) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]);
  const first = knownTypes.flatMap(algosFor).filter((a) => HOST_KEY_ALGOS.includes(a));
  return [...new Set([...first, ...HOST_KEY_ALGOS])];
}

const noop = () => {};

/** One attempt: a fresh Client, resolved on 'ready' (host key verified, authenticated). */
// Long on purpose: ssh2's event handlers settle one promise together; apart, they would share state through arguments.
async function connectOnce(
  cfg: TunnelConfig,
  auth: SshAuth,
  algorithms: string[],
  opts: { emit: Emit; confirmHostKey?: ConfirmHostKey; signal?: AbortSignal },
): Promise<Client> {
  const { Client: SshClient } = (await import('ssh2')).default;
  const client = new SshClient();
  const where = { host: cfg.host, port: cfg.port, username: cfg.username };
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    let hostKeyError: unknown;
    const finish = (err: unknown, ok?: Client) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (ok) return resolve(ok);
      client.removeAllListeners('ready');
      client.on('error', noop); // late errors from a discarded client must not crash the process
      client.end();
      client.destroy();
      reject(err);
    };
    const onAbort = () => finish(new CancelledError());
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // Our own ready timer (ssh2's is off) so that the time a person spends reading the host key
    // prompt does not count: it covers TCP connect, handshake and authentication.
    let remaining = cfg.readyTimeoutMs;
    let timerStarted = 0;
    let timer: NodeJS.Timeout | undefined;
    const startTimer = () => {
      if (remaining <= 0 || settled) return;
      timerStarted = Date.now();
      timer = setTimeout(() => {
        finish(
          new SSHTunnelError('SSH_TIMEOUT', `SSH connection to ${cfg.host}:${cfg.port} timed out (no handshake within ${cfg.readyTimeoutMs} ms)`, {
            ...where,
            level: 'client-timeout',
            sshMessage: `no handshake within ${cfg.readyTimeoutMs} ms`,
          }),
        );
      }, remaining);
    };
    const pauseTimer = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      remaining = Math.max(1, remaining - (Date.now() - timerStarted));
    };
    const confirmHostKey: ConfirmHostKey | undefined = opts.confirmHostKey
      ? async (info) => {
          pauseTimer();
          try {
            return await opts.confirmHostKey!(info);
          } finally {
            startTimer();
          }
        }
      : undefined;
    client.on('error', (err: Error) => finish(hostKeyError ?? classifySshError(err, where)));
    client.on('close', () =>
      finish(
        hostKeyError ??
          new SSHTunnelError('SSH_CONNECTION_RESET', `SSH connection to ${cfg.host}:${cfg.port} closed before it was ready`, {
            ...where,
          }),
      ),
    );
    client.on('ready', () => finish(undefined, client));
    const config: ConnectConfig = {
      host: cfg.host,
      port: cfg.port,
      username: cfg.username,
      readyTimeout: 0, // ours above, paused while a person confirms the host key
      keepaliveInterval: cfg.keepaliveIntervalMs,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        const hv: { emit: Emit; confirmHostKey?: ConfirmHostKey } = { emit: opts.emit };
        if (confirmHostKey) hv.confirmHostKey = confirmHostKey;
        verifyHostKey(cfg, key, hv).then(
          () => verify(true),
          (err: unknown) => {
            hostKeyError = err;
            verify(false);
          },
        );
      },
    };
    // Straight to the one method we have: ssh2 would first try `none`, a wasted round trip.
    config.authHandler = auth.privateKey ? ['publickey'] : ['agent'];
    if (auth.privateKey) config.privateKey = auth.privateKey;
    if (auth.passphrase) config.passphrase = auth.passphrase;
    if (auth.agent) config.agent = auth.agent;
    try {
      startTimer();
      client.connect(config);
    } catch (err) {
      finish(classifySshError(err, where));
    }
  });
}

/** Connect with the environment's retry policy: transient failures only, a new Client each time. */
async function connectWithRetry(cfg: TunnelConfig, opts: OpenTunnelOptions & { emit: Emit }): Promise<Client> {
  const auth = await loadAuth(cfg); // key problems fail here, before the network, never retried
  const types = await knownKeyTypes(cfg.host, cfg.port, knownHostsFiles(cfg));
  const algorithms = preferredHostKeyAlgorithms(types);
  const o: { emit: Emit; confirmHostKey?: ConfirmHostKey; signal?: AbortSignal } = { emit: opts.emit };
  if (opts.confirmHostKey) o.confirmHostKey = opts.confirmHostKey;
  if (opts.signal) o.signal = opts.signal;
  return executeWithRetry(
    (attempt) => {
      opts.emit({ type: 'tunnel:connecting', host: cfg.host, port: cfg.port, attempt });
      return connectOnce(cfg, auth, algorithms, o);
    },
    Math.max(1, opts.retry?.maxRetries ?? 1),
    {
      delayMs: opts.retry?.retryDelayMs ?? 1000,
      emit: opts.emit,
      operation: 'ssh connect',
      isTransient: isTransientSshError,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
  );
}

function forwardOut(client: Client, srcHost: string, srcPort: number, remote: { host: string; port: number }): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.forwardOut(srcHost, srcPort, remote.host, remote.port, (err, stream) => (err ? reject(err) : resolve(stream)));
    } catch (err) {
      reject(err);
    }
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

// Long on purpose: the tunnel's state (sockets, channels, spare channel, drop, close) is one closure its handlers share.
export async function openTunnel(cfg: TunnelConfig, remote: { host: string; port: number }, opts: OpenTunnelOptions = {}): Promise<OpenTunnel> {
  const emit = opts.emit ?? noEmit;
  const started = Date.now();
  const where = { host: cfg.host, port: cfg.port, username: cfg.username };
  const client = await connectWithRetry(cfg, { ...opts, emit });

  const sockets = new Set<Socket>();
  const channels = new Set<ClientChannel>();
  const dropCallbacks: Array<(err: Error) => void> = [];
  let dropError: SSHTunnelError | undefined;
  let closing: Promise<void> | undefined;
  let clientClosed = false;
  const clientClosedWaiters: Array<() => void> = [];

  // The forwarding probe's channel is kept for the first connection (usually the pg client,
  // right after openTunnel returns): the probe then costs no round trip at all. Dropped if
  // unused for a few seconds, well before PostgreSQL's authentication_timeout.
  let spare: ClientChannel | undefined;
  let spareTimer: NodeJS.Timeout | undefined;
  const takeSpare = (): ClientChannel | undefined => {
    const s = spare;
    spare = undefined;
    if (spareTimer) clearTimeout(spareTimer);
    if (!s || s.destroyed || s.readableEnded || s.writableEnded) return undefined;
    s.off('close', onSpareClose);
    return s;
  };
  const onSpareClose = () => {
    spare = undefined;
  };
  const keepSpare = (ch: ClientChannel) => {
    spare = ch;
    ch.once('close', onSpareClose);
    spareTimer = setTimeout(() => takeSpare()?.destroy(), SPARE_CHANNEL_MS);
    spareTimer.unref();
  };

  const destroyAll = () => {
    takeSpare()?.destroy();
    for (const s of sockets) s.destroy();
    for (const c of channels) c.destroy();
    sockets.clear();
    channels.clear();
  };

  const server = createServer({ noDelay: true }, (sock) => {
    sock.on('error', noop);
    sock.setNoDelay(true);
    if (closing || dropError) {
      sock.destroy();
      return;
    }
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    const ready = takeSpare();
    (ready ? Promise.resolve(ready) : forwardOut(client, sock.remoteAddress ?? '127.0.0.1', sock.remotePort ?? 0, remote)).then(
      (stream) => {
        stream.on('error', noop);
        if (sock.destroyed || closing || dropError) {
          stream.destroy();
          return;
        }
        channels.add(stream);
        stream.once('close', () => channels.delete(stream));
        pipeline(sock, stream, noop);
        pipeline(stream, sock, noop);
      },
      (err: unknown) => {
        const e = classifyForwardError(err, where, remote);
        emit({ type: 'notice', level: 'warn', message: e.message, data: { code: e.code } });
        sock.destroy();
      },
    );
  });
  server.on('error', noop);

  client.on('error', (err: Error) => {
    if (closing || dropError) return;
    handleDrop(err);
  });
  client.on('close', () => {
    clientClosed = true;
    for (const w of clientClosedWaiters.splice(0)) w();
    if (!closing && !dropError) handleDrop(new Error('the SSH connection closed'));
  });

  function handleDrop(cause: Error) {
    dropError = new SSHTunnelError(
      'SSH_TUNNEL_DROPPED',
      `The SSH tunnel through ${cfg.host}:${cfg.port} dropped: ${cause.message}`,
      { host: cfg.host, port: cfg.port, remoteHost: remote.host, remotePort: remote.port, sshMessage: cause.message },
      { cause },
    );
    destroyAll();
    server.close();
    client.destroy();
    emit({ type: 'tunnel:closed', host: cfg.host, reason: dropError.message });
    for (const cb of dropCallbacks.splice(0)) {
      try {
        cb(dropError);
      } catch {
        /* a listener's failure must not break the teardown */
      }
    }
  }

  const close = (): Promise<void> => {
    if (closing) return closing;
    closing = (async () => {
      opts.signal?.removeEventListener('abort', onAbort);
      const serverClosed = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
      destroyAll();
      const ended = new Promise<void>((resolve) => {
        if (clientClosed) return resolve();
        clientClosedWaiters.push(resolve);
        const t = setTimeout(() => {
          client.destroy();
          resolve();
        }, 2000);
        t.unref();
      });
      client.end();
      await Promise.all([serverClosed, ended]);
      if (!dropError) emit({ type: 'tunnel:closed', host: cfg.host });
    })();
    return closing;
  };
  const onAbort = () => void close();

  try {
    if (opts.verifyForward !== false) {
      const probe = await forwardOut(client, '127.0.0.1', 0, remote).catch((err: unknown) => {
        throw classifyForwardError(err, where, remote);
      });
      probe.on('error', noop);
      keepSpare(probe);
    }
    const localPort = await listen(server);
    if (opts.signal?.aborted) throw new CancelledError();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    emit({ type: 'tunnel:open', host: cfg.host, localPort, remote: `${remote.host}:${remote.port}`, ms: Date.now() - started });
    return {
      localHost: '127.0.0.1',
      localPort,
      close,
      onDrop(cb) {
        if (dropError) {
          const e = dropError;
          queueMicrotask(() => cb(e));
        } else dropCallbacks.push(cb);
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
