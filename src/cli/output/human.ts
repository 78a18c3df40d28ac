/**
 * The human listener: turns typed events into terminal lines (a line per migration with its
 * duration, progress while waiting, notices). Writes through the run's Redactor.
 */
import type { ChatgeniusEvent, Emit, LockHolder } from '../../events.js';
import type { Redactor } from '../../log/redact.js';
import type { Colors } from './colors.js';
import { formatDuration, plural } from './format.js';

export interface HumanOut {
  /** One line of normal output. */
  line(text: string): void;
  info(text: string): void;
  success(text: string): void;
  warn(text: string): void;
  /** A raw block (already formatted, may span lines). */
  block(text: string): void;
  colors: Colors;
  verbose: boolean;
}

export function createHumanOut(stream: NodeJS.WritableStream, colors: Colors, redactor: Redactor, opts: { verbose?: boolean; quiet?: boolean } = {}): HumanOut {
  const write = (text: string) => {
    if (!opts.quiet) stream.write(redactor.redact(text));
  };
  return {
    colors,
    verbose: opts.verbose ?? false,
    line: (t) => write(`${t}\n`),
    info: (t) => write(`${colors.cyan('●')} ${t}\n`),
    success: (t) => write(`${colors.green('✔')} ${t}\n`),
    warn: (t) => write(`${colors.yellow('▲')} ${t}\n`),
    block: (t) => write(t.endsWith('\n') ? t : `${t}\n`),
  };
}

export function describeHolder(h: LockHolder | null): string {
  if (!h) return 'another session';
  const parts = [`pid ${h.pid}`];
  if (h.applicationName) parts.push(h.applicationName);
  if (h.user) parts.push(`user ${h.user}`);
  if (h.clientAddr) parts.push(`from ${h.clientAddr}`);
  if (h.since) parts.push(`since ${h.since}`);
  return parts.join(', ');
}

/** Pure: the line (if any) an event prints. */
export function eventLine(event: ChatgeniusEvent, c: Colors, verbose = false): { kind: 'line' | 'info' | 'success' | 'warn'; text: string } | null {
  switch (event.type) {
    case 'connect:start':
      return event.attempt > 1 || verbose ? { kind: 'info', text: `Connecting to ${event.target}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}` } : null;
    case 'connect:done':
      return verbose
        ? { kind: 'info', text: `Connected to ${event.target}${event.serverVersion ? ` (PostgreSQL ${event.serverVersion})` : ''} in ${formatDuration(event.ms)}` }
        : null;
    case 'retry':
      return {
        kind: 'warn',
        text: `${event.operation} failed${event.code ? ` (${event.code})` : ''}: ${event.message}. Retrying in ${formatDuration(event.delayMs)} (attempt ${event.attempt + 1} of ${event.maxRetries})`,
      };
    case 'tunnel:connecting':
      return { kind: 'info', text: `Opening SSH tunnel to ${event.host}:${event.port}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}` };
    case 'tunnel:open':
      return { kind: 'success', text: `SSH tunnel open via ${event.host}: 127.0.0.1:${event.localPort} → ${event.remote} (${formatDuration(event.ms)})` };
    case 'tunnel:hostkey':
      if (event.status === 'changed') return { kind: 'warn', text: `Host key of ${event.host} CHANGED (${event.fingerprint})` };
      if (event.status === 'new-accepted') return { kind: 'warn', text: `Accepted new host key of ${event.host}: ${event.fingerprint}` };
      return verbose ? { kind: 'info', text: `Host key of ${event.host} ${event.status}: ${event.fingerprint}` } : null;
    case 'tunnel:closed':
      return event.reason ? { kind: 'warn', text: `SSH tunnel to ${event.host} closed: ${event.reason}` } : null;
    case 'lock:wait':
      return { kind: 'warn', text: `Waiting for another migration run to finish (lock held by ${describeHolder(event.holder)})` };
    case 'lock:acquired':
      return event.waitedMs >= 100 ? { kind: 'info', text: `Lock acquired after ${formatDuration(event.waitedMs)}` } : null;
    case 'plan': {
      if (event.steps.length === 0) return null;
      const verb = event.direction === 'up' ? 'to apply' : 'to roll back';
      return { kind: 'info', text: `${plural(event.steps.length, 'migration')} ${verb} (${event.applied} already applied)` };
    }
    case 'migration:start':
      return null;
    case 'migration:done': {
      const arrow = event.direction === 'up' ? '↑' : '↓';
      return { kind: 'success', text: `${arrow} ${event.version}_${event.name} ${c.dim(formatDuration(event.durationMs))}` };
    }
    case 'migration:interrupted':
      return {
        kind: 'warn',
        text: `${event.version}_${event.name} interrupted (${event.reason === 'cancelled' ? 'cancelled' : 'connection lost'}): ${event.direction === 'down' ? 'its rollback was undone' : 'rolled back, not applied'}`,
      };
    case 'migration:failed':
      return { kind: 'line', text: `${c.red('✖')} ${event.version}_${event.name} failed${event.code ? ` (${event.code})` : ''}: ${event.message}` };
    case 'notice':
      // PostgreSQL's own NOTICEs from migration SQL ("already exists, skipping") are chatter: --verbose only.
      if (event.level === 'info' && event.data?.source === 'migration' && !verbose) return null;
      return { kind: event.level === 'warn' ? 'warn' : 'info', text: event.message };
    case 'query':
      return verbose ? { kind: 'line', text: c.dim(`  query ${formatDuration(event.durationMs)}${event.ok ? '' : ' (failed)'}`) } : null;
    default:
      return null;
  }
}

export function humanListener(out: HumanOut): Emit {
  return (event) => {
    const l = eventLine(event, out.colors, out.verbose);
    if (l) out[l.kind](l.text);
  };
}
