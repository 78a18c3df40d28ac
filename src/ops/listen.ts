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
import { CHANNEL_PREFIX, isForSchema, listenSql, normalizeChannel, parsePayload, type Received } from './notification.js';
import { MODE_CHANNEL, publicationName, realtimeMode, realtimeTables, type RealtimeMode, checkPrerequisites, logicalFacts } from './realtime.js';
import { openTarget } from '../run.js';
import { sleep } from '../sleep.js';
import { startLogicalStream } from './realtime-stream.js';
import { clientConfig } from '../db/connect.js';
import { refuseTransactionPooler } from '../db/pooler.js';
import { clientSocket, coalesceReads } from '../db/coalesce-reads.js';

export type ListenStatus =
  /** mode: how changes arrive (the schema's real-time mode); slot: logical mode's temporary slot. */
  | { type: 'listening'; channels: string[]; pid: number; reconnect: boolean; mode: RealtimeMode; slot?: string }
  /** `realtime use ...` switched the schema's mode: listen reconnects in the new mode. */
  | { type: 'mode-changed'; mode: RealtimeMode }
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

/** A SQL error that no reconnect fixes (anything but connection loss, shutdown, too many connections). */
function isPermanent(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return false;
  return !(code.startsWith('08') || code.startsWith('57P') || code === '53300');
}

/** The schema's real-time mode changed under a running listener. */
class ModeChanged extends Error {
  constructor() {
    super('the real-time mode changed');
  }
}

/**
 * One logical-mode session: a replication connection beside the target's client, with a
 * temporary slot; resolves like waitForDrop (the reason it ended, or null when aborted). The
 * target's client keeps the heartbeat and notices a switch back to notify mode.
 */
async function logicalSession(opts: ListenOptions, target: OpenedTarget, summary: ListenSummary, reconnect: boolean): Promise<Error | null> {
  const { config, signal } = opts;
  const tables = await realtimeTables(target.client, config.schema);
  // Prerequisites explained before the replication connection fails on them (wal_level,
  // REPLICATION, a free slot and WAL sender); creating the publication is not listen's job.
  const unmet = checkPrerequisites(await logicalFacts(target.client, config.schema)).filter((p) => !p.ok && p.id !== 'publication');
  if (unmet.length > 0) throw unmet[0]!.problem!;
  const only = new Set(summary.channels.filter((c) => c.startsWith(CHANNEL_PREFIX)).map((c) => c.slice(CHANNEL_PREFIX.length)));
  const stream = await startLogicalStream({
    clientConfig: clientConfig(target.connection, {
      applicationName: 'chatgenius-db listen',
      connectionCheck: false,
      ...(config.tunnel ? { tlsServerName: target.target.host } : {}),
    }),
    publication: publicationName(config.schema),
    tables,
    only,
    onChange: (n) => {
      summary.received++;
      opts.onNotification(n);
    },
  });
  try {
    opts.onStatus({ type: 'listening', channels: summary.channels, pid: stream.pid, reconnect, mode: 'logical', slot: stream.slot });
    // Beside the stream: the mode channel (a switch back to notify), and seed's one summary
    // notification (seed's own NOTIFY, not a trigger's), when listened to.
    const seed = summary.channels.includes(SEED_CHANNEL);
    await target.client.query(listenSql(seed ? [MODE_CHANNEL, SEED_CHANNEL] : [MODE_CHANNEL]));
    const modeChange = new Promise<Error>((resolve) => {
      target.client.on('notification', (m: pg.Notification) => {
        const p = parsePayload(m.payload);
        if (m.channel === SEED_CHANNEL) {
          if (!isForSchema(p, config.schema)) return;
          summary.received++;
          opts.onNotification({ channel: m.channel, payload: p, senderPid: m.processId, receivedAt: new Date() });
        } else if (m.channel === MODE_CHANNEL && typeof p === 'object' && p.schema === config.schema && p.mode === 'notify') {
          opts.onStatus({ type: 'mode-changed', mode: 'notify' });
          resolve(new ModeChanged());
        }
      });
    });
    return await Promise.race([waitForDrop(target.client, signal, opts.heartbeatMs ?? 15_000), stream.ended, modeChange]);
  } finally {
    await stream.stop();
  }
}

