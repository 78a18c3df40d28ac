/**
 * `listen` in logical mode: stream the schema's changes from a replication slot (the
 * replication protocol, output plugin pgoutput, through the `pg-logical-replication` package,
 * loaded on first use) and hand each change to the caller as the same event notify mode gives:
 * channel chatgenius_<table>, payload {schema, table, op, ids, at}. Never message content: only
 * the id columns the table's notify trigger names are read out of the decoded row.
 *
 * The slot is TEMPORARY (created on the streaming connection itself): the server drops it when
 * that connection ends, however it ends (Ctrl-C, SIGKILL, a dropped network, a server restart),
 * so a stopped listener never holds WAL back. Changes made while no listener runs are not kept:
 * as with NOTIFY, reconnecting starts from "now". A consumer that must not miss anything (a
 * broker) uses its own permanent slot on the same publication (README "Real-time at scale").
 */
import type pg from 'pg';
import { randomBytes } from 'node:crypto';
import { CHANNEL_PREFIX, type NotificationPayload, type Received } from './notification.js';
import type { RealtimeTable } from './realtime.js';
import { clientSocket, coalesceReads } from '../db/coalesce-reads.js';

/** A decoded pgoutput message, as far as we read it. */
export interface DecodedChange {
  tag: string;
  relation?: { schema: string; name: string; keyColumns?: string[] };
  new?: Record<string, unknown> | null;
  key?: Record<string, unknown> | null;
  old?: Record<string, unknown> | null;
  commitTime?: bigint;
}

/** The last second isoMicros formatted, and its text: a commit stream stays within one second for thousands of commits. */
let lastSecond = Number.NaN;
let lastPrefix = '';

/** PostgreSQL's commit time (microseconds since 1970) as to_json(timestamptz) writes it in UTC. */
export function isoMicros(us: bigint): string {
  // Microseconds since 1970 stay far below 2^53 until the year 2255: Number arithmetic is exact.
  const n = Number(us);
  const second = Math.floor(n / 1_000_000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastPrefix = new Date(second * 1000).toISOString().slice(0, 19); // 2026-01-10T12:00:00
  }
  return `${lastPrefix}.${String(n - second * 1_000_000).padStart(6, '0')}+00:00`;
}

const OPS: Record<string, string> = { insert: 'INSERT', update: 'UPDATE', delete: 'DELETE' };

/**
 * Pure: one decoded change -> the notify-mode payload, or null for what is not a row change of
 * a real-time table. DELETE carries the replica identity (the primary key) only, so its ids are
 * the key columns among the trigger's id columns.
 */
export function changeToPayload(change: DecodedChange, tables: Map<string, string[]>, at: string): NotificationPayload | null {
  const op = OPS[change.tag];
  if (!op || !change.relation) return null;
  const idColumns = tables.get(change.relation.name);
  if (!idColumns) return null;
  const row = change.tag === 'delete' ? (change.key ?? change.old) : change.new;
  if (!row) return null;
  const ids: Record<string, unknown> = {};
  for (const c of idColumns) if (row[c] !== undefined && row[c] !== null) ids[c] = row[c];
  return { schema: change.relation.schema, table: change.relation.name, op, ids, at };
}

/** A slot name of our own: chatgenius_listen_<pid>_<random> (lower case, <= 63). */
export function slotName(pid = process.pid): string {
  return `chatgenius_listen_${pid}_${randomBytes(4).toString('hex')}`;
}

export interface LogicalStreamOptions {
  /** The replication connection's pg config (host/port through the tunnel when there is one). */
  clientConfig: pg.ClientConfig;
  publication: string;
  tables: RealtimeTable[];
  /** Only these tables (from the command line's channels); null: all. */
  only: Set<string> | null;
  onChange(r: Received): void;
}

export interface LogicalStream {
  slot: string;
  /** The WAL sender's backend pid. */
  pid: number;
  /** Resolves with the reason the stream ended (an error), or null after stop(). */
  ended: Promise<Error | null>;
  stop(): Promise<void>;
}

interface ServiceLike {
  client(): Promise<[pg.Client, unknown]>;
  // biome-ignore lint/suspicious/noExplicitAny: pg-logical-replication's events and exports are untyped here
  on(event: string, cb: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: pg-logical-replication's events and exports are untyped here
  once(event: string, cb: (...args: any[]) => void): unknown;
  subscribe(plugin: unknown, slot: string, lsn?: string): Promise<unknown>;
  stop(): Promise<unknown>;
}

/** Open the replication connection, create the temporary slot on it, start streaming. */
export async function startLogicalStream(opts: LogicalStreamOptions): Promise<LogicalStream> {
  // biome-ignore lint/suspicious/noExplicitAny: pg-logical-replication's events and exports are untyped here
  const mod = (await import('pg-logical-replication')) as unknown as Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: pg-logical-replication's events and exports are untyped here
  const lib = (mod.LogicalReplicationService ? mod : mod.default) as {
    LogicalReplicationService: new (...a: any[]) => ServiceLike;
    PgoutputPlugin: new (o: unknown) => unknown;
  };
  const slot = slotName();
  let pid = 0;
  let stopped = false;
  // The package opens its own client in subscribe(); the temporary slot must be created on
  // that very connection (a temporary slot belongs to its session), before START_REPLICATION.
  class TemporarySlotService extends lib.LogicalReplicationService {
    override async client(): Promise<[pg.Client, unknown]> {
      const [client, connection] = await super.client();
      const r = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      pid = Number(r.rows[0]!.pid);
      await client.query(`CREATE_REPLICATION_SLOT "${slot}" TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
      // A message per commit arrives on this socket: read it in gulps (src/db/coalesce-reads.ts).
      coalesceReads(clientSocket(client));
      return [client, connection];
    }
  }
  // Acknowledge once a second (not after every message): the server may then recycle the WAL.
  const service = new TemporarySlotService({ ...opts.clientConfig, replication: 'database' }, { acknowledge: { auto: false, timeoutSeconds: 1 } });
  const plugin = new lib.PgoutputPlugin({ protoVersion: 1, publicationNames: [opts.publication] });
  const tables = new Map(opts.tables.filter((t) => !opts.only || opts.only.has(t.table)).map((t) => [t.table, t.idColumns]));
  let at = '';
  service.on('data', (_lsn: string, msg: DecodedChange) => {
    if (msg.tag === 'begin' && typeof msg.commitTime === 'bigint') {
      at = isoMicros(msg.commitTime);
      return;
    }
    const payload = changeToPayload(msg, tables, at);
    if (!payload) return;
    opts.onChange({ channel: `${CHANNEL_PREFIX}${payload.table}`, payload, receivedAt: new Date() });
  });
  let failed: Error | null = null;
  let settle: (v: Error | null) => void = () => {};
  const ended = new Promise<Error | null>((resolve) => {
    settle = resolve;
  });
  service.on('error', (e: Error) => {
    failed ??= e;
    settle(stopped ? null : e);
  });
  const started = new Promise<void>((resolve) => service.once('start', () => resolve()));
  const running = service.subscribe(plugin, slot).then(
    () => settle(stopped ? null : (failed ?? new Error('the replication stream ended'))),
    (e: Error) => settle(stopped ? null : e),
  );
  const first = await Promise.race([started.then(() => null), ended]);
  if (first) {
    stopped = true;
    await service.stop().catch(() => {});
    throw first;
  }
  return {
    slot,
    pid,
    ended,
    async stop() {
      stopped = true;
      settle(null);
      await service.stop().catch(() => {});
      await running.catch(() => {});
    },
  };
}
