/**
 * Ctrl-C or Esc at any step of the guided init: "Cancelled, nothing changed", exit 130, the
 * database untouched, the tunnel closed. Including during the connecting spinner, where clack's
 * own spinner would have called process.exit(0).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { startSilentServer } from './helpers/ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './helpers/pg.js';
import { makeUserKey, startSshServer, type TestSshServer } from './helpers/ssh-server.js';
import { KEY, streamTerminal, type StreamTerminal } from './helpers/pty.js';
import type { CommandContext, Flags } from '../src/cli/command.js';
import { reporterFor } from '../src/cli/output/reporter.js';

let db: TestPostgres;
let ssh: TestSshServer;
let home: string;
let keyPath: string;
let silent: Awaited<ReturnType<typeof startSilentServer>>;
let silentPort: number;
const key = makeUserKey();

before(async () => {
  db = await startPostgres();
  home = await mkdtemp(join(tmpdir(), 'cgdb-wizard-cancel-'));
  keyPath = join(home, 'id_ed25519');
  await writeFile(keyPath, key.private, { mode: 0o600 });
  ssh = await startSshServer({ authorizedKeys: [key.public] });
  // A "database" that accepts TCP and never answers: the spinner spins until cancelled.
  silent = await startSilentServer();
  silentPort = silent.port;
});

after(async () => {
  await silent?.close();
  await ssh?.close();
  await db?.stop();
  await rm(home, { recursive: true, force: true });
});

async function startWizard(o: { env: Record<string, string | undefined>; flags?: Flags }): Promise<{ term: StreamTerminal; done: Promise<number>; cwd: string }> {
  const term = streamTerminal();
  const cwd = await mkdtemp(join(tmpdir(), 'cgdb-wizard-cwd-'));
  const env: NodeJS.ProcessEnv = { HOME: home, PATH: process.env.PATH, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(o.env)) if (v !== undefined) env[k] = v;
  const ctx: CommandContext = {
    flags: o.flags ?? {},
    positionals: [],
    env,
    cwd,
    io: { stdin: term.stdin, stdout: term.stdout, stderr: term.stdout },
    interactive: true,
    signal: new AbortController().signal,
  };
  const { initWizard } = await import('../src/cli/wizard/init.js');
  const done = initWizard(ctx).catch((e: unknown) => reporterFor(ctx).fail(e));
  return { term, done, cwd };
}

function pgEnv(database: string, over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { ...db.env(database), CHATGENIUS_MAX_RETRIES: '1', ...over };
}

function sshEnv(over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { SSH_HOST: ssh.host, SSH_PORT: String(ssh.port), SSH_USER: 'tunnel', SSH_KEY_PATH: keyPath, ...over };
}

async function journalExists(database: string): Promise<boolean> {
  const r = await db.query<{ t: string | null }>(`SELECT to_regclass('public.chatgenius_migrations')::text AS t`, [], database);
  return r.rows[0]?.t != null;
}

const PG_PROMPTS = ['PostgreSQL host', 'PostgreSQL port', 'Database name', 'User', 'Password'];

interface Case {
  name: string;
  key: string;
  env?: 'production';
  tunnel?: 'ask-host-key' | 'pinned';
  /** The prompts answered with Enter before the one cancelled. */
  before: string[];
  at: string | RegExp;
  silentDb?: boolean;
}

const cases: Case[] = [
  { name: 'the environment', key: KEY.ctrlC, before: [], at: 'Which environment?' },
  { name: 'the host', key: KEY.esc, before: ['Which environment?'], at: 'PostgreSQL host' },
  { name: 'the port', key: KEY.ctrlC, before: ['Which environment?', 'PostgreSQL host'], at: 'PostgreSQL port' },
  { name: 'the password', key: KEY.esc, before: ['Which environment?', ...PG_PROMPTS.slice(0, 4)], at: 'Password' },
  { name: 'the bastion question', key: KEY.ctrlC, before: ['Which environment?', ...PG_PROMPTS], at: 'behind an SSH bastion' },
  {
    name: 'the key file',
    key: KEY.esc,
    tunnel: 'ask-host-key',
    before: ['Which environment?', ...PG_PROMPTS, 'behind an SSH bastion', 'SSH host', 'SSH port', 'SSH user'],
    at: 'Private key file',
  },
  {
    name: 'the host key confirmation (tunnel closed)',
    key: KEY.ctrlC,
    tunnel: 'ask-host-key',
    before: ['Which environment?', ...PG_PROMPTS, 'behind an SSH bastion', 'SSH host', 'SSH port', 'SSH user', 'Private key file'],
    at: /Trust SHA256:\S+ and connect\?/,
  },
  {
    name: 'the connecting spinner (tunnel closed, no process.exit(0))',
    key: KEY.ctrlC,
    tunnel: 'pinned',
    silentDb: true,
    before: ['Which environment?', ...PG_PROMPTS, 'behind an SSH bastion', 'SSH host', 'SSH port', 'SSH user', 'Private key file'],
    at: /Tunnel open|Connecting through bastion/,
  },
  { name: 'the plan confirmation', key: KEY.esc, before: ['Which environment?', ...PG_PROMPTS, 'behind an SSH bastion'], at: /Apply \d+ migrations\?/ },
  {
    name: 'the typed production confirmation',
    key: KEY.ctrlC,
    env: 'production',
    before: [...PG_PROMPTS, 'behind an SSH bastion'],
    at: 'Type the database name',
  },
];

describe('cancel at each step', () => {
  for (const c of cases) {
    test(`${c.key === KEY.esc ? 'Esc' : 'Ctrl-C'} at ${c.name}: "Cancelled, nothing changed", exit 130, database unchanged`, async () => {
      const url = await db.createDatabase();
      const database = new URL(url).pathname.slice(1);
      const env = {
        ...pgEnv(database, c.silentDb ? { POSTGRES_PORT: String(silentPort) } : {}),
        ...(c.tunnel ? sshEnv(c.tunnel === 'pinned' ? { SSH_HOST_FINGERPRINT: ssh.hostKey.fingerprint } : {}) : {}),
      };
      const before = ssh.connections;
      const w = await startWizard({ env, ...(c.env ? { flags: { env: c.env } } : {}) });
      for (const prompt of c.before) {
        await w.term.waitFor(prompt);
        w.term.send(KEY.enter);
      }
      await w.term.waitFor(c.at, 30_000);
      if (c.silentDb) await new Promise((r) => setTimeout(r, 300)); // let the spinner spin
      w.term.send(c.key);
      const code = await w.done;
      const screen = w.term.text();
      assert.equal(code, 130, screen);
      assert.match(screen, /Cancelled, nothing changed|cancelled, nothing changed/);
      assert.equal(await journalExists(database), false, 'the database is unchanged');
      if (c.tunnel && c.before.includes('Private key file')) {
        assert.ok(ssh.connections > before, 'the bastion was contacted');
        assert.equal(await ssh.waitForNoConnections(5000), true, 'the tunnel is closed');
      }
      if (c.silentDb) {
        assert.match(screen, /cancelled/);
        assert.equal(ssh.openForwards, 0, 'no forwarded connection left open');
      }
      await rm(w.cwd, { recursive: true, force: true });
    });
  }
});
