/** The spec's library faces: setupDatabase / initializePool / executeSchemaFile and SSHTunnel. */
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
export { SSHTunnel } from './ssh-tunnel.js';
export type { SSHTunnelOptions } from './ssh-tunnel.js';
export { activeTunnel } from './active-tunnel.js';
export type { ActiveTunnel } from './active-tunnel.js';