/** The first connection: the channels asked for, else every channel a trigger notifies on; a channel asked for that nothing notifies on is said. */
async function chooseChannels(client: pg.Client, opts: ListenOptions, requested: string[]): Promise<string[]> {
  const { schema } = opts.config;
  const notifying = await notifyingChannels(client, schema);
  const channels = requested.length > 0 ? requested : defaultChannels(notifying);
  const silent = requested.filter((c) => !notifying.includes(c) && c !== SEED_CHANNEL);
  if (silent.length > 0) opts.onStatus({ type: 'silent-channels', channels: silent });
  if (channels.length === 0) throw new ChatgeniusError('LISTEN_NO_CHANNELS', `No notification triggers in schema ${schema}`, { schema });
  return channels;
}

/**
 * Notify mode: LISTEN on the channels, pass on each notification for this schema, until the
 * connection drops (the error), Ctrl-C (null) or a switch to logical mode (ModeChanged).
 */
async function notifySession(opts: ListenOptions, client: pg.Client, summary: ListenSummary, reconnect: boolean, onListening: () => void): Promise<Error | null> {
  // A switch to logical mode (realtime use logical) is announced on MODE_CHANNEL: follow it.
  let switched: (e: Error) => void = () => {};
  const modeChange = new Promise<Error>((resolve) => {
    switched = resolve;
  });
  client.on('notification', (m: pg.Notification) => {
    if (m.channel === MODE_CHANNEL) {
      const p = parsePayload(m.payload);
      if (typeof p === 'object' && p.schema === opts.config.schema && p.mode === 'logical') {
        opts.onStatus({ type: 'mode-changed', mode: 'logical' });
        switched(new ModeChanged());
      }
      return;
    }
    const payload = parsePayload(m.payload);
    if (!isForSchema(payload, opts.config.schema)) return;
    summary.received++;
    opts.onNotification({ channel: m.channel, payload, senderPid: m.processId, receivedAt: new Date() });
  });
  const r = await client.query<{ pid: number }>(`${listenSql([...summary.channels, MODE_CHANNEL])} select pg_backend_pid() as pid`);
  const rows = Array.isArray(r) ? (r.at(-1) as pg.QueryResult<{ pid: number }>).rows : r.rows;
  opts.onStatus({ type: 'listening', channels: summary.channels, pid: Number(rows[0]!.pid), reconnect, mode: 'notify' });
  onListening();
  const readNow = coalesceReads(clientSocket(client));
  try {
    return await Promise.race([waitForDrop(client, opts.signal, opts.heartbeatMs ?? 15_000), modeChange]);
  } finally {
    readNow();
  }
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
      target = await open(config, { emit: opts.emit, signal, startLocal: false });
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
      // LISTEN belongs to a server session: through a transaction-mode pooler it would land in
      // some other client's session and nothing would ever arrive here.
      await refuseTransactionPooler(client, 'LISTEN needs a session of its own, so nothing would be received');
      if (summary.channels.length === 0) summary.channels = await chooseChannels(client, opts, requested);
      const mode = await realtimeMode(client, config.schema);
      let lost: Error | null;
      if (mode === 'logical') {
        lost = await logicalSession(opts, target, summary, reconnecting);
      } else {
        lost = await notifySession(opts, client, summary, reconnecting, () => {
          failuresInRow = 0;
        });
      }
      if (lost instanceof ModeChanged) {
        // Not a failure: reconnect at once in the new mode.
        await target.close().catch(() => {});
        reconnecting = true;
        continue;
      }
      failuresInRow = 0;
      if (lost === null) break;
      const code = (lost as { code?: string }).code;
      opts.onStatus({ type: 'lost', message: lost.message, ...(code ? { code } : {}) });
    } catch (err) {
      if (signal.aborted) break;
      if (err instanceof ChatgeniusError && (err.code.startsWith('LISTEN_') || err.code.startsWith('REALTIME_') || err.code === 'TRANSACTION_POOLER')) throw err;
      // The replication connection refused for a reason retrying cannot fix (a privilege, a setting).
      if (isPermanent(err)) throw err;
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
