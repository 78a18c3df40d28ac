/**
 * The command line's entry: parse argv (node's util.parseArgs, strict), pick the command from
 * the registry (lazy imports: `--help` loads only that command's light module), run it with a
 * context (flags, env, io, interactive, an AbortSignal for Ctrl-C), explain any failure.
 * Exit codes: 0 done, 1 failed (explained), 2 usage error, 130 cancelled.
 */
import { isatty } from 'node:tty';
import { parseArgs } from 'node:util';
import { CancelledError, ChatgeniusError, usageError } from '../errors.js';
import { connectionOptions, type CliIO, type CommandContext, type CommandModule, type Flags, type OptionSpec } from './command.js';
import { readVersion } from './version.js';
import { didYouMean } from './output/format.js';
import { attachReporter, createReporter, startupErrorOf } from './output/reporter.js';

interface RegistryEntry {
  summary: string;
  load: () => Promise<unknown>;
  /** Ctrl-C is this command's normal end (exit 0), not a cancel of unfinished work. */
  interruptIsNormalEnd?: boolean;
  /** It prints a stream of lines until stopped (see createReporter). */
  streamsLines?: boolean;
  /** Run by a person (a TTY, no --yes): the wizard for this command instead of its run(). */
  wizard?: () => Promise<(ctx: CommandContext) => Promise<number>>;
}

const load = (name: string) => () => import(`./commands/${name}.js`);

/** Summaries live here so the top-level --help loads no command module. */
export const registry: Record<string, RegistryEntry> = {
  init: {
    summary: 'Apply pending migrations (the default command; a wizard when run by a person)',
    load: load('init'),
    wizard: () => import('./wizard/init.js').then((m) => m.initWizard),
  },
  rollback: {
    summary: 'Roll back migrations: --steps N (default 1), --to VERSION or --all',
    load: load('rollback'),
    wizard: () => import('./wizard/init.js').then((m) => m.rollbackWizard),
  },
  status: { summary: 'List applied and pending migrations (--metrics: Prometheus text)', load: load('status') },
  verify: { summary: 'Compare the journal and the live schema with sql/; exit 1 on drift', load: load('verify') },
  doctor: { summary: 'Check each link of the chain: env files, SSH, host key, PostgreSQL, privileges', load: load('doctor') },
  listen: { summary: 'Print real-time notifications (chatgenius_* channels) until Ctrl-C', load: load('listen'), interruptIsNormalEnd: true, streamsLines: true },
  realtime: { summary: 'Real-time mode: status | use notify | use logical (logical decoding)', load: load('realtime') },
  local: { summary: 'Manage the embedded PostgreSQL of --env local: start | stop | status | reset', load: load('local') },
  seed: { summary: 'Fill the database with sample data', load: load('seed') },
  lint: { summary: 'Check the migration files for locks and outages before they run (exit 1 on an error)', load: load('lint') },
  schema: { summary: 'Show the schema: a tour in the terminal, a Mermaid diagram or an SVG picture', load: load('schema') },
  new: { summary: 'Write the next NNNN_name.up.sql / .down.sql pair', load: load('new') },
  baseline: { summary: 'Adopt a database whose tables already exist: --to VERSION', load: load('baseline') },
  repair: { summary: 'Re-record an applied file deliberately changed; clear a failed-run record', load: load('repair') },
};

/** What the first Ctrl-C prints: a cancel for commands with work to finish, a plain stop for listen. */
export function interruptMessage(command: string): string {
  return registry[command]?.interruptIsNormalEnd
    ? 'Stopping: closing the connection (Ctrl-C again to exit at once)'
    : 'Cancelling: closing connections and releasing the lock (Ctrl-C again to exit at once)';
}

export { readVersion };

export function topLevelHelp(version: string): string {
  const width = Math.max(...Object.keys(registry).map((n) => n.length));
  const cmds = Object.entries(registry)
    .map(([name, e]) => `  ${name.padEnd(width)}  ${e.summary}`)
    .join('\n');
  return `chatgenius-db ${version}: set up, upgrade and roll back the ChatGenius PostgreSQL schema

Usage:
  chatgenius-db [command] [options]      (command defaults to init)
  chatgenius-db <command> --help         options of one command

Commands:
${cmds}

Common options:
  --env local|development|test|production   which environment (else CHATGENIUS_ENV)
  --yes, -y             never prompt; take the defaults (CI mode)
  --json                JSON lines on stdout (LogFormat), human output on stderr
  --log-file PATH       append the JSON lines to PATH (created mode 0600)
  --database-url URL    the connection (else DATABASE_URL or POSTGRES_*)
  --verbose, -v         more detail, stack traces on failure
  --version             print the version
  --help, -h            this help

Exit codes: 0 done, 1 failed (explained), 2 usage error, 130 cancelled.
`;
}

