/** `chatgenius-db listen [CHANNEL...]`: print real-time notifications until Ctrl-C. */
import { configFlags, connectionOptions, type CommandContext, type OptionSpec } from '../command.js';
import { reporterFor } from '../output/reporter.js';
import { resolveConfig } from '../../config/index.js';
import { listen } from '../../ops/listen.js';
import { normalizeChannel, prettyLine } from '../../ops/notification.js';
import { toLogEntry } from '../../log/logger.js';
import { createColors } from '../output/colors.js';

export const summary = 'Print real-time notifications (chatgenius_* channels) until Ctrl-C';

export const help = `Usage: chatgenius-db listen [CHANNEL...] [options]

Connects (through the SSH tunnel when one is configured), LISTENs on the schema's
notification channels and prints each notification as it arrives. The triggers send
{schema, table, op, ids, at} on channel chatgenius_<table>: never message content.

CHANNEL is a table (messages) or a channel (chatgenius_messages); without one, every
table of the schema that has a notification trigger, plus chatgenius_seed (the one summary
the seed command sends). Only notifications of the target schema are shown (public and
test share the channel names).

Follows the schema's real-time mode (chatgenius-db realtime status): in notify mode it
LISTENs; in logical mode it streams the changes from a temporary replication slot
(logical decoding, pgoutput) and prints the same events in the same shape. The slot goes
away with the connection, however listen ends. Logical mode needs wal_level=logical and a
role with REPLICATION (realtime status says what is missing and how to fix it).

If the connection drops (server restart, pg_terminate_backend, a dropped tunnel) listen
says so on stderr, reconnects with the environment's retry policy and goes on.
Changes made while disconnected are not shown (in either mode listen starts from "now").
Ctrl-C ends it: exit 0.

Output: pretty lines on stdout (status on stderr); with --json one JSON line per
notification (LogFormat, event "notification") and the status as JSON lines too.

Options:
  --env local|development|test|production
  --database-url URL, --schema NAME, --no-tunnel, --ssh-host ... (as for init)
  --json              JSON lines on stdout
  --log-file PATH     append the JSON lines to PATH

Examples:
  chatgenius-db listen
  chatgenius-db listen messages reactions --json | jq .data.payload
`;

export const options = connectionOptions satisfies OptionSpec;
export const allowPositionals = true;

export async function run(ctx: CommandContext): Promise<number> {
  const r = reporterFor(ctx);
  try {
    for (const c of ctx.positionals) normalizeChannel(c); // bad names: exit 2 before connecting
    const config = resolveConfig({ flags: configFlags(ctx.flags), env: ctx.env, cwd: ctx.cwd, interactive: false });
    r.addSecrets(config.connection?.password, config.tunnel?.passphrase);
    const err = r.errColors;
    const out = createColors(ctx.io.stdout, ctx.env);
    const say = (text: string) => ctx.io.stderr.write(r.redactor.redact(`${text}\n`));
    const paint = {
      dim: out.dim,
      bold: out.bold,
      op: (op: string) => (op.startsWith('INSERT') ? out.green(op) : op.startsWith('DELETE') ? out.red(op) : out.yellow(op)),
    };
    const summary = await listen({
      config,
      channels: ctx.positionals,
      signal: ctx.signal,
      // Connection events: JSON log always, terminal only with --verbose.
      emit: (e) => {
        const x = toLogEntry(e);
        r.log(x.level, x.event, x.data);
        if (r.verbose) r.emit(e);
      },
      onNotification: (n) => {
        if (r.json) {
          r.log('info', 'notification', { channel: n.channel, payload: n.payload, senderPid: n.senderPid });
        } else {
          ctx.io.stdout.write(r.redactor.redact(`${prettyLine(n, paint)}\n`));
          r.log('info', 'notification', { channel: n.channel, payload: n.payload, senderPid: n.senderPid });
        }
      },
      onStatus: (s) => {
        if (s.type === 'listening') {
          r.log('info', 'listening', {
            channels: s.channels,
            pid: s.pid,
            reconnect: s.reconnect,
            schema: config.schema,
            mode: s.mode,
            ...(s.slot ? { slot: s.slot } : {}),
          });
          const how = s.mode === 'logical' ? `logical decoding, temporary slot ${s.slot ?? '?'}` : 'NOTIFY';
          say(
            s.reconnect
              ? `${err.green('✔')} Reconnected; listening again on ${s.channels.length} channels (${how})`
              : `${err.cyan('●')} Listening on ${s.channels.join(', ')} (schema ${config.schema}, ${how}); Ctrl-C to stop`,
          );
        } else if (s.type === 'mode-changed') {
          r.log('info', 'realtime_mode_changed', { mode: s.mode, schema: config.schema });
          say(`${err.cyan('●')} Real-time mode of schema ${config.schema} is now ${s.mode}: following it`);
        } else if (s.type === 'lost') {
          r.log('warn', 'connection_lost', { message: s.message, ...(s.code ? { code: s.code } : {}) });
          say(`${err.yellow('▲')} Connection lost: ${s.message}${s.code ? ` (${s.code})` : ''}`);
        } else if (s.type === 'silent-channels') {
          r.log('warn', 'silent_channels', { channels: s.channels, schema: config.schema });
          say(`${err.yellow('▲')} No trigger in schema ${config.schema} sends on ${s.channels.join(', ')} (listening anyway)`);
        } else {
          r.log('info', 'reconnecting', { attempt: s.attempt });
          say(`${err.cyan('●')} Reconnecting (retry policy: ${config.retry.maxRetries} attempts, ${config.retry.retryDelayMs} ms × attempt)`);
        }
      },
    });
    r.setResult({ received: summary.received, reconnects: summary.reconnects, channels: summary.channels });
    if (ctx.signal.aborted) say(`${err.dim(`Stopped after ${summary.received} notifications.`)}`);
    return 0; // Ctrl-C is listen's normal end
  } catch (e) {
    if (ctx.signal.aborted) return 0;
    return r.fail(e);
  }
}

export default { summary, help, options, allowPositionals, run };
