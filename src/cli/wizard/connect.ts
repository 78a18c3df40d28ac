/**
 * Step: connect (a spinner: "connecting through bastion ..."), confirm a new host key by its
 * SHA256 fingerprint, read the journal, close. On failure: explain()'s title, cause and hint,
 * then retry, edit the settings, or quit. Ctrl-C / Esc during the spinner aborts the connection
 * (tunnel closed) and cancels the wizard.
 */
import type { ResolvedConfig } from '../../config/types.js';
import { noEmit, type ChatgeniusEvent } from '../../events.js';
import { explain } from '../../explain/index.js';
import type { Redactor } from '../../log/redact.js';
import type { StatusResult } from '../../migrate/types.js';
import type { HostKeyInfo, OpenedTarget } from '../../run.js';
import { describeBastion, describeConnection, framedExplanation } from '../output/format.js';
import { type Prompter, type Spinner, WizardCancelled } from './prompts.js';
import { engineOptions, openTarget } from '../../run.js';
import { status } from '../../migrate/index.js';
import { readMigrations } from '../../migrate/files.js';
import { lockPlan } from '../../lint/index.js';

export interface Probe {
  /** The target as configured, password masked. */
  label: string;
  status: StatusResult;
  serverVersion?: string;
  /** Per pending migration: the tables it locks (traced), their rows, its lint findings. */
  lockPlan?: import('../../lint/index.js').LockPlan;
  /** With `keep`: the connection (and tunnel) still open, for the steps that follow; the caller closes it. */
  opened?: OpenedTarget;
}

export type ConnectOutcome = { ok: true; probe: Probe } | { ok: false; choice: 'retry' | 'edit' | 'quit'; error: unknown };

/** Pure: the spinner's first words. */
export function connectingMessage(config: ResolvedConfig): string {
  if (config.env === 'local' && !config.connection) return 'Starting the local PostgreSQL (first time: about 10 s)';
  const target = config.connection ? describeConnection(config.connection) : config.env;
  return config.tunnel ? `Connecting through bastion ${config.tunnel.username}@${config.tunnel.host}:${config.tunnel.port} to ${target}` : `Connecting to ${target}`;
}

/** Pure: a spinner message for an event (null: keep the current one). */
export function progressMessage(e: ChatgeniusEvent): string | null {
  switch (e.type) {
    case 'tunnel:connecting':
      return e.attempt > 1 ? `Connecting to the bastion ${e.host}:${e.port} (attempt ${e.attempt})` : null;
    case 'tunnel:open':
      return `Tunnel open (${e.host}); connecting to PostgreSQL`;
    case 'retry':
      return `Retrying ${e.operation} (${e.attempt}/${e.maxRetries}) in ${e.delayMs} ms: ${e.message}`;
    case 'notice':
      return e.message;
    default:
      return null;
  }
}

export function isDeclinedHostKey(e: unknown): boolean {
  const d = (e as { code?: string; details?: { declined?: boolean } }) ?? {};
  return d.code === 'SSH_HOST_KEY_UNKNOWN' && d.details?.declined === true;
}

/** Ask about a host key seen for the first time (the spinner paused meanwhile). */
export function hostKeyConfirmer(p: Prompter, spinner: () => Spinner | undefined) {
  return async (info: HostKeyInfo): Promise<boolean> => {
    spinner()?.pause();
    p.note(
      [
        `The bastion ${info.host}:${info.port} is not in your known_hosts.`,
        `Its ${info.keyType} key fingerprint is:`,
        '',
        `  ${info.fingerprint}`,
        '',
        'Compare it with the one your administrator gave you (ssh-keygen -lf on the host).',
        'Accepted keys are saved to .chatgenius/known_hosts.',
      ].join('\n'),
      'New SSH host key',
    );
    const ok = await p.confirm({ message: `Trust ${info.fingerprint} and connect?`, initialValue: false });
    spinner()?.resume();
    return ok;
  };
}

/** The traced plan for the pending migrations (one round trip); undefined when it cannot be built. */
async function probeLockPlan(client: import('pg').Client, config: ResolvedConfig, st: StatusResult): Promise<Probe['lockPlan']> {
  try {
    const files = await readMigrations(config.migrationsDir);
    const applied = new Set(st.applied.filter((a) => a.status === 'applied').map((a) => a.version));
    const pending = new Set(st.pending.map((m) => m.version));
    return await lockPlan(client, {
      schema: config.schema,
      applied: files.filter((f) => applied.has(f.version)),
      pending: files.filter((f) => pending.has(f.version)),
      all: files,
      statementTimeoutMs: config.statementTimeoutMs,
    });
  } catch {
    return undefined;
  }
}

export async function connectAndProbe(
  p: Prompter,
  config: ResolvedConfig,
  opts: { signal: AbortSignal; redactor: Redactor; toolVersion?: string; keep?: boolean },
): Promise<ConnectOutcome> {
  let current: Spinner | undefined;
  try {
    const probe = await p.spin(
      connectingMessage(config),
      async (s, signal) => {
        current = s;
        const emit = (e: ChatgeniusEvent) => {
          const m = progressMessage(e);
          if (m) s.message(opts.redactor.redact(m));
        };
        const t = await openTarget(config, { emit, signal, confirmHostKey: hostKeyConfirmer(p, () => current) });
        opts.redactor.add(t.connection.password);
        let kept = false;
        try {
          const st = await status(t.client, engineOptions(config, noEmit, signal, opts.toolVersion));
          const label = describeConnection(t.target) + describeBastion(config.tunnel);
          const sv = (t.client as unknown as { serverVersion?: string }).serverVersion;
          s.stop(`Connected to ${label}`);
          const out: Probe = { label, status: st };
          if (st.pending.length > 0) {
            s.message('Tracing the locks of the pending migrations');
            out.lockPlan = await probeLockPlan(t.client, config, st);
          }
          if (sv) out.serverVersion = sv;
          if (opts.keep && !signal.aborted) {
            out.opened = t;
            kept = true;
          }
          return out;
        } finally {
          if (!kept) await t.close();
        }
      },
      opts.signal,
    );
    return { ok: true, probe };
  } catch (e) {
    if (e instanceof WizardCancelled) throw e;
    if (opts.signal.aborted) throw new WizardCancelled();
    if (isDeclinedHostKey(e)) throw new WizardCancelled('Host key not trusted: cancelled, nothing changed');
    const x = opts.redactor.redactValue(explain(e));
    p.error(framedExplanation(x));
    const choice = await p.select<'retry' | 'edit' | 'quit'>({
      message: 'What now?',
      options: [
        { value: 'retry', label: 'Retry', hint: 'the same settings' },
        { value: 'edit', label: 'Edit the settings' },
        { value: 'quit', label: 'Quit', hint: 'nothing changed' },
      ],
      initialValue: 'edit',
    });
    return { ok: false, choice, error: e };
  }
}
