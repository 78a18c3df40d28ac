/**
 * The wizard's terminal: clack's prompts bound to the command's streams (so tests drive them with
 * a PassThrough), a cancel that is an exception (Ctrl-C / Esc at any prompt), and a spinner of
 * our own. clack's spinner is not used: in raw mode its Ctrl-C handler calls process.exit(0),
 * which would skip closing the tunnel and releasing the lock and report success. Ours turns
 * Ctrl-C / Esc into an abort of the step's AbortSignal, so the step cleans up and we exit 130.
 * This module is only loaded by the wizard (itself loaded lazily), so clack stays off --help and
 * off every run without a person (the bundle build checks that loading the CLI starts no clack).
 */
import * as clack from '@clack/prompts';
import type { Readable, Writable } from 'node:stream';
import { CancelledError } from '../../errors.js';
import type { CliIO } from '../command.js';
import { createColors, type Colors } from '../output/colors.js';
import { LIVE_LINE_MARGIN } from '../output/live-progress.js';

/** Thrown when the person cancels a prompt: the wizard stops, nothing changed, exit 130. */
export class WizardCancelled extends CancelledError {
  constructor(message = 'Cancelled, nothing changed') {
    super(message);
  }
}

export interface SelectOption<T> {
  value: T;
  label: string;
  hint?: string;
}

export interface Spinner {
  message(text: string): void;
  /** Stop drawing and clear the line (to ask a question in between). */
  pause(): void;
  resume(): void;
  stop(text: string, ok?: boolean): void;
}

export interface Prompter {
  readonly colors: Colors;
  readonly output: Writable;
  intro(title: string): void;
  outro(text: string): void;
  /** clack's cancel line: "Cancelled, nothing changed". */
  cancelled(text?: string): void;
  note(body: string, title?: string): void;
  info(text: string): void;
  success(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  step(text: string): void;
  /** Lines written as they are (no wrapping, no frame): for text to copy, like a command. */
  raw(text: string): void;
  text(o: { message: string; initialValue?: string; defaultValue?: string; placeholder?: string; validate?: (v: string) => string | undefined }): Promise<string>;
  password(o: { message: string; validate?: (v: string) => string | undefined }): Promise<string>;
  confirm(o: { message: string; initialValue?: boolean; active?: string; inactive?: string }): Promise<boolean>;
  select<T>(o: { message: string; options: SelectOption<T>[]; initialValue?: T }): Promise<T>;
  /**
   * A spinner while `work` runs. Ctrl-C or Esc during it aborts the signal passed to `work`
   * (linked to `parent` as well); `work` must clean up and throw; the spinner ends as cancelled.
   */
  spin<T>(message: string, work: (s: Spinner, signal: AbortSignal) => Promise<T>, parent?: AbortSignal): Promise<T>;
}

/** How long a cancelled step may take to close its connections before the wizard stops waiting. */
export const ABORT_GRACE_MS = 2000;

type TtyInput = Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };

function unwrap<T>(v: T): Exclude<T, symbol> {
  if (clack.isCancel(v)) throw new WizardCancelled();
  return v as Exclude<T, symbol>;
}

/** Pure: `text` cut to `max` characters (an ellipsis marks the cut). */
export function fitLine(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return max <= 1 ? chars.slice(0, Math.max(max, 0)).join('') : `${chars.slice(0, max - 1).join('')}…`;
}

/** Bytes that mean "stop" while no prompt is reading: Ctrl-C, Esc (alone), Ctrl-D. */
export function isCancelKey(chunk: Buffer | string): boolean {
  const s = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
  return s.includes('\x03') || s === '\x1b' || s.includes('\x04');
}

type TtyOutput = Writable & { isTTY?: boolean };

/**
 * Watches the keyboard in raw mode while a spinner runs (so Ctrl-C arrives as a byte, not a
 * SIGINT whose default handlers may exit 0) and calls `onCancel` on Ctrl-C / Esc / Ctrl-D.
 */
function cancelKeys(input: TtyInput, onCancel: () => void): { watch(): void; unwatch(): void } {
  const onData = (chunk: Buffer | string) => {
    if (isCancelKey(chunk)) onCancel();
  };
  let watching = false;
  const rawMode = (on: boolean) => {
    if (input.isTTY && typeof input.setRawMode === 'function') input.setRawMode(on);
  };
  return {
    watch() {
      if (watching) return;
      watching = true;
      rawMode(true);
      input.on('data', onData);
      input.resume();
    },
    unwatch() {
      if (!watching) return;
      watching = false;
      input.off('data', onData);
      rawMode(false);
      input.pause();
    },
  };
}

/** The spinner's line: a frame redrawn every 120 ms while running, a ◇ / ■ line when stopped. */
function spinnerLine(output: TtyOutput, colors: Colors, message: string, keys: { watch(): void; unwatch(): void }) {
  const frames = ['◒', '◐', '◓', '◑'];
  let text = message;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  let drawn = false;
  const clear = () => {
    if (drawn) output.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = () => {
    clear();
    // One terminal line at most: a wrapped line would leave its first row (and a frame) behind.
    const columns = (output as { columns?: number }).columns ?? 80;
    output.write(`${colors.magenta(frames[frame++ % frames.length]!)}  ${fitLine(text, columns - LIVE_LINE_MARGIN - 3)}`);
    drawn = true;
  };
  const start = () => {
    draw();
    timer = setInterval(draw, 120);
    timer.unref?.();
    keys.watch();
  };
  const halt = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    clear();
    keys.unwatch();
  };
  const spinner: Spinner = {
    message: (t) => {
      text = t;
      if (timer) draw();
    },
    pause: halt,
    resume: () => {
      if (!timer) start();
    },
    stop: (t, ok = true) => {
      halt();
      output.write(`${ok ? colors.green('◇') : colors.red('■')}  ${t}\n`);
    },
  };
  return { spinner, start, halt, text: () => text };
}

