/**
 * `listen`: LISTEN on the schema's notification channels and hand each notification to the
 * caller as it arrives. When the connection drops (server restart, pg_terminate_backend, a
 * dropped tunnel) it says so, reconnects with the environment's retry policy (openTarget:
 * tunnel + connect, each retried), LISTENs again and goes on. Ends when the signal aborts.
 * Never prints: reports through callbacks.
 */
import type pg from 'pg';
import type { ResolvedConfig } from '../config/types.js';
import { ChatgeniusError, CancelledError } from '../errors.js';
import type { Emit } from '../events.js';
import type { OpenedTarget, TargetHooks } from '../run.js';
import { isForSchema, listenSql, normalizeChannel, parsePayload, type Received } from './notification.js';
import { openTarget } from '../run.js';
import { sleep } from '../db/retry.js';

export type ListenStatus =
  | { type: 'listening'; channels: string[]; pid: number; reconnect: boolean }
  | { type: 'lost'; message: string; code?: string }
  | { type: 'reconnecting'; attempt: number }
  /** Channels asked for on the command line that no trigger of the schema sends on (yet). */
  | { type: 'silent-channels'; channels: string[] };

export interface ListenOptions {
  config: ResolvedConfig;
  /** Channels or table names from the command line; empty: every notifying table of the schema, and the seed channel. */
  channels: string[];
  emit: Emit;
  signal: AbortSignal;
  onNotification(n: Received): void;
  onStatus(s: ListenStatus): void;
  /** How often an idle connection is checked with `select 1` (a silent network drop). Default 15 s. */
  heartbeatMs?: number;
  /** For tests / the library: how to open the connection (default: src/run.ts openTarget). */
  open?: (config: ResolvedConfig, hooks: TargetHooks) => Promise<OpenedTarget>;
}

export interface ListenSummary {
  received: number;
  reconnects: number;
  channels: string[];
}

/**
 * The channel of the one summary notification `seed` sends at commit (src/seed/load.ts
 * SEED_CHANNEL; repeated here so that `listen` does not load the seed module). No trigger sends
 * on it, so it is not found by notifyingChannels: listened to by default, never "silent".
 */
export const SEED_CHANNEL = 'chatgenius_seed';

/** Without channel arguments: every notifying table's channel, then the seed channel. */
export function defaultChannels(notifying: string[]): string[] {
  return notifying.length === 0 ? [] : [...notifying.filter((c) => c !== SEED_CHANNEL), SEED_CHANNEL];
}

/** Tables of `schema` with a trigger whose function calls pg_notify: their channels. */
export async function notifyingChannels(client: pg.Client, schema: string): Promise<string[]> {
  const r = await client.query<{ relname: string }>(
    `select distinct c.relname
       from pg_trigger t
       join pg_class c on c.oid = t.tgrelid
       join pg_namespace n on n.oid = c.relnamespace
       join pg_proc p on p.oid = t.tgfoid
      where n.nspname = $1 and not t.tgisinternal and p.prosrc ilike '%pg_notify%'
      order by 1`,
    [schema],
  );
  return r.rows.map((x) => normalizeChannel(x.relname));
}

async function defaultOpen(config: ResolvedConfig, hooks: TargetHooks): Promise<OpenedTarget> {
  return openTarget(config, hooks);
}

/** One connected session: resolves with the reason when the connection is lost, or null when aborted. */
function waitForDrop(client: pg.Client, signal: AbortSignal, heartbeatMs: number): Promise<Error | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: Error | null) => {
      if (done) return;
      done = true;
      clearInterval(beat);
      client.off('error', onError);
      client.off('end', onEnd);
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onError = (e: Error) => finish(e);
    const onEnd = () => finish(new Error('the connection was closed'));
    const onAbort = () => finish(null);
    client.on('error', onError);
    client.on('end', onEnd);
    signal.addEventListener('abort', onAbort, { once: true });
    const beat = setInterval(() => {
      client.query('select 1').catch((e: Error) => finish(e));
    }, heartbeatMs);
    beat.unref();
    if (signal.aborted) finish(null);
  });
}

export async function listen(opts: ListenOptions): Promise<ListenSummary> {
  const { config, signal } = opts;
  const open = opts.open ?? defaultOpen;
  const requested = opts.channels.map(normalizeChannel);
  const summary: ListenSummary = { received: 0, reconnects: 0, channels: [] };
  let reconnecting = false;
  /** Reconnects in a row that did not get back to listening. */
  let failuresInRow = 0;
  const policy = config.retry;

  while (!signal.aborted) {
    let target: OpenedTarget | undefined;
    try {
      target = await open(config, { emit: opts.emit, signal });
    } catch (err) {
      if (signal.aborted || err instanceof CancelledError) break;
      if (!reconnecting) throw err; // the first connection: explained like any other command's
      throw new ChatgeniusError(
        'LISTEN_CONNECTION_LOST',
        err instanceof Error ? err.message : String(err),
        { attempts: policy.maxRetries, code: (err as { code?: string }).code },
        { cause: err },
      );
    }
    const client = target.client;
    try {
      if (summary.channels.length === 0) {
        const notifying = await notifyingChannels(client, config.schema);
        summary.channels = requested.length > 0 ? requested : defaultChannels(notifying);
        const silent = requested.filter((c) => !notifying.includes(c) && c !== SEED_CHANNEL);
        if (silent.length > 0) opts.onStatus({ type: 'silent-channels', channels: silent });
        if (summary.channels.length === 0) {
          throw new ChatgeniusError('LISTEN_NO_CHANNELS', `No notification triggers in schema ${config.schema}`, { schema: config.schema });
        }
      }
      client.on('notification', (m: pg.Notification) => {
        const payload = parsePayload(m.payload);
        if (!isForSchema(payload, config.schema)) return;
        summary.received++;
        opts.onNotification({ channel: m.channel, payload, senderPid: m.processId, receivedAt: new Date() });
      });
      const r = await client.query<{ pid: number }>(`${listenSql(summary.channels)} select pg_backend_pid() as pid`);
      const rows = Array.isArray(r) ? (r.at(-1) as pg.QueryResult<{ pid: number }>).rows : r.rows;
      opts.onStatus({ type: 'listening', channels: summary.channels, pid: Number(rows[0]!.pid), reconnect: reconnecting });
      failuresInRow = 0;
      const lost = await waitForDrop(client, signal, opts.heartbeatMs ?? 15_000);
      if (lost === null) break;
      const code = (lost as { code?: string }).code;
      opts.onStatus({ type: 'lost', message: lost.message, ...(code ? { code } : {}) });
    } catch (err) {
      if (signal.aborted) break;
      if (err instanceof ChatgeniusError && err.code.startsWith('LISTEN_')) throw err;
      // The connection went away while we were setting up: reconnect like any drop.
      const code = (err as { code?: string }).code;
      opts.onStatus({ type: 'lost', message: err instanceof Error ? err.message : String(err), ...(code ? { code } : {}) });
      failuresInRow++;
      if (failuresInRow >= policy.maxRetries) {
        throw new ChatgeniusError('LISTEN_CONNECTION_LOST', err instanceof Error ? err.message : String(err), { attempts: failuresInRow, code }, { cause: err });
      }
    } finally {
      await target.close().catch(() => {});
    }
    if (signal.aborted) break;
    reconnecting = true;
    summary.reconnects++;
    opts.onStatus({ type: 'reconnecting', attempt: summary.reconnects });
    if (failuresInRow > 0) {
      await sleep(policy.retryDelayMs * failuresInRow, signal).catch(() => {});
    }
  }
  return summary;
}
