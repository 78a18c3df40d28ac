/** The public library API of chatgenius-db. */
export { ChatgeniusError, CancelledError, usageError } from './errors.js';
export { explain, knownCodes } from './explain/index.js';
export type { Explanation } from './explain/index.js';
export type { ChatgeniusEvent, Emit } from './events.js';
export { fanOut } from './events.js';
export type { ResolvedConfig, EnvName, ConnectionConfig, TunnelConfig, RetryPolicy, SslMode } from './config/types.js';
export { resolveConfig, detectEnv } from './config/index.js';
export { setupDatabase, initializePool, executeSchemaFile, closePool, SSHTunnel } from './library/index.js';
export { executeWithRetry, connectClient, isTransient } from './db/index.js';
export { openTunnel, SSHTunnelError } from './tunnel/index.js';
export type { OpenTunnel } from './tunnel/index.js';
export { openTarget, checkConsent } from './run.js';
export type { OpenedTarget, TargetHooks } from './run.js';
export { Redactor, maskUrl } from './log/redact.js';
export { JsonLogger, toLogEntry, fileSink, streamSink } from './log/logger.js';
export type { LogLine, LogLevel } from './log/logger.js';
export { migrate, rollback, status, verify, baseline, repair, readMigrations, planUp, planDown, MigrationFailedError } from './migrate/index.js';
export type {
  EngineOptions,
  MigrateResult,
  RollbackResult,
  StatusResult,
  VerifyResult,
  BaselineResult,
  RepairResult,
  MigrationFile,
  MigrationFailure,
} from './migrate/index.js';
export { snapshotCatalog } from './migrate/catalog.js';
export { diffCatalog } from './migrate/catalog-diff.js';
export { ensureLocalServer, stopLocalServer, localServerStatus } from './local/index.js';
export { seedDatabase } from './seed/load.js';
export type { SeedOptions, SeedResult } from './seed/load.js';
export { runDoctor } from './ops/doctor.js';
export { listen } from './ops/listen.js';
