/** The database library: connect with TLS and retry, the spec's pool API, transient-error retry. */
export {
  clientConfig,
  connectClient,
  connectTuned,
  sslOptions,
  startupOptions,
  describeTarget,
  connectErrorCode,
  DEFAULT_APPLICATION_NAME,
  CONNECTION_CHECK_INTERVAL_MS,
} from './connect.js';
export type { ClientConfigOptions, ConnectOptions, ConnectTuning } from './connect.js';
export { executeWithRetry, retryPolicyFor, retryPolicyFromEnv, sleep } from './retry.js';
export type { RetryOptions } from './retry.js';
export { isTransient, TRANSIENT_SQLSTATES, TRANSIENT_NODE_CODES } from './transient.js';
export {
  setupDatabase,
  initializePool,
  executeSchemaFile,
  closePool,
  currentPool,
  poolInfo,
  locateSqlError,
  defaultMigrationsDir,
} from './pool.js';
export type { SetupOptions, PoolInfo } from './pool.js';
export { requestCancel } from './cancel.js';
