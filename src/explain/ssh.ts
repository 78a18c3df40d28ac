import type { ExplainTable } from './types.js';

/** explain() rows for the ssh domain. */
export const sshTable: ExplainTable = {};
