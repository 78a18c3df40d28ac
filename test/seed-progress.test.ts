/**
 * Seed's progress as a person sees it: one live line in clack's look with the rows done, rows/s
 * and the time left, that fits an 80-column terminal and is gone before "Cancelled"; without a
 * terminal, a plain line per quarter.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { applySqlFiles } from './helpers/schema.js';
import { spawnInPty, stripAnsi } from './helpers/pty.js';
import { renderScreen } from './helpers/vt.js';
import { formatEta, formatRate, plainProgressLine, progressLine } from '../src/cli/output/live-progress.js';

describe('the progress line (pure)', () => {
  const state = { label: 'message_reads', percent: 77, rows: 1_234_567, elapsedMs: 12_500 };

  test('shows the percent once, the rows, the rate and the time left', () => {
    const line = progressLine(state, 120);
    assert.match(line, / 77% /);
    assert.doesNotMatch(line, /%%/);
    assert.match(line, /message_reads · 1,234,567 rows · 98\.8k\/s · 4s left/);
  });

  test("leaves room for the terminal's ^C echo, from 20 to 200 columns, and drops details before the bar", () => {
    for (let columns = 20; columns <= 200; columns++) {
      const line = progressLine(state, columns);
      assert.ok([...line].length <= columns - 3, `${columns} columns: ${line.length} characters: ${line}`);
      assert.match(line, /77%/);
    }
    assert.match(progressLine(state, 80), /4s left/, 'everything fits at 80 columns');
    assert.doesNotMatch(progressLine(state, 50), /left/);
  });

  test('rate and time left read naturally', () => {
    assert.equal(formatRate(812), '812/s');
    assert.equal(formatRate(98_765), '98.8k/s');
    assert.equal(formatRate(123_456), '123k/s');
    assert.equal(formatEta(1, 5000), '', 'too early to tell');
    assert.equal(formatEta(50, 30_000), '30s left');
    assert.equal(formatEta(20, 60_000), '4m 00s left');
    assert.equal(plainProgressLine({ ...state, percent: 50 }), '50% message_reads: 1,234,567 rows, 98.8k/s, 13s left');
  });
});

describe('seed in a terminal and without one', () => {
  let db: TestPostgres;
  const dirs: string[] = [];
  before(async () => {
    db = await startPostgres();
    const c = await db.client();
    await applySqlFiles(c, 'tty_seed', 'up');
    await applySqlFiles(c, 'plain_seed', 'up');
  });
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    await db?.stop();
  });

  test('at 80 columns: the live line shows rows, rate and time left, and is erased before "Cancelled" (exit 130)', { timeout: 120_000 }, async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'cgdb-seed-pty-'));
    dirs.push(cwd);
    const p = spawnInPty(process.execPath, [binPath, 'seed', '--env', 'development', '--schema', 'tty_seed', '--messages', '2000000'], {
      cwd,
      columns: 80,
      env: { PATH: process.env.PATH, HOME: cwd, TERM: 'xterm-256color', DATABASE_URL: db.url },
    });
    await p.waitFor(/messages · [\d,]+ rows · [\d.]+k?\/s · \d+(m \d+)?s left/, 90_000);
    const live = renderScreen(p.raw(), 80).filter((l) => l.includes('━') || l.includes('─'));
    assert.equal(live.length, 1, `one progress line on screen:\n${live.join('\n')}`);
    assert.ok(live[0]!.length <= 77, live[0]);
    p.send('\x03');
    const code = await p.exited;
    assert.equal(code, 130, p.text());
    const screen = renderScreen(p.raw(), 80);
    assert.deepEqual(
      screen.filter((l) => /[━─]/.test(l)),
      [],
      `no progress left on screen:\n${screen.join('\n')}`,
    );
    assert.match(screen.join('\n'), /Cancel/);
    const r = await db.query<{ n: string }>('SELECT count(*) AS n FROM tty_seed.messages');
    assert.equal(r.rows[0]!.n, '0');
  });

  test('without a terminal: a plain line per quarter on stderr, each with rows and rate', { timeout: 120_000 }, async () => {
    const r = await runCli(['seed', '--env', 'development', '--schema', 'plain_seed', '--users', '50', '--channels', '5', '--messages', '20000'], {
      env: { DATABASE_URL: db.url },
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = stripAnsi(r.stderr)
      .split('\n')
      .filter((l) => /^\d+% /.test(l));
    assert.deepEqual(
      lines.map((l) => Number(l.split('%')[0]) >= 25),
      lines.map(() => true),
    );
    assert.ok(lines.length >= 2 && lines.length <= 4, lines.join('\n'));
    for (const l of lines) assert.match(l, /: [\d,]+ rows/);
    assert.doesNotMatch(r.stderr, /\r|\x1b\[/, 'no terminal control characters in a log');
  });
});
