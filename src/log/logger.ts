/**
 * The spec's LogFormat as JSON lines: one object per line with `timestamp`, `correlationId`
 * (one per run), `level`, `event` and `data`. Two sinks share it: `--json` (stdout) and
 * `--log-file PATH` (appended, never truncated, created mode 0600).
 * Everything goes through the run's Redactor before it is written.
 */
import { closeSync, existsSync, fchmodSync, openSync, writeSync } from 'node:fs';
import type { ChatgeniusEvent, Emit } from '../events.js';
import type { Redactor } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  timestamp: string;
  correlationId: string;
  level: LogLevel;
  event: string;
  data?: Record<string, unknown>;
}

/** Where finished lines go (stdout, a file...). Receives one line without the newline. */
export type LogSink = (line: string) => void;

/** SQLSTATE class 23 = integrity constraint violation; P0 = PL/pgSQL raise (triggers, functions). */
export function eventNameForFailure(code: string | undefined): 'constraint_violation' | 'trigger_error' | 'schema_migration' {
  if (code && /^23[0-9A-Z]{3}$/.test(code)) return 'constraint_violation';
  if (code && /^P0[0-9A-Z]{3}$/.test(code)) return 'trigger_error';
  return 'schema_migration';
}

/** Pure: map one typed event to its LogFormat (without timestamp / correlationId). */
export function toLogEntry(event: ChatgeniusEvent): { level: LogLevel; event: string; data: Record<string, unknown> } {
  switch (event.type) {
    case 'migration:start':
      return { level: 'debug', event: 'schema_migration', data: { status: 'start', version: event.version, name: event.name, direction: event.direction } };
    case 'migration:done':
      return {
        level: 'info',
        event: 'schema_migration',
        data: { status: 'done', version: event.version, name: event.name, direction: event.direction, durationMs: event.durationMs },
      };
    case 'migration:interrupted':
      return {
        level: 'warn',
        event: 'schema_migration',
        data: { status: 'interrupted', version: event.version, name: event.name, direction: event.direction, reason: event.reason, confirmed: event.confirmed },
      };
    case 'migration:failed': {
      const data: Record<string, unknown> = {
        status: 'failed',
        version: event.version,
        name: event.name,
        direction: event.direction,
        message: event.message,
      };
      if (event.code !== undefined) data.code = event.code;
      if (event.statement !== undefined) data.statement = event.statement;
      return { level: 'error', event: eventNameForFailure(event.code), data };
    }
    case 'retry':
      return { level: 'warn', event: 'retry', data: strip(event) };
    case 'lock:wait':
      return { level: 'warn', event: 'lock_wait', data: strip(event) };
    case 'notice':
      return { level: event.level, event: 'notice', data: { message: event.message, ...(event.data ?? {}) } };
    case 'query':
      return { level: 'debug', event: 'query', data: strip(event) };
    case 'connect:start':
      return { level: 'debug', event: 'connect_start', data: strip(event) };
    case 'tunnel:closed':
      return { level: event.reason ? 'warn' : 'info', event: 'tunnel_closed', data: strip(event) };
    case 'tunnel:hostkey':
      return { level: event.status === 'changed' ? 'error' : 'info', event: 'tunnel_hostkey', data: strip(event) };
    default: {
      const e = event as { type: string };
      return { level: 'info', event: e.type.replace(/[:-]/g, '_'), data: strip(event) };
    }
  }
}

function strip(event: object): Record<string, unknown> {
  const { type: _type, ...rest } = event as Record<string, unknown>;
  return rest;
}

export interface JsonLoggerOptions {
  correlationId: string;
  redactor: Redactor;
  sinks: LogSink[];
  /** Lowest level written (default debug: everything). */
  minLevel?: LogLevel;
  now?: () => Date;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class JsonLogger {
  readonly correlationId: string;
  private readonly redactor: Redactor;
  private readonly sinks: LogSink[];
  private readonly minLevel: LogLevel;
  private readonly now: () => Date;

  constructor(opts: JsonLoggerOptions) {
    this.correlationId = opts.correlationId;
    this.redactor = opts.redactor;
    this.sinks = opts.sinks;
    this.minLevel = opts.minLevel ?? 'debug';
    this.now = opts.now ?? (() => new Date());
  }

  /** The listener for typed events. */
  readonly emit: Emit = (event) => {
    const e = toLogEntry(event);
    this.write(e.level, e.event, e.data);
  };

  write(level: LogLevel, event: string, data?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.minLevel]) return;
    const line: LogLine = { timestamp: this.now().toISOString(), correlationId: this.correlationId, level, event };
    if (data !== undefined) line.data = this.redactor.redactValue(data);
    // The whole line is redacted once more: a secret may hide in a key or a nested message.
    const text = this.redactor.redact(JSON.stringify(line));
    for (const sink of this.sinks) {
      try {
        sink(text);
      } catch {
        /* a broken sink must never break a run */
      }
    }
  }
}

/**
 * A sink for a command that prints a stream of lines (`listen`: thousands a second): the lines
 * produced in one turn of the event loop are written together, once that turn ends, instead of
 * one write each (the write was half of listen's CPU per notification, and each one also wakes
 * whatever reads the output). listen reads its socket in gulps (src/db/coalesce-reads.ts), so a
 * turn holds every notification of a gulp: one write per gulp, and no line waits for a timer.
 * Flushed at exit too.
 */
export function batchedStreamSink(stream: NodeJS.WritableStream): LogSink {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    stream.write(text);
  };
  process.once('exit', flush);
  return (line) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(`${line}\n`);
  };
}

/** A sink writing to a stream (stdout for --json). */
export function streamSink(stream: NodeJS.WritableStream): LogSink {
  return (line) => {
    stream.write(`${line}\n`);
  };
}

/**
 * A sink appending to a file, created with mode 0600 (never truncated). Synchronous writes, so
 * the last line is on disk even when the process exits right after. Throws if the file cannot
 * be opened (the caller turns that into an explained error).
 */
export function fileSink(path: string): LogSink & { close(): void } {
  const existed = existsSync(path);
  const fd = openSync(path, 'a', 0o600);
  // openSync's mode is filtered by the umask: make a file we just created exactly 0600.
  if (!existed) {
    try {
      fchmodSync(fd, 0o600);
    } catch {
      /* best effort (e.g. a filesystem without modes) */
    }
  }
  let open = true;
  const sink = ((line: string) => {
    if (open) writeSync(fd, `${line}\n`);
  }) as LogSink & { close(): void };
  sink.close = () => {
    if (open) {
      open = false;
      closeSync(fd);
    }
  };
  return sink;
}
