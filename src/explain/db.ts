import type { ExplainTable } from './types.js';

/** explain() rows for PostgreSQL SQLSTATEs and Node network/file codes. */
export const dbTable: ExplainTable = {
  UNKNOWN: (f) => ({
    title: 'Something went wrong',
    cause: f.message,
    hint: 'Run again with --verbose to see the full error, or `chatgenius-db doctor` to check each link of the connection.',
  }),
};
