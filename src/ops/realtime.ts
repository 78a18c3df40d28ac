/**
 * The real-time mode of a schema: `notify` (the triggers of sql/0005 send pg_notify) or
 * `logical` (a publication carries the changes through logical decoding; the triggers stand
 * aside, sql/0007). The mode is recorded in the database itself, as the publication
 * `chatgenius_realtime_<schema>`: every tool and app sees the same answer with one query, and
 * the trigger function reads the same fact (pg_publication_rel) before doing anything.
 *
 * Reading the mode, checking the prerequisites of logical decoding, switching: functions over a
 * pg client that return results; the CLI prints (src/cli/commands/realtime.ts).
 */
import { formatBytes } from './units.js';
import type pg from 'pg';
import { ChatgeniusError } from '../errors.js';
import { quoteIdent, validateSchemaName } from '../migrate/sql-text.js';

export type RealtimeMode = 'notify' | 'logical';

/** The channel `realtime use` notifies on, so that running notify-mode listeners follow a switch. */
export const MODE_CHANNEL = 'chatgenius_realtime';

/** The publication that means "logical mode" for `schema` (the trigger function computes the same name). */
export function publicationName(schema: string): string {
  return `chatgenius_realtime_${schema}`.slice(0, 63);
}

/** A table the notify trigger covers, with the id columns its trigger names (the payload's `ids`). */
export interface RealtimeTable {
  table: string;
  idColumns: string[];
}

