/** Configuration: .env files, environment defaults, validation -> ResolvedConfig. */
export { resolveConfig, defaultMigrationsDir, absolutePath, type ResolveInput } from './resolve.js';
export { SETTINGS } from './settings.js';
export { detectEnv, isEnvName, type EnvDetection } from './detect.js';
export { CONNECTION_VARS } from './settings.js';
export { readEnvFiles, readEnvFile, envFileNames, findMalformedLine, type EnvFile } from './env-files.js';
export {
  ENV_DEFAULTS,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  STATE_DIR_NAME,
  type EnvDefaults,
} from './defaults.js';
export {
  parsePort,
  parseDuration,
  parseSslMode,
  parseSchemaName,
  parseFingerprint,
  parsePostgresUrl,
  parseInteger,
} from './validate.js';
export * from './types.js';
