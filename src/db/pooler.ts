/**
 * Is a transaction-mode pooler (PgBouncer pool_mode=transaction, Supavisor/RDS Proxy in
 * transaction mode...) between us and PostgreSQL? Such a pooler hands each transaction to any
 * server session, so a session advisory lock or SET search_path does not survive to the next
 * statement. Detected for real, by observation on two client connections:
 *  1. one connection: a session setting and the backend pid, across two statements;
 *  2. a second connection opens a transaction; the first one's next statement must run in its
 *     own session (a direct connection never shares it, nor waits on the other's transaction);
 *  3. when 1 and 2 saw nothing: the first connection LISTENs and stays idle, the second NOTIFYs.
 *     Only a session that stays ours while we are idle delivers it: a transaction-mode pooler
 *     has handed that session back to its pool (or lent it to another client), so it never
 *     arrives. Steps 1 and 2 can be fooled by chance (other clients of the pooler keep the other
 *     sessions busy, so we keep getting "our" session back); step 3 cannot.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ChatgeniusError } from '../errors.js';

export interface PoolerObservation {
  pidA1: number;
  pidA2: number;
  settingKept: boolean;
  pidB: number;
  /** pid of the first connection's statement while the second held a transaction; null when it did not answer in time. */
  pidA3: number | null;
  /** Whether a NOTIFY reached this connection's LISTEN while it was idle; null when not checked. */
  notified?: boolean | null;
}

/** The evidence (empty when there is none) that statements of one client connection move between server sessions. */
export function poolerEvidence(o: PoolerObservation): string[] {
  const e: string[] = [];
  if (o.pidA1 !== o.pidA2) e.push(`backend pid changed between two statements (${o.pidA1} -> ${o.pidA2})`);
  if (!o.settingKept) e.push('a session setting (SET) was gone in the next statement');
  if (o.pidA3 === null) e.push("a plain SELECT waited for another connection's open transaction");
  else {
    if (o.pidA3 !== o.pidA1) e.push(`backend pid changed while another connection held a transaction (${o.pidA1} -> ${o.pidA3})`);
    if (o.pidB === o.pidA1 || o.pidB === o.pidA3) e.push(`another connection's transaction ran in this connection's server session (pid ${o.pidB})`);
  }
  if (o.notified === false) e.push('a NOTIFY to a channel this connection LISTENs on never arrived while it was idle (its server session had gone back to the pool)');
  return e;
}

const pidOf = async (c: pg.Client): Promise<number> => Number((await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);

/** `a` LISTENs on `channel` and stays idle (no statement in flight); `b` NOTIFYs it. Did it arrive within `waitMs`? */
async function notifiedWhileIdle(a: pg.Client, b: pg.Client, channel: string, waitMs: number): Promise<boolean> {
  await a.query(`LISTEN ${channel}`);
  let timer: NodeJS.Timeout | undefined;
  let onNotification: ((m: pg.Notification) => void) | undefined;
  const arrived = new Promise<boolean>((resolve) => {
    onNotification = (m) => {
      if (m.channel === channel) resolve(true);
    };
    a.on('notification', onNotification);
    timer = setTimeout(() => resolve(false), waitMs);
  });
  try {
    await b.query(`NOTIFY ${channel}`);
    return await arrived;
  } finally {
    clearTimeout(timer);
    if (onNotification) a.off('notification', onNotification);
    // one-off channel: a LISTEN left on a pooled session never hears from it again
    await a.query(`UNLISTEN ${channel}`).catch(() => {});
  }
}

/** Observe the connection `a`, with a second connection from `connectSecond`. Leaves `a` usable. */
export async function observePooler(a: pg.Client, connectSecond: () => Promise<pg.Client>, waitMs = 1500): Promise<PoolerObservation> {
  const token = randomBytes(6).toString('hex');
  const r1 = await a.query<{ pid: number }>("select pg_backend_pid() as pid, set_config('chatgenius.doctor_probe', $1, false)", [token]);
  const pidA1 = Number(r1.rows[0]!.pid);
  const r2 = await a.query<{ pid: number; v: string | null }>("select pg_backend_pid() as pid, current_setting('chatgenius.doctor_probe', true) as v");
  const pidA2 = Number(r2.rows[0]!.pid);
  const settingKept = r2.rows[0]!.v === token;

  const b = await connectSecond();
  b.on('error', () => {});
  try {
    await b.query('begin');
    const pidB = await pidOf(b);
    let timer: NodeJS.Timeout | undefined;
    const pending = pidOf(a);
    const pidA3 = await Promise.race([
      pending,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), waitMs);
      }),
    ]);
    clearTimeout(timer);
    await b.query('commit').catch(() => {});
    if (pidA3 === null) await pending.catch(() => {}); // let it finish now that B has committed
    const seen: PoolerObservation = { pidA1, pidA2, settingKept, pidB, pidA3 };
    // Nothing seen yet may be luck: ask the one question a transaction pooler cannot fake.
    const notified = poolerEvidence(seen).length > 0 ? null : await notifiedWhileIdle(a, b, `chatgenius_probe_${token}`, waitMs);
    return { ...seen, notified };
  } finally {
    await b.end().catch(() => {});
  }
}

