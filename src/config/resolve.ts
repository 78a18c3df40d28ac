/**
 * flags + process environment + .env files -> one validated ResolvedConfig.
 * No I/O beyond reading the .env files (and checking whether the default SSH key exists).
 * Bad values from flags are usage errors (exit 2); from the environment or files, exit 1.
 * Errors name the flag, the variable and where the value came from; never a password.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ConfigFlags } from './types.js';
import { ChatgeniusError } from '../errors.js';
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_LOCK_WAIT_MS,
  DEFAULT_PG_DATABASE,
  DEFAULT_PG_HOST,
  DEFAULT_PG_PORT,
  DEFAULT_PG_USER,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  defaultSslMode,
  ENV_DEFAULTS,
  STATE_DIR_NAME,
} from './defaults.js';
import { detectEnv } from './detect.js';
import { personalEnvFile, readEnvFiles } from './env-files.js';
import { pgpassLineFor, pgpassPath, readPgpass } from './pgpass.js';
import { defaultMigrationsDir, findProjectRoot } from './project-root.js';
import { describeFound, Layers, type Found, type SettingSpec } from './layers.js';
import { absolutePath, badValue, Reader } from './reader.js';
import { resolveTunnel } from './resolve-tunnel.js';
import { SETTINGS } from './settings.js';
import type { ConnectionConfig, EnvName, ResolvedConfig, RetryPolicy, SslMode } from './types.js';
import { parseDuration, parseHostName, parseInteger, parsePort, parseSchemaName, parseSslMode, type Parsed } from './validate.js';

export interface ResolveInput {
  flags: ConfigFlags;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** A person can be asked (the wizard fills in what is missing before calling this). */
  interactive?: boolean;
}

export { defaultMigrationsDir } from './project-root.js';
export { absolutePath, badValue, missingValue } from './reader.js';

export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const projectDir = findProjectRoot(input.cwd);
  const detection = detectEnv({ flags: input.flags, env: input.env, cwd: projectDir });
  const env = detection.env;
  const defaults = ENV_DEFAULTS[env];
  const files = readEnvFiles(projectDir, env);
  const layers = new Layers(input.flags, input.env, files);
  const home = input.env.HOME && input.env.HOME !== '' ? input.env.HOME : homedir();
  const sources: Record<string, string> = { CHATGENIUS_ENV: detection.source };
  const r = new Reader(layers, sources);
  const stateDir = join(projectDir, STATE_DIR_NAME);

  checkFlagValues(layers, r);
  if (defaults.embedded) {
    const conflicting = (['database-url', 'ssh-host'] as const).filter((f) => layers.flagString(f) !== undefined);
    if (conflicting.length > 0) {
      throw new ChatgeniusError(
        'CONFIG_CONFLICTING_FLAGS',
        `${conflicting.map((f) => `--${f}`).join(' and ')} cannot be used with env local (${detection.source}): the embedded PostgreSQL supplies the connection`,
        { flags: conflicting.map((f) => `--${f}`), envSource: detection.source },
        { exitCode: 2 },
      );
    }
  }
  const tunnelWanted = layers.get(SETTINGS.sshHost) !== undefined && !layers.flagBool('no-tunnel');
  const connection = defaults.embedded ? null : resolveConnection(r, env, projectDir, home, tunnelWanted);
  const tunnel = defaults.embedded ? null : resolveTunnel(r, layers, env, projectDir, home, stateDir);
  if (tunnel && connection?.host.startsWith('/')) {
    throw new ChatgeniusError(
      'CONFIG_BAD_VALUE',
      `The database host is a unix socket directory (${connection.host}), which cannot be reached through an SSH tunnel; set a host name with --database-url or POSTGRES_HOST, or use --no-tunnel`,
      { flag: '--database-url', variable: 'POSTGRES_HOST' },
    );
  }

  const schema = r.parse(SETTINGS.schema, parseSchemaName, 'CONFIG_BAD_SCHEMA') ?? defaults.schema;
  r.noteDefault('CHATGENIUS_SCHEMA', SETTINGS.schema);

  const migrationsDirFound = r.get(SETTINGS.migrationsDir);
  const migrationsDir = migrationsDirFound ? absolutePath(migrationsDirFound.value, projectDir, home) : defaultMigrationsDir(projectDir);

  const retry: RetryPolicy = {
    maxRetries: r.parse(SETTINGS.maxRetries, (t) => parseInteger(t, 1, 100), 'CONFIG_BAD_RETRY') ?? defaults.retry.maxRetries,
    retryDelayMs: r.parse(SETTINGS.retryDelay, (t) => parseInteger(t, 0, 600_000), 'CONFIG_BAD_RETRY') ?? defaults.retry.retryDelayMs,
  };

  const lockTimeoutMs = r.parse(SETTINGS.lockTimeout, parseDuration, 'CONFIG_BAD_DURATION') ?? DEFAULT_LOCK_TIMEOUT_MS;
  const lockWaitMs = r.parse(SETTINGS.lockWait, parseDuration, 'CONFIG_BAD_DURATION') ?? DEFAULT_LOCK_WAIT_MS;
  const statementTimeoutMs = r.parse(SETTINGS.statementTimeout, parseDuration, 'CONFIG_BAD_DURATION') ?? DEFAULT_STATEMENT_TIMEOUT_MS;

  const logFileFound = r.get(SETTINGS.logFile);
  const confirmDatabase = layers.flagString('confirm-database');

  const config: ResolvedConfig = {
    env,
    connection,
    tunnel,
    schema,
    retry,
    migrationsDir,
    lockTimeoutMs,
    lockWaitMs,
    statementTimeoutMs,
    projectDir,
    stateDir,
    yes: layers.flagBool('yes'),
    dryRun: layers.flagBool('dry-run'),
    json: layers.flagBool('json'),
    verbose: layers.flagBool('verbose'),
    sources,
    searchPath: schema === defaults.schema ? [...defaults.searchPath] : schema === 'public' ? ['public'] : [schema, 'public'],
    envFiles: layers.fileNames(),
  };
  if (confirmDatabase !== undefined) config.confirmDatabase = confirmDatabase;
  if (logFileFound) config.logFile = absolutePath(logFileFound.value, projectDir, home);
  return config;
}

