import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureLocalServer, localServerStatus, resetLocalServer, stopLocalServer } from '../src/local/index.js';
import { processAlive } from '../src/local/pid.js';
import type { ChatgeniusEvent } from '../src/events.js';
import type { ChatgeniusError } from '../src/errors.js';
import { explain } from '../src/explain/index.js';
import { runCli } from './helpers/cli.js';

const localModule = fileURLToPath(new URL('../src/local/index.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../', import.meta.url));

const projectDir = mkdtempSync(join(tmpdir(), 'cgdb-local-'));
const stateDir = join(projectDir, '.chatgenius');

function storedState(): { port: number; password: string; user: string; database: string } {
  return JSON.parse(readFileSync(join(stateDir, 'local.json'), 'utf8'));
}

async function query(sql: string, port = storedState().port): Promise<pg.QueryResult> {
  const s = storedState();
  const c = new pg.Client({ host: '127.0.0.1', port, user: s.user, password: s.password, database: s.database });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Call ensureLocalServer from a separate Node process that then exits. */
let children = 0;
function ensureInChild(): Promise<{ code: number | null; out: string; ms: number }> {
  const script = join(projectDir, `child-${++children}.mts`);
  writeFileSync(
    script,
    `import { ensureLocalServer } from ${JSON.stringify(localModule)};
const t0 = Date.now();
const c = await ensureLocalServer(${JSON.stringify(stateDir)});
console.log(JSON.stringify({ port: c.port, database: c.database, sslMode: c.sslMode, ms: Date.now() - t0 }));
`,
  );
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, ms: Date.now() - t0 }));
  });
}

after(async () => {
  await stopLocalServer(stateDir).catch(() => undefined);
  rmSync(projectDir, { recursive: true, force: true });
});

