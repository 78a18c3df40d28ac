/** `chatgenius-db doctor`: check each link of the chain and say which one is broken. */
import { configFlags, connectionOptions, type CommandContext, type OptionSpec } from '../command.js';
import { reporterFor } from '../output/reporter.js';
import { toLogEntry } from '../../log/logger.js';
import { runDoctor } from '../../ops/doctor.js';
import { formatCheckLine, formatTotals } from '../../ops/doctor-format.js';

export const summary = 'Check each link of the chain: env files, SSH, host key, PostgreSQL, privileges';

export const help = `Usage: chatgenius-db doctor [options]

Checks each link between you and the database, in order, and prints one line per check:
  env files, configuration, SSH key file, SSH server reachable, SSH host key known,
  SSH authentication, SSH port forwarding, PostgreSQL reachable, authentication,
  server version >= 14, extensions (citext, pgcrypto, uuid-ossp), CREATE privilege,
  migration journal (applied, pending, drift, failed run), a transaction-mode pooler
  in front of the database, and who holds the migration lock.
A link that fails skips the links behind it. Nothing is changed (an unknown SSH host
key is reported, never accepted). Secrets are never shown.

Marks: ✔ pass   ▲ warning   ✖ failed (with the fix)   – skipped
Exit code: 0 when nothing failed (warnings allowed), 1 when a check failed.

Options:
  --env local|development|test|production
  --database-url URL, --schema NAME, --no-tunnel
  --ssh-host HOST, --ssh-port PORT, --ssh-user USER, --ssh-key PATH
  --json              one JSON line per check (event "doctor_check"), then a "result" line
  --log-file PATH     append the JSON lines to PATH
  --verbose, -v       show connection events too

Examples:
  chatgenius-db doctor
  chatgenius-db doctor --env production --json
`;

export const options = connectionOptions satisfies OptionSpec;

export async function run(ctx: CommandContext): Promise<number> {
  const r = reporterFor(ctx);
  const c = r.out.colors;
  const paint = { green: c.green, red: c.red, yellow: c.yellow, dim: c.dim };
  const outcome = await runDoctor({
    flags: configFlags(ctx.flags),
    env: ctx.env,
    cwd: ctx.cwd,
    signal: ctx.signal,
    // Connection events go to the JSON log; on the terminal only with --verbose.
    emit: r.verbose
      ? r.emit
      : (e) => {
          const x = toLogEntry(e);
          r.log(x.level, x.event, x.data);
        },
    onConfig: (config) => r.addSecrets(config.connection?.password, config.tunnel?.passphrase),
    addSecrets: (...values) => r.addSecrets(...values),
    onResult: (report) => {
      r.out.line(formatCheckLine(report, paint));
      const data: Record<string, unknown> = { id: report.id, title: report.title, status: report.status, summary: report.summary, ms: report.ms };
      for (const k of ['figure', 'code', 'hint', 'details'] as const) if (report[k] !== undefined) data[k] = report[k];
      r.log(report.status === 'fail' ? 'error' : report.status === 'warn' ? 'warn' : 'info', 'doctor_check', data);
    },
  });
  if (ctx.signal.aborted) return 130;
  const t = outcome.totals;
  r.out.line('');
  r.out.line(formatTotals(t, paint));
  r.setResult({ pass: t.pass, warn: t.warn, fail: t.fail, skip: t.skip, ...(t.firstFailure ? { firstFailure: t.firstFailure } : {}) });
  return t.ok ? 0 : 1;
}

export default { summary, help, options, allowPositionals: false, run };
