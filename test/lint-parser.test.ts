/**
 * PostgreSQL's own parser, as the tool uses it: statements with their kind and place (line and
 * column in characters, across multi-byte text), and a syntax error's line and column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSql, SqlSyntaxError } from '../src/lint/parser.js';

test('parseSql gives each statement its kind, text and line:column, past comments and multi-byte text', async () => {
  const sql = "-- héllo ✓\nCREATE INDEX i ON t (a);\n/* c */ SELECT 'é✓' ;\nselect 2";
  const s = await parseSql(sql);
  assert.deepEqual(
    s.map((x) => [x.kind, x.line, x.column, x.text]),
    [
      ['IndexStmt', 2, 1, 'CREATE INDEX i ON t (a)'],
      ['SelectStmt', 3, 9, "SELECT 'é✓' "],
      ['SelectStmt', 4, 1, 'select 2'],
    ],
  );
});

test('a syntax error is a SqlSyntaxError at the right line and column (characters, not bytes)', async () => {
  await assert.rejects(parseSql("select 'é✓';\nselect fro m where;"), (e: unknown) => {
    assert.ok(e instanceof SqlSyntaxError);
    assert.equal(e.line, 2);
    assert.equal(e.column, 19);
    assert.match(e.message, /syntax error at or near ";"/);
    return true;
  });
});
