/**
 * A real, in-process SSH server (ssh2's Server, as ssh2's own tests use it) that REALLY forwards
 * TCP: a `direct-tcpip` request is connected with net.connect to the requested host:port and
 * piped both ways. Publickey auth for one user (optionally a password); options to refuse
 * forwarding, to use a given host key, to start on a fixed port; counts connections;
 * dropAll() cuts every connection at the TCP level (a network drop, not a clean SSH goodbye).
 */
import ssh2 from 'ssh2';
import { createHash, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { pipeline } from 'node:stream';

const { Server, utils } = ssh2;

export interface HostKey {
  /** OpenSSH private key text (for the server). */
  private: string;
  /** `ssh-ed25519 AAAA...` public line. */
  public: string;
  /** The raw public key blob. */
  blob: Buffer;
  type: string;
  /** `SHA256:...` as OpenSSH prints it. */
  fingerprint: string;
}

/**
 * ssh2's generateKeyPairSync('ed25519') writes a malformed key about 0.7% of the time (measured:
 * 34 of 5000; a 31-byte public key when the first byte is 0), which ssh2 itself then refuses to
 * parse. Tests generate many keys, so regenerate until both halves parse: no flaky runs.
 */
function soundKeyPair(generate: () => { private: string; public: string }, passphrase?: string): { private: string; public: string } {
  for (;;) {
    const kp = generate();
    const pub = utils.parseKey(kp.public.trim());
    const priv = passphrase === undefined ? utils.parseKey(kp.private) : utils.parseKey(kp.private, passphrase);
    if (!(pub instanceof Error) && !(priv instanceof Error)) return kp;
  }
}

export function makeHostKey(type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519'): HostKey {
  const kp = soundKeyPair(() =>
    type === 'rsa'
      ? utils.generateKeyPairSync('rsa', { bits: 2048 })
      : type === 'ecdsa'
        ? utils.generateKeyPairSync('ecdsa', { bits: 256 })
        : utils.generateKeyPairSync('ed25519'),
  );
  const [keyType, b64] = kp.public.trim().split(/\s+/);
  const blob = Buffer.from(b64!, 'base64');
  return {
    private: kp.private,
    public: kp.public.trim(),
    blob,
    type: keyType!,
    fingerprint: 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, ''),
  };
}

/** A client key pair (OpenSSH format), optionally encrypted with a passphrase. */
export function makeUserKey(passphrase?: string): { private: string; public: string } {
  const opts = passphrase ? { passphrase, cipher: 'aes256-cbc', rounds: 4 } : undefined;
  const kp = soundKeyPair(() => (opts ? utils.generateKeyPairSync('ed25519', opts) : utils.generateKeyPairSync('ed25519')), passphrase);
  return { private: kp.private, public: kp.public.trim() };
}

export interface SshServerOptions {
  username?: string;
  /** Public keys (`ssh-ed25519 AAAA...`) allowed to log in. */
  authorizedKeys?: string[];
  password?: string;
  hostKey?: HostKey;
  /** Do not forward TCP (the bastion refuses `direct-tcpip`). */
  refuseForwarding?: boolean;
  /** Listen on this port (default: a random free one). */
  port?: number;
}

export interface TestSshServer {
  host: '127.0.0.1';
  port: number;
  hostKey: HostKey;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** TCP connections open right now. */
  readonly openConnections: number;
  /** Forwarded TCP connections (to the target) open right now. */
  readonly openForwards: number;
  /** Forward requests seen so far. */
  readonly forwardRequests: number;
  /** Authentication requests seen so far (any method): 0 proves no credential was offered. */
  readonly authAttempts: number;
  /** Resolves once every SSH connection is gone (or after timeoutMs). */
  waitForNoConnections(timeoutMs?: number): Promise<boolean>;
  dropAll(): void;
  /** A silent partition: stop reading every SSH connection (no reply, no FIN), until closed. */
  freezeAll(): void;
  close(): Promise<void>;
}

export async function startSshServer(options: SshServerOptions = {}): Promise<TestSshServer> {
  const hostKey = options.hostKey ?? makeHostKey();
  const username = options.username ?? 'tunnel';
  const allowed = (options.authorizedKeys ?? []).map((k) => {
    const parsed = utils.parseKey(k);
    if (parsed instanceof Error) throw parsed;
    return Array.isArray(parsed) ? parsed[0]! : parsed;
  });
  const rawSockets = new Set<Socket>();
  const targets = new Set<Socket>();
  let connections = 0;
  let forwardRequests = 0;
  let authAttempts = 0;

  const ssh = new Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      authAttempts++;
      if (ctx.username !== username) return ctx.reject();
      if (ctx.method === 'password' && options.password !== undefined) {
        const a = Buffer.from(ctx.password);
        const b = Buffer.from(options.password);
        return a.length === b.length && timingSafeEqual(a, b) ? ctx.accept() : ctx.reject();
      }
      if (ctx.method === 'publickey') {
        const match = allowed.find((k) => k.type === ctx.key.algo && k.getPublicSSH().equals(ctx.key.data));
        if (!match) return ctx.reject();
        if (!ctx.signature) return ctx.accept(); // the "would this key do?" query
        return match.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject();
      }
      return ctx.reject(options.password !== undefined ? ['publickey', 'password'] : ['publickey']);
    });
    client.on('ready', () => {
      if (options.refuseForwarding) return; // no 'tcpip' listener: ssh2 refuses the channel
      client.on('tcpip', (accept, reject, info) => {
        forwardRequests++;
        const target = connect(info.destPort, info.destIP);
        target.on('error', () => reject());
        target.once('connect', () => {
          const stream = accept();
          if (!stream) return target.destroy();
          targets.add(target);
          target.once('close', () => targets.delete(target));
          stream.on('error', () => {});
          pipeline(target, stream, () => {});
          pipeline(stream, target, () => {});
        });
      });
    });
  });
  ssh.on('error', () => {});

  const tcp = createServer((sock) => {
    connections++;
    rawSockets.add(sock);
    sock.on('error', () => {});
    sock.once('close', () => rawSockets.delete(sock));
    ssh.injectSocket(sock);
  });
  tcp.on('error', () => {});
  const port = await new Promise<number>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(options.port ?? 0, '127.0.0.1', () => {
      const a = tcp.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });

  const api: TestSshServer = {
    host: '127.0.0.1',
    port,
    hostKey,
    get connections() {
      return connections;
    },
    get openConnections() {
      return rawSockets.size;
    },
    get openForwards() {
      return targets.size;
    },
    get forwardRequests() {
      return forwardRequests;
    },
    get authAttempts() {
      return authAttempts;
    },
    async waitForNoConnections(timeoutMs = 3000) {
      const until = Date.now() + timeoutMs;
      while (rawSockets.size > 0 || targets.size > 0) {
        if (Date.now() > until) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    },
    dropAll() {
      for (const s of rawSockets) s.destroy();
      for (const t of targets) t.destroy();
    },
    freezeAll() {
      for (const s of rawSockets) {
        s.pause();
        s.removeAllListeners('data'); // the SSH protocol never sees another byte
      }
    },
    async close() {
      api.dropAll();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
  return api;
}
