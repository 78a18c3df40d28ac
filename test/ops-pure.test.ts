import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChecks, totals, notApplicable, type Check } from '../src/ops/checks.js';
import { formatCheckLine, formatTotals } from '../src/ops/doctor-format.js';
import { poolerEvidence } from '../src/ops/pooler.js';
import { isForSchema, listenSql, normalizeChannel, parsePayload, prettyLine } from '../src/ops/notification.js';
import { queryName } from '../src/ops/metrics.js';
import { showVariable } from '../src/ops/envfiles.js';
import { explain } from '../src/explain/index.js';
import { ChatgeniusError } from '../src/errors.js';

type Ctx = { ran: string[] };
const check = (id: string, status: 'pass' | 'fail' | 'warn' | 'skip', needs?: string[]): Check<Ctx> => ({
  id,
  title: id.toUpperCase(),
  ...(needs ? { needs } : {}),
  async run(ctx) {
    ctx.ran.push(id);
    return status === 'skip' ? notApplicable('n/a') : { status, summary: id };
  },
});

test('a failed link skips every check that needs it, naming the failed link; a not-applicable skip blocks nothing', async () => {
  const ctx: Ctx = { ran: [] };
  const reports = await runChecks(
    [check('a', 'pass'), check('ssh', 'skip', ['a']), check('b', 'fail', ['ssh']), check('c', 'pass', ['b']), check('d', 'pass', ['c']), check('e', 'warn', ['a'])],
    ctx,
  );
  assert.deepEqual(ctx.ran, ['a', 'ssh', 'b', 'e']);
  assert.deepEqual(
    reports.map((r) => r.status),
    ['pass', 'skip', 'fail', 'skip', 'skip', 'warn'],
  );
  assert.equal(reports[3]!.summary, 'skipped: "B" failed');
  assert.equal(reports[4]!.summary, 'skipped: "B" failed', 'the root failure, not the skipped link');
  const t = totals(reports);
  assert.deepEqual({ ...t }, { pass: 1, warn: 1, fail: 1, skip: 3, ok: false, firstFailure: 'B' });
});

test('a check that throws is a failure of that link, not a crash of doctor', async () => {
  const boom: Check<Ctx> = {
    id: 'x',
    title: 'X',
    run: async () => {
      throw new Error('kaput');
    },
  };
  const [r] = await runChecks([boom], { ran: [] });
  assert.equal(r!.status, 'fail');
  assert.equal(r!.summary, 'kaput');
});

test('warnings alone keep doctor at exit 0', () => {
  const t = totals([
    { id: 'a', title: 'A', status: 'warn', summary: '', ms: 0 },
    { id: 'b', title: 'B', status: 'pass', summary: '', ms: 0 },
  ]);
  assert.equal(t.ok, true);
  assert.match(formatTotals(t), /1 passed, 1 warning, 0 failed, 0 skipped: usable/);
});

test('a check line has the mark, the title, the figure, and the hint only on failure or warning', () => {
  const pass = formatCheckLine({ id: 'v', title: 'Server version >= 14', status: 'pass', summary: 'ok', figure: 'PostgreSQL 16.2', hint: 'never shown', ms: 1 });
  assert.match(pass, /^✔ Server version >= 14 +ok \(PostgreSQL 16\.2\)$/);
  const fail = formatCheckLine({ id: 'r', title: 'PostgreSQL reachable', status: 'fail', summary: 'refused', hint: 'Start it', ms: 1 });
  assert.equal(fail.split('\n')[1], '    → Start it');
  assert.match(formatCheckLine({ id: 's', title: 'S', status: 'skip', summary: 'n/a', ms: 0 }), /^– /);
  assert.match(formatCheckLine({ id: 'w', title: 'W', status: 'warn', summary: 'hm', hint: 'h', ms: 0 }), /^▲ W.*\n    → h$/);
});

