/**
 * Which environment: `--env`, else `CHATGENIUS_ENV` (process environment, `.env.local`, `.env`),
 * else `development` when a connection is configured (DATABASE_URL, POSTGRES_* or PG*, or an
 * SSH_HOST to tunnel through, in the flags, the environment, or the env files development would
 * read), otherwise `local`.
 * The wizard uses the detected value as its suggestion.
 */
import type { ConfigFlags } from './types.js';
import { CONNECTION_VARS } from './settings.js';
import { ChatgeniusError, usageError } from '../errors.js';
import { envFileNames, readEnvFile, readNamedEnvFiles, type EnvFile } from './env-files.js';
import { Layers } from './layers.js';
import { ENV_NAMES, type EnvName } from './types.js';

export interface EnvDetection {
  env: EnvName;
  /** `--env`, `CHATGENIUS_ENV in the environment`, `CHATGENIUS_ENV in .env`, `detected` */
  source: string;
  /** Why, in words (for --verbose and the wizard). */
  reason: string;
  /** A connection (DATABASE_URL / POSTGRES_* / PG*) is configured somewhere. */
  connectionConfigured: boolean;
}

export function isEnvName(s: string): s is EnvName {
  return (ENV_NAMES as readonly string[]).includes(s);
}

/** The short names people type for an environment (`--env prod`), beside its prefixes. */
const ENV_ALIASES: Record<string, EnvName> = { prd: 'production', prod: 'production', dev: 'development' };

/** Pure: the environment someone probably meant by `value` (`prod` -> production), if any. */
export function suggestEnv(value: string): EnvName | undefined {
  const v = value.trim().toLowerCase();
  if (v === '') return undefined;
  return ENV_ALIASES[v] ?? ENV_NAMES.find((n) => n.startsWith(v) || (v.length >= 3 && v.startsWith(n)));
}

export function detectEnv(input: { flags: ConfigFlags; env: NodeJS.ProcessEnv; cwd: string }): EnvDetection {
  const flagLayers = new Layers(input.flags, {}, []);
  const flagEnv = flagLayers.flagString('env');
  // The files development would read decide detection. When --env or CHATGENIUS_ENV already
  // decides, a broken file of another environment must not fail this run: read them leniently.
  const devFiles = (strict: boolean): EnvFile[] => {
    if (strict) return readNamedEnvFiles(input.cwd, envFileNames('development'));
    return envFileNames('development').flatMap((name) => {
      try {
        const f = readEnvFile(input.cwd, name);
        return f ? [f] : [];
      } catch {
        return [];
      }
    });
  };
  const configuredIn = (files: EnvFile[]): boolean =>
    flagLayers.flagString('database-url') !== undefined ||
    flagLayers.flagString('ssh-host') !== undefined ||
    [...CONNECTION_VARS, 'SSH_HOST'].some((v) => new Layers({}, input.env, files).variable(v) !== undefined);

  if (flagEnv !== undefined) {
    const e = flagEnv.trim().toLowerCase();
    if (!isEnvName(e)) {
      throw usageError('CONFIG_BAD_ENV', `--env "${flagEnv}" is not an environment (${ENV_NAMES.join(', ')})`, {
        value: flagEnv,
        suggestion: suggestEnv(flagEnv),
        source: '--env',
        flag: '--env',
        variable: 'CHATGENIUS_ENV',
      });
    }
    return { env: e, source: '--env', reason: 'chosen with --env', connectionConfigured: configuredIn(devFiles(false)) };
  }

  // CHATGENIUS_ENV may sit in the process environment or in the env-neutral files.
  const neutral = input.env.CHATGENIUS_ENV ? [] : readNamedEnvFiles(input.cwd, ['.env.local', '.env']);
  const fromVar = new Layers({}, input.env, neutral).variable('CHATGENIUS_ENV');
  if (fromVar) {
    const e = fromVar.value.trim().toLowerCase();
    const where = fromVar.kind === 'env' ? 'the environment' : fromVar.source;
    if (!isEnvName(e)) {
      throw new ChatgeniusError(
        'CONFIG_BAD_ENV',
        `CHATGENIUS_ENV="${fromVar.value}" in ${where} is not an environment (${ENV_NAMES.join(', ')}); set --env or CHATGENIUS_ENV`,
        { value: fromVar.value, suggestion: suggestEnv(fromVar.value), source: fromVar.source, flag: '--env', variable: 'CHATGENIUS_ENV' },
      );
    }
    return {
      env: e,
      source: `CHATGENIUS_ENV in ${where}`,
      reason: `CHATGENIUS_ENV in ${where}`,
      connectionConfigured: configuredIn(devFiles(false)),
    };
  }

  const connectionConfigured = configuredIn(devFiles(true));
  if (connectionConfigured) {
    return {
      env: 'development',
      source: 'detected',
      reason: 'a database connection is configured (DATABASE_URL, POSTGRES_*, PG* or SSH_HOST)',
      connectionConfigured,
    };
  }
  return {
    env: 'local',
    source: 'detected',
    reason: 'no database connection is configured: using the embedded local PostgreSQL',
    connectionConfigured,
  };
}
