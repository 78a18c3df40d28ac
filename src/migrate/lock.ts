/**
 * The run's session-level advisory lock, keyed on (database, schema) in the two-int form, and
 * the journal read that rides along with every attempt: ONE round trip.
 *
 * The attempt is a DO block (pg_try_advisory_lock, then the journal as json when the table
 * exists: to_regclass, so a fresh database needs no second trip and nothing is created) that
 * leaves its answer in a session setting, read back by the SELECT in the same string. When the
 * caller says what "nothing to do" looks like, the block releases the lock again right away, so
 * a no-op run costs login + 1 round trip and leaves nothing held.
 *
 * Waiting polls pg_try_advisory_lock outside any transaction (a blocking pg_advisory_lock inside
 * a transaction would deadlock against a holder running CREATE INDEX CONCURRENTLY).
 */
import { parsePrivilegeFacts, privilegeFactsSql, type PrivilegeFacts } from './privileges.js';
import type pg from 'pg';
import { CancelledError, ChatgeniusError } from '../errors.js';
import type { Emit, LockHolder } from '../events.js';
import { journalName, parseJournalRows, selectJournalJsonSql } from './journal.js';
import { quoteLiteral } from './sql-text.js';
import { sleep } from '../sleep.js';
import { loginPid, refuseTransactionPooler } from '../db/pooler.js';

export { refuseTransactionPooler };
import { DEFAULT_LOCK_WAIT_MS } from '../config/defaults.js';
import type { JournalRow } from './types.js';

export function lockKeysSql(schema: string): [string, string] {
  return ['hashtext(current_database())', `hashtext(${quoteLiteral(`chatgenius-db:${schema}`)})`];
}

export function unlockSql(schema: string): string {
  const [k1, k2] = lockKeysSql(schema);
  return `SELECT pg_advisory_unlock(${k1}, ${k2}) AS unlocked`;
}

/** When to let go of the lock inside the attempt itself (nothing to do). */
export type ReleaseWhen =
  | { kind: 'never' }
  /** every one of these versions has an 'applied' row */
  | { kind: 'all-applied'; versions: string[] }
  /** no 'applied' row at all */
  | { kind: 'none-applied' };

export interface RunState {
  /** The lock is held now (false when not requested, not obtained, or released by ReleaseWhen). */
  locked: boolean;
  /** The lock was obtained and released again because there was nothing to do. */
  released: boolean;
  journalExists: boolean;
  journal: JournalRow[];
  /** Who holds the lock when this run does not (read only then). */
  holder: LockHolder | null;
  serverVersionNum: number;
  dbUser: string;
  /** pg_backend_pid() of the session that answered. */
  backendPid: number;
  /**
   * What this role may do here (read in the same round trip; checked before anything runs).
   * Not read when the lock was released for having nothing to do (then all false, and unused).
   */
  privileges: PrivilegeFacts;
}

function releaseCondition(r: ReleaseWhen): string {
  switch (r.kind) {
    case 'never':
      return 'false';
    case 'none-applied':
      return `NOT EXISTS (SELECT 1 FROM json_array_elements(coalesce(j, '[]'::json)) e WHERE e->>'status' = 'applied')`;
    case 'all-applied': {
      const arr = r.versions.length ? `ARRAY[${r.versions.map(quoteLiteral).join(',')}]::text[]` : `ARRAY[]::text[]`;
      // uncorrelated NOT IN: the journal json is expanded once (hashed), not once per version
      return `NOT EXISTS (SELECT 1 FROM unnest(${arr}) v(version) WHERE v.version NOT IN (SELECT e->>'version' FROM json_array_elements(coalesce(j, '[]'::json)) e WHERE e->>'status' = 'applied'))`;
    }
  }
}

/** Another session holding the migration lock (pid, application, address, since, user, state), as json. */
function holderSql(k1: string, k2: string): string {
  return `SELECT row_to_json(h) FROM (
     SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, coalesce(a.state_change, a.backend_start) AS since, a.usename, a.state
     FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
       AND l.classid = (${k1})::oid AND l.objid = (${k2})::oid AND l.objsubid = 2 AND l.granted AND l.pid <> pg_backend_pid()
     LIMIT 1) h`;
}

