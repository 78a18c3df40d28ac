/**
 * Who holds the migration lock: the engine takes one session-level advisory lock per database +
 * schema, from a session whose application_name starts with `chatgenius-db`. Read from pg_locks
 * and pg_stat_activity (any role may read its own database's locks; the client address and
 * application name of other roles' sessions need pg_read_all_stats, and show as null otherwise).
 */
import type pg from 'pg';
import type { LockHolder } from '../events.js';

export async function lockHolders(client: pg.Client, _schema: string): Promise<LockHolder[]> {
  const r = await client.query<{ pid: number; application_name: string | null; client_addr: string | null; since: Date | null; usename: string | null }>(
    `select l.pid, a.application_name, host(a.client_addr) as client_addr, coalesce(a.xact_start, a.state_change, a.backend_start) as since, a.usename
       from pg_locks l
       join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted
        and l.database = (select oid from pg_database where datname = current_database())
        and l.pid <> pg_backend_pid()
        and coalesce(a.application_name, '') like 'chatgenius-db%'
      order by since nulls last`,
  );
  const seen = new Set<number>();
  const out: LockHolder[] = [];
  for (const row of r.rows) {
    if (seen.has(row.pid)) continue;
    seen.add(row.pid);
    out.push({
      pid: Number(row.pid),
      applicationName: row.application_name,
      clientAddr: row.client_addr,
      since: row.since ? new Date(row.since).toISOString() : null,
      user: row.usename,
    });
  }
  return out;
}
