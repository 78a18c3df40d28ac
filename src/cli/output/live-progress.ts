/**
 * A live progress line for long loads, in clack's look (frame, bar, percent), with the rows
 * done, rows/s and the time left. On a TTY it redraws one line that always fits the terminal
 * (never wraps, so `\r` + erase-line always removes it); without a TTY it prints a plain line at
 * each quarter. It never touches stdin and installs no signal handler: Ctrl-C stays with main.ts
 * (clack's own spinner and progress call process.exit(0) on Ctrl-C, which would report success).
 */
import type { Colors } from './colors.js';

export interface ProgressState {
  /** What is being loaded now (a table name). */
  label: string;
  /** 0..100. */
  percent: number;
  /** Rows done so far, all tables. */
  rows: number;
  /** Milliseconds since the load started. */
  elapsedMs: number;
}

const FRAMES = ['◒', '◐', '◓', '◑'];
const BAR = { done: '━', left: '─' };

const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Rows per second, short: `812/s`, `98.4k/s`, `1.2M/s`. */
export function formatRate(rowsPerSec: number): string {
  if (!Number.isFinite(rowsPerSec) || rowsPerSec <= 0) return '';
  if (rowsPerSec < 1000) return `${Math.round(rowsPerSec)}/s`;
  if (rowsPerSec < 1_000_000) return `${(rowsPerSec / 1000).toFixed(rowsPerSec < 100_000 ? 1 : 0)}k/s`;
  return `${(rowsPerSec / 1_000_000).toFixed(1)}M/s`;
}

/** Time left from the share done so far (linear), or '' while too early to tell. */
export function formatEta(percent: number, elapsedMs: number): string {
  if (percent < 2 || elapsedMs < 1000) return '';
  if (percent >= 100) return '0s left';
  const left = Math.round(((elapsedMs / percent) * (100 - percent)) / 1000);
  if (left < 60) return `${left}s left`;
  const m = Math.floor(left / 60);
  return `${m}m ${String(left % 60).padStart(2, '0')}s left`;
}

/**
 * Pure: the progress line for `columns` columns, at most columns - 3 visible characters: a line
 * that reaches the last column wraps on some terminals, and the terminal's own `^C` echo (two
 * characters, written where the cursor is) must not wrap either, or erasing the line afterwards
 * erases the wrong one. Shrinks the bar first, then drops the time left, the rate, the rows and
 * the label, in that order.
 */
export const LIVE_LINE_MARGIN = 3;

export function progressLine(s: ProgressState, columns: number, c?: Colors, frame = 0): string {
  const max = Math.max(columns - LIVE_LINE_MARGIN, 8);
  const pct = `${String(Math.min(100, Math.max(0, Math.floor(s.percent)))).padStart(3)}%`;
  const rate = formatRate(s.rows / Math.max(s.elapsedMs / 1000, 0.001));
  const extras = [s.label, `${thousands(s.rows)} rows`, s.elapsedMs >= 500 ? rate : '', formatEta(s.percent, s.elapsedMs)];
  const icon = FRAMES[frame % FRAMES.length]!;
  for (let keep = extras.length; keep >= 0; keep--) {
    const tail = extras.slice(0, keep).filter(Boolean).join(' · ');
    const fixed = `${icon}   ${pct}${tail ? `  ${tail}` : ''}`;
    const room = max - fixed.length;
    if (room < 10 && keep > 0) continue;
    const width = Math.max(0, Math.min(30, room));
    const done = Math.round((Math.min(100, Math.max(0, s.percent)) / 100) * width);
    const bar = `${c ? c.magenta(BAR.done.repeat(done)) : BAR.done.repeat(done)}${c ? c.dim(BAR.left.repeat(width - done)) : BAR.left.repeat(width - done)}`;
    return `${c ? c.magenta(icon) : icon}  ${bar} ${pct}${tail ? `  ${tail}` : ''}`;
  }
  return pct;
}

/** Pure: the plain line printed without a TTY (one per quarter). */
export function plainProgressLine(s: ProgressState): string {
  const rate = formatRate(s.rows / Math.max(s.elapsedMs / 1000, 0.001));
  const eta = formatEta(s.percent, s.elapsedMs);
  return `${Math.floor(s.percent)}% ${s.label}: ${thousands(s.rows)} rows${rate ? `, ${rate}` : ''}${eta ? `, ${eta}` : ''}`;
}

export interface Progress {
  update(p: { label: string; percent: number; rows: number }): void;
  /** Remove the live line (before any other output: a result, an error, "Cancelled"). Idempotent. */
  clear(): void;
}

type Out = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export function createProgress(stream: Out, colors: Colors, opts: { now?: () => number; intervalMs?: number } = {}): Progress {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  let state: ProgressState = { label: '', percent: 0, rows: 0, elapsedMs: 0 };
  if (stream.isTTY !== true) {
    let nextQuarter = 25;
    return {
      update(p) {
        state = { ...p, elapsedMs: now() - started };
        if (p.percent < nextQuarter || p.percent >= 100) return;
        while (nextQuarter <= p.percent) nextQuarter += 25;
        stream.write(`${plainProgressLine(state)}\n`);
      },
      clear() {},
    };
  }
  let frame = 0;
  let drawn = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const draw = (): void => {
    state = { ...state, elapsedMs: now() - started };
    stream.write(`\r\x1b[2K${progressLine(state, stream.columns ?? 80, colors, frame++)}`);
    drawn = true;
  };
  return {
    update(p) {
      if (closed) return;
      state = { ...p, elapsedMs: now() - started };
      if (!timer) {
        stream.write(`${colors.gray('│')}\n`);
        timer = setInterval(draw, opts.intervalMs ?? 120);
        timer.unref?.();
      }
      draw();
    },
    clear() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
