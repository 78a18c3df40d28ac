/**
 * `explainOps(err)`: explain() for the operations commands. Our own DOCTOR_* / LISTEN_* rows
 * first, then the shared explain(), then our fallbacks for codes the shared table does not know.
 * (src/explain/index.ts is not ours to edit; merging `opsTable` there makes this a plain explain().)
 */
import { explain, errorFacts, knownCodes, isSqlState } from '../explain/index.js';
import type { Explanation } from '../explain/types.js';
import { opsFallbackTable, opsTable } from './explain-table.js';

export { opsTable, opsFallbackTable };

/** explain() for the operations commands: our own codes first, then the shared table, then our fallbacks. */
export function explainOps(err: unknown): Explanation {
  const facts = errorFacts(err);
  const own = opsTable[facts.code];
  if (own) return { code: facts.code, ...own(facts) };
  const fallback = opsFallbackTable[facts.code];
  if (fallback) {
    const known = new Set(knownCodes());
    const sharedKnows = known.has(facts.code) || (isSqlState(facts.code) && known.has(`${facts.code.slice(0, 2)}xxx`));
    if (!sharedKnows) return { code: facts.code, ...fallback(facts) };
  }
  return explain(err);
}