/** The one-round-trip attempt: lock (optional) + journal read (+ release when nothing to do). */
export function stateSql(schema: string, opts: { tryLock: boolean; release: ReleaseWhen; expectPid?: number | null }): string {
  // The lock is only tried in the backend that answered our login: through a pooler (which
  // answers the login itself) nothing is taken until the pooler probe has cleared it.
  const pidOk = opts.expectPid ? `pg_backend_pid() = ${Math.trunc(opts.expectPid)}` : 'true';
  const [k1, k2] = lockKeysSql(schema);
  return `DO $chatgenius_db$
DECLARE
  j json := NULL;
  got boolean := false;
  released boolean := false;
  has_journal boolean;
  holder json := NULL;
  priv json := NULL;
BEGIN
  IF ${opts.tryLock ? 'true' : 'false'} AND ${pidOk} THEN got := pg_try_advisory_lock(${k1}, ${k2}); END IF;
  has_journal := to_regclass(${quoteLiteral(journalName(schema))}) IS NOT NULL;
  IF has_journal THEN
    EXECUTE ${quoteLiteral(selectJournalJsonSql(schema))} INTO j;
  END IF;
  IF got AND (${releaseCondition(opts.release)}) THEN
    PERFORM pg_advisory_unlock(${k1}, ${k2});
    got := false;
    released := true;
  END IF;
  -- Planned only when needed (dynamic SQL): the views behind the holder (pg_locks, pg_stat_activity)
  -- cost a fresh session ~10 ms to plan, and a run that holds the lock has no holder to name.
  IF NOT got AND NOT released THEN
    EXECUTE ${quoteLiteral(holderSql(k1, k2))} INTO holder;
  END IF;
  IF NOT released THEN
    EXECUTE ${quoteLiteral(`SELECT row_to_json(p) FROM (${privilegeFactsSql(quoteLiteral(schema))}) p`)} INTO priv;
  END IF;
  PERFORM set_config('chatgenius_db.state', json_build_object('locked', got, 'released', released, 'journal_exists', has_journal, 'journal', j, 'holder', holder, 'privileges', priv)::text, false);
END
$chatgenius_db$;
SELECT current_setting('chatgenius_db.state') AS state, pg_backend_pid() AS backend_pid, current_setting('server_version_num')::int AS server_version, current_user AS db_user;
SELECT set_config('chatgenius_db.state', '', false)`;
}

function parseHolder(h: unknown): LockHolder | null {
  if (!h || typeof h !== 'object') return null;
  const r = h as Record<string, unknown>;
  return {
    pid: Number(r.pid),
    applicationName: r.application_name == null ? null : String(r.application_name),
    clientAddr: r.client_addr == null ? null : String(r.client_addr),
    since: r.since == null ? null : new Date(String(r.since)).toISOString(),
    user: r.usename == null ? null : String(r.usename),
    state: r.state == null ? null : String(r.state),
  };
}

/** Results of a multi-statement simple query, always as an array. */
export function results(res: unknown): pg.QueryResult[] {
  return (Array.isArray(res) ? res : [res]) as pg.QueryResult[];
}

/** The attempt without the lock: what a dry run, status and verify read (the same one round trip). */
export const PEEK: { tryLock: false; release: ReleaseWhen } = { tryLock: false, release: { kind: 'never' } };

export async function readState(
  client: pg.Client,
  schema: string,
  opts: { tryLock: boolean; release: ReleaseWhen; expectPid?: number | null } = PEEK,
): Promise<RunState> {
  return parseStateRows(results(await client.query(stateSql(schema, opts))))!;
}

/** The state among the results of a string that ran stateSql (undefined when it is not there). */
export function parseStateRows(res: pg.QueryResult[]): RunState | undefined {
  const row = res.find((r) => r.rows?.[0] && 'state' in r.rows[0])?.rows[0] as Record<string, unknown> | undefined;
  if (!row) return undefined;
  const st = JSON.parse(String(row.state)) as { locked: boolean; released: boolean; journal_exists: boolean; journal: unknown; holder: unknown; privileges: unknown };
  return {
    locked: st.locked,
    released: st.released,
    journalExists: st.journal_exists,
    journal: parseJournalRows(st.journal),
    holder: parseHolder(st.holder),
    serverVersionNum: Number(row.server_version),
    dbUser: String(row.db_user),
    backendPid: Number(row.backend_pid),
    privileges: parsePrivilegeFacts((st.privileges ?? {}) as Record<string, unknown>),
  };
}

/** acquireAndRead's waiting options (poll interval, give-up time, Ctrl-C) from the engine options. */
export function waitOptions(opts: { lockPollMs?: number; lockWaitTimeoutMs?: number; signal?: AbortSignal; connectAnother?: () => Promise<pg.Client> }): WaitOptions & {
  waitTimeoutMs: number;
} {
  return {
    ...(opts.lockPollMs !== undefined ? { pollMs: opts.lockPollMs } : {}),
    waitTimeoutMs: opts.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_MS,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.connectAnother ? { connectAnother: opts.connectAnother } : {}),
  };
}

/** How acquireAndRead waits for a lock another run holds. */
export interface WaitOptions {
  pollMs?: number;
  waitTimeoutMs?: number;
  signal?: AbortSignal;
  connectAnother?: () => Promise<pg.Client>;
}

