import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { runCli } from './helpers/cli.js';

/** A small parser of the Prometheus text exposition format (0.0.4): enough to check every line. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string>; comments: string[] } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const comments: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!), line);
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('#')) {
      comments.push(line);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
      let consumed = 0;
      for (const l of m[3].matchAll(re)) {
        labels[l[1]!] = l[2]!;
        consumed += l[0].length;
      }
      assert.equal(consumed, m[3].length, `bad labels: ${line}`);
    }
    samples.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return { samples, types, comments };
}

let db: TestPostgres;
let dir: string;

before(async () => {
  db = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'cgdb-metrics-'));
  const init = await runCli(['init', '--env', 'development', '--yes', '--database-url', db.url], { cwd: dir, env: { HOME: dir, CI: 'true' } });
  assert.equal(init.code, 0, init.stdout + init.stderr);
});

after(async () => {
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const metrics = () => runCli(['status', '--metrics', '--env', 'development', '--database-url', db.url], { cwd: dir, env: { HOME: dir, CI: 'true' } });

test('status --metrics prints parseable Prometheus text with non-zero index usage after queries that use the index', async () => {
  const c = await db.client();
  const u = await c.query<{ id: string }>("insert into users (auth0_id, email, username) values ('auth0|m1', 'm1@example.com', 'm1') returning id");
  const before0 = parseExposition((await metrics()).stdout).samples.find((s) => s.name === 'chatgenius_index_scans_total' && s.labels.index === 'users_email_key');
  await c.query('set enable_seqscan = off');
  for (let i = 0; i < 5; i++) await c.query('select id from users where email = $1', ['m1@example.com']);
  await c.query('select pg_stat_force_next_flush()');
  await c.query('select 1');
  await c.end();

  const r = await metrics();
  assert.equal(r.code, 0, r.stderr);
  const { samples, types, comments } = parseExposition(r.stdout);
  assert.equal(types.get('chatgenius_query_duration_seconds'), 'histogram');
  assert.equal(types.get('chatgenius_index_scans_total'), 'counter');
  assert.equal(types.get('chatgenius_trigger_executions_total'), 'counter');
  const count = samples.filter((s) => s.name === 'chatgenius_query_duration_seconds_count').reduce((n, s) => n + s.value, 0);
  assert.ok(count >= 3, `the run's queries are timed: ${count}`);
  assert.ok(
    samples.some(
      (s) => s.name === 'chatgenius_query_duration_seconds_bucket' && s.labels.query === 'select pg_stat_user_indexes' && s.labels.le === '+Inf' && s.value === 1,
    ),
  );
  const scans = samples.find((s) => s.name === 'chatgenius_index_scans_total' && s.labels.index === 'users_email_key');
  assert.ok(scans, r.stdout);
  assert.equal(scans.labels.schema, 'public');
  assert.equal(scans.labels.table, 'users');
  assert.ok(scans.value >= (before0?.value ?? 0) + 5, `5 more scans: ${before0?.value} -> ${scans.value}`);
  assert.ok(samples.some((s) => s.name === 'chatgenius_migrations' && s.labels.state === 'applied' && s.value >= 1));
  // track_functions is 'none' by default: said on stderr and as a comment, with the fix.
  assert.match(r.stderr, /ALTER DATABASE "chatgenius_test" SET track_functions = 'pl'/);
  assert.ok(comments.some((l) => l.includes("track_functions = 'pl'")));
  assert.equal(samples.filter((s) => s.name === 'chatgenius_trigger_executions_total').length, 0);
  assert.ok(u.rows[0]!.id);
});

test('status --metrics counts trigger executions once track_functions is on', async (t) => {
  await db.query("ALTER DATABASE chatgenius_test SET track_functions = 'pl'", [], 'postgres');
  // Leave the database as this test found it: the first test expects track_functions off.
  t.after(() => db.query('ALTER DATABASE chatgenius_test RESET track_functions', [], 'postgres'));
  const c = await db.client();
  const ch = await c.query<{ id: string }>("insert into channels (name) values ('metrics') returning id");
  await c.query("update channels set description = 'x' where id = $1", [ch.rows[0]!.id]);
  await c.query('select pg_stat_force_next_flush()');
  await c.query('select 1');
  await c.end();
  const r = await metrics();
  assert.equal(r.code, 0, r.stderr);
  const { samples, comments } = parseExposition(r.stdout);
  const notify = samples.find((s) => s.name === 'chatgenius_trigger_executions_total' && s.labels.function === 'chatgenius_notify');
  assert.ok(notify && notify.value >= 2, r.stdout);
  assert.ok(samples.some((s) => s.name === 'chatgenius_trigger_execution_seconds_total' && s.labels.function === 'chatgenius_notify'));
  assert.equal(comments.filter((l) => l.includes('track_functions')).length, 0);
  assert.doesNotMatch(r.stderr, /track_functions/);
});

test('status --metrics --json puts the metrics in the result line (LogFormat), nothing else on stdout', async () => {
  const r = await runCli(['status', '--metrics', '--json', '--env', 'development', '--database-url', db.url], { cwd: dir, env: { HOME: dir, CI: 'true' } });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; level: string; data: { metrics?: Array<{ name: string; values: unknown[] }> } });
  const last = lines.at(-1)!;
  assert.equal(last.event, 'result');
  const names = (last.data.metrics ?? []).map((m) => m.name);
  for (const n of ['chatgenius_query_duration_seconds', 'chatgenius_index_scans_total', 'chatgenius_trigger_executions_total'])
    assert.ok(names.includes(n), names.join(','));
});
