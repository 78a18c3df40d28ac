// The floor: the least a Node script with pg can do for the same job and the same round trips as
// `chatgenius-db init` / `rollback --all` (login, one trip for lock + journal, one batch), with no
// checks, no journal details, no output. Plain JS, so it loads like the CLI's dist/.
//   node bench/minimal-pg.mjs up|noop|down URL SCHEMA DIR
import pg from 'pg';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [mode, url, schema, dir] = process.argv.slice(2);
const ups = readdirSync(dir)
  .filter((f) => f.endsWith('.up.sql'))
  .sort();
// A fresh database runs online files plainly inside the batch, as the engine does.
const plain = (sql) => sql.replace(/\b(INDEX\s+)CONCURRENTLY\b/gi, '$1');
const c = new pg.Client({ connectionString: url });
await c.connect();
const lock = `hashtext(current_database()), hashtext('minimal:${schema}')`;
// One trip: take the lock, read the journal (when there is one), and for a no-op let go again.
const q1 = await c.query(
  `SELECT pg_try_advisory_lock(${lock}) AS got, CASE WHEN to_regclass('"${schema}".j') IS NOT NULL THEN ` +
    `(xpath('//v/text()', query_to_xml('SELECT v FROM "${schema}".j', false, false, '')))::text[] END AS done` +
    (mode === 'noop' ? `, pg_advisory_unlock(${lock})` : ''),
);
void q1.rows[0].done;
if (mode === 'up') {
  let b = `CREATE SCHEMA IF NOT EXISTS "${schema}"; CREATE TABLE IF NOT EXISTS "${schema}".j (v text PRIMARY KEY); SET search_path TO "${schema}", public;\n`;
  for (const f of ups) b += `BEGIN;\n${plain(readFileSync(join(dir, f), 'utf8'))}\n;INSERT INTO "${schema}".j VALUES ('${f.slice(0, 4)}');COMMIT;\n`;
  await c.query(`${b}SELECT pg_advisory_unlock(${lock})`);
} else if (mode === 'down') {
  let b = `SET search_path TO "${schema}", public;\n`;
  for (const f of [...ups].reverse())
    b += `BEGIN;\n${plain(readFileSync(join(dir, f.replace('.up.', '.down.')), 'utf8'))}\n;DELETE FROM "${schema}".j WHERE v = '${f.slice(0, 4)}';COMMIT;\n`;
  await c.query(`${b}SELECT pg_advisory_unlock(${lock})`);
}
await c.end();
