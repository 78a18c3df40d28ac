/**
 * explain() rows for engine codes that src/explain/engine.ts (engineer E) does not list yet.
 * To be spread into engineTable: `{ ...migrateExplainTable, ...engineRows }`.
 */
import type { ExplainTable } from '../explain/types.js';

export const migrateExplainTable: ExplainTable = {
  MIGRATION_BAD_SCHEMA: (f) => ({
    title: 'Invalid schema name',
    cause: f.message,
    hint: 'Pass --schema with a plain lower-case name such as public or test.',
  }),
  MIGRATION_LOCK_WAIT_TIMEOUT: (f) => {
    const h = f.details.holder as { pid?: number; applicationName?: string | null; clientAddr?: string | null; since?: string | null; state?: string | null } | null | undefined;
    const idle = h?.state === 'idle';
    return {
      title: 'Another run holds the migration lock',
      cause: `${f.message}${h ? ` Holder: pid ${h.pid}${h.applicationName ? `, ${h.applicationName}` : ''}${h.clientAddr ? ` from ${h.clientAddr}` : ''}${h.state ? `, ${h.state}` : ''}${h.since ? ` since ${h.since}` : ''}.` : ''}${idle ? ' That session is idle: it holds the lock and runs nothing (a run whose client went away, or a pooled server connection where a lock was left behind).' : ''}`,
      hint: `${idle ? `It is idle, so stopping it loses nothing: SELECT pg_terminate_backend(${h?.pid ?? 'pid'}); then run again.` : `Wait for the other run to finish and run again (or wait longer: --lock-wait 15m); if it is stuck, SELECT pg_terminate_backend(${h?.pid ?? 'pid'});`} The server releases the lock when that session ends.`,
    };
  },
  TRANSACTION_POOLER: (f) => ({
    title: 'A transaction-mode connection pooler is in front of the database',
    cause: `${f.message} The pooler lends a different server session to each transaction (${String(f.details.evidence ?? 'observed')}), so what needs a session would not stay with this run: the migration lock (two runs could apply the same migration at once, or the lock could stay behind on a pooled connection nobody owns), LISTEN (notifications would go to some other client's session, silently), session settings.`,
    hint: 'Use a direct connection (PostgreSQL\'s own host and port, e.g. 5432 instead of PgBouncer\'s 6432) or a session-mode pooler for chatgenius-db: managed providers give both URLs ("direct" / "session" connection string). The app itself may keep using the transaction pooler.',
  }),
};
