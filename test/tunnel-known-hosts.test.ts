/**
 * known_hosts parsing and matching, checked against OpenSSH's own ssh-keygen where it can
 * speak (hashing with -H, lookup with -F, fingerprints with -l).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeHostKey } from './helpers/ssh-server.js';
import { appendKnownHost, decideHostKey, fingerprint, hashHostName, hostLookupName, normalizeFingerprint, parseKnownHosts } from '../src/tunnel/known-hosts.js';
import { preferredHostKeyAlgorithms } from '../src/tunnel/tunnel.js';

let dir: string;
const a = makeHostKey('ed25519');
const b = makeHostKey('ed25519');
const r = makeHostKey('ecdsa');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgdb-kh-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const decide = (text: string, host: string, port: number, key: Buffer) => decideHostKey(parseKnownHosts(text, 'kh'), host, port, key).status;

describe('known_hosts matching', () => {
  test('plain names, comma lists, [host]:port, wildcards and negation match as OpenSSH does', () => {
    assert.equal(decide(`bastion.example.com ${a.public}`, 'bastion.example.com', 22, a.blob), 'known');
    assert.equal(decide(`BASTION.example.com ${a.public}`, 'bastion.example.com', 22, a.blob), 'known', 'case-insensitive');
    assert.equal(decide(`foo,bastion,10.0.0.5 ${a.public}`, '10.0.0.5', 22, a.blob), 'known');
    assert.equal(decide(`[bastion]:2222 ${a.public}`, 'bastion', 2222, a.blob), 'known');
    assert.equal(decide(`bastion ${a.public}`, 'bastion', 2222, a.blob), 'unknown', 'port 22 entry does not cover 2222');
    assert.equal(decide(`[bastion]:2222 ${a.public}`, 'bastion', 22, a.blob), 'unknown');
    assert.equal(decide(`*.example.com ${a.public}`, 'db.example.com', 22, a.blob), 'known');
    assert.equal(decide(`*.example.com,!db.example.com ${a.public}`, 'db.example.com', 22, a.blob), 'unknown');
    assert.equal(decide(`10.0.0.? ${a.public}`, '10.0.0.7', 22, a.blob), 'known');
  });

  test('a different key for the same host is changed; a key of another type recorded is changed too', () => {
    assert.equal(decide(`bastion ${a.public}`, 'bastion', 22, b.blob), 'changed');
    assert.equal(decide(`bastion ${r.public}`, 'bastion', 22, a.blob), 'changed');
    assert.equal(decide(`bastion ${r.public}\nbastion ${a.public}`, 'bastion', 22, a.blob), 'known', 'any recorded key that matches');
    const check = decideHostKey(parseKnownHosts(`# c\nbastion ${b.public}\n`, '/x/known_hosts'), 'bastion', 22, a.blob);
    assert.deepEqual(check.recordedAt, ['/x/known_hosts:2']);
  });

  test('comments, blank, corrupt and @cert-authority lines are skipped; @revoked refuses', () => {
    const text = [
      '# a comment',
      '',
      'garbage-line',
      `bastion ssh-ed25519 !!!notbase64`,
      `bastion ssh-rsa ${a.public.split(' ')[1]}`, // type field disagrees with the blob: ignored
      `@cert-authority *.example.com ${b.public}`,
      `@revoked * ${b.public}`,
      `bastion ${a.public} a trailing comment`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 3);
    assert.equal(decide(text, 'bastion', 22, a.blob), 'known');
    assert.equal(decide(text, 'other.example.com', 22, b.blob), 'revoked');
    assert.equal(decide(text, 'nobody', 22, a.blob), 'unknown');
  });

  test('our hashed entries are found by ssh-keygen -F, and ssh-keygen -H entries are found by us', async () => {
    const name = hostLookupName('10.1.2.3', 2222);
    const ours = join(dir, 'ours');
    await writeFile(ours, `${hashHostName(name)} ${a.public}\n`);
    const found = execFileSync('ssh-keygen', ['-F', '[10.1.2.3]:2222', '-f', ours], { encoding: 'utf8' });
    assert.match(found, /ssh-ed25519/);
    assert.equal(decide(await readFile(ours, 'utf8'), '10.1.2.3', 2222, a.blob), 'known');

    const theirs = join(dir, 'theirs');
    await writeFile(theirs, `[bastion.example.com]:2200 ${a.public}\nplain-host ${b.public}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', theirs], { stdio: 'ignore' });
    const hashed = await readFile(theirs, 'utf8');
    assert.ok(!hashed.includes('bastion.example.com'), 'ssh-keygen hashed the names');
    assert.equal(decide(hashed, 'bastion.example.com', 2200, a.blob), 'known');
    assert.equal(decide(hashed, 'bastion.example.com', 2200, b.blob), 'changed');
    assert.equal(decide(hashed, 'plain-host', 22, b.blob), 'known');
    assert.equal(decide(hashed, 'plain-host', 2200, b.blob), 'unknown');
  });

  test('fingerprints are printed as ssh-keygen -l prints them, and pins are normalised', async () => {
    const pub = join(dir, 'host.pub');
    await writeFile(pub, a.public + '\n');
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pub], { encoding: 'utf8' });
    assert.equal(out.split(/\s+/)[1], fingerprint(a.blob));
    assert.equal(normalizeFingerprint(fingerprint(a.blob) + '='), fingerprint(a.blob));
    assert.equal(normalizeFingerprint('sha256:' + fingerprint(a.blob).slice(7)), fingerprint(a.blob));
  });

  test('appendKnownHost creates dir 0700 and file 0600, keeps existing lines, tightens a loose mode', async () => {
    const file = join(dir, 'proj', '.chatgenius', 'known_hosts');
    await appendKnownHost(file, 'bastion', 22, a.blob);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'proj', '.chatgenius'))).mode & 0o777, 0o700);
    await chmod(file, 0o644);
    await writeFile(file, (await readFile(file, 'utf8')).trimEnd()); // no final newline
    await appendKnownHost(file, 'bastion', 2222, b.blob);
    const text = await readFile(file, 'utf8');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(
      text
        .trimEnd()
        .split('\n')
        .map((l) => l.split(' ')[0]),
      ['bastion', '[bastion]:2222'],
    );
    const found = execFileSync('ssh-keygen', ['-F', '[bastion]:2222', '-f', file], { encoding: 'utf8' });
    assert.match(found, new RegExp(b.public.split(' ')[1]!.slice(0, 20).replace(/[+/]/g, '\\$&')));
  });

  test('host key algorithms prefer the types already recorded for the host', () => {
    assert.equal(preferredHostKeyAlgorithms([])[0], 'ssh-ed25519');
    assert.deepEqual(preferredHostKeyAlgorithms(['ssh-rsa']).slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.equal(preferredHostKeyAlgorithms(['ecdsa-sha2-nistp256'])[0], 'ecdsa-sha2-nistp256');
    assert.equal(new Set(preferredHostKeyAlgorithms(['ssh-rsa'])).size, preferredHostKeyAlgorithms(['ssh-rsa']).length);
  });
});