/**
 * Refuse a transaction-mode pooler before any lock is taken: the session lock would land in
 * whichever server session the pooler lends, and stay there after we are gone.
 */
export async function assertSessionConnection(client: pg.Client, backendPid: number, connectAnother?: () => Promise<pg.Client>): Promise<void> {
  await refuseTransactionPooler(client, 'nothing was changed and no lock was taken', { backendPid, ...(connectAnother ? { connectAnother } : {}) });
}

/**
 * Take the lock (waiting as long as it takes, polling) and read the journal. Emits `lock:wait`
 * once with the holder, then `lock:acquired`. The returned state is read after the lock was
 * obtained, so it is current.
 */
export async function acquireAndRead(
  client: pg.Client,
  schema: string,
  opts: { release: ReleaseWhen; emit: Emit } & WaitOptions,
): Promise<{ state: RunState; waitedMs: number; holder: LockHolder | null }> {
  const t0 = Date.now();
  let firstHolder: LockHolder | null = null;
  let waited = false;
  let lookedAgain = false;
  // A direct connection answers in the backend that logged us in: no probe, no extra round trip.
  let expectPid = loginPid(client);
  for (;;) {
    if (opts.signal?.aborted) throw new CancelledError();
    const state = await readState(client, schema, { tryLock: true, release: opts.release, expectPid });
    if (!state.locked && !state.released && expectPid !== null && state.backendPid !== expectPid) {
      // A pooler (or proxy) answered the login: find out what kind before taking any lock.
      await assertSessionConnection(client, state.backendPid, opts.connectAnother);
      expectPid = null; // a session-mode pooler keeps us in one session: go on
      continue;
    }
    if (state.locked || state.released) {
      // Waited only if someone held it: the first attempt's own round trip is not a wait.
      const waitedMs = waited ? Date.now() - t0 : 0;
      opts.emit({ type: 'lock:acquired', waitedMs });
      return { state, waitedMs, holder: firstHolder };
    }
    // The holder may release between our try-lock and the holder query (no holder seen): try
    // again at once before saying we wait, and name the holder once it is seen.
    if (!waited && state.holder === null && !lookedAgain) {
      lookedAgain = true;
      continue;
    }
    if (!waited) {
      waited = true;
      firstHolder = state.holder;
      opts.emit({ type: 'lock:wait', holder: state.holder });
    }
    if (opts.waitTimeoutMs !== undefined && Date.now() - t0 >= opts.waitTimeoutMs) {
      const last = (await readState(client, schema).catch(() => null))?.holder ?? firstHolder;
      throw new ChatgeniusError(
        'MIGRATION_LOCK_WAIT_TIMEOUT',
        `Another run still holds the migration lock on schema ${schema} after ${opts.waitTimeoutMs} ms (--lock-wait).`,
        {
          schema,
          holder: last,
          waitTimeoutMs: opts.waitTimeoutMs,
          waitedMs: Date.now() - t0,
        },
      );
    }
    await sleep(opts.pollMs ?? 250, opts.signal);
  }
}

export async function releaseLock(client: pg.Client, schema: string): Promise<void> {
  await client.query(unlockSql(schema));
}

/** What the lock's round trip found, handed to the body that runs under the lock. */
export interface HeldLock {
  state: RunState;
  /** How long this run waited for another run's lock, and who held it then (0 and null when not waited). */
  lock: { waitedMs: number; holder: LockHolder | null };
  /** The lock is held now: false without `take`, or when the attempt let go at once (nothing to do). */
  holding: boolean;
  /** The body's last trip released the lock itself (its SQL ends with the unlock): nothing is left to let go. */
  releasedByRun(): void;
}

/**
 * The one place a run holds the migration lock: take it (lock + journal read + privileges, ONE
 * round trip; waiting and the pooler check as acquireAndRead does), run `body`, and always let go,
 * also when the body throws. A run whose last trip unlocks in the same string says so with
 * `releasedByRun()`, so no extra round trip is spent. `take: false` (a dry run) reads the same
 * state in the same one trip without taking anything.
 */
export async function withMigrationLock<T>(
  client: pg.Client,
  schema: string,
  opts: { take: boolean; release: ReleaseWhen; emit: Emit } & WaitOptions,
  body: (held: HeldLock) => Promise<T>,
): Promise<T> {
  const got = opts.take ? await acquireAndRead(client, schema, opts) : { state: await readState(client, schema), waitedMs: 0, holder: null };
  let holds = got.state.locked;
  try {
    return await body({
      state: got.state,
      lock: { waitedMs: got.waitedMs, holder: got.holder },
      holding: holds,
      releasedByRun: () => {
        holds = false;
      },
    });
  } finally {
    if (holds) await releaseLock(client, schema).catch(() => undefined);
  }
}