/** How to open another connection like a given client (same target, same settings): set by connectClient. */
const siblings = new WeakMap<pg.Client, () => Promise<pg.Client>>();

export function rememberSibling(client: pg.Client, connect: () => Promise<pg.Client>): void {
  siblings.set(client, connect);
}

export function siblingOf(client: pg.Client): (() => Promise<pg.Client>) | undefined {
  return siblings.get(client);
}

/**
 * The pid the server gave this connection at login (BackendKeyData). A direct connection's
 * statements run in exactly that backend; a pooler answers the login itself with a key of its own
 * (PgBouncer, Supavisor, RDS Proxy, ...), so pg_backend_pid() differs. Null when unknown.
 */
export function loginPid(client: pg.Client): number | null {
  const pid = (client as unknown as { processID?: number | null }).processID;
  return typeof pid === 'number' && pid > 0 ? pid : null;
}

/**
 * A session is needed (advisory lock, LISTEN, SET): refuse a transaction-mode pooler with the
 * evidence. Runs the full probe (a second connection when one can be opened, else the
 * one-connection half of it). Returns the evidence (empty: statements stay in one session: a
 * direct connection or a session-mode pooler).
 */
export async function transactionPoolerEvidence(client: pg.Client, connectAnother?: () => Promise<pg.Client>): Promise<string[]> {
  const another = connectAnother ?? siblingOf(client);
  if (another) return poolerEvidence(await observePooler(client, another));
  const r1 = await client.query<{ pid: number }>("select pg_backend_pid() as pid, set_config('chatgenius.session_probe', 'x', false)");
  const r2 = await client.query<{ pid: number; v: string | null }>("select pg_backend_pid() as pid, current_setting('chatgenius.session_probe', true) as v");
  const pidA1 = Number(r1.rows[0]!.pid);
  const pidA2 = Number(r2.rows[0]!.pid);
  return poolerEvidence({ pidA1, pidA2, settingKept: r2.rows[0]!.v === 'x', pidB: -1, pidA3: pidA2 });
}

/**
 * Refuse a transaction-mode pooler (code TRANSACTION_POOLER) before anything that needs a
 * session: `nothing` says what was not done. A direct connection costs one round trip (its
 * backend pid is the one from the login); anything else runs the full probe.
 */
export async function refuseTransactionPooler(
  client: pg.Client,
  nothing: string,
  opts: { connectAnother?: () => Promise<pg.Client>; backendPid?: number } = {},
): Promise<void> {
  const pid = loginPid(client);
  if (pid !== null) {
    const now = opts.backendPid ?? Number((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);
    if (now === pid) return;
  }
  const evidence = await transactionPoolerEvidence(client, opts.connectAnother);
  if (evidence.length > 0) {
    throw new ChatgeniusError('TRANSACTION_POOLER', `A transaction-mode pooler is between chatgenius-db and PostgreSQL; ${nothing}.`, {
      evidence: evidence.join('; '),
    });
  }
}