/** The wizard's spinner around `work`: Ctrl-C / Esc (or the parent signal) cancel it. */
function spinWith(input: TtyInput, output: TtyOutput, colors: Colors): Prompter['spin'] {
  return async <T>(message: string, work: (s: Spinner, signal: AbortSignal) => Promise<T>, parent?: AbortSignal): Promise<T> => {
    const controller = new AbortController();
    const onParent = () => controller.abort(new WizardCancelled());
    if (parent?.aborted) onParent();
    parent?.addEventListener('abort', onParent, { once: true });
    const line = spinnerLine(
      output,
      colors,
      message,
      cancelKeys(input, () => controller.abort(new WizardCancelled())),
    );
    output.write(`${colors.gray('│')}\n`);
    line.start();
    // The work gets the signal and should settle on abort; if it does not (a driver stuck in a
    // connect), the wizard does not wait for it beyond a short grace period.
    const aborted = new Promise<'aborted'>((resolve) => {
      if (controller.signal.aborted) resolve('aborted');
      controller.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    const running = work(line.spinner, controller.signal);
    running.catch(() => {});
    try {
      const first = await Promise.race([running.then(() => 'done' as const), aborted]);
      if (first === 'aborted') {
        await Promise.race([running.catch(() => {}), new Promise((r) => setTimeout(r, ABORT_GRACE_MS).unref())]);
        throw new WizardCancelled();
      }
      const out = await running;
      if (controller.signal.aborted) throw controller.signal.reason instanceof Error ? controller.signal.reason : new WizardCancelled();
      line.halt();
      return out;
    } catch (e) {
      line.halt();
      if (controller.signal.aborted) {
        output.write(`${colors.red('■')}  ${line.text()}: cancelled\n`);
        throw controller.signal.reason instanceof WizardCancelled ? controller.signal.reason : new WizardCancelled();
      }
      throw e;
    } finally {
      parent?.removeEventListener('abort', onParent);
    }
  };
}

export function createPrompter(io: CliIO, env: NodeJS.ProcessEnv): Prompter {
  const input = io.stdin as unknown as TtyInput;
  const output = io.stdout as unknown as TtyOutput;
  const colors = createColors(output, env);
  const common = { input, output };
  const logOpts = { output };

  const spin = spinWith(input, output, colors);

  return {
    colors,
    output,
    intro: (t) => clack.intro(t, logOpts),
    outro: (t) => clack.outro(t, logOpts),
    cancelled: (t = 'Cancelled, nothing changed') => clack.cancel(t, logOpts),
    note: (body, title) => clack.note(body, title, logOpts),
    info: (t) => clack.log.info(t, logOpts),
    success: (t) => clack.log.success(t, logOpts),
    warn: (t) => clack.log.warn(t, logOpts),
    error: (t) => clack.log.error(t, logOpts),
    step: (t) => clack.log.step(t, logOpts),
    raw: (t) => {
      output.write(t.endsWith('\n') ? t : `${t}\n`);
    },
    text: async (o) => {
      const opts: Parameters<typeof clack.text>[0] = { ...common, message: o.message };
      if (o.initialValue !== undefined) opts.initialValue = o.initialValue;
      if (o.defaultValue !== undefined) opts.defaultValue = o.defaultValue;
      if (o.placeholder !== undefined) opts.placeholder = o.placeholder;
      if (o.validate) {
        const v = o.validate;
        opts.validate = (x) => v(x ?? '');
      }
      return unwrap(await clack.text(opts)) ?? '';
    },
    password: async (o) => {
      const opts: Parameters<typeof clack.password>[0] = { ...common, message: o.message };
      if (o.validate) {
        const v = o.validate;
        opts.validate = (x) => v(x ?? '');
      }
      return unwrap(await clack.password(opts)) ?? '';
    },
    confirm: async (o) => {
      const opts: Parameters<typeof clack.confirm>[0] = { ...common, message: o.message, initialValue: o.initialValue ?? true };
      if (o.active) opts.active = o.active;
      if (o.inactive) opts.inactive = o.inactive;
      return unwrap(await clack.confirm(opts));
    },
    select: async <T>(o: { message: string; options: SelectOption<T>[]; initialValue?: T }) => {
      const opts = {
        ...common,
        message: o.message,
        options: o.options.map((x) => ({ value: x.value, label: x.label, ...(x.hint ? { hint: x.hint } : {}) })),
        ...(o.initialValue !== undefined ? { initialValue: o.initialValue } : {}),
      } as Parameters<typeof clack.select<T>>[0];
      return (await clack.select<T>(opts).then((v) => unwrap(v))) as T;
    },
    spin,
  };
}

/** Runs `body`; a cancel anywhere ends the wizard with clack's cancel line and 130. */
export async function guarded(p: Prompter, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof WizardCancelled) {
      p.cancelled(e.message);
      return 130;
    }
    throw e;
  }
}
