/**
 * What logical decoding needs (wal_level, replication rights, free slots and senders, the right
 * to create the publication), as found on the server, and each prerequisite checked (pure), with
 * the error whose explanation names the fix for the provider it runs on.
 */
import type pg from 'pg';
import { ChatgeniusError } from '../errors.js';
import { realtimeTables } from './realtime-catalog.js';

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
