/**
 * Bulk-load generated demo data into an applied ChatGenius schema, in one transaction:
 * COPY FROM STDIN for every table (messages streamed straight from the generator; the rows that
 * hang off messages (files, reactions, read receipts) spooled to temp files meanwhile, then
 * copied), with the notification triggers off for the load so no NOTIFY fires per row, derived
 * tables filled in SQL afterwards, and one summary NOTIFY on `chatgenius_seed` at commit.
 *
 * Never prints: progress goes out as `seed:progress` events. Takes an already connected client.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { ChatgeniusError } from '../errors.js';
import { noEmit, type Emit } from '../events.js';
import { quoteIdent, validateSchemaName } from '../migrate/sql-text.js';
import { copyFrom, copyLine } from './copy.js';
import {
  DEFAULT_SEED,
  TABLE_COLUMNS,
  TABLE_ORDER,
  generateSeed,
  type ActivityTable,
  type GenerateOptions,
  type Row,
  type StaticTable,
  type TableName,
} from './generate.js';
import { refuseTransactionPooler } from '../migrate/lock.js';

export interface SeedOptions extends Partial<GenerateOptions> {
  users: number;
  channels: number;
  messages: number;
  schema: string;
  emit?: Emit;
  signal?: AbortSignal;
  /** VACUUM (ANALYZE) the tables after the load: planner statistics and index-only scans (default true). */
  analyze?: boolean;
}

export type TriggerMode = 'replica' | 'disabled';

export interface SeedResult {
  schema: string;
  seed: string;
  counts: Record<TableName, number>;
  totalRows: number;
  /** BEGIN .. COMMIT. */
  loadMs: number;
  analyzeMs: number;
  rowsPerSec: number;
  /** How triggers were kept quiet: session_replication_role = replica, or ALTER TABLE ... DISABLE TRIGGER. */
  triggerMode: TriggerMode;
  /** User triggers switched off (and back on) by name. */
  triggersDisabled: string[];
  /** Derived tables filled in SQL after the load (their triggers were off). */
  derived: string[];
}

const SPOOLED: readonly ActivityTable[] = ['files', 'reactions', 'message_reads'];
const STATIC: readonly StaticTable[] = ['users', 'user_settings', 'user_status', 'sync_state', 'channels', 'channel_members'];
const CHUNK = 256 * 1024;
/** The NOTIFY channel of the one summary notification a seed sends at commit. */
export const SEED_CHANNEL = 'chatgenius_seed';

/** The schema, validated by the engine's rule (seed fills what the engine built) and quoted. */
const quoteSchema = (schema: string): string => quoteIdent(validateSchemaName(schema));

/**
 * Tables some schema versions keep up to date with triggers; while triggers are off during the
 * load we fill them ourselves. Each filler runs only when its table exists. (Kept in one place so
 * a new derived table of sql/ gets one line here.)
 */
export interface DerivedFiller {
  table: string;
  /** SQL with `$S` for the quoted schema. */
  sql: string;
}
export const DERIVED_FILLERS: DerivedFiller[] = [
  {
    // sql/0004: the newest message each member has read per channel (trigger on message_reads).
    table: 'channel_read_cursors',
    sql: `INSERT INTO $S.channel_read_cursors (user_id, channel_id, last_read_at, last_read_message_id, updated_at)
          SELECT DISTINCT ON (r.user_id, m.channel_id) r.user_id, m.channel_id, m.created_at, m.id, r.read_at
            FROM $S.message_reads r JOIN $S.messages m ON m.id = r.message_id
           ORDER BY r.user_id, m.channel_id, m.created_at DESC, m.id DESC
          ON CONFLICT (user_id, channel_id) DO NOTHING`,
  },
];

