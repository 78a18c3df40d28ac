/**
 * The real-time mode of a schema: `notify` (the triggers of sql/0005 send pg_notify) or
 * `logical` (a publication carries the changes through logical decoding; the triggers stand
 * aside, sql/0007). The mode is recorded in the database itself, as the publication
 * `chatgenius_realtime_<schema>`: every tool and app sees the same answer with one query. The
 * notify triggers are disabled in logical mode, in the same transaction that creates it.
 *
 * Reading the mode, checking the prerequisites of logical decoding, switching: functions over a
 * pg client that return results; the CLI prints (src/cli/commands/realtime.ts).
 */
import type pg from 'pg';
import { ChatgeniusError } from '../errors.js';
import { quoteIdent, validateSchemaName } from '../migrate/sql-text.js';
import { logicalSlots, notifyTriggers, publicationColumns, publicationName, realtimeTables, tablesOf, type SlotInfo } from './realtime-catalog.js';
import { checkPrerequisites, logicalFacts, type Prerequisite } from './realtime-prerequisites.js';

export {
  logicalSlots,
  notifyTriggers,
  publicationName,
  realtimeTables,
  splitTriggerArgs,
  type NotifyTrigger,
  type RealtimeTable,
  type SlotInfo,
} from './realtime-catalog.js';
export { checkPrerequisites, logicalFacts, type LogicalFacts, type Prerequisite, type Provider } from './realtime-prerequisites.js';

export type RealtimeMode = 'notify' | 'logical';

/** The channel `realtime use` notifies on, so that running notify-mode listeners follow a switch. */
export const MODE_CHANNEL = 'chatgenius_realtime';

export interface RealtimeStatus {
  schema: string;
  mode: RealtimeMode;
  publication: string;
  /** Tables the publication holds (logical mode), or that the notify triggers cover. */
  tables: string[];
  /** Tables with a notify trigger that the publication is missing (logical mode; a new table since the switch). */
  missing: string[];
  /** Notify mode: notify triggers that are disabled (ALTER TABLE ... DISABLE TRIGGER): those tables do not notify. */
  disabledTriggers: string[];
  /**
   * Logical mode: notify triggers that are enabled (by hand, or created since the switch): those
   * tables notify beside the stream, and their writers pay for both.
   */
  enabledTriggers: string[];
  /** When and by whom the mode was last switched (the publication's comment), logical mode only. */
  since?: string;
  slots: SlotInfo[];
  prerequisites: Prerequisite[];
}

export async function realtimeMode(client: pg.Client, schema: string): Promise<RealtimeMode> {
  const r = await client.query('select 1 from pg_catalog.pg_publication where pubname = $1', [publicationName(schema)]);
  return r.rowCount ? 'logical' : 'notify';
}

/** The publication's tables and, on PostgreSQL 15 and newer, the columns it publishes of each. */
async function publishedColumnLists(client: pg.Client, schema: string): Promise<Map<string, string[] | null>> {
  const v = Number((await client.query<{ v: string }>(`select pg_catalog.current_setting('server_version_num') as v`)).rows[0]!.v);
  const r = await client.query<{ tablename: string; attnames: string[] | null }>(
    `select tablename, ${v >= 150000 ? 'attnames::text[]' : 'null::text[]'} as attnames from pg_catalog.pg_publication_tables where pubname = $1 and schemaname = $2`,
    [publicationName(schema), schema],
  );
  return new Map(r.rows.map((x) => [x.tablename, x.attnames]));
}

export async function realtimeStatus(client: pg.Client, schema: string): Promise<RealtimeStatus> {
  const mode = await realtimeMode(client, schema);
  const triggers = await notifyTriggers(client, schema);
  const tables = tablesOf(triggers).map((t) => t.table);
  const published = mode === 'logical' ? [...(await publishedColumnLists(client, schema)).keys()].sort() : [];
  let since: string | undefined;
  if (mode === 'logical') {
    const c = await client.query<{ d: string | null }>(
      `select pg_catalog.obj_description(oid, 'pg_publication') as d from pg_catalog.pg_publication where pubname = $1`,
      [publicationName(schema)],
    );
    since = c.rows[0]?.d ?? undefined;
  }
  return {
    schema,
    mode,
    publication: publicationName(schema),
    tables: mode === 'logical' ? published : tables,
    missing: mode === 'logical' ? tables.filter((t) => !published.includes(t)) : [],
    disabledTriggers: mode === 'notify' ? triggers.filter((t) => !t.enabled).map((t) => t.name) : [],
    enabledTriggers: mode === 'logical' ? triggers.filter((t) => t.enabled).map((t) => t.name) : [],
    ...(since ? { since } : {}),
    slots: await logicalSlots(client),
    prerequisites: checkPrerequisites(await logicalFacts(client, schema)),
  };
}

export interface SwitchResult {
  schema: string;
  mode: RealtimeMode;
  /** false when the database already was in that mode. */
  changed: boolean;
  /** When the schema already was in the mode: notify triggers that did not match it (switched by hand) and were switched back. */
  triggersSwitched: number;
  publication: string;
  tables: string[];
  /** Permanent logical slots of this database other consumers own: they may read the dropped publication. */
  otherSlots: SlotInfo[];
}