/**
 * What was typed on the command line is checked first, so a bad flag is reported as the usage
 * error it is (exit 2) even when an env file has problems of its own.
 */
function checkFlagValues(layers: Layers, r: Reader): void {
  const checks: Array<[SettingSpec & { flag: keyof ConfigFlags }, (t: string) => Parsed<unknown>, string]> = [
    [SETTINGS.schema, parseSchemaName, 'CONFIG_BAD_SCHEMA'],
    [SETTINGS.sshPort, parsePort, 'CONFIG_BAD_PORT'],
    [SETTINGS.lockTimeout, parseDuration, 'CONFIG_BAD_DURATION'],
    [SETTINGS.lockWait, parseDuration, 'CONFIG_BAD_DURATION'],
    [SETTINGS.statementTimeout, parseDuration, 'CONFIG_BAD_DURATION'],
  ];
  for (const [spec, parser, code] of checks) {
    const value = layers.flagString(spec.flag);
    if (value === undefined) continue;
    const p = parser(value);
    if (!p.ok) {
      throw badValue(code, { value, source: `--${spec.flag}`, kind: 'flag', name: `--${spec.flag}` }, spec, p.problem);
    }
  }
  const url = layers.flagString(SETTINGS.databaseUrl.flag);
  if (url !== undefined) {
    const p = r.parseUrl(url);
    const found: Found = { value: url, source: '--database-url', kind: 'flag', name: '--database-url' };
    if (!p.ok) throw badValue('CONFIG_BAD_URL', found, SETTINGS.databaseUrl, p.problem, false);
  }
}