/** Which of the ten tables are missing from the schema (empty: the schema is applied). */
export async function missingTables(client: pg.Client, schema: string): Promise<string[]> {
  const r = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname = ANY($2::text[])`,
    [schema, TABLE_ORDER],
  );
  const have = new Set(r.rows.map((x) => x.relname));
  return TABLE_ORDER.filter((t) => !have.has(t));
}

/** Refuse before anything is written: schema not applied, or data already there. */
export async function checkTarget(client: pg.Client, schema: string): Promise<void> {
  const s = quoteSchema(schema);
  const missing = await missingTables(client, schema);
  if (missing.length > 0) {
    throw new ChatgeniusError(
      'SEED_SCHEMA_MISSING',
      `The ChatGenius schema is not applied in schema ${schema} (missing: ${missing.join(', ')}); run \`chatgenius-db init\` first`,
      { schema, missing },
    );
  }
  const r = await client.query<{ users: boolean; channels: boolean; messages: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${s}.users) AS users, EXISTS (SELECT 1 FROM ${s}.channels) AS channels,
            EXISTS (SELECT 1 FROM ${s}.messages) AS messages`,
  );
  const row = r.rows[0]!;
  const nonEmpty = (['users', 'channels', 'messages'] as const).filter((t) => row[t]);
  if (nonEmpty.length > 0) {
    throw new ChatgeniusError('SEED_NOT_EMPTY', `Schema ${schema} already holds data (${nonEmpty.join(', ')}); seed fills an empty schema only`, {
      schema,
      tables: nonEmpty,
    });
  }
}

interface TriggerRow {
  table: string;
  name: string;
  enabled: 'O' | 'A' | 'R' | 'D';
}

async function userTriggers(client: pg.Client, schema: string): Promise<TriggerRow[]> {
  const r = await client.query<TriggerRow>(
    `SELECT c.relname AS table, t.tgname AS name, t.tgenabled AS enabled
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT t.tgisinternal AND c.relname = ANY($2::text[])
      ORDER BY c.relname, t.tgname`,
    [schema, TABLE_ORDER],
  );
  return r.rows;
}

/**
 * Inside the load's transaction: quiet every user trigger. Superusers (or roles granted SET on
 * session_replication_role) get `replica` mode, which also skips the per-row foreign key checks;
 * triggers marked ENABLE ALWAYS/REPLICA still fire then, so those are disabled by name. Others
 * disable our tables' triggers by name (needs table ownership), restored by `restoreTriggers`.
 */
async function quietTriggers(client: pg.Client, schema: string): Promise<{ mode: TriggerMode; disabled: TriggerRow[] }> {
  const all = (await userTriggers(client, schema)).filter((t) => t.enabled !== 'D');
  let mode: TriggerMode = 'disabled';
  await client.query('SAVEPOINT seed_replica');
  try {
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query('RELEASE SAVEPOINT seed_replica');
    mode = 'replica';
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT seed_replica');
    await client.query('RELEASE SAVEPOINT seed_replica');
  }
  const toDisable = mode === 'replica' ? all.filter((t) => t.enabled === 'A' || t.enabled === 'R') : all;
  const s = quoteSchema(schema);
  for (const t of toDisable) {
    try {
      await client.query(`ALTER TABLE ${s}.${quoteName(t.table)} DISABLE TRIGGER ${quoteName(t.name)}`);
    } catch (e) {
      throw new ChatgeniusError(
        'SEED_TRIGGERS_LOCKED',
        `Cannot switch off trigger ${t.name} on ${schema}.${t.table} for the bulk load (${(e as Error).message})`,
        { schema, table: t.table, trigger: t.name, sqlstate: (e as { code?: string }).code },
        { cause: e },
      );
    }
  }
  return { mode, disabled: toDisable };
}

async function restoreTriggers(client: pg.Client, schema: string, disabled: TriggerRow[]): Promise<void> {
  const s = quoteSchema(schema);
  for (const t of disabled) {
    const how = t.enabled === 'A' ? 'ENABLE ALWAYS' : t.enabled === 'R' ? 'ENABLE REPLICA' : 'ENABLE';
    await client.query(`ALTER TABLE ${s}.${quoteName(t.table)} ${how} TRIGGER ${quoteName(t.name)}`);
  }
}

/** Quote a catalog name we read back from PostgreSQL (not user input). */
function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Rows -> COPY text chunks of ~256 KB, counting as it goes. */
function* chunks(rows: Iterable<Row>, count: { n: number }): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  for (const row of rows) {
    const line = copyLine(row);
    parts.push(line);
    size += line.length;
    count.n++;
    if (size >= CHUNK) {
      yield parts.join('');
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) yield parts.join('');
}

/** The chunks of a COPY text file as they are read, reporting the rows (lines) passed so far. */
async function* countLines(chunks: AsyncIterable<Buffer>, onRows: (rows: { added: number; total: number }) => void): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of chunks) {
    let added = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) added++;
    yield chunk;
    total += added;
    onRows({ added, total });
  }
}

class Spool {
  private parts: string[] = [];
  private size = 0;
  rows = 0;
  readonly stream: WriteStream;
  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { mode: 0o600 });
  }
  async add(row: Row): Promise<void> {
    const line = copyLine(row);
    this.parts.push(line);
    this.size += line.length;
    this.rows++;
    if (this.size >= CHUNK) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const ok = this.stream.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
    if (!ok) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
  }
  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(resolve);
    });
  }
}

function copySql(schema: string, table: TableName): string {
  return `COPY ${quoteSchema(schema)}.${table} (${TABLE_COLUMNS[table].join(', ')}) FROM STDIN`;
}

/** Seed an empty, applied schema. Throws ChatgeniusError before writing anything if it can't. */
// Long on purpose: the seed's checks, then one COPY per table in dependency order, in one transaction.
export async function seedDatabase(client: pg.Client, opts: SeedOptions): Promise<SeedResult> {
  const emit = opts.emit ?? noEmit;
  const schema = opts.schema;
  const s = quoteSchema(schema);
  const seed = String(opts.seed ?? DEFAULT_SEED);
  const gen = generateSeed({
    users: opts.users,
    channels: opts.channels,
    messages: opts.messages,
    seed,
    ...(opts.endTime !== undefined ? { endTime: opts.endTime } : {}),
    ...(opts.spanDays !== undefined ? { spanDays: opts.spanDays } : {}),
  });
  await checkTarget(client, schema);
  // The load runs in one session (temp settings, COPY, the triggers switched off and on again).
  await refuseTransactionPooler(client, 'nothing was loaded');

  const counts = Object.fromEntries(TABLE_ORDER.map((t) => [t, 0])) as Record<TableName, number>;
  const staticTotal = opts.users * 3 + opts.channels + gen.world.channels.reduce((a, c) => a + c.members.length, 0);
  // Rough share of the work per phase, for the percentage.
  const weightStatic = staticTotal / (staticTotal + opts.messages * 1.6 + 1);
  let lastPercent = -1;
  let lastAt = 0;
  let loaded = 0;
  // An event per whole percent, at the end of each table, and at most every 250 ms otherwise
  // (rows/s and the time left stay current while a big table loads).
  const progress = (table: string, rows: number, totalRows: number, percent: number): void => {
    const p = Math.min(100, Math.floor(percent));
    const at = Date.now();
    if (p === lastPercent && rows !== totalRows && at - lastAt < 250) return;
    lastPercent = p;
    lastAt = at;
    emit({ type: 'seed:progress', table, rows, totalRows, percent: p, loaded });
  };

  const dir = await mkdtemp(join(tmpdir(), 'chatgenius-seed-'));
  const started = Date.now();
  let inTx = false;
  try {
    await client.query(`BEGIN; SET LOCAL search_path TO ${s}, public; SET LOCAL synchronous_commit = off`);
    inTx = true;
    const quiet = await quietTriggers(client, schema);

    let staticDone = 0;
    for (const table of STATIC) {
      const n = { n: 0 };
      const copied = await copyFrom(client, copySql(schema, table), chunks(gen.staticRows(table), n), opts.signal);
      counts[table] = copied;
      staticDone += copied;
      loaded += copied;
      progress(table, copied, copied, (100 * weightStatic * staticDone) / Math.max(staticTotal, 1));
    }

    // Messages, streamed; their files, reactions and read receipts go to spool files meanwhile.
    const spools = Object.fromEntries(SPOOLED.map((t) => [t, new Spool(join(dir, `${t}.copy`))])) as Record<ActivityTable, Spool>;
    const messageTotal = opts.messages;
    const messagePhase = (1 - weightStatic) * 0.75;
    const messageChunks = async function* (): AsyncGenerator<string> {
      let parts: string[] = [];
      let size = 0;
      let n = 0;
      for (const [table, row] of gen.activityRows()) {
        if (table !== 'messages') {
          await spools[table].add(row);
          continue;
        }
        const line = copyLine(row);
        parts.push(line);
        size += line.length;
        n++;
        if (size >= CHUNK) {
          yield parts.join('');
          loaded += parts.length;
          parts = [];
          size = 0;
          progress('messages', n, messageTotal, 100 * (weightStatic + (messagePhase * n) / Math.max(messageTotal, 1)));
        }
      }
      if (parts.length > 0) yield parts.join('');
      loaded += parts.length;
    };
    counts.messages = await copyFrom(client, copySql(schema, 'messages'), messageChunks(), opts.signal);
    progress('messages', counts.messages, messageTotal, 100 * (weightStatic + messagePhase));
    for (const sp of Object.values(spools)) await sp.close();

    const spooledTotal = SPOOLED.reduce((a, t) => a + spools[t].rows, 0);
    let spooledDone = 0;
    const spooledPercent = (done: number): number => 100 * (weightStatic + messagePhase + ((1 - weightStatic - messagePhase) * done) / Math.max(spooledTotal, 1));
    for (const table of SPOOLED) {
      const lines = countLines(createReadStream(spools[table].path, { highWaterMark: CHUNK }), (rows) => {
        loaded += rows.added;
        progress(table, rows.total, spools[table].rows, spooledPercent(spooledDone + rows.total));
      });
      counts[table] = await copyFrom(client, copySql(schema, table), lines, opts.signal);
      spooledDone += counts[table];
      progress(table, counts[table], spools[table].rows, spooledPercent(spooledDone));
    }

    const derived: string[] = [];
    for (const f of DERIVED_FILLERS) {
      const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${s}.${quoteName(f.table)}`]);
      if (!exists.rows[0]?.ok) continue;
      await client.query(f.sql.replaceAll('$S', s));
      derived.push(f.table);
    }

    await restoreTriggers(client, schema, quiet.disabled);
    const totalRows = TABLE_ORDER.reduce((a, t) => a + counts[t], 0);
    await client.query('SELECT pg_notify($1, $2)', [SEED_CHANNEL, JSON.stringify({ schema, op: 'SEED', seed, counts, time: new Date().toISOString() })]);
    await client.query('COMMIT');
    inTx = false;
    const loadMs = Date.now() - started;

    let analyzeMs = 0;
    if (opts.analyze !== false) {
      const a0 = Date.now();
      // VACUUM too: it sets the visibility map, so the hot queries get index-only scans at once.
      const tables = [...TABLE_ORDER.map((t) => `${s}.${t}`), ...derived.map((t) => `${s}.${quoteName(t)}`)];
      await client.query(`VACUUM (ANALYZE) ${tables.join(', ')}`);
      analyzeMs = Date.now() - a0;
    }
    return {
      schema,
      seed,
      counts,
      totalRows,
      loadMs,
      analyzeMs,
      rowsPerSec: Math.round(totalRows / Math.max(loadMs / 1000, 0.001)),
      triggerMode: quiet.mode,
      triggersDisabled: quiet.disabled.map((t) => `${t.table}.${t.name}`),
      derived,
    };
  } catch (e) {
    if (inTx) await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
