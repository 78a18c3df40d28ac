/** The wizard's pure parts: answers -> flags/env, the equivalent command, env file merging, checks. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answersToEnv, answersToFlags, equivalentCommand, type Answers } from '../src/cli/wizard/answers.js';
import { mergeEnvText, envVarsFor } from '../src/cli/wizard/save.js';
import { checkKeyFile } from '../src/cli/wizard/tunnel.js';
import { validatePort, validateHost } from '../src/cli/wizard/connection.js';
import { checkTypedName } from '../src/cli/wizard/confirm.js';
import { isCancelKey } from '../src/cli/wizard/prompts.js';
import { initialSteps } from '../src/cli/wizard/rollback.js';
import { resolveConfig } from '../src/config/index.js';
import { makeUserKey } from './helpers/ssh-server.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const answers: Answers = {
  env: 'production',
  connection: { host: 'db.internal', port: 5433, database: 'chat genius', user: 'app', password: 's3cr3t-pw' },
  tunnel: { host: 'bastion.example.com', port: 2222, user: 'ops', keyPath: '/home/me/.ssh/id_ed25519', passphrase: 'pp-secret' },
};

describe('wizard answers', () => {
  test('the equivalent command reproduces every answer and leaves every secret out', () => {
    const cmd = equivalentCommand('init', answers, { confirmDatabase: 'chat genius', schema: 'app' });
    assert.equal(
      cmd,
      "npx chatgenius-db init --env production --database-url postgres://app@db.internal:5433/chat%20genius --ssh-host bastion.example.com --ssh-port 2222 --ssh-user ops --ssh-key /home/me/.ssh/id_ed25519 --schema app --yes --confirm-database 'chat genius'",
    );
    assert.ok(!cmd.includes('s3cr3t-pw') && !cmd.includes('pp-secret'));
  });

  test('the answers as flags + env resolve (through the config module) to the same connection and tunnel', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'cgdb-wizard-units-'));
    dirs.push(cwd);
    const flags = answersToFlags({ 'migrations-dir': 'sql' }, answers);
    const env = answersToEnv({ HOME: cwd, POSTGRES_PASSWORD: 'old' }, answers);
    const c = resolveConfig({ flags, env, cwd });
    assert.equal(c.env, 'production');
    assert.deepEqual(
      { host: c.connection?.host, port: c.connection?.port, database: c.connection?.database, user: c.connection?.user, password: c.connection?.password },
      { host: 'db.internal', port: 5433, database: 'chat genius', user: 'app', password: 's3cr3t-pw' },
    );
    assert.equal(c.tunnel?.host, 'bastion.example.com');
    assert.equal(c.tunnel?.port, 2222);
    assert.equal(c.tunnel?.username, 'ops');
    assert.equal(c.tunnel?.passphrase, 'pp-secret');
    assert.equal(c.migrationsDir, join(cwd, 'sql'));
    const direct = resolveConfig({ flags: answersToFlags({}, { ...answers, tunnel: null }), env: { HOME: cwd, SSH_HOST: 'elsewhere' }, cwd });
    assert.equal(direct.tunnel, null, 'no bastion means --no-tunnel, even with SSH_HOST set');
  });

  test('saving keeps other lines, replaces the connection keys, and writes the password only when asked', () => {
    const before = '# mine\nFOO=bar\nPOSTGRES_HOST=old\nSSH_HOST=old-bastion\n';
    const without = mergeEnvText(before, envVarsFor(answers, false));
    assert.match(without, /^# mine\nFOO=bar\n/);
    assert.doesNotMatch(without, /POSTGRES_HOST=old|old-bastion|s3cr3t/);
    assert.match(without, /DATABASE_URL=postgres:\/\/app@db\.internal:5433\/chat%20genius\n/);
    assert.match(without, /SSH_HOST=bastion\.example\.com\nSSH_PORT=2222\nSSH_USER=ops\n/);
    assert.ok(!without.includes('pp-secret'), 'the passphrase is never saved');
    assert.match(mergeEnvText('', envVarsFor(answers, true)), /POSTGRES_PASSWORD=s3cr3t-pw/);
  });

  test('validators refuse bad values with words, accept good ones', () => {
    assert.equal(validatePort('5432'), undefined);
    for (const bad of ['0', '65536', 'abc', '54 32', '']) assert.match(validatePort(bad) ?? '', /not a port/);
    assert.equal(validateHost('db.example.com'), undefined);
    assert.match(validateHost('a b') ?? '', /host/);
    assert.equal(checkTypedName('chatgenius', 'chatgenius'), undefined);
    assert.match(checkTypedName('Chatgenius', 'chatgenius') ?? '', /is not chatgenius/);
    assert.equal(isCancelKey('\x03'), true);
    assert.equal(isCancelKey('\x1b'), true);
    assert.equal(isCancelKey('\x1b[B'), false, 'an arrow key is not Esc');
    assert.equal(initialSteps({ steps: '2' }, 5), 2);
    assert.equal(initialSteps({ all: true }, 5), 5);
    assert.equal(initialSteps({ steps: '9' }, 3), 3);
  });

  test('the key file check: missing, directory, public key, not a key, unreadable, agent, good', async () => {
    const d = await mkdtemp(join(tmpdir(), 'cgdb-wizard-keys-'));
    dirs.push(d);
    const k = makeUserKey();
    await writeFile(join(d, 'id'), k.private, { mode: 0o600 });
    await writeFile(join(d, 'id.pub'), k.public);
    await writeFile(join(d, 'notes.txt'), 'hello');
    const o = { cwd: d, home: d, agent: false };
    assert.equal(checkKeyFile('id', o), undefined);
    assert.equal(checkKeyFile('~/id', o), undefined);
    assert.match(checkKeyFile('nope', o) ?? '', /does not exist/);
    assert.match(checkKeyFile(d, o) ?? '', /is a directory/);
    assert.match(checkKeyFile('id.pub', o) ?? '', /public key/);
    assert.match(checkKeyFile('notes.txt', o) ?? '', /not a private key/);
    assert.match(checkKeyFile('', o) ?? '', /ssh-agent/);
    assert.equal(checkKeyFile('', { ...o, agent: true }), undefined);
    if (process.getuid?.() !== 0) {
      await chmod(join(d, 'id'), 0o000);
      assert.match(checkKeyFile('id', o) ?? '', /cannot be read/);
    }
  });
});