function defaultIO(): CliIO {
  // stderr and stdin are streams Node sets up on first touch (3-6 ms each): --help needs neither,
  // and a run without a person never reads stdin (whether it is a terminal is asked of the fd).
  return {
    stdout: process.stdout,
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
    stdinIsTTY: () => isatty(0),
  };
}

export function isInteractive(io: CliIO, flags: Flags, env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI === 'true' || env.CI === '1';
  const stdinIsTTY = io.stdinIsTTY ? io.stdinIsTTY() : io.stdin.isTTY === true;
  return stdinIsTTY && io.stdout.isTTY === true && flags.yes !== true && flags.json !== true && !ci;
}

/** Turn node's parseArgs errors into usage errors with a "did you mean" hint. */
export async function parseFlags(command: string, args: string[], options: OptionSpec, allowPositionals: boolean): Promise<{ flags: Flags; positionals: string[] }> {
  // `--steps -1`: a negative number is the option's value (parseArgs would call it ambiguous).
  const merged: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const spec = a.startsWith('--') ? options[a.slice(2)] : undefined;
    if (spec?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      merged.push(`${a}=${next}`);
      i++;
    } else merged.push(a);
  }
  args = merged;
  try {
    const r = parseArgs({ args, options, allowPositionals, strict: true });
    return { flags: r.values as Flags, positionals: r.positionals };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = e instanceof Error ? e.message : String(e);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const m = /'(-{1,2}[^']+)'/.exec(message);
      const flag = m?.[1] ?? message;
      const bare = flag.replace(/^-+/, '').replace(/=.*$/, '');
      const names = Object.keys(options);
      const suggestion = didYouMean(bare, names);
      return Promise.reject(
        usageError('USAGE_UNKNOWN_FLAG', `Unknown option ${flag} for ${command}`, {
          flag,
          command,
          suggestion: suggestion ? `--${suggestion}` : undefined,
        }),
      );
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const m = /'([^']+)'/.exec(message);
      return Promise.reject(usageError('USAGE_UNEXPECTED_ARGUMENT', `Unexpected argument ${m?.[1] ?? ''} for ${command}`, { argument: m?.[1], command }));
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const m = /'(-{1,2}[^']+)'/.exec(message);
      return Promise.reject(usageError('USAGE_BAD_FLAG_VALUE', message.replace(/\s+/g, ' '), { flag: m?.[1], command }));
    }
    return Promise.reject(usageError('USAGE_BAD_ARGUMENTS', message, { command }));
  }
}

function asModule(m: unknown): CommandModule {
  const mod = m as { default?: unknown } & Partial<CommandModule>;
  const c = (mod.default && typeof (mod.default as CommandModule).run === 'function' ? mod.default : mod) as CommandModule;
  if (typeof c.run !== 'function') throw new Error('command module has no run()');
  return c;
}

export interface MainDeps {
  io?: CliIO;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Install SIGINT handlers on the process (default true). */
  handleSignals?: boolean;
}

