import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { isRoot, serverRunAs } from '../src/local/os-user.js';

const run = promisify(execFile);

test('two processes that both need the server OS user on a fresh machine both get it', async () => {
  if (!isRoot()) {
    // Not root: PostgreSQL runs as us, no OS user is ever created.
    assert.equal(await serverRunAs('postgres'), null);
    return;
  }
  const name = `cgdb${randomBytes(3).toString('hex')}`;
  try {
    const results = await Promise.all([serverRunAs(name), serverRunAs(name), serverRunAs(name)]);
    for (const r of results) {
      assert.ok(r, 'every caller gets the user');
      assert.equal(r.name, name);
      assert.equal(r.uid, results[0]!.uid);
    }
  } finally {
    await run('userdel', [name]).catch(() => {});
    await run('groupdel', [name]).catch(() => {});
  }
});