/** Tables of `schema` with a chatgenius_notify trigger, and the id columns its arguments name. */
export async function realtimeTables(client: pg.Client, schema: string): Promise<RealtimeTable[]> {
  const r = await client.query<{ relname: string; tgargs: Buffer; tgnargs: number }>(
    `select c.relname, t.tgargs, t.tgnargs
       from pg_catalog.pg_trigger t
       join pg_catalog.pg_class c on c.oid = t.tgrelid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       join pg_catalog.pg_proc p on p.oid = t.tgfoid
      where n.nspname = $1 and not t.tgisinternal and p.proname = 'chatgenius_notify'
      order by c.relname, t.tgname`,
    [schema],
  );
  const byTable = new Map<string, string[]>();
  for (const row of r.rows) {
    if (byTable.has(row.relname)) continue;
    byTable.set(row.relname, splitTriggerArgs(row.tgargs, row.tgnargs));
  }
  return [...byTable].map(([table, idColumns]) => ({ table, idColumns }));
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

/** The managed provider a server looks like, for fixes that name the right knob. */
export type Provider = 'rds' | 'cloudsql' | 'supabase' | 'azure' | 'self-hosted';

/** What logical decoding needs, as found on the server. */
export interface LogicalFacts {
  walLevel: string;
  maxReplicationSlots: number;
  slotsUsed: number;
  maxWalSenders: number;
  sendersUsed: number;
  role: string;
  superuser: boolean;
  replication: boolean;
  /** Member of a provider's replication role (rds_replication on RDS/Aurora). */
  providerReplicationRole: string | null;
  /** May create a publication: CREATE on the database and owner of every real-time table. */
  canCreatePublication: boolean;
  notOwned: string[];
  provider: Provider;
  database: string;
}

export async function logicalFacts(client: pg.Client, schema: string): Promise<LogicalFacts> {
  const r = await client.query<{
    wal_level: string;
    max_slots: string;
    slots_used: string;
    max_senders: string;
    senders_used: string;
    role: string;
    rolsuper: boolean;
    rolreplication: boolean;
    rds_repl: boolean | null;
    can_create: boolean;
    rds: string | null;
    cloudsql: string | null;
    supabase: boolean;
    azure: string | null;
    database: string;
  }>(
    `select pg_catalog.current_setting('wal_level') as wal_level,
            pg_catalog.current_setting('max_replication_slots') as max_slots,
            (select pg_catalog.count(*) from pg_catalog.pg_replication_slots) as slots_used,
            pg_catalog.current_setting('max_wal_senders') as max_senders,
            (select pg_catalog.count(*) from pg_catalog.pg_stat_replication) as senders_used,
            r.rolname as role, r.rolsuper, r.rolreplication,
            case when exists (select from pg_catalog.pg_roles where rolname = 'rds_replication')
                 then pg_catalog.pg_has_role(current_user, 'rds_replication', 'member') end as rds_repl,
            pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE') as can_create,
            pg_catalog.current_setting('rds.logical_replication', true) as rds,
            pg_catalog.current_setting('cloudsql.logical_decoding', true) as cloudsql,
            exists (select from pg_catalog.pg_roles where rolname = 'supabase_admin') as supabase,
            pg_catalog.current_setting('azure.replication_support', true) as azure,
            pg_catalog.current_database() as database
       from pg_catalog.pg_roles r where r.rolname = current_user`,
  );
  const f = r.rows[0]!;
  const tables = await realtimeTables(client, schema);
  const owned = await client.query<{ relname: string; owned: boolean }>(
    `select c.relname, pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE') as owned
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = any($2::text[])`,
    [schema, tables.map((t) => t.table)],
  );
  const notOwned = owned.rows.filter((x) => !x.owned).map((x) => x.relname);
  const provider: Provider =
    f.rds !== null || f.rds_repl !== null ? 'rds' : f.cloudsql !== null ? 'cloudsql' : f.supabase ? 'supabase' : f.azure !== null ? 'azure' : 'self-hosted';
  return {
    walLevel: f.wal_level,
    maxReplicationSlots: Number(f.max_slots),
    slotsUsed: Number(f.slots_used),
    maxWalSenders: Number(f.max_senders),
    sendersUsed: Number(f.senders_used),
    role: f.role,
    superuser: f.rolsuper,
    replication: f.rolreplication,
    providerReplicationRole: f.rds_repl ? 'rds_replication' : null,
    canCreatePublication: (f.rolsuper || f.can_create) && notOwned.length === 0,
    notOwned,
    provider,
    database: f.database,
  };
}

/** One prerequisite of logical mode: met or not, with the error that explains the fix. */
export interface Prerequisite {
  id: 'wal_level' | 'replication' | 'slots' | 'senders' | 'publication';
  ok: boolean;
  /** What was found, in a few words. */
  found: string;
  /** When not ok: the error whose explanation names the fix (through explain()). */
  problem?: ChatgeniusError;
}

/** Pure: each prerequisite of logical mode, checked against the facts. */
export function checkPrerequisites(f: LogicalFacts): Prerequisite[] {
  const base = { provider: f.provider, role: f.role, database: f.database };
  const out: Prerequisite[] = [];
  const walOk = f.walLevel === 'logical';
  out.push({
    id: 'wal_level',
    ok: walOk,
    found: `wal_level = ${f.walLevel}`,
    ...(walOk
      ? {}
      : { problem: new ChatgeniusError('REALTIME_WAL_LEVEL', `wal_level is ${f.walLevel}; logical decoding needs logical`, { ...base, walLevel: f.walLevel }) }),
  });
  const replOk = f.superuser || f.replication || f.providerReplicationRole !== null;
  out.push({
    id: 'replication',
    ok: replOk,
    found: f.superuser
      ? `role ${f.role} is a superuser`
      : f.replication
        ? `role ${f.role} has REPLICATION`
        : f.providerReplicationRole
          ? `role ${f.role} is in ${f.providerReplicationRole}`
          : `role ${f.role} has no REPLICATION`,
    ...(replOk ? {} : { problem: new ChatgeniusError('REALTIME_NO_REPLICATION', `Role ${f.role} may not stream changes (no REPLICATION attribute)`, base) }),
  });
  // A listener needs one free slot and one free WAL sender while it runs.
  const slotsOk = f.maxReplicationSlots > f.slotsUsed;
  out.push({
    id: 'slots',
    ok: slotsOk,
    found: `max_replication_slots = ${f.maxReplicationSlots} (${f.slotsUsed} in use)`,
    ...(slotsOk
      ? {}
      : {
          problem: new ChatgeniusError('REALTIME_NO_SLOTS', `No free replication slot (${f.slotsUsed} of ${f.maxReplicationSlots} in use)`, {
            ...base,
            max: f.maxReplicationSlots,
            used: f.slotsUsed,
            setting: 'max_replication_slots',
          }),
        }),
  });
  const sendersOk = f.maxWalSenders > f.sendersUsed;
  out.push({
    id: 'senders',
    ok: sendersOk,
    found: `max_wal_senders = ${f.maxWalSenders} (${f.sendersUsed} in use)`,
    ...(sendersOk
      ? {}
      : {
          problem: new ChatgeniusError('REALTIME_NO_SLOTS', `No free WAL sender (${f.sendersUsed} of ${f.maxWalSenders} in use)`, {
            ...base,
            max: f.maxWalSenders,
            used: f.sendersUsed,
            setting: 'max_wal_senders',
          }),
        }),
  });
  out.push({
    id: 'publication',
    ok: f.canCreatePublication,
    found: f.canCreatePublication
      ? `role ${f.role} may create the publication`
      : f.notOwned.length > 0
        ? `role ${f.role} does not own ${f.notOwned.join(', ')}`
        : `role ${f.role} has no CREATE on database ${f.database}`,
    ...(f.canCreatePublication
      ? {}
      : { problem: new ChatgeniusError('REALTIME_NO_PUBLICATION_RIGHTS', `Role ${f.role} may not create the publication`, { ...base, notOwned: f.notOwned }) }),
  });
  return out;
}

export interface RealtimeStatus {
  schema: string;
  mode: RealtimeMode;
  publication: string;
  /** Tables the publication holds (logical mode), or that the notify triggers cover. */
  tables: string[];
  /** Tables with a notify trigger that the publication is missing (logical mode; a new table since the switch). */
  missing: string[];
  /** Notify triggers that are disabled (ALTER TABLE ... DISABLE TRIGGER): those tables do not notify in notify mode. */
  disabledTriggers: string[];
  /** When and by whom the mode was last switched (the publication's comment), logical mode only. */
  since?: string;
  slots: SlotInfo[];
  prerequisites: Prerequisite[];
}

export async function realtimeMode(client: pg.Client, schema: string): Promise<RealtimeMode> {
  const r = await client.query('select 1 from pg_catalog.pg_publication where pubname = $1', [publicationName(schema)]);
  return r.rowCount ? 'logical' : 'notify';
}

async function publishedTables(client: pg.Client, schema: string): Promise<string[]> {
  const r = await client.query<{ tablename: string }>('select tablename from pg_catalog.pg_publication_tables where pubname = $1 and schemaname = $2 order by 1', [
    publicationName(schema),
    schema,
  ]);
  return r.rows.map((x) => x.tablename);
}

export async function realtimeStatus(client: pg.Client, schema: string): Promise<RealtimeStatus> {
  const mode = await realtimeMode(client, schema);
  const tables = (await realtimeTables(client, schema)).map((t) => t.table);
  const published = mode === 'logical' ? await publishedTables(client, schema) : [];
  const disabled = await client.query<{ tgname: string }>(
    `select t.tgname from pg_catalog.pg_trigger t
       join pg_catalog.pg_class c on c.oid = t.tgrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       join pg_catalog.pg_proc p on p.oid = t.tgfoid
      where n.nspname = $1 and p.proname = 'chatgenius_notify' and t.tgenabled = 'D' order by 1`,
    [schema],
  );
  let since: string | undefined;
  if (mode === 'logical') {
    const c = await client.query<{ d: string | null }>(
      `select pg_catalog.obj_description(oid, 'pg_publication') as d from pg_catalog.pg_publication where pubname = $1`,
      [publicationName(schema)],
    );
    since = c.rows[0]?.d ?? undefined;
  }
  return {
    schema,
    mode,
    publication: publicationName(schema),
    tables: mode === 'logical' ? published : tables,
    missing: mode === 'logical' ? tables.filter((t) => !published.includes(t)) : [],
    disabledTriggers: disabled.rows.map((x) => x.tgname),
    ...(since ? { since } : {}),
    slots: await logicalSlots(client),
    prerequisites: checkPrerequisites(await logicalFacts(client, schema)),
  };
}

export interface SwitchResult {
  schema: string;
  mode: RealtimeMode;
  /** false when the database already was in that mode (nothing done). */
  changed: boolean;
  publication: string;
  tables: string[];
  /** Permanent logical slots of this database other consumers own: they may read the dropped publication. */
  otherSlots: SlotInfo[];
}

/**
 * Switch to logical mode: check every prerequisite (the first unmet one is thrown, with all of
 * them in its details), then create the publication for the real-time tables in one short
 * transaction (CREATE PUBLICATION takes SHARE UPDATE EXCLUSIVE on the tables: the app's reads
 * and writes go on) and tell running listeners. Idempotent: already logical with the same
 * tables changes nothing; a new real-time table is added.
 */
export async function useLogical(client: pg.Client, schema: string, who: string): Promise<SwitchResult> {
  validateSchemaName(schema);
  const tables = (await realtimeTables(client, schema)).map((t) => t.table);
  if (tables.length === 0) {
    throw new ChatgeniusError('REALTIME_NO_TABLES', `No real-time (notify) triggers in schema ${schema}`, { schema });
  }
  const prereqs = checkPrerequisites(await logicalFacts(client, schema));
  const unmet = prereqs.filter((p) => !p.ok);
  if (unmet.length > 0) {
    const first = unmet[0]!.problem!;
    throw new ChatgeniusError(first.code, first.message, { ...first.details, unmet: unmet.map((p) => p.found), schema });
  }
  const pub = publicationName(schema);
  const current = (await realtimeMode(client, schema)) === 'logical' ? await publishedTables(client, schema) : null;
  const list = tables.map((t) => `${quoteIdent(schema)}.${quoteIdent(t)}`).join(', ');
  const same = current !== null && current.length === tables.length && tables.every((t) => current.includes(t));
  if (!same) {
    const comment = `ChatGenius real-time: logical mode for schema ${schema}, set ${new Date().toISOString()} by ${who}`;
    await inTransaction(client, async () => {
      await client.query(`set local lock_timeout = '5s'`);
      if (current === null) {
        await client.query(`create publication ${quoteIdent(pub)} for table ${list} with (publish = 'insert, update, delete')`);
      } else {
        await client.query(`alter publication ${quoteIdent(pub)} set table ${list}`);
      }
      await client.query(`comment on publication ${quoteIdent(pub)} is ${literal(comment)}`);
      await client.query(setNotifyTriggersSql(schema, false));
      await client.query('select pg_catalog.pg_notify($1, $2)', [MODE_CHANNEL, JSON.stringify({ schema, mode: 'logical' })]);
    });
  } else {
    await client.query(setNotifyTriggersSql(schema, false));
  }
  return { schema, mode: 'logical', changed: !same, publication: pub, tables, otherSlots: [] };
}

/**
 * The notify triggers of `schema` switched on or off, in one statement, only those not already
 * so (no lock taken for nothing). Logical mode switches them off: the writers then pay nothing
 * for real-time (even the trigger function's own check of the mode, one plpgsql call and a
 * catalog probe per statement, ~20 µs, is gone); notify mode switches them back on. The record
 * of the mode stays the publication; the function's own check remains the safety net for a
 * trigger someone enables by hand.
 */
function setNotifyTriggersSql(schema: string, on: boolean): string {
  return `do $cgdb$ declare t record; begin
  for t in select c.relname, tg.tgname from pg_catalog.pg_trigger tg
             join pg_catalog.pg_class c on c.oid = tg.tgrelid
             join pg_catalog.pg_namespace n on n.oid = c.relnamespace
             join pg_catalog.pg_proc p on p.oid = tg.tgfoid
            where n.nspname = ${literal(schema)} and not tg.tgisinternal and p.proname = 'chatgenius_notify'
              and (tg.tgenabled = 'D') = ${on ? 'true' : 'false'}
            order by c.relname, tg.tgname
  loop
    execute pg_catalog.format('alter table %I.%I ${on ? 'enable' : 'disable'} trigger %I', ${literal(schema)}, t.relname, t.tgname);
  end loop;
end $cgdb$`;
}

/** Switch to notify mode: drop what logical mode made (the publication); the triggers notify again at once. */
export async function useNotify(client: pg.Client, schema: string): Promise<SwitchResult> {
  validateSchemaName(schema);
  const pub = publicationName(schema);
  const tables = (await realtimeTables(client, schema)).map((t) => t.table);
  const was = await realtimeMode(client, schema);
  if (was === 'logical') {
    await inTransaction(client, async () => {
      await client.query(`set local lock_timeout = '5s'`);
      await client.query(`drop publication if exists ${quoteIdent(pub)}`);
      await client.query(setNotifyTriggersSql(schema, true));
      await client.query('select pg_catalog.pg_notify($1, $2)', [MODE_CHANNEL, JSON.stringify({ schema, mode: 'notify' })]);
    });
  } else {
    await client.query(setNotifyTriggersSql(schema, true));
  }
  const otherSlots = was === 'logical' ? (await logicalSlots(client)).filter((s) => !s.temporary) : [];
  return { schema, mode: 'notify', changed: was === 'logical', publication: pub, tables, otherSlots };
}

async function inTransaction(client: pg.Client, fn: () => Promise<void>): Promise<void> {
  await client.query('begin');
  try {
    await fn();
    await client.query('commit');
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  }
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
