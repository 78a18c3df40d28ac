/**
 * What the server's catalogs say about real-time: the publication that means logical mode, the
 * tables with a notify trigger (and the id columns it names), the logical replication slots.
 */
import type pg from 'pg';

/** The publication that means "logical mode" for `schema` (the trigger function computes the same name). */
export function publicationName(schema: string): string {
  return `chatgenius_realtime_${schema}`.slice(0, 63);
}

/** A table the notify trigger covers, with the id columns its trigger names (the payload's `ids`). */
export interface RealtimeTable {
  table: string;
  idColumns: string[];
}

/** A chatgenius_notify trigger: its table, its name, whether it fires, and the id columns its arguments name. */
export interface NotifyTrigger {
  table: string;
  name: string;
  /** false after ALTER TABLE ... DISABLE TRIGGER (logical mode disables them all). */
  enabled: boolean;
  idColumns: string[];
}

/** The chatgenius_notify triggers of `schema` (three per table), by table then name: the one query for them. */
export async function notifyTriggers(client: pg.Client, schema: string): Promise<NotifyTrigger[]> {
  const r = await client.query<{ relname: string; tgname: string; enabled: boolean; tgargs: Buffer; tgnargs: number }>(
    `select c.relname, t.tgname, t.tgenabled <> 'D' as enabled, t.tgargs, t.tgnargs
       from pg_catalog.pg_trigger t
       join pg_catalog.pg_class c on c.oid = t.tgrelid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       join pg_catalog.pg_proc p on p.oid = t.tgfoid
      where n.nspname = $1 and not t.tgisinternal and p.proname = 'chatgenius_notify'
      order by c.relname, t.tgname`,
    [schema],
  );
  return r.rows.map((x) => ({ table: x.relname, name: x.tgname, enabled: x.enabled, idColumns: splitTriggerArgs(x.tgargs, x.tgnargs) }));
}

/** Pure: the tables the triggers cover, each with the id columns of its first trigger. */
export function tablesOf(triggers: NotifyTrigger[]): RealtimeTable[] {
  const byTable = new Map<string, string[]>();
  for (const t of triggers) if (!byTable.has(t.table)) byTable.set(t.table, t.idColumns);
  return [...byTable].map(([table, idColumns]) => ({ table, idColumns }));
}

/** Tables of `schema` with a chatgenius_notify trigger, and the id columns its arguments name. */
export async function realtimeTables(client: pg.Client, schema: string): Promise<RealtimeTable[]> {
  return tablesOf(await notifyTriggers(client, schema));
}

/**
 * The columns logical mode publishes per table: the id columns the payload names and the
 * replica identity's (UPDATE and DELETE carry it; PostgreSQL requires it in a column list), in
 * table order. Nothing else, so message content and every other column never leave the server
 * through the stream, and the WAL sender and the listener decode three values a row instead of
 * eight. null for a table published whole: a server before PostgreSQL 15 (no column lists) or a
 * table with REPLICA IDENTITY FULL (its identity is every column).
 */
export async function publicationColumns(client: pg.Client, schema: string, tables: RealtimeTable[]): Promise<Map<string, string[] | null>> {
  const r = await client.query<{ relname: string; v: number; replident: string; cols: string[]; identity: string[] }>(
    `select c.relname, pg_catalog.current_setting('server_version_num')::int as v, c.relreplident as replident,
            array(select a.attname::text from pg_catalog.pg_attribute a
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as cols,
            array(select a.attname::text from pg_catalog.pg_index i
                    join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey::int2[])
                   where i.indexrelid = pg_catalog.pg_get_replica_identity_index(c.oid)) as identity
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = any($2::text[])`,
    [schema, tables.map((t) => t.table)],
  );
  const ids = new Map(tables.map((t) => [t.table, t.idColumns]));
  return new Map(
    r.rows.map((x): [string, string[] | null] => {
      if (x.v < 150000 || x.replident === 'f') return [x.relname, null];
      const keep = new Set([...(ids.get(x.relname) ?? []), ...x.identity]);
      return [x.relname, x.cols.filter((c) => keep.has(c))];
    }),
  );
}

/** pg_trigger.tgargs: the arguments, each ended by a NUL byte. */
export function splitTriggerArgs(raw: Buffer | string, n: number): string[] {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  return text.split('\0').slice(0, n);
}

export interface SlotInfo {
  name: string;
  plugin: string | null;
  temporary: boolean;
  active: boolean;
  activePid: number | null;
  /** WAL the server keeps for this slot (bytes behind the current position from restart_lsn). */
  retainedBytes: number | null;
  /** How far the consumer's confirmed position is behind the current WAL position (bytes). */
  lagBytes: number | null;
  /** `SELECT pg_drop_replication_slot('name');` */
  dropSql: string;
}

/** Logical slots of the current database (ours and others': a forgotten one fills the disk). */
export async function logicalSlots(client: pg.Client): Promise<SlotInfo[]> {
  const r = await client.query<{
    slot_name: string;
    plugin: string | null;
    temporary: boolean;
    active: boolean;
    active_pid: number | null;
    retained: string | null;
    lag: string | null;
  }>(
    `select slot_name, plugin, temporary, active, active_pid,
            case when pg_catalog.pg_is_in_recovery() then null
                 else pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::bigint end as retained,
            case when pg_catalog.pg_is_in_recovery() then null
                 else pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn)::bigint end as lag
       from pg_catalog.pg_replication_slots
      where slot_type = 'logical' and database = pg_catalog.current_database()
      order by slot_name`,
  );
  return r.rows.map((s) => ({
    name: s.slot_name,
    plugin: s.plugin,
    temporary: s.temporary,
    active: s.active,
    activePid: s.active_pid,
    retainedBytes: s.retained === null ? null : Number(s.retained),
    lagBytes: s.lag === null ? null : Number(s.lag),
    dropSql: `SELECT pg_drop_replication_slot('${s.slot_name.replace(/'/g, "''")}');`,
  }));
}