describe('the embedded PostgreSQL of --env local', () => {
  let firstPid = 0;
  let firstPort = 0;

  before(async () => {
    // Two CLI processes at once on a fresh project: one creates the server, the other waits for it.
    const [a, b] = await Promise.all([ensureInChild(), ensureInChild()]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    const la = JSON.parse(a.out.trim().split('\n').pop()!);
    const lb = JSON.parse(b.out.trim().split('\n').pop()!);
    firstPort = la.port;
    assert.equal(lb.port, la.port);
    assert.equal(la.database, 'chatgenius');
    assert.equal(la.sslMode, 'disable');
    assert.equal(existsSync(join(stateDir, 'local.lock')), false);
  });

  test('a server started by a CLI process that has exited still answers, with the chatgenius database', async () => {
    const r = await query('SELECT current_database() AS db, current_user AS u');
    assert.equal(r.rows[0].db, 'chatgenius');
    assert.equal(r.rows[0].u, 'postgres');
    const st = await localServerStatus(stateDir);
    assert.equal(st.running, true);
    assert.equal(st.port, firstPort);
    firstPid = st.pid!;
    assert.ok(processAlive(firstPid));
  });

  test('local.json holds the port and password with mode 0600, in a state dir others cannot list and git ignores', () => {
    assert.equal(readFileSync(join(stateDir, '.gitignore'), 'utf8'), '*\n');
    assert.equal(statSync(join(stateDir, 'local.json')).mode & 0o777, 0o600);
    const dirMode = statSync(stateDir).mode & 0o777;
    assert.equal(dirMode & 0o077 & ~0o011, 0, `state dir mode ${dirMode.toString(8)} lets others read or write`);
    assert.equal(storedState().port, firstPort);
    assert.ok(storedState().password.length >= 20);
  });

  test('a second call reuses the running server: same port and pid, and fast', async () => {
    const events: ChatgeniusEvent[] = [];
    const t0 = Date.now();
    const c = await ensureLocalServer(stateDir, { emit: (e) => events.push(e) });
    const ms = Date.now() - t0;
    assert.equal(c.port, firstPort);
    assert.ok(ms < 1500, `reuse took ${ms} ms`);
    assert.equal(events.filter((e) => e.type === 'notice' && /Starting|Creating/.test(e.message)).length, 0);
    assert.equal((await localServerStatus(stateDir)).pid, firstPid);
  });

  test('status masks the password in the URL and reports the data directory size', async () => {
    const st = await localServerStatus(stateDir);
    const { password } = storedState();
    assert.equal(st.url, `postgres://postgres:****@127.0.0.1:${firstPort}/chatgenius`);
    assert.ok(!JSON.stringify(st).includes(password));
    assert.equal(st.answering, true);
    assert.ok((st.dataDirBytes ?? 0) > 1_000_000, `data dir size ${st.dataDirBytes}`);
  });

  test('`local status` on the command line prints the masked URL, never the password', async () => {
    const r = await runCli(['local', 'status'], { cwd: projectDir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`postgres://postgres:\\*\\*\\*\\*@127\\.0\\.0\\.1:${firstPort}/chatgenius`));
    assert.ok(!`${r.stdout}${r.stderr}`.includes(storedState().password));
  });

  test('`init --yes` with nothing configured migrates the embedded database; running it again changes nothing', async () => {
    const ups = readdirSync(join(repoRoot, 'sql')).filter((f) => f.endsWith('.up.sql')).length;
    const first = await runCli(['init', '--yes'], { cwd: projectDir });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const journal = async () => (await query('SELECT count(*)::int AS n, max(applied_at) AS last FROM public.chatgenius_migrations')).rows[0];
    const j1 = await journal();
    assert.equal(j1.n, ups);
    assert.equal((await query("SELECT to_regclass('public.messages') IS NOT NULL AS ok")).rows[0].ok, true);
    const second = await runCli(['init', '--yes'], { cwd: projectDir });
    assert.equal(second.code, 0, second.stdout + second.stderr);
    const j2 = await journal();
    assert.deepEqual(j2, j1);
    assert.equal((await localServerStatus(stateDir)).pid, firstPid, 'the same server was reused');
  });

  test('`local reset` without a person and without --yes exits 2 and deletes nothing', async () => {
    await query('CREATE TABLE IF NOT EXISTS keepme (id int)');
    const r = await runCli(['local', 'reset'], { cwd: projectDir });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--yes/);
    assert.ok(existsSync(join(stateDir, 'pgdata', 'PG_VERSION')));
    assert.equal((await query("SELECT to_regclass('public.keepme') IS NOT NULL AS ok")).rows[0].ok, true);
  });

  test('stop stops it; the next ensure starts it again on the same port with the data kept', async () => {
    const s = await stopLocalServer(stateDir);
    assert.equal(s.stopped, true);
    assert.equal(processAlive(firstPid), false);
    const st = await localServerStatus(stateDir);
    assert.equal(st.running, false);
    await assert.rejects(query('SELECT 1'), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
    assert.deepEqual(await stopLocalServer(stateDir), { stopped: false });

    const c = await ensureLocalServer(stateDir);
    assert.equal(c.port, firstPort);
    assert.equal((await query("SELECT to_regclass('public.keepme') IS NOT NULL AS ok")).rows[0].ok, true);
  });

  test('a remembered port taken by another program moves the server to a free one', async () => {
    await stopLocalServer(stateDir);
    const { createServer } = await import('node:net');
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(firstPort, '127.0.0.1', () => r()));
    try {
      const events: ChatgeniusEvent[] = [];
      const c = await ensureLocalServer(stateDir, { emit: (e) => events.push(e) });
      assert.notEqual(c.port, firstPort);
      assert.equal(storedState().port, c.port);
      assert.ok(events.some((e) => e.type === 'notice' && e.level === 'warn' && e.message.includes(`Port ${firstPort}`)));
      assert.equal((await query('SELECT 1 AS one', c.port)).rows[0].one, 1);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  test('reset stops the server and removes its data; `local reset --yes` on the command line does the same', async () => {
    const pid = (await localServerStatus(stateDir)).pid!;
    const r = await resetLocalServer(stateDir);
    assert.deepEqual(r, { stopped: true, deleted: true });
    assert.equal(processAlive(pid), false);
    assert.equal(existsSync(join(stateDir, 'pgdata')), false);
    assert.equal(existsSync(join(stateDir, 'local.json')), false);
    assert.equal((await localServerStatus(stateDir)).initialised, false);

    await ensureLocalServer(stateDir);
    const cli = await runCli(['local', 'reset', '--yes'], { cwd: projectDir });
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(existsSync(join(stateDir, 'pgdata')), false);
    assert.equal((await localServerStatus(stateDir)).running, false);
  });
});

describe('as an ordinary (non-root) user', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgdb-local-user-'));
  const userState = join(dir, 'proj', '.chatgenius');
  after(async () => {
    await stopLocalServer(userState).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the server runs as that user, and .chatgenius/ is 0700', async () => {
    // Under root (as in CI containers) drop to the postgres user to take the ordinary path.
    const asUser =
      process.getuid?.() === 0
        ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) }
        : null;
    if (asUser) chownSync(dir, asUser.uid, asUser.gid);
    const script = join(dir, 'child.mts');
    writeFileSync(
      script,
      `import { ensureLocalServer } from ${JSON.stringify(localModule)};
const c = await ensureLocalServer(${JSON.stringify(userState)});
console.log(JSON.stringify({ port: c.port, uid: process.getuid() }));
`,
    );
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir },
      ...(asUser ?? {}),
    });
    const { uid } = JSON.parse(out.trim().split('\n').pop()!);
    assert.equal(statSync(userState).mode & 0o777, 0o700);
    const st = await localServerStatus(userState);
    assert.equal(st.running, true);
    assert.equal(st.answering, true);
    assert.equal(Number(execFileSync('ps', ['-o', 'uid=', '-p', String(st.pid)], { encoding: 'utf8' }).trim()), uid);
  });
});

describe('damaged local state is refused with an explanation, not a crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cgdb-local-bad-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a local.json that is not ours -> LOCAL_STATE_CORRUPT, pointing at local reset', async () => {
    const sd = join(dir, 'a', '.chatgenius');
    mkdirSync(sd, { recursive: true });
    writeFileSync(join(sd, 'local.json'), '{"port": "soon"}');
    await assert.rejects(ensureLocalServer(sd), (e: ChatgeniusError) => {
      assert.equal(e.code, 'LOCAL_STATE_CORRUPT');
      assert.match(explain(e).hint, /local reset --yes/);
      return true;
    });
  });

  test('a cluster whose local.json (password) is gone -> LOCAL_STATE_CORRUPT, nothing started', async () => {
    const sd = join(dir, 'b', '.chatgenius');
    mkdirSync(join(sd, 'pgdata'), { recursive: true });
    writeFileSync(join(sd, 'pgdata', 'PG_VERSION'), '18\n');
    await assert.rejects(ensureLocalServer(sd), (e: ChatgeniusError) => e.code === 'LOCAL_STATE_CORRUPT');
    assert.equal((await localServerStatus(sd)).running, false);
    assert.equal(existsSync(join(sd, 'local.lock')), false, 'the lock is released after a failure');
  });
});