test('pooler evidence: none for a direct connection; each sign of a transaction-mode pooler is named', () => {
  assert.deepEqual(poolerEvidence({ pidA1: 10, pidA2: 10, settingKept: true, pidB: 11, pidA3: 10 }), []);
  assert.equal(poolerEvidence({ pidA1: 10, pidA2: 12, settingKept: true, pidB: 11, pidA3: 10 }).length, 1);
  assert.match(poolerEvidence({ pidA1: 10, pidA2: 10, settingKept: false, pidB: 11, pidA3: 10 })[0]!, /session setting/);
  // One server session, reused: the other client's transaction ran in "our" session, ours moved.
  const lifo = poolerEvidence({ pidA1: 10, pidA2: 10, settingKept: true, pidB: 10, pidA3: 12 });
  assert.equal(lifo.length, 2);
  assert.match(poolerEvidence({ pidA1: 10, pidA2: 10, settingKept: true, pidB: 10, pidA3: null })[0]!, /waited/);
});

test('listen channels: table names get the chatgenius_ prefix, bad names are usage errors, LISTEN quotes', () => {
  assert.equal(normalizeChannel('messages'), 'chatgenius_messages');
  assert.equal(normalizeChannel('chatgenius_messages'), 'chatgenius_messages');
  for (const bad of ['bad-name', 'x;drop', '', '"q"', 'a'.repeat(60)]) {
    assert.throws(
      () => normalizeChannel(bad),
      (e: unknown) => e instanceof ChatgeniusError && e.code === 'LISTEN_BAD_CHANNEL' && e.exitCode === 2,
      bad,
    );
  }
  assert.equal(listenSql(['chatgenius_a', 'chatgenius_b']), 'LISTEN "chatgenius_a"; LISTEN "chatgenius_b";');
});

test('listen payloads: JSON parsed, other text kept, other schemas filtered out, pretty line shows table, op and ids', () => {
  const p = parsePayload('{"schema":"public","table":"messages","op":"INSERT","ids":{"id":"01J","channel_id":"01C"},"at":"2026-01-01T00:00:00Z"}');
  assert.equal(typeof p, 'object');
  assert.equal(parsePayload('plain text'), 'plain text');
  assert.equal(isForSchema(p, 'public'), true);
  assert.equal(isForSchema(p, 'test'), false);
  assert.equal(isForSchema('plain', 'test'), true);
  const line = prettyLine({ channel: 'chatgenius_messages', payload: p, senderPid: 1, receivedAt: new Date('2026-01-01T12:00:01.123Z') });
  assert.match(line, /^12:00:01\.123 {2}messages +INSERT +id=01J channel_id=01C$/);
});

test('metrics query names are short and low-cardinality', () => {
  assert.equal(queryName('select a from pg_stat_user_indexes where x = $1'), 'select pg_stat_user_indexes');
  assert.equal(queryName('/* settings */ select current_setting($1)'), 'settings');
  assert.equal(queryName('SELECT * FROM "public".chatgenius_migrations'), 'select chatgenius_migrations');
  assert.equal(queryName('select 1'), 'select');
});

test('env variables are shown with secrets masked', () => {
  assert.equal(showVariable('POSTGRES_PASSWORD', 'hunter22'), 'POSTGRES_PASSWORD=****');
  assert.equal(showVariable('SSH_PASSPHRASE', 'pp-secret'), 'SSH_PASSPHRASE=****');
  assert.equal(showVariable('DATABASE_URL', 'postgres://u:hunter22@h:5432/db'), 'DATABASE_URL=postgres://u:****@h:5432/db');
  assert.equal(showVariable('POSTGRES_HOST', 'db.internal'), 'POSTGRES_HOST=db.internal');
});

test('explain() knows the doctor and listen codes as well as the shared network codes', () => {
  const x = explain(new ChatgeniusError('DOCTOR_NO_CREATE', 'no', { schema: 's', role: 'r', database: 'd', schemaExists: true }));
  assert.equal(x.title, 'No CREATE privilege');
  assert.match(x.hint, /GRANT CREATE, USAGE ON SCHEMA "s" TO "r"/);
  assert.match(explain(new ChatgeniusError('LISTEN_NO_CHANNELS', 'none', { schema: 'x' })).hint, /chatgenius-db init/);
  const refused = explain(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 1 }));
  assert.notEqual(refused.title, 'Something went wrong');
});
