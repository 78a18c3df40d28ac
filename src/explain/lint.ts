/** explain() rows for lint's codes (merged into index.ts's table). */
import type { ExplainTable } from './types.js';

const list = (v: unknown): string => (Array.isArray(v) ? v.map((x) => `  ${String(x)}`).join('\n') : '');

export const lintTable: ExplainTable = {
  UNSAFE_MIGRATION_REFUSED: (f) => ({
    title: 'A pending migration would lock a production table that holds rows',
    cause: `Without a person to ask, these error-level lint findings on tables that hold rows need consent:\n${list(f.details.findings)}`,
    hint: `Rewrite the migration the safe way (chatgenius-db lint shows the fix), or acknowledge it in the file (-- chatgenius:allow <rule> <reason>), or run with --allow-unsafe ${String(f.details.rules ?? 'RULE')} (or run it in the wizard, which asks). Nothing was changed.`,
  }),
  USAGE_UNKNOWN_RULE: (f) => ({
    title: 'Unknown lint rule',
    cause: `--allow-unsafe names ${String(f.details.unknown ?? '')}, which is not a rule.`,
    hint: 'Use rule ids as listed by `chatgenius-db lint --help`, separated by commas, or `all`.',
  }),
};
