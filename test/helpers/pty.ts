/**
 * Terminals for the wizard's tests.
 *
 * - `streamTerminal()`: a PassThrough keyboard and a recording screen, both claiming to be TTYs,
 *   for driving the wizard in-process through clack's `input` / `output` options.
 * - `spawnInPty(args)`: the REAL binary under a real pseudo-terminal, made by python3's `pty`
 *   module (python3 is on every machine; tmux and node-pty are not). The child gets the pty as
 *   its controlling terminal, so raw mode, isTTY and Ctrl-C -> SIGINT behave as for a person.
 *
 * Both expose the same driver: `waitFor(pattern)` (ANSI stripped, only output after the previous
 * match), `send(keys)`, `text()`. Keys: Enter `\r`, Down `\x1b[B`, Ctrl-C `\x03`, Esc `\x1b`.
 */
import { spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';

export const KEY = {
  enter: '\r',
  up: '\x1b[A',
  down: '\x1b[B',
  left: '\x1b[D',
  right: '\x1b[C',
  ctrlC: '\x03',
  esc: '\x1b',
  backspace: '\x7f',
  /** Erase a prefilled field: enough backspaces for any of our defaults. */
  clear: '\x7f'.repeat(80),
} as const;

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>()][0-9A-Za-z]?|\r/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

export interface TerminalDriver {
  /** Everything shown so far, ANSI stripped. */
  text(): string;
  /** Resolves with the match once `pattern` shows up after the previous match; rejects on timeout with the screen. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  send(keys: string): void;
}

class Screen {
  raw = '';
  cursor = 0;
  private waiters = new Set<() => void>();

  push(chunk: string): void {
    this.raw += chunk;
    for (const w of [...this.waiters]) w();
  }

  text(): string {
    return stripAnsi(this.raw);
  }

  waitFor(pattern: RegExp | string, timeoutMs = 20_000): Promise<string> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return new Promise((resolve, reject) => {
      const check = () => {
        const t = this.text();
        const rest = t.slice(this.cursor);
        const m = re.exec(rest);
        if (m) {
          this.cursor += m.index + m[0].length;
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(m[0]);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; screen since the last match:\n${this.text().slice(this.cursor).slice(-3000)}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }
}

export interface StreamTerminal extends TerminalDriver {
  /** Everything written, escapes and all (for renderScreen in ./vt.ts). */
  raw(): string;
  stdin: PassThrough & { isTTY: true; setRawMode(on: boolean): void; rawMode: boolean };
  stdout: Writable & { isTTY: true; columns: number; rows: number };
}

/** In-process: keyboard and screen for clack's input/output (and the CLI's io). */
export function streamTerminal(opts: { columns?: number } = {}): StreamTerminal {
  const screen = new Screen();
  const stdin = Object.assign(new PassThrough(), {
    isTTY: true as const,
    rawMode: false,
    setRawMode(on: boolean) {
      stdin.rawMode = on;
    },
  });
  const stdout = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        screen.push(String(chunk));
        cb();
      },
    }),
    { isTTY: true as const, columns: opts.columns ?? 120, rows: 40 },
  );
  return {
    stdin,
    stdout,
    raw: () => screen.raw,
    text: () => screen.text(),
    waitFor: (p, t) => screen.waitFor(p, t),
    send: (keys) => {
      stdin.write(keys);
    },
  };
}

export interface PtyProcess extends TerminalDriver {
  pid: number;
  /** Everything the program wrote, escapes and all (for renderScreen in ./vt.ts). */
  raw(): string;
  /** Exit code (128 + signal number when killed by a signal). */
  exited: Promise<number>;
  kill(): void;
}

/** The relay: a pty pair, the command on the slave side as its controlling terminal, bytes copied both ways. */
const RELAY = String.raw`
import os, sys, pty, select, subprocess, fcntl, termios, struct, signal
cols = int(sys.argv[1])
argv = sys.argv[2:]
m, s = pty.openpty()
fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack('HHHH', 40, cols, 0, 0))
def pre():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = subprocess.Popen(argv, stdin=s, stdout=s, stderr=s, preexec_fn=pre, close_fds=True)
os.close(s)
signal.signal(signal.SIGTERM, lambda *a: (p.kill(), sys.exit(143)))
inp, out = sys.stdin.fileno(), sys.stdout.fileno()
reading = True
while True:
    fds = [m] + ([inp] if reading else [])
    r, _, _ = select.select(fds, [], [], 0.2)
    if m in r:
        try:
            data = os.read(m, 65536)
        except OSError:
            data = b''
        if not data:
            break
        os.write(out, data)
    if reading and inp in r:
        data = os.read(inp, 65536)
        if data:
            os.write(m, data)
        else:
            reading = False
code = p.wait()
sys.exit(code if code >= 0 else 128 - code)
`;

/** Spawn `node <args...>` under a real pseudo-terminal. */
export function spawnInPty(
  command: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined>; timeoutMs?: number; columns?: number },
): PtyProcess {
  const screen = new Screen();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v;
  const child = spawn('python3', ['-c', RELAY, String(opts.columns ?? 120), command, ...args], { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let errText = '';
  child.stdout.on('data', (d: Buffer) => screen.push(d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (errText += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (errText.trim()) screen.push(`\n[pty relay stderr] ${errText}`);
      resolve(code ?? (signal ? 128 + 9 : 1));
    });
  });
  return {
    pid: child.pid ?? -1,
    exited,
    kill: () => child.kill('SIGTERM'),
    raw: () => screen.raw,
    text: () => screen.text(),
    waitFor: (p, t) => screen.waitFor(p, t),
    send: (keys) => {
      child.stdin.write(keys);
    },
  };
}
