import type { ExplainTable } from './types.js';

/** explain() rows for the config domain. */
export const configTable: ExplainTable = {};