// Long on purpose: URL or parts, then sslmode: one reading of the connection's settings with their sources.
function resolveConnection(r: Reader, env: EnvName, projectDir: string, home: string, tunnelWanted: boolean): ConnectionConfig {
  const urlFound = r.get(SETTINGS.databaseUrl);
  let host: string | undefined;
  let port: number | undefined;
  let database: string | undefined;
  let user: string | undefined;
  let password: string | undefined;
  let sslText: { text: string; found: Found; spec: SettingSpec } | undefined;
  let rootCert: string | undefined;

  if (urlFound) {
    const parsed = r.parseUrl(urlFound.value);
    if (!parsed.ok) throw badValue('CONFIG_BAD_URL', urlFound, SETTINGS.databaseUrl, parsed.problem, false);
    ({ host, port, database, user, password } = parsed.value);
    if (parsed.value.sslMode !== undefined) {
      sslText = { text: parsed.value.sslMode, found: urlFound, spec: SETTINGS.databaseUrl };
    }
    rootCert = parsed.value.sslRootCert;
  } else {
    const hostFound = r.get(SETTINGS.host);
    const portFound = r.get(SETTINGS.port);
    const dbFound = r.get(SETTINGS.database);
    const userFound = r.get(SETTINGS.user);
    // Behind a tunnel, the defaults (localhost:5432 as seen from the SSH host) are a real target.
    if (!tunnelWanted && !hostFound && !portFound && !dbFound && !userFound && !r.get(SETTINGS.password)) {
      throw new ChatgeniusError(
        'CONFIG_MISSING_VALUE',
        `No database is configured for env ${env}; set it with --database-url or DATABASE_URL (or POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD), or use --env local for the embedded PostgreSQL`,
        { what: 'database connection', flag: '--database-url', variable: 'DATABASE_URL', variables: ['DATABASE_URL', 'POSTGRES_HOST'], env, file: personalEnvFile(env) },
      );
    }
    if (hostFound) {
      const h = parseHostName(hostFound.value);
      if (!h.ok) throw badValue('CONFIG_BAD_VALUE', hostFound, SETTINGS.host, h.problem);
      host = h.value;
    }
    if (portFound) {
      const p = parsePort(portFound.value);
      if (!p.ok) throw badValue('CONFIG_BAD_PORT', portFound, SETTINGS.port, p.problem);
      port = p.value;
    }
    database = dbFound?.value;
    user = userFound?.value;
  }
  // A URL without a password may be completed by POSTGRES_PASSWORD / PGPASSWORD.
  if (password === undefined) password = r.get(SETTINGS.password)?.value;
  if (!sslText) {
    const sslFound = r.get(SETTINGS.sslMode);
    if (sslFound) sslText = { text: sslFound.value, found: sslFound, spec: SETTINGS.sslMode };
  }
  if (rootCert === undefined) rootCert = r.get(SETTINGS.sslRootCert)?.value;

  host = host ?? DEFAULT_PG_HOST;
  user = user ?? DEFAULT_PG_USER;
  let sslMode: SslMode = defaultSslMode(host);
  if (sslText) {
    const s = parseSslMode(sslText.text);
    if (!s.ok) {
      const f = sslText.found;
      const where = f.kind === 'flag' ? f.name : f.kind === 'env' ? `${f.name} in the environment` : `${f.name} in ${f.source}`;
      const message =
        sslText.spec === SETTINGS.databaseUrl
          ? `sslmode="${sslText.text}" in ${where} ${s.problem}; set it in the URL (?sslmode=require) or with PGSSLMODE`
          : `${describeFound(f)} ${s.problem}; set it with PGSSLMODE or ?sslmode= in --database-url / DATABASE_URL`;
      throw new ChatgeniusError(
        'CONFIG_BAD_SSLMODE',
        message,
        { source: f.source, name: f.name, flag: '--database-url', variable: 'PGSSLMODE', value: sslText.text },
        { exitCode: f.kind === 'flag' ? 2 : 1 },
      );
    }
    sslMode = s.value;
  }
  const conn: ConnectionConfig = {
    host,
    port: port ?? DEFAULT_PG_PORT,
    database: database ?? DEFAULT_PG_DATABASE,
    user,
    sslMode,
  };
  if (password !== undefined) conn.password = password;
  else lookUpPgpass(r, conn, projectDir, home);
  if (rootCert !== undefined) conn.sslRootCert = absolutePath(rootCert, projectDir, home);
  return conn;
}

/**
 * No password from the URL or the variables: the libpq password file, as psql would use it. The
 * match is against the configured target (the database host as named, also behind a tunnel).
 * The file consulted is kept on the connection so a server that then asks for a password gets
 * a message naming it (and why it was ignored, if it was).
 */
function lookUpPgpass(r: Reader, conn: ConnectionConfig, projectDir: string, home: string): void {
  const fileFound = r.get(SETTINGS.pgpassFile);
  const path = pgpassPath(fileFound ? absolutePath(fileFound.value, projectDir, home) : undefined, home, process.env);
  const found = readPgpass(path, conn);
  if (found.password !== undefined) {
    conn.password = found.password;
    r.note('POSTGRES_PASSWORD', path);
  }
  // The line that would match, for the message if the server then asks (the configured target,
  // not the tunnel's local end).
  const line = pgpassLineFor(conn);
  conn.passwordFile = found.problem ? { path, problem: found.problem, line } : { path, line };
}
