/** `chatgenius-db seed`: fill an applied, empty schema with realistic, deterministic demo data. */
import { usageError } from '../../errors.js';
import type { Emit } from '../../events.js';
import { DEFAULT_SEED, DEFAULT_SIZE } from '../../seed/world.js';
import { connectionOptions, type CommandContext, type Flags, type OptionSpec } from '../command.js';
import { reporterFor } from '../output/reporter.js';
import { loadConfig, targetLabel, withTarget } from '../output/runner.js';
import { checkConsent } from '../../run.js';
import { checkTarget, seedDatabase } from '../../seed/load.js';
import { CancelledError } from '../../errors.js';
import { createProgress } from '../output/live-progress.js';
import { createColors } from '../output/colors.js';

export const summary = 'Fill the database with realistic demo data (deterministic from --seed)';

export const help = `Usage: chatgenius-db seed [--users N] [--channels N] [--messages N] [--seed S] [options]

Fills an applied, empty schema with realistic demo data: users with settings, status and sync
state; channels of very different sizes with members, an owner and a few admins; messages spread
heavy-tailed across channels and bursty over 180 days; reactions, files, read receipts; a few
soft-deleted users, channels and messages. Every id is a ULID whose time part is the row's
created_at. The same --seed gives the same rows on every machine.

Loads with COPY in one transaction (all or nothing). The real-time triggers are off during the
load, so listeners get one summary notification on channel chatgenius_seed, not one per row.

Options:
  --users N              users (default 300)
  --channels N           channels (default 40)
  --messages N           messages (default 30000; 1000000 takes about a minute)
  --seed S               any text or number (default "chatgenius")
  --force                required (with the typed confirmation) to seed a production database
  --confirm-database NAME   the typed confirmation's flag form: the production database's name
  --env local|development|test|production   which environment (else CHATGENIUS_ENV)
  --database-url URL     postgres://user:password@host:port/db (else DATABASE_URL, POSTGRES_*)
  --schema NAME          target schema (default public; test: test)
  --dry-run              check the target and show what would be loaded; write nothing
  --json                 JSON lines on stdout (LogFormat), last line event "result"
  --log-file PATH        append the JSON lines to PATH (created mode 0600)
  --ssh-host HOST --ssh-port N --ssh-user USER --ssh-key PATH   the SSH tunnel (else SSH_*)
  --no-tunnel            connect directly even when SSH_HOST is set
  --verbose, -v          more detail

Examples:
  chatgenius-db seed --env local
  chatgenius-db seed --env test --messages 100000 --seed demo-2
  chatgenius-db seed --env production --force --confirm-database chatgenius_staging
`;

export const options = {
  ...connectionOptions,
  users: { type: 'string' },
  channels: { type: 'string' },
  messages: { type: 'string' },
  seed: { type: 'string' },
  force: { type: 'boolean' },
} as const satisfies OptionSpec;

export interface SeedSizes {
  users: number;
  channels: number;
  messages: number;
  seed: string;
}

const DEFAULTS = { ...DEFAULT_SIZE, seed: DEFAULT_SEED } as const;

/** Pure: sizes from the flags; a bad number is a usage error (exit 2). */
export function parseSizes(flags: Flags): SeedSizes {
  const num = (name: 'users' | 'channels' | 'messages', min: number): number => {
    const v = flags[name];
    if (v === undefined) return DEFAULTS[name];
    const text = String(v).replace(/_/g, '');
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > 100_000_000) {
      throw usageError('USAGE_BAD_FLAG_VALUE', `--${name} must be a whole number from ${min} to 100000000, got ${String(v)}`, {
        flag: `--${name}`,
        command: 'seed',
      });
    }
    return Number(text);
  };
  const seed = typeof flags.seed === 'string' ? flags.seed : DEFAULTS.seed;
  if (seed.length === 0 || seed.length > 200) throw usageError('USAGE_BAD_FLAG_VALUE', '--seed must be 1 to 200 characters', { flag: '--seed', command: 'seed' });
  return { users: num('users', 1), channels: num('channels', 1), messages: num('messages', 0), seed };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

