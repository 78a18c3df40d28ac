/**
 * The OS user PostgreSQL runs as when we are root. Creating it must be safe when several
 * chatgenius-db processes start at once on a fresh machine (CI runs test files in parallel):
 * useradd run twice at the same time hands out two uids or loses an entry, so creation is
 * serialised by a lock file across processes. These tests use separate processes for that.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { isRoot, serverRunAs } from '../src/local/os-user.js';

const run = promisify(execFile);
const repo = new URL('..', import.meta.url).pathname;
const osUserModule = new URL('../src/local/os-user.ts', import.meta.url).href;

/** A script that waits for `go` to exist, then asks for the OS user and prints the answer. */
function probeScript(name: string, go: string): string {
  return `import { existsSync } from 'node:fs';
const { serverRunAs } = await import(${JSON.stringify(osUserModule)});
console.log('ready');
while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 2));
try { console.log(JSON.stringify({ ok: await serverRunAs(${JSON.stringify(name)}) })); }
catch (e) { console.log(JSON.stringify({ error: e.code ?? String(e) })); }
`;
}

test('as root: several processes that need the server OS user at the same moment all get the same one user', {
  skip: !isRoot() && 'creating OS users needs root (CI runs as root)',
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cgdb-os-user-'));
  const name = `cgdb${randomBytes(3).toString('hex')}`;
  try {
    const go = join(dir, 'go');
    const probe = join(dir, 'probe.mjs');
    await writeFile(probe, probeScript(name, go));
    const children = [0, 1, 2, 3].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', probe], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
      return { ready: () => out.includes('ready'), done, pid: child.pid };
    });
    // Release all of them at once, when every one is loaded and waiting.
    const deadline = Date.now() + 60_000;
    while (!children.every((c) => c.ready()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(
      children.every((c) => c.ready()),
      'every process started',
    );
    await writeFile(go, '');
    const results = await Promise.all(children.map((c) => c.done));
    const answers = results.map((r) => {
      assert.equal(r.code, 0, r.err);
      return JSON.parse(r.out.trim().split('\n').at(-1)!) as { ok?: { uid: number; gid: number; name: string }; error?: string };
    });
    const pids = new Set(children.map((c) => c.pid));
    assert.equal(pids.size, 4, 'four separate processes');
    for (const a of answers) {
      assert.ok(a.ok, `every process gets the user: ${JSON.stringify(a)}`);
      assert.equal(a.ok.name, name);
      assert.equal(a.ok.uid, answers[0]!.ok!.uid, 'one uid for all');
    }
    const entries = spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    assert.equal(entries.length, 1, `exactly one passwd entry: ${entries.join(' | ')}`);
    assert.equal(Number(entries[0]!.split(':')[2]), answers[0]!.ok!.uid);
  } finally {
    await run('userdel', [name]).catch(() => {});
    await run('groupdel', [name]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});

test('not root: PostgreSQL runs as us and no OS user is created (as root, checked in a process running as nobody)', async () => {
  const name = `cgdb${randomBytes(3).toString('hex')}`;
  if (!isRoot()) {
    assert.equal(await serverRunAs(name), null);
    assert.equal(spawnSync('id', ['-u', name]).status === 0, false, 'no user was created');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'cgdb-os-user-nobody-'));
  try {
    await chmod(dir, 0o755);
    const go = join(dir, 'go');
    await writeFile(go, '');
    const probe = join(dir, 'probe.mjs');
    await writeFile(probe, probeScript(name, go), { mode: 0o644 });
    const r = spawnSync(process.execPath, ['--import', 'tsx', probe], {
      uid: 65534,
      gid: 65534,
      cwd: repo,
      env: { PATH: process.env.PATH, HOME: tmpdir() },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { ok: null });
    assert.equal(spawnSync('id', ['-u', name]).status === 0, false, 'no user was created');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