/**
 * Switch to logical mode: check every prerequisite (the first unmet one is thrown, with all of
 * them in its details), then create the publication for the real-time tables in one short
 * transaction (CREATE PUBLICATION takes SHARE UPDATE EXCLUSIVE on the tables: the app's reads
 * and writes go on) and tell running listeners. Idempotent: already logical with the same
 * tables changes nothing; a new real-time table is added.
 */
export async function useLogical(client: pg.Client, schema: string, who: string): Promise<SwitchResult> {
  validateSchemaName(schema);
  const realtime = await realtimeTables(client, schema);
  const tables = realtime.map((t) => t.table);
  if (tables.length === 0) {
    throw new ChatgeniusError('REALTIME_NO_TABLES', `No real-time (notify) triggers in schema ${schema}`, { schema });
  }
  const prereqs = checkPrerequisites(await logicalFacts(client, schema));
  const unmet = prereqs.filter((p) => !p.ok);
  if (unmet.length > 0) {
    const first = unmet[0]!.problem!;
    throw new ChatgeniusError(first.code, first.message, { ...first.details, unmet: unmet.map((p) => p.found), schema });
  }
  const pub = publicationName(schema);
  const current = (await realtimeMode(client, schema)) === 'logical' ? await publishedColumnLists(client, schema) : null;
  // The id columns and the replica identity only (PostgreSQL 15+): message content never leaves the server.
  const columns = await publicationColumns(client, schema, realtime);
  const list = tables
    .map((t) => {
      const cols = columns.get(t);
      return `${quoteIdent(schema)}.${quoteIdent(t)}${cols ? ` (${cols.map(quoteIdent).join(', ')})` : ''}`;
    })
    .join(', ');
  const sameColumns = (t: string) => {
    const want = columns.get(t);
    const have = current?.get(t);
    return !want || (!!have && have.length === want.length && want.every((c) => have.includes(c)));
  };
  const same = current !== null && current.size === tables.length && tables.every((t) => current.has(t) && sameColumns(t));
  if (!same) {
    const comment = `ChatGenius real-time: logical mode for schema ${schema}, set ${new Date().toISOString()} by ${who}`;
    await inTransaction(client, async () => {
      await client.query(`set local lock_timeout = '5s'`);
      if (current === null) {
        await client.query(`create publication ${quoteIdent(pub)} for table ${list} with (publish = 'insert, update, delete')`);
      } else {
        await client.query(`alter publication ${quoteIdent(pub)} set table ${list}`);
      }
      await client.query(`comment on publication ${quoteIdent(pub)} is ${literal(comment)}`);
      await setNotifyTriggers(client, schema, false);
      await client.query('select pg_catalog.pg_notify($1, $2)', [MODE_CHANNEL, JSON.stringify({ schema, mode: 'logical' })]);
    });
  }
  const switched = same ? await setNotifyTriggers(client, schema, false) : 0;
  return { schema, mode: 'logical', changed: !same, triggersSwitched: switched, publication: pub, tables, otherSlots: [] };
}

/**
 * The notify triggers of `schema` switched on or off where they are not already (no lock taken
 * for nothing), in one round trip after reading them; returns how many were switched. Logical
 * mode switches them off: the writers then pay nothing for real-time; notify mode switches them
 * back on. The record of the mode stays the publication. The function does not check the mode
 * itself (sql/0009: that check was a catalog query on every statement): a notify trigger enabled
 * by hand in logical mode notifies, and `realtime status` and `doctor` name it.
 */
async function setNotifyTriggers(client: pg.Client, schema: string, on: boolean): Promise<number> {
  const wrong = (await notifyTriggers(client, schema)).filter((t) => t.enabled !== on);
  if (wrong.length > 0) {
    await client.query(
      wrong.map((t) => `alter table ${quoteIdent(schema)}.${quoteIdent(t.table)} ${on ? 'enable' : 'disable'} trigger ${quoteIdent(t.name)}`).join(';\n'),
    );
  }
  return wrong.length;
}

/** Switch to notify mode: drop what logical mode made (the publication); the triggers notify again at once. */
export async function useNotify(client: pg.Client, schema: string): Promise<SwitchResult> {
  validateSchemaName(schema);
  const pub = publicationName(schema);
  const tables = (await realtimeTables(client, schema)).map((t) => t.table);
  const was = await realtimeMode(client, schema);
  if (was === 'logical') {
    await inTransaction(client, async () => {
      await client.query(`set local lock_timeout = '5s'`);
      await client.query(`drop publication if exists ${quoteIdent(pub)}`);
      await setNotifyTriggers(client, schema, true);
      await client.query('select pg_catalog.pg_notify($1, $2)', [MODE_CHANNEL, JSON.stringify({ schema, mode: 'notify' })]);
    });
  }
  const switched = was === 'logical' ? 0 : await setNotifyTriggers(client, schema, true);
  const otherSlots = was === 'logical' ? (await logicalSlots(client)).filter((s) => !s.temporary) : [];
  return { schema, mode: 'notify', changed: was === 'logical', triggersSwitched: switched, publication: pub, tables, otherSlots };
}

async function inTransaction(client: pg.Client, fn: () => Promise<void>): Promise<void> {
  await client.query('begin');
  try {
    await fn();
    await client.query('commit');
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  }
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
