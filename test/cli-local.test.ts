/**
 * `npm run setup:local` without npm: `init --env local --yes` in a fresh project directory
 * starts the embedded PostgreSQL under .chatgenius/, applies the full schema; running it again
 * changes nothing. The server is stopped with `local stop` at the end.
 * Spawns the built binary: run `npm run build` first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runCli } from './helpers/cli.js';
import { snapshotCatalog } from '../src/migrate/catalog.js';

const SPEC_TABLES = ['channel_members', 'channels', 'files', 'message_reads', 'messages', 'reactions', 'sync_state', 'user_settings', 'user_status', 'users'];

let project: string;

before(async () => {
  project = await mkdtemp(join(tmpdir(), 'cgdb-cli-local-'));
});

after(async () => {
  if (project) {
    await runCli(['local', 'stop'], { cwd: project, timeoutMs: 30_000 });
    await rm(project, { recursive: true, force: true });
  }
});

async function localClient(): Promise<pg.Client> {
  const state = JSON.parse(await readFile(join(project, '.chatgenius', 'local.json'), 'utf8')) as {
    port: number;
    user: string;
    password: string;
    database: string;
  };
  const c = new pg.Client({ host: '127.0.0.1', port: state.port, user: state.user, password: state.password, database: state.database });
  await c.connect();
  return c;
}

test('init --env local --yes on a bare project ends with the full schema in the embedded database; again changes nothing', async () => {
  const first = await runCli(['init', '--env', 'local', '--yes'], { cwd: project, timeoutMs: 90_000 });
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /Applied \d+ migrations to postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/chatgenius \(schema public\)/);

  const client = await localClient();
  try {
    const state = JSON.parse(await readFile(join(project, '.chatgenius', 'local.json'), 'utf8')) as { password: string };
    assert.ok(!first.stdout.includes(state.password) && !first.stderr.includes(state.password), 'the local password is never printed');
    const t = await client.query<{ t: string }>("select table_name as t from information_schema.tables where table_schema = 'public'");
    const tables = t.rows.map((r) => r.t);
    for (const name of SPEC_TABLES) assert.ok(tables.includes(name), `table ${name}`);
    const journal1 = await client.query('select version, checksum, applied_at from public.chatgenius_migrations order by version');
    assert.ok(journal1.rowCount! >= 5);
    const snap1 = await snapshotCatalog(client, 'public');

    // A bare `init --yes` with nothing configured picks env local: same server, nothing to do.
    const second = await runCli(['init', '--yes'], { cwd: project, timeoutMs: 60_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /Nothing to do: postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/chatgenius/);
    const journal2 = await client.query('select version, checksum, applied_at from public.chatgenius_migrations order by version');
    assert.deepEqual(journal2.rows, journal1.rows);
    assert.deepEqual(await snapshotCatalog(client, 'public'), snap1);

    const v = await runCli(['verify', '--env', 'local'], { cwd: project, timeoutMs: 60_000 });
    assert.equal(v.code, 0, v.stderr);
  } finally {
    await client.end();
  }
});

test('the local database runs with wal_level=logical, so both real-time modes work out of the box', async () => {
  const client = await localClient();
  try {
    assert.equal((await client.query<{ w: string }>('select current_setting($1) as w', ['wal_level'])).rows[0]!.w, 'logical');
  } finally {
    await client.end();
  }
  const json = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as { data: { mode: string; prerequisites?: Array<{ ok: boolean }> } };
  const use = await runCli(['realtime', 'use', 'logical', '--env', 'local', '--json'], { cwd: project, timeoutMs: 60_000 });
  assert.equal(use.code, 0, use.stderr);
  const st = await runCli(['realtime', 'status', '--env', 'local', '--json'], { cwd: project, timeoutMs: 60_000 });
  assert.equal(json(st.stdout).data.mode, 'logical');
  assert.ok(
    json(st.stdout).data.prerequisites!.every((p) => p.ok),
    st.stdout,
  );
  const back = await runCli(['realtime', 'use', 'notify', '--env', 'local', '--json'], { cwd: project, timeoutMs: 60_000 });
  assert.equal(json(back.stdout).data.mode, 'notify', back.stderr);
});
