/** The public library API of chatgenius-db. */
export { ChatgeniusError, CancelledError } from './errors.js';
export { explain } from './explain/index.js';
export type { Explanation } from './explain/index.js';
export type { ChatgeniusEvent, Emit } from './events.js';
export type { ResolvedConfig, EnvName, ConnectionConfig, TunnelConfig, RetryPolicy } from './config/types.js';
