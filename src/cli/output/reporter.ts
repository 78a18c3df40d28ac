/**
 * One run's output bundle: the Redactor, the correlationId, the human listener, the JSON-lines
 * logger (--json on stdout, --log-file appended), and the final `result` line.
 * main.ts creates it after parsing flags; commands (and the wizard) get it with reporterFor(ctx).
 */
import { randomUUID } from 'node:crypto';
import { CancelledError, ChatgeniusError, usageError } from '../../errors.js';
import { fanOut, type Emit } from '../../events.js';
import { explain } from '../../explain/index.js';
import type { Explanation } from '../../explain/types.js';
import { batchedStreamSink, fileSink, JsonLogger, streamSink, type LogLevel, type LogSink } from '../../log/logger.js';
import { Redactor } from '../../log/redact.js';
import type { CliIO, CommandContext, Flags } from '../command.js';
import { createColors, type Colors } from './colors.js';
import { formatExplanation } from './format.js';
import { createHumanOut, humanListener, type HumanOut } from './human.js';
import { cancelSummary, newProgress, progressListener, type RunProgress } from './progress.js';

export interface Reporter {
  readonly correlationId: string;
  readonly redactor: Redactor;
  /** Human output (stdout, or stderr under --json). */
  readonly out: HumanOut;
  /** Colours for stderr (errors). */
  readonly errColors: Colors;
  /** Fan-out to the human listener and the JSON logger: pass this to the engine, tunnel, pool. */
  readonly emit: Emit;
  readonly json: boolean;
  readonly verbose: boolean;
  /** What committed so far (from the events), for a truthful cancel message. */
  readonly progress: RunProgress;
  /** Register this run's secrets (config password, passphrase) so every output masks them. */
  addSecrets(...values: Array<string | undefined | null>): void;
  /** Write a LogFormat line of the tool's own (json + log file). */
  log(level: LogLevel, event: string, data?: Record<string, unknown>): void;
  /** Merge facts into the final `result` line (applied list, drift, ...). */
  setResult(data: Record<string, unknown>): void;
  /** Explain an error on stderr and in the logs; returns the exit code it maps to. */
  fail(err: unknown): number;
  /** Write the `result` line (last line of --json / the log file) and close the log file. */
  finish(exitCode: number): void;
  /** Start appending to a log file named by the config (CHATGENIUS_LOG_FILE) rather than the flag. */
  attachLogFile(path: string): void;
}

const contexts = new WeakMap<object, Reporter>();

/** The reporter main.ts made for this command run (or a fresh one, for the library / the wizard's tests). */
export function reporterFor(ctx: CommandContext): Reporter {
  let r = contexts.get(ctx);
  if (!r) {
    r = createReporter({ flags: ctx.flags, env: ctx.env, io: ctx.io, command: 'unknown' });
    contexts.set(ctx, r);
  }
  return r;
}

export function attachReporter(ctx: CommandContext, r: Reporter): void {
  contexts.set(ctx, r);
}

/** Secrets known before the config is resolved: the process environment and the URL flag. */
export function seedSecrets(redactor: Redactor, env: NodeJS.ProcessEnv, flags: Flags = {}): void {
  redactor.add(env.POSTGRES_PASSWORD, env.PGPASSWORD, env.SSH_PASSPHRASE);
  for (const url of [env.DATABASE_URL, typeof flags['database-url'] === 'string' ? flags['database-url'] : undefined]) {
    if (!url) continue;
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:([^@\s]*)@/i.exec(url);
    if (m?.[1]) {
      redactor.add(m[1]);
      try {
        redactor.add(decodeURIComponent(m[1]));
      } catch {
        /* not URI-encoded */
      }
    }
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CancelledError) return 130;
  if (err instanceof ChatgeniusError) return err.exitCode;
  if (err && typeof err === 'object' && (err as { name?: string }).name === 'AbortError') return 130;
  return 1;
}

