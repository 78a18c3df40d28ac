/**
 * Who holds the migration lock: the engine's session-level advisory lock, keyed on
 * (database, schema) in the two-int form (src/migrate/lock.ts lockKeysSql). Read from pg_locks
 * and pg_stat_activity (the client address and application name of other roles' sessions need
 * pg_read_all_stats, and show as null otherwise).
 */
import type pg from 'pg';
import type { LockHolder } from '../events.js';
import { lockKeysSql } from '../migrate/lock.js';

/**
 * The sessions holding the lock. "since" means what it means in the engine's own holder query
 * (src/migrate/lock.ts stateSql): when the holder's session last changed state, else when it began.
 */
export function lockHoldersSql(schema: string): string {
  const [k1, k2] = lockKeysSql(schema);
  return `select l.pid, a.application_name, host(a.client_addr) as client_addr, coalesce(a.state_change, a.backend_start) as since, a.usename
       from pg_locks l
       join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted
        and l.database = (select oid from pg_database where datname = current_database())
        and l.classid = (${k1})::oid and l.objid = (${k2})::oid and l.objsubid = 2
        and l.pid <> pg_backend_pid()
      order by since nulls last`;
}

export async function lockHolders(client: pg.Client, schema: string): Promise<LockHolder[]> {
  const r = await client.query<{ pid: number; application_name: string | null; client_addr: string | null; since: Date | null; usename: string | null }>(
    lockHoldersSql(schema),
  );
  return r.rows.map((row) => ({
    pid: Number(row.pid),
    applicationName: row.application_name,
    clientAddr: row.client_addr,
    since: row.since ? new Date(row.since).toISOString() : null,
    user: row.usename,
  }));
}
