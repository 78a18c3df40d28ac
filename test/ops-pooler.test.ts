/**
 * doctor's pooler check against a real transaction-mode pooler: a small one written here
 * (PgBouncer is not installed in CI). It speaks the PostgreSQL wire protocol to its clients
 * (trust login), keeps a pool of real, logged-in server sessions, and lends a session per
 * transaction: the session goes back to the pool at each ReadyForQuery 'I' (idle), exactly
 * PgBouncer's pool_mode=transaction.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { runCli } from './helpers/cli.js';
import { startTxPooler, type TxPooler } from './helpers/tx-pooler.js';

let db: TestPostgres;
let dir: string;
const poolers: TxPooler[] = [];

before(async () => {
  db = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'cgdb-pooler-'));
});

after(async () => {
  for (const p of poolers) await p.close();
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function blockOf(out: string, title: string): string {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => l.slice(2).startsWith(title));
  assert.ok(i >= 0, out);
  const rest = lines.slice(i + 1);
  const end = rest.findIndex((l) => /^[✔✖▲–] /.test(l) || l === '');
  return [lines[i]!, ...rest.slice(0, end < 0 ? rest.length : end)].join('\n');
}

for (const size of [2, 1]) {
  test(`doctor warns about a transaction-mode pooler in front of the database (pool of ${size}) and says how to connect directly`, async () => {
    const pooler = await startTxPooler(db.url, size);
    poolers.push(pooler);
    // The pooler really lends sessions per transaction: two statements of one client can land in different sessions.
    const url = `postgres://postgres@127.0.0.1:${pooler.port}/${db.database}?sslmode=disable`;
    const r = await runCli(['doctor', '--env', 'development', '--database-url', url], { cwd: dir, env: { HOME: dir, CI: 'true' }, timeoutMs: 60_000 });
    const b = blockOf(r.stdout, 'No transaction-mode pooler');
    assert.match(b, /^▲ /, r.stdout + r.stderr);
    assert.match(b, /transaction-mode pooler/i);
    assert.match(b, size === 1 ? /waited for another connection's open transaction/ : /(backend pid changed|ran in this connection's server session)/);
    assert.match(b, /→ .*[Cc]onnect migrations directly/);
    assert.match(blockOf(r.stdout, 'PostgreSQL authentication'), /^✔/);
    assert.equal(r.code, 0, `a warning: doctor still exits 0\n${r.stdout}`);
  });
}

test('doctor finds no pooler on a direct connection', async () => {
  const r = await runCli(['doctor', '--env', 'development', '--database-url', db.url], { cwd: dir, env: { HOME: dir, CI: 'true' } });
  assert.match(blockOf(r.stdout, 'No transaction-mode pooler'), /^✔ /);
});
