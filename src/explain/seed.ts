/** explain() rows for the seed command's codes (merged into index.ts's table). */
import type { ExplainTable } from './types.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const list = (v: unknown): string => (Array.isArray(v) ? v.join(', ') : '');

export const seedTable: ExplainTable = {
  SEED_PRODUCTION_REFUSED: (f) => ({
    title: 'Seeding a production database is refused',
    cause: `seed would fill the production database ${str(f.details.database) ?? ''} with demo users and messages.`,
    hint: 'If you really mean it (a staging copy marked production?), add --force and --confirm-database NAME with the database name. Nothing was changed.',
  }),
  SEED_SCHEMA_MISSING: (f) => ({
    title: 'The schema is not applied yet',
    cause: `Schema ${str(f.details.schema) ?? ''} lacks the ChatGenius tables (${list(f.details.missing)}).`,
    hint: `Run \`chatgenius-db init\` with the same --env/--schema first, then seed. Nothing was changed.`,
  }),
  SEED_NOT_EMPTY: (f) => ({
    title: 'The database already holds data',
    cause: `Schema ${str(f.details.schema) ?? ''} already has rows in ${list(f.details.tables)}; seed only fills an empty schema, so it never mixes demo rows into real ones.`,
    hint: 'Seed another schema (--schema NAME after init there), or start from an empty one (`chatgenius-db rollback --all --yes` then `init`; for --env local: `chatgenius-db local reset`). Nothing was changed.',
  }),
  SEED_TRIGGERS_LOCKED: (f) => ({
    title: 'Cannot switch the notification triggers off for the bulk load',
    cause: `Trigger ${str(f.details.trigger) ?? ''} on ${str(f.details.schema) ?? ''}.${str(f.details.table) ?? ''} could not be disabled (${str(f.details.sqlstate) ?? 'no privilege'}): the role is neither a superuser nor the table's owner, and seeding with the triggers on would send one NOTIFY per row.`,
    hint: "Run seed as the role that ran init (the tables' owner) or as a superuser. Nothing was changed.",
  }),
};
