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
    const h = f.details.holder as { pid?: number; applicationName?: string | null; clientAddr?: string | null; since?: string | null } | null | undefined;
    return {
      title: 'Another run holds the migration lock',
      cause: `${f.message}${h ? ` Holder: pid ${h.pid}${h.applicationName ? `, ${h.applicationName}` : ''}${h.clientAddr ? ` from ${h.clientAddr}` : ''}${h.since ? `, since ${h.since}` : ''}.` : ''}`,
      hint: 'Wait for the other run to finish, or stop it (SELECT pg_terminate_backend(pid)) if it is stuck; the server releases the lock when its session ends.',
    };
  },
};
