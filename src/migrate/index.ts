/**
 * The migration engine. Takes an already connected pg.Client; never prints (events via `emit`);
 * returns results (ok: false plus the failure) and throws ChatgeniusError only for refusals
 * before anything runs (drift, bad files, bad schema name).
 */
export { readMigrations, checksumOf, compareVersions, analyseSql } from './files.js';
export { planUp, planDown, driftError, type DownOptions } from './plan.js';
export { migrate } from './apply.js';
export { rollback } from './rollback.js';
export { status } from './status.js';
export { verify } from './verify.js';
export { baseline } from './baseline.js';
export { repair } from './repair.js';
export { splitStatements, validateSchemaName, quoteIdent, quoteLiteral } from './sql-text.js';
export { codeFrameIn as codeFrame } from '../code-frame.js';
export { JOURNAL_TABLE } from './journal.js';
export { MigrationFailedError, failureError } from './failure.js';
export type * from './types.js';