export async function run(ctx: CommandContext): Promise<number> {
  const r = reporterFor(ctx);
  const sizes = parseSizes(ctx.flags);
  const config = await loadConfig(ctx, r);

  // Production: refused unless --force plus the typed confirmation. Both are checked before
  // anything connects, so a refusal writes nothing.
  if (config.env === 'production' && !config.dryRun) {
    if (ctx.flags.force !== true) {
      throw usageError(
        'SEED_PRODUCTION_REFUSED',
        `Seeding fills ${config.connection?.database ?? 'the database'} with demo data; in production it needs --force and --confirm-database NAME`,
        {
          database: config.connection?.database,
          flag: '--force',
        },
      );
    }
    const database = config.connection?.database;
    if (!config.confirmDatabase && ctx.interactive) {
      const typed = await askDatabaseName(database ?? '');
      if (typed !== database) {
        throw usageError('PRODUCTION_CONFIRMATION_MISMATCH', `Typed ${typed} does not match the target ${database}`, { database, given: typed, action: 'seed' });
      }
    } else {
      checkConsent(config, 'seed', database, { interactive: ctx.interactive });
    }
  }

  return withTarget(ctx, config, r, async (t) => {
    const label = targetLabel(config, t);
    r.setResult({ env: config.env, target: label, schema: config.schema, seed: sizes.seed, dryRun: config.dryRun });
    if (config.dryRun) {
      await checkTarget(t.client, config.schema);
      r.out.info(
        `Dry run: would load ${fmt(sizes.users)} users, ${fmt(sizes.channels)} channels and ${fmt(sizes.messages)} messages (plus settings, members, reactions, files, read receipts) into ${label} (schema ${config.schema}), seed "${sizes.seed}".`,
      );
      r.out.info('Nothing was changed (--dry-run).');
      return 0;
    }
    r.out.info(`Seeding ${label} (schema ${config.schema}) with seed "${sizes.seed}"`);
    // The live line goes to stderr (stdout stays for results); under --json the log has the events.
    const progress = r.json ? undefined : createProgress(ctx.io.stderr, createColors(ctx.io.stderr, ctx.env));
    const emit: Emit = (e) => {
      r.emit(e);
      if (e.type === 'seed:progress') progress?.update({ label: e.table, percent: e.percent, rows: e.loaded });
    };
    // Ctrl-C: the line goes before main.ts prints "Cancelling" (abort listeners run first).
    const onAbort = (): void => progress?.clear();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let res;
    try {
      res = await seedDatabase(t.client, { ...sizes, schema: config.schema, emit, signal: ctx.signal });
    } finally {
      progress?.clear();
      ctx.signal.removeEventListener('abort', onAbort);
    }
    const c = res.counts;
    r.setResult({ counts: c, totalRows: res.totalRows, loadMs: res.loadMs, rowsPerSec: res.rowsPerSec, triggerMode: res.triggerMode });
    r.out.success(
      `Seeded ${fmt(res.totalRows)} rows in ${(res.loadMs / 1000).toFixed(1)} s (${fmt(res.rowsPerSec)} rows/s): ` +
        `${fmt(c.users)} users, ${fmt(c.channels)} channels, ${fmt(c.channel_members)} memberships, ${fmt(c.messages)} messages, ` +
        `${fmt(c.reactions)} reactions, ${fmt(c.files)} files, ${fmt(c.message_reads)} read receipts`,
    );
    if (r.verbose) {
      r.out.info(
        `Triggers quiet during the load via ${res.triggerMode === 'replica' ? 'session_replication_role = replica' : `ALTER TABLE ... DISABLE TRIGGER (${res.triggersDisabled.join(', ')})`}; ` +
          `derived tables filled: ${res.derived.join(', ') || 'none'}; VACUUM ANALYZE ${(res.analyzeMs / 1000).toFixed(1)} s`,
      );
    }
    return 0;
  });
}

async function askDatabaseName(database: string): Promise<string> {
  const clack = await import('@clack/prompts');
  const answer = await clack.text({ message: `This fills the PRODUCTION database ${database} with demo data. Type its name to confirm:` });
  if (clack.isCancel(answer)) throw new CancelledError();
  return String(answer);
}
