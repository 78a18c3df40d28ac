/** The database library: connect with TLS and retry, transient-error retry (the spec's pool API is src/library/). */
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
export { executeWithRetry, retryPolicyFor, retryPolicyFromEnv } from './retry.js';
export { sleep } from '../sleep.js';
export type { RetryOptions } from './retry.js';
export { isTransient, TRANSIENT_SQLSTATES, TRANSIENT_NODE_CODES } from './transient.js';
export { requestCancel } from './cancel.js';
