/**
 * The small things a new user meets in the first hour, each as that user sees it (the built
 * binary where possible): a mistyped environment or flag is named with the fix, hints name the
 * file the environment really reads, doctor says why the SSH checks do not apply, the wizard's
 * lists stay in place, a bastion is shown with its port, a spinner never leaves a frame behind at
 * 80 columns, the local database's full URL on request, and what `npx` does to listen's Ctrl-C.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { binPath, repoRoot, runCli } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { applySqlFiles } from './helpers/schema.js';
import { spawnInPty, streamTerminal } from './helpers/pty.js';
import { renderScreen } from './helpers/vt.js';
import { createPrompter, fitLine } from '../src/cli/wizard/prompts.js';
import { envOptions } from '../src/cli/wizard/env.js';
import { describeBastion } from '../src/cli/output/format.js';
import { suggestEnv } from '../src/config/detect.js';

const dirs: string[] = [];
async function project(files: Record<string, string> = {}): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cgdb-polish-'));
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) await writeFile(join(d, name), text, { mode: 0o600 });
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('mistakes on the command line', () => {
  test('--env prod: "Did you mean --env production?" (exit 2)', async () => {
    const r = await runCli(['status', '--env', 'prod'], { cwd: await project() });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Did you mean --env production\?/);
    assert.equal(suggestEnv('dev'), 'development');
    assert.equal(suggestEnv('loc'), 'local');
    assert.equal(suggestEnv('testing'), 'test');
    assert.equal(suggestEnv('banana'), undefined);
  });

  for (const flag of ['--evn', '-e']) {
    test(`${flag} local: the unknown flag is the problem, with --env local as the fix; local is not run`, async () => {
      const r = await runCli([flag, 'local'], { cwd: await project() });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`Unknown option ${flag} \\(USAGE_UNKNOWN_FLAG\\)`));
      assert.match(r.stderr, /so "local" after it was not run as a command/);
      assert.match(r.stderr, /Did you mean --env local\?/);
      assert.doesNotMatch(r.stderr, /local needs an action|LOCAL_BAD_ACTION/);
    });
  }

  test('a switch of the command itself may still come first: --force seed --help', async () => {
    const r = await runCli(['--force', 'seed', '--help'], { cwd: await project() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: chatgenius-db seed/);
  });

  test('--env test with nothing configured points at .env.test.local, the file test reads, never .env.local', async () => {
    const r = await runCli(['status', '--env', 'test'], { cwd: await project() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\.env\.test\.local/);
    assert.doesNotMatch(r.stderr, /\.env\.local/);
    const dev = await runCli(['status', '--env', 'development'], { cwd: await project() });
    assert.match(dev.stderr, /\.env\.local/, 'development does read .env.local');
  });
});

describe('doctor --no-tunnel', () => {
  test('with SSH_HOST in .env.development, the SSH checks say "tunnel disabled (--no-tunnel)", not "SSH_HOST not set"', async () => {
    const cwd = await project({ '.env.development': 'SSH_HOST=bastion.example.com\nSSH_USER=deploy\nDATABASE_URL=postgres://app@127.0.0.1:1/app\n' });
    const r = await runCli(['doctor', '--env', 'development', '--no-tunnel'], { cwd, env: { CHATGENIUS_MAX_RETRIES: '1' } });
    assert.match(r.stdout + r.stderr, /SSH server reachable\s+tunnel disabled \(--no-tunnel\)/);
    assert.doesNotMatch(r.stdout + r.stderr, /SSH_HOST not set/);
  });
});

describe('the wizard', () => {
  test('the environment list keeps one order; the detected one is marked where it is', () => {
    for (const detected of ['local', 'development', 'test', 'production'] as const) {
      const opts = envOptions(detected);
      assert.deepEqual(
        opts.map((o) => o.value),
        ['local', 'development', 'test', 'production'],
      );
      assert.deepEqual(
        opts.filter((o) => o.hint === 'detected').map((o) => o.value),
        [detected],
      );
    }
  });

  test('a bastion is shown with its port', () => {
    assert.equal(describeBastion({ username: 'root', host: 'bastion.example.com', port: 2222 }), ' via ssh root@bastion.example.com:2222');
    assert.equal(describeBastion({ username: 'root', host: 'bastion.example.com', port: 22 }), ' via ssh root@bastion.example.com:22');
    assert.equal(describeBastion(null), '');
  });

  test('at 80 columns a spinner with a long message leaves no frame on screen, while spinning or after', async () => {
    const term = streamTerminal({ columns: 80 });
    const p = createPrompter({ stdin: term.stdin, stdout: term.stdout, stderr: term.stdout }, { NO_COLOR: '1' });
    const long = `Connecting through bastion deploy@${'very-long-host-name.'.repeat(4)}example.com:22 to postgres://app:****@db.internal:5432/chatgenius`;
    const frames = /[◒◐◓◑]/;
    await p.spin(long, async (s) => {
      await new Promise((r) => setTimeout(r, 400));
      const during = renderScreen(term.raw(), 80).filter((l) => frames.test(l));
      assert.equal(during.length, 1, during.join('\n'));
      assert.ok(during[0]!.length <= 77, during[0]);
      s.message(`Tunnel open (${'x'.repeat(120)}); connecting to PostgreSQL`);
      await new Promise((r) => setTimeout(r, 300));
      return 1;
    });
    const after = renderScreen(term.raw(), 80).filter((l) => frames.test(l));
    assert.deepEqual(after, []);
    assert.equal(fitLine('abcdef', 4), 'abc…');
    assert.equal(fitLine('abc', 4), 'abc');
  });
});

describe('the local database URL, on request', () => {
  let cwd: string;
  before(async () => {
    cwd = await project();
  });
  after(async () => {
    await runCli(['local', 'stop'], { cwd, timeoutMs: 30_000 });
  });

  test('`local url` prints the URL with its password (it connects); `local status` masks it unless --show-password; --json never has it', {
    timeout: 120_000,
  }, async () => {
    const none = await runCli(['local', 'url'], { cwd });
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stderr, /LOCAL_NO_DATABASE[\s\S]*local start/);
    const start = await runCli(['local', 'start'], { cwd, timeoutMs: 90_000 });
    assert.equal(start.code, 0, start.stderr);
    const { password } = JSON.parse(await readFile(join(cwd, '.chatgenius', 'local.json'), 'utf8')) as { password: string };

    const url = await runCli(['local', 'url'], { cwd });
    assert.equal(url.code, 0, url.stderr);
    const line = url.stdout.trim();
    assert.match(line, /^postgres:\/\/postgres:[^@*]+@127\.0\.0\.1:\d+\/chatgenius$/);
    assert.ok(line.includes(encodeURIComponent(password)));
    const c = new pg.Client({ connectionString: line });
    await c.connect();
    assert.equal((await c.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1);
    await c.end();

    const masked = await runCli(['local', 'status'], { cwd });
    assert.match(masked.stdout, /URL: +postgres:\/\/postgres:\*\*\*\*@/);
    assert.match(masked.stdout, /--show-password/);
    assert.ok(!masked.stdout.includes(password));
    const shown = await runCli(['local', 'status', '--show-password'], { cwd });
    assert.ok(shown.stdout.includes(`URL:       ${line}`), shown.stdout);
    const json = await runCli(['local', 'status', '--show-password', '--json'], { cwd });
    assert.ok(!json.stdout.includes(password), 'not in JSON lines');
    const jsonUrl = await runCli(['local', 'url', '--json', '--log-file', join(cwd, 'run.log')], { cwd });
    assert.ok(!(await readFile(join(cwd, 'run.log'), 'utf8')).includes(password), 'never in a log file');
    assert.equal(jsonUrl.code, 0);
  });
});

describe('listen and Ctrl-C', () => {
  let db: TestPostgres;
  before(async () => {
    db = await startPostgres();
    const c = await db.client();
    await applySqlFiles(c, 'public', 'up');
  });
  after(async () => {
    await db?.stop();
  });

  async function consumer(): Promise<string> {
    const d = await project();
    await writeFile(join(d, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: { 'chatgenius-db': '*' } }));
    await mkdir(join(d, 'node_modules', '.bin'), { recursive: true });
    await symlink(repoRoot, join(d, 'node_modules', 'chatgenius-db'));
    await symlink(join('..', 'chatgenius-db', 'bin', 'chatgenius-db.js'), join(d, 'node_modules', '.bin', 'chatgenius-db'));
    return d;
  }

  async function listenThenCtrlC(command: string, args: string[], cwd: string): Promise<{ code: number; text: string }> {
    const p = spawnInPty(command, args, { cwd, env: { PATH: process.env.PATH, HOME: cwd, TERM: 'xterm', DATABASE_URL: db.url, npm_config_update_notifier: 'false' } });
    await p.waitFor(/Listening on/, 60_000);
    p.send('\x03');
    return { code: await p.exited, text: p.text() };
  }

  test('the binary ends listen with 0 on Ctrl-C, after closing its connection', { timeout: 90_000 }, async () => {
    const r = await listenThenCtrlC(process.execPath, [binPath, 'listen', '--env', 'development'], await consumer());
    assert.equal(r.code, 0, r.text);
    assert.match(r.text, /Stopped after 0 notifications/);
  });

  test('under npx the same Ctrl-C also stops npm itself, which reports 130 (as the README says); listen still closes cleanly', { timeout: 90_000 }, async () => {
    const r = await listenThenCtrlC('npx', ['--no', 'chatgenius-db', 'listen', '--env', 'development'], await consumer());
    assert.match(r.text, /Stopped after 0 notifications/);
    assert.equal(r.code, 130, r.text);
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    assert.match(readme, /Under `npx`[\s\S]{0,200}status you see is 130/);
  });
});