// Long on purpose: one closure over the run's redactor, log sinks and result, shared by its methods.
export function createReporter(opts: {
  flags: Flags;
  env: NodeJS.ProcessEnv;
  io: CliIO;
  command: string;
  correlationId?: string;
  /** The command prints a stream of lines (listen): --json lines are written a batch per event-loop turn. */
  streamsLines?: boolean;
}): Reporter {
  const { flags, env, io } = opts;
  const json = flags.json === true;
  const verbose = flags.verbose === true;
  const redactor = new Redactor();
  seedSecrets(redactor, env, flags);
  const correlationId = opts.correlationId ?? randomUUID();
  const humanStream = json ? io.stderr : io.stdout;
  const out = createHumanOut(humanStream, createColors(humanStream, env), redactor, { verbose });
  const errColors = createColors(io.stderr, env);

  const sinks: LogSink[] = [];
  if (json) sinks.push(opts.streamsLines ? batchedStreamSink(io.stdout) : streamSink(io.stdout));
  let file: ReturnType<typeof fileSink> | undefined;
  let fileError: unknown;
  const logFile = typeof flags['log-file'] === 'string' ? flags['log-file'] : undefined;
  if (logFile) {
    try {
      file = fileSink(logFile);
      sinks.push(file);
    } catch (e) {
      fileError = e;
    }
  }
  // The logger always exists (cheap); with no sink it writes nowhere.
  const logger = new JsonLogger({ correlationId, redactor, sinks });
  const result: Record<string, unknown> = { command: opts.command };
  let finished = false;
  const progress = newProgress();

  const reporter: Reporter = {
    correlationId,
    redactor,
    out,
    errColors,
    json,
    verbose,
    progress,
    emit: fanOut(progressListener(progress), humanListener(out), (e) => {
      if (sinks.length > 0) logger.emit(e);
    }),
    addSecrets: (...values) => {
      redactor.add(...values);
    },
    log: (level, event, data) => logger?.write(level, event, data),
    setResult: (data) => {
      Object.assign(result, data);
    },
    fail(err) {
      const code = exitCodeFor(err);
      if (code === 130) {
        // Once migrations ran, the events say what is true; the error's own words may not know.
        const message = cancelSummary(progress) ?? (err instanceof Error ? err.message : 'Cancelled');
        io.stderr.write(redactor.redact(`${errColors.yellow('▲')} ${message}\n`));
        const facts = progress.started
          ? { committed: progress.committed.map((c) => c.version), ...(progress.interrupted ? { rolledBack: progress.interrupted.version } : {}) }
          : {};
        logger?.write('warn', 'cancelled', { message, ...facts });
        result.cancelled = true;
        Object.assign(result, facts);
        return code;
      }
      const x: Explanation = redactor.redactValue(explain(err));
      io.stderr.write(redactor.redact(formatExplanation(x, errColors)));
      if (verbose && err instanceof Error && err.stack) {
        io.stderr.write(redactor.redact(`\n${errColors.dim(stackOf(err))}\n`));
      }
      logger?.write('error', 'error', { ...x, exitCode: code });
      result.error = x;
      return code;
    },
    attachLogFile(path) {
      if (file) return;
      try {
        file = fileSink(path);
        sinks.push(file);
      } catch (e) {
        throw usageError('LOG_FILE_UNWRITABLE', `Cannot open the log file ${path}`, { path, reason: (e as { code?: string }).code ?? String(e) });
      }
    },
    finish(exitCode) {
      if (finished) return;
      finished = true;
      logger?.write(exitCode === 0 ? 'info' : exitCode === 130 ? 'warn' : 'error', 'result', { ok: exitCode === 0, exitCode, ...result });
      file?.close();
    },
  };
  if (fileError !== undefined) {
    // Surface after construction so the caller's error path (stderr, --json) still works.
    const e = usageError('LOG_FILE_UNWRITABLE', `Cannot open the log file ${logFile}`, {
      path: logFile,
      reason: (fileError as { code?: string }).code ?? String(fileError),
    });
    (reporter as Reporter & { startupError?: unknown }).startupError = e;
  }
  return reporter;
}

/** The error's stack plus its cause chain (for --verbose). */
export function stackOf(err: Error): string {
  const parts: string[] = [err.stack ?? String(err)];
  let cause = (err as { cause?: unknown }).cause;
  for (let i = 0; cause && i < 5; i++) {
    parts.push(`Caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
    cause = cause instanceof Error ? (cause as { cause?: unknown }).cause : undefined;
  }
  return parts.join('\n');
}

export function startupErrorOf(r: Reporter): unknown {
  return (r as Reporter & { startupError?: unknown }).startupError;
}
