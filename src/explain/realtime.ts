/**
 * explain() rows for the real-time mode (`chatgenius-db realtime`, `listen` in logical mode,
 * doctor's real-time check): the REALTIME_* codes. Each fix names the knob of the provider the
 * server looks like (details.provider: rds, cloudsql, supabase, azure, self-hosted).
 */
import type { ExplainTable } from './types.js';

const s = (v: unknown, fallback = '?'): string => (v === undefined || v === null || v === '' ? fallback : String(v));

const WAL_LEVEL_FIX: Record<string, string> = {
  rds: 'On Amazon RDS / Aurora: set rds.logical_replication = 1 in the DB parameter group (DB cluster parameter group for Aurora) and reboot the instance; this sets wal_level = logical.',
  cloudsql:
    'On Cloud SQL: set the flag cloudsql.logical_decoding = on (gcloud sql instances patch INSTANCE --database-flags=cloudsql.logical_decoding=on); the instance restarts.',
  supabase: 'Supabase projects run with wal_level = logical already; if yours does not, ask Supabase support (the setting is theirs).',
  azure:
    'On Azure Database for PostgreSQL (flexible server): set the server parameter wal_level = logical (azure.replication_support = logical on single server) and restart.',
  'self-hosted':
    "Set wal_level = logical in postgresql.conf (or ALTER SYSTEM SET wal_level = 'logical';) and restart PostgreSQL; keep max_replication_slots and max_wal_senders at 10 or more.",
};

const REPLICATION_FIX: Record<string, (role: string) => string> = {
  rds: (role) => `On Amazon RDS / Aurora, as the master user: GRANT rds_replication TO "${role}";`,
  cloudsql: (role) => `On Cloud SQL, as the postgres user: ALTER USER "${role}" WITH REPLICATION;`,
  supabase: (role) =>
    `On Supabase, connect as the postgres role (it has REPLICATION) or, as postgres: ALTER ROLE "${role}" WITH REPLICATION; use the direct connection (port 5432), not the pooler.`,
  azure: (role) => `On Azure, as the admin user: ALTER ROLE "${role}" WITH REPLICATION;`,
  'self-hosted': (role) =>
    `As a superuser: ALTER ROLE "${role}" WITH REPLICATION; (and allow it in pg_hba.conf if your rules list databases: replication connections in database mode use the database's own line).`,
};

export const realtimeTable: ExplainTable = {
  REALTIME_BAD_ACTION: (f) => ({
    title: 'Unknown realtime action',
    cause: f.details.argument ? `realtime does not know "${s(f.details.argument)}".` : 'realtime needs an action.',
    hint: 'Use one of: chatgenius-db realtime status | realtime use notify | realtime use logical (see chatgenius-db realtime --help).',
  }),
  REALTIME_WAL_LEVEL: (f) => ({
    title: 'Logical decoding is off on this server',
    cause: `wal_level is ${s(f.details.walLevel)}; logical mode streams changes out of the write-ahead log, which needs wal_level = logical.`,
    hint: `${WAL_LEVEL_FIX[s(f.details.provider, 'self-hosted')] ?? WAL_LEVEL_FIX['self-hosted']} Until then, keep notify mode (chatgenius-db realtime use notify). Nothing was changed.`,
  }),
  REALTIME_NO_REPLICATION: (f) => ({
    title: 'This role may not stream changes',
    cause: `Role "${s(f.details.role)}" has no REPLICATION attribute (nor the provider's replication role), so it may not open a replication connection or create a replication slot.`,
    hint: `${(REPLICATION_FIX[s(f.details.provider, 'self-hosted')] ?? REPLICATION_FIX['self-hosted']!)(s(f.details.role))} Or connect as a role that has it. Nothing was changed.`,
  }),
  REALTIME_NO_SLOTS: (f) => ({
    title: `No free ${f.details.setting === 'max_wal_senders' ? 'WAL sender' : 'replication slot'}`,
    cause: `${s(f.details.setting)} is ${s(f.details.max)} and ${s(f.details.used)} are in use; every logical listener (and every broker like Debezium) needs one while it runs.`,
    hint: `Drop slots nobody reads (chatgenius-db realtime status lists them with the command), or raise ${s(f.details.setting)} (postgresql.conf or the provider's parameter group; needs a restart).`,
  }),
  REALTIME_NO_PUBLICATION_RIGHTS: (f) => ({
    title: 'This role may not create the publication',
    cause:
      Array.isArray(f.details.notOwned) && f.details.notOwned.length > 0
        ? `CREATE PUBLICATION ... FOR TABLE needs the owner of every table; role "${s(f.details.role)}" does not own ${(f.details.notOwned as string[]).join(', ')}.`
        : `CREATE PUBLICATION needs CREATE on database "${s(f.details.database)}", which role "${s(f.details.role)}" lacks.`,
    hint: `Run chatgenius-db realtime use logical as the role that owns the schema's tables (the one that ran the migrations), or GRANT CREATE ON DATABASE "${s(f.details.database)}" TO "${s(f.details.role)}".`,
  }),
  REALTIME_NO_TABLES: (f) => ({
    title: 'No real-time tables',
    cause: `Schema ${s(f.details.schema)} has no table with a notify trigger (sql/0005), so there is nothing to publish.`,
    hint: 'Apply the migrations first: chatgenius-db init (with the same --env / --schema).',
  }),
  REALTIME_SLOT_RETAINING: (f) => ({
    title: 'A replication slot holds WAL back',
    cause: `Slot ${s(f.details.slot)} is not being read and keeps ${s(f.details.retained)} of WAL on the server's disk; it grows with every write until the disk is full.`,
    hint: `If nothing will read it again (a stopped broker, an old test): ${s(f.details.dropSql)} Otherwise start its consumer.`,
  }),
  REALTIME_INCONSISTENT: (f) => ({
    title: 'Logical mode is incomplete',
    cause: [
      f.details.missing
        ? `Logical mode is on for schema ${s(f.details.schema)} but publication ${s(f.details.publication)} lacks ${s(f.details.missing)}: changes there reach neither NOTIFY nor the stream.`
        : '',
      f.details.enabledTriggers ? `Notify triggers are on in logical mode (${s(f.details.enabledTriggers)}): their writers pay for NOTIFY beside the stream.` : '',
    ]
      .filter(Boolean)
      .join(' '),
    hint: 'Run chatgenius-db realtime use logical again: it adds the missing tables and turns the notify triggers off.',
  }),
};
