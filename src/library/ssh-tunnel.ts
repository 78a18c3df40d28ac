/**
 * The feature spec's API, on top of openTunnel:
 *
 *   const tunnel = SSHTunnel.initializeFromEnv();   // reads SSH_*, POSTGRES_* / DATABASE_URL, .env files
 *   const port = await tunnel.connect();             // local port on 127.0.0.1
 *   ... connect pg to tunnel.connectionConfig() ...
 *   await SSHTunnel.getInstance().disconnect();
 *   SSHTunnel.resetInstance();
 *
 * Differences from the spec's sketch, on purpose:
 * - the local port is a random free one (not 5432), so it never collides with a local server;
 * - `SSHTunnelError.code` is a stable `SSH_*` code (SSH_CONNECTION_REFUSED, SSH_HOST_NOT_FOUND,
 *   SSH_KEY_NOT_FOUND...); the Node code the spec switches on (ECONNREFUSED, ENOTFOUND, ENOENT)
 *   is kept as `error.syscallCode` / `error.details.syscallCode`;
 * - without SSH_HOST (or with --no-tunnel) the instance is disabled: connect() opens nothing
 *   and returns the database's own port, and connectionConfig() is the direct connection.
 */
import { resolveConfig } from '../config/index.js';
import type { ConfigFlags, ConnectionConfig, RetryPolicy, TunnelConfig } from '../config/types.js';
import { noEmit, type Emit } from '../events.js';
import { SSHTunnelError } from '../tunnel/errors.js';
import type { ConfirmHostKey } from '../tunnel/host-key.js';
import { setActiveTunnel } from './active-tunnel.js';
import type { OpenTunnel } from '../tunnel/tunnel.js';
import { openTunnel } from '../tunnel/tunnel.js';

export interface SSHTunnelOptions {
  retry?: RetryPolicy;
  emit?: Emit;
  confirmHostKey?: ConfirmHostKey;
}

export class SSHTunnel {
  private static instance: SSHTunnel | null = null;

  /** null: no tunnel configured (direct connection). */
  readonly config: TunnelConfig | null;
  /** The database as seen from the bastion. */
  readonly remote: { host: string; port: number };
  /** The database connection as configured (before the tunnel). */
  readonly database: ConnectionConfig | null;
  private readonly options: SSHTunnelOptions;
  private open: OpenTunnel | null = null;
  private opening: Promise<number> | null = null;
  private readonly dropListeners: Array<(err: Error) => void> = [];

  constructor(config: TunnelConfig | null, remote: { host: string; port: number }, options: SSHTunnelOptions = {}, database: ConnectionConfig | null = null) {
    this.config = config;
    this.remote = remote;
    this.options = options;
    this.database = database;
  }

  /**
   * Build the singleton from the environment (flags none; variables and .env files of `cwd`,
   * through the same resolveConfig the CLI uses). Returns the existing instance if there is one.
   */
  static initializeFromEnv(env: NodeJS.ProcessEnv = process.env, opts: SSHTunnelOptions & { cwd?: string; flags?: ConfigFlags } = {}): SSHTunnel {
    if (SSHTunnel.instance) return SSHTunnel.instance;
    const cfg = resolveConfig({ flags: opts.flags ?? {}, env, cwd: opts.cwd ?? process.cwd(), interactive: false });
    const conn = cfg.connection;
    const remote = conn ? { host: conn.host, port: conn.port } : { host: 'localhost', port: 5432 };
    const o: SSHTunnelOptions = { retry: opts.retry ?? cfg.retry };
    if (opts.emit) o.emit = opts.emit;
    if (opts.confirmHostKey) o.confirmHostKey = opts.confirmHostKey;
    SSHTunnel.instance = new SSHTunnel(cfg.tunnel, remote, o, conn);
    return SSHTunnel.instance;
  }

  /** The singleton; throws SSH_CONFIG_MISSING if initializeFromEnv() was not called. */
  static getInstance(): SSHTunnel {
    if (!SSHTunnel.instance) {
      throw new SSHTunnelError('SSH_CONFIG_MISSING', 'SSHTunnel.initializeFromEnv() has not been called (or resetInstance() was)');
    }
    return SSHTunnel.instance;
  }

  /** Set a configured instance as the singleton (library users with their own config). */
  static setInstance(tunnel: SSHTunnel): SSHTunnel {
    SSHTunnel.instance = tunnel;
    return tunnel;
  }

  /** Forget the singleton (closing its tunnel if still open). */
  static resetInstance(): void {
    const inst = SSHTunnel.instance;
    SSHTunnel.instance = null;
    if (inst) void inst.disconnect().catch(() => {});
  }

  get enabled(): boolean {
    return this.config !== null;
  }

  get isConnected(): boolean {
    return this.open !== null;
  }

  /** The local port while connected, else null. */
  get localPort(): number | null {
    return this.open?.localPort ?? null;
  }

  /** Open the tunnel (once; concurrent calls share it). Resolves to the local port. */
  async connect(): Promise<number> {
    if (!this.config) return this.remote.port;
    if (this.open) return this.open.localPort;
    if (this.opening) return this.opening;
    const cfg = this.config;
    this.opening = (async () => {
      const o: Parameters<typeof openTunnel>[2] = { emit: this.options.emit ?? noEmit };
      if (this.options.retry) o.retry = this.options.retry;
      if (this.options.confirmHostKey) o.confirmHostKey = this.options.confirmHostKey;
      const t = await openTunnel(cfg, this.remote, o);
      this.open = t;
      setActiveTunnel({ host: t.localHost, port: t.localPort, remote: this.remote });
      t.onDrop((err) => {
        if (this.open === t) {
          this.open = null;
          setActiveTunnel(null);
        }
        for (const cb of this.dropListeners) cb(err);
      });
      return t.localPort;
    })();
    try {
      return await this.opening;
    } finally {
      this.opening = null;
    }
  }

  /** Close the tunnel: releases the local port and the SSH connection. Idempotent. */
  async disconnect(): Promise<void> {
    if (this.opening) await this.opening.catch(() => {});
    const t = this.open;
    this.open = null;
    if (t) {
      setActiveTunnel(null);
      await t.close();
    }
  }

  /** Called if the SSH connection drops while open (SSH_TUNNEL_DROPPED); connect() reopens. */
  onDrop(cb: (err: Error) => void): void {
    this.dropListeners.push(cb);
  }

  /** The database connection to use now: through the tunnel's local port when connected. */
  connectionConfig(): ConnectionConfig {
    if (!this.database) {
      throw new SSHTunnelError('SSH_CONFIG_MISSING', 'No database connection is configured (DATABASE_URL or POSTGRES_*)');
    }
    if (!this.config) return this.database;
    if (!this.open) throw new SSHTunnelError('SSH_TUNNEL_CLOSED', 'The SSH tunnel is not connected: call connect() first');
    return { ...this.database, host: this.open.localHost, port: this.open.localPort };
  }
}
