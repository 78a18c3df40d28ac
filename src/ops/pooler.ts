/** The pooler probe lives with the connection layer (src/db/pooler.ts): doctor, the engine and listen share it. */
export { observePooler, poolerEvidence, type PoolerObservation } from '../db/pooler.js';