// Long on purpose: the CLI's one sequence: parse, help, dispatch, signals, exit code.
export async function main(argv: string[], deps: MainDeps = {}): Promise<number> {
  const io = deps.io ?? defaultIO();
  const env = deps.env ?? process.env;
  const cwd = deps.cwd ?? process.cwd();

  const typed = argv;
  argv = commandFirst(argv);
  const first = argv[0];
  const hasCommand = first !== undefined && !first.startsWith('-');
  if (!hasCommand) {
    if (argv.includes('--version') || argv.includes('-V')) {
      io.stdout.write(`${readVersion()}\n`);
      return 0;
    }
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout.write(topLevelHelp(readVersion()));
      return 0;
    }
  }
  const name = hasCommand ? first : 'init';
  const rest = hasCommand ? argv.slice(1) : argv;
  if (name === 'help') {
    const target = rest[0];
    if (!target || !registry[target]) {
      io.stdout.write(topLevelHelp(readVersion()));
      return 0;
    }
    return main([target, '--help'], deps);
  }

  const entry = registry[name];
  if (!entry) {
    const suggestion = didYouMean(name, Object.keys(registry));
    return reportEarly(usageError('USAGE_UNKNOWN_COMMAND', `Unknown command ${name}`, { command: name, suggestion, commands: Object.keys(registry) }), {
      argv,
      io,
      env,
      command: name,
    });
  }

  let mod: CommandModule;
  try {
    mod = asModule(await entry.load());
  } catch (e) {
    return reportEarly(
      new ChatgeniusError('COMMAND_UNAVAILABLE', `The ${name} command is not available in this build`, {
        command: name,
        reason: e instanceof Error ? e.message : String(e),
      }),
      { argv, io, env, command: name },
    );
  }

  const options: OptionSpec = { ...mod.options, help: { type: 'boolean', short: 'h' } };
  // `--evn local`: an unknown flag right before the word taken as the command probably wanted
  // that word as its value; report the flag, unless the command itself has that switch.
  const suspect = argv === typed ? undefined : flagBeforeCommand(typed);
  if (suspect && !isSwitchOf(options, suspect)) {
    const bare = suspect.replace(/^-+/, '');
    const names = Object.keys(connectionOptions);
    const guess = bare.length === 1 ? names.find((n) => n.startsWith(bare)) : didYouMean(bare, names);
    // (a one-letter flag: the long option it abbreviates, `-e` -> --env)
    return reportEarly(
      usageError('USAGE_UNKNOWN_FLAG', `Unknown option ${suspect}`, {
        flag: suspect,
        before: name,
        suggestion: guess ? `--${guess}${connectionOptions[guess as keyof typeof connectionOptions].type === 'string' ? ` ${name}` : ''}` : undefined,
      }),
      { argv, io, env, command: name },
    );
  }
  let parsed: { flags: Flags; positionals: string[] };
  try {
    parsed = await parseFlags(name, rest, options, mod.allowPositionals ?? false);
  } catch (e) {
    return reportEarly(e, { argv, io, env, command: name });
  }
  if (parsed.flags.help === true) {
    io.stdout.write(mod.help.endsWith('\n') ? mod.help : `${mod.help}\n`);
    return 0;
  }

  const controller = new AbortController();
  const ctx: CommandContext = {
    flags: parsed.flags,
    positionals: parsed.positionals,
    env,
    cwd,
    io,
    interactive: isInteractive(io, parsed.flags, env),
    signal: controller.signal,
  };
  const reporter = createReporter({ flags: parsed.flags, env, io, command: name, streamsLines: entry.streamsLines === true });
  attachReporter(ctx, reporter);

  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      // Abort first: listeners clear their live lines (progress, spinner) before the message.
      controller.abort(new CancelledError());
      io.stderr.write(`\n${interruptMessage(name)}\n`);
    } else {
      const exitCode = entry.interruptIsNormalEnd ? 0 : 130;
      reporter.finish(exitCode);
      process.exit(exitCode);
    }
  };
  const handleSignals = deps.handleSignals ?? true;
  if (handleSignals) process.on('SIGINT', onSigint);

  let code: number;
  try {
    const startupError = startupErrorOf(reporter);
    if (startupError) throw startupError;
    code = ctx.interactive && entry.wizard ? await (await entry.wizard())(ctx) : await mod.run(ctx);
    if (controller.signal.aborted && code !== 0) code = 130;
  } catch (e) {
    code = controller.signal.aborted ? (reporter.fail(e instanceof CancelledError ? e : new CancelledError()), 130) : reporter.fail(e);
  } finally {
    if (handleSignals) process.off('SIGINT', onSigint);
  }
  reporter.finish(code);
  return code;
}

/** Errors before a command runs (unknown command or flag): stderr, and a result line under --json. */
async function reportEarly(err: unknown, o: { argv: string[]; io: CliIO; env: NodeJS.ProcessEnv; command: string }): Promise<number> {
  const json = o.argv.includes('--json');
  const logFile = rawFlagValue(o.argv, 'log-file');
  const r = createReporter({ flags: { json, ...(logFile ? { 'log-file': logFile } : {}) }, env: o.env, io: o.io, command: o.command });
  const code = r.fail(err);
  r.finish(code);
  return code;
}

/** `--name VALUE` or `--name=VALUE` from raw argv (for errors before parsing succeeded). */
export function rawFlagValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** The flag right before the command word in `argv` when chatgenius-db does not know it (`--evn` in `--evn local`). */
export function flagBeforeCommand(argv: string[]): string | undefined {
  const i = argv.findIndex((a, k) => k > 0 && registry[a] !== undefined && argv[k - 1]!.startsWith('-'));
  if (i < 1) return undefined;
  const flag = argv[i - 1]!.replace(/=.*$/, '');
  const known = Object.entries(connectionOptions).some(([n, o]) => flag === `--${n}` || ('short' in o && flag === `-${o.short}`));
  return known ? undefined : flag;
}

/** Whether `flag` is a boolean option (a switch) in `options`. */
function isSwitchOf(options: OptionSpec, flag: string): boolean {
  return Object.entries(options).some(([n, o]) => o.type === 'boolean' && (flag === `--${n}` || (o.short !== undefined && flag === `-${o.short}`)));
}

/**
 * `chatgenius-db --env test status` -> `status --env test`: a command named after leading flags
 * moves to the front (values of the common string flags are skipped, so `--env local` stays a value).
 */
export function commandFirst(argv: string[]): string[] {
  if (argv.length === 0 || !argv[0]!.startsWith('-')) return argv;
  const takesValue = new Set(
    Object.entries(connectionOptions)
      .filter(([, o]) => o.type === 'string')
      .map(([n]) => `--${n}`),
  );
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return argv;
    if (a.startsWith('-')) {
      if (takesValue.has(a)) i++;
      continue;
    }
    if (registry[a]) return [a, ...argv.slice(0, i), ...argv.slice(i + 1)];
    return argv;
  }
  return argv;
}
