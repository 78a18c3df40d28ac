import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres } from './helpers/pg.js';

test('the test harness starts a real PostgreSQL that has the spec extensions available', async () => {
  const pg = await startPostgres();
  try {
    const r = await pg.query<{ v: number; n: string }>(
      "select current_setting('server_version_num')::int as v, string_agg(name, ',' order by name) as n from pg_available_extensions where name in ('citext','pgcrypto','uuid-ossp')",
    );
    assert.ok(r.rows[0]!.v >= 140000);
    assert.equal(r.rows[0]!.n, 'citext,pgcrypto,uuid-ossp');
  } finally {
    await pg.stop();
  }
});
