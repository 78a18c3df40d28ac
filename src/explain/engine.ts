import type { ExplainTable } from './types.js';

/** explain() rows for the engine domain. */
export const engineTable: ExplainTable = {};
