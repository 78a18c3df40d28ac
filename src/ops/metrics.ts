/**
 * The metrics of `status --metrics` (prom-client, imported lazily), printed by the CLI as Prometheus text:
 *  - chatgenius_query_duration_seconds{query}: a histogram of the queries this run makes;
 *  - chatgenius_index_scans_total / _tuples_read_total / _tuples_fetched_total{schema,table,index}
 *    from pg_stat_user_indexes (the spec's indexUsage counter);
 *  - chatgenius_trigger_executions_total / _seconds_total{schema,function} from
 *    pg_stat_user_functions for trigger functions (the spec's triggerExecution counter); these
 *    need track_functions = 'pl' (or 'all'): when it is 'none' a comment line and a note on
 *    stderr say how to turn it on;
 *  - chatgenius_migrations{state} and chatgenius_notification_queue_usage_ratio.
 * The counters are PostgreSQL's cumulative statistics (since the last stats reset), exposed as
 * counters, so rate() works on them when scraped repeatedly.
 */
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { status } from '../migrate/status.js';
import type { EngineOptions } from '../migrate/types.js';

export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A short, low-cardinality name for a query: `select pg_stat_user_indexes`, `do`, `show`. */
export function queryName(sql: string): string {
  const named = /^\s*\/\*\s*([a-z][a-z0-9_ ]{0,40}?)\s*\*\//i.exec(sql);
  if (named) return named[1]!.toLowerCase();
  const text = sql
    .replace(/--[^\n]*\n/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
  const verb = /^[a-z]+/.exec(text)?.[0] ?? 'query';
  const from = /\b(?:from|into|update|table)\s+(?:only\s+)?((?:"[^"]+"|[a-z_][a-z0-9_$]*)(?:\.(?:"[^"]+"|[a-z_][a-z0-9_$]*))?)/.exec(text);
  const rel = from?.[1]?.replace(/"/g, '').replace(/^pg_catalog\./, '');
  return rel ? `${verb} ${rel.replace(/^[a-z0-9_]+\.(chatgenius_migrations)$/, '$1')}` : verb;
}

type QueryFn = pg.Client['query'];

/** Time every promise-returning query of `client` into `observe` until the returned function restores it. */
export function timeQueries(client: pg.Client, observe: (name: string, seconds: number, ok: boolean) => void): () => void {
  const original = client.query as QueryFn;
  const wrapped = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : typeof first?.text === 'string' ? first.text : '';
    const hasCallback = typeof args[args.length - 1] === 'function';
    const t0 = performance.now();
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (!hasCallback && result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        () => observe(queryName(text), (performance.now() - t0) / 1000, true),
        () => observe(queryName(text), (performance.now() - t0) / 1000, false),
      );
    }
    return result;
  };
  (client as unknown as { query: unknown }).query = wrapped;
  return () => {
    (client as unknown as { query: unknown }).query = original;
  };
}

interface IndexRow {
  schemaname: string;
  relname: string;
  indexrelname: string;
  idx_scan: string;
  idx_tup_read: string;
  idx_tup_fetch: string;
}
interface FunctionRow {
  schemaname: string;
  funcname: string;
  calls: string;
  total_time: number;
  self_time: number;
}

export interface MetricsFacts {
  trackFunctions: string;
  database: string;
  indexes: IndexRow[];
  functions: FunctionRow[];
  queueUsage: number;
  applied: number;
  pending: number;
}

/** Read the statistics (each one query, timed by the caller's wrapper). */
export async function readFacts(client: pg.Client, schema: string): Promise<Omit<MetricsFacts, 'applied' | 'pending'>> {
  const s = await client.query<{ track_functions: string; database: string; queue: number }>(
    "/* settings */ select current_setting('track_functions') as track_functions, current_database() as database, pg_notification_queue_usage() as queue",
  );
  const idx = await client.query<IndexRow>(
    `select schemaname, relname, indexrelname, idx_scan::text, idx_tup_read::text, idx_tup_fetch::text
       from pg_stat_user_indexes where schemaname = $1 order by relname, indexrelname`,
    [schema],
  );
  const fn = await client.query<FunctionRow>(
    `select f.schemaname, f.funcname, f.calls::text, f.total_time, f.self_time
       from pg_stat_user_functions f join pg_proc p on p.oid = f.funcid
      where f.schemaname = $1 and p.prorettype = 'trigger'::regtype order by f.funcname`,
    [schema],
  );
  return { trackFunctions: s.rows[0]!.track_functions, database: s.rows[0]!.database, queueUsage: Number(s.rows[0]!.queue), indexes: idx.rows, functions: fn.rows };
}

export const TRACK_FUNCTIONS_NOTE = (db: string) =>
  `track_functions is 'none': trigger executions are not counted. Enable it (as a superuser): ALTER DATABASE "${db.replace(/"/g, '""')}" SET track_functions = 'pl'; (new sessions count from then on)`;

/** The metrics of one run: the registry to print, the facts it was made from, and a note for the user. */
export interface CollectedMetrics {
  registry: Registry;
  facts: MetricsFacts;
  /** Set when track_functions is 'none' (trigger executions are then not counted). */
  note: string | null;
}

/**
 * Read the statistics and the migration state through `client` (every query timed into the
 * duration histogram) and build the Prometheus registry. Prints nothing: the CLI prints.
 */
export async function collectMetrics(client: pg.Client, engine: EngineOptions): Promise<CollectedMetrics> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  const duration = new prom.Histogram({
    name: 'chatgenius_query_duration_seconds',
    help: 'Duration of the queries this run made, by query',
    labelNames: ['query', 'ok'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const restore = timeQueries(client, (name, seconds, ok) => duration.observe({ query: name, ok: ok ? 'true' : 'false' }, seconds));
  let facts: MetricsFacts;
  try {
    const f = await readFacts(client, engine.schema);
    const st = await status(client, engine);
    facts = { ...f, applied: st.applied.filter((a) => a.status === 'applied').length, pending: st.pending.length };
  } finally {
    restore();
  }
  const labels = ['schema', 'table', 'index'] as const;
  const scans = new prom.Counter({
    name: 'chatgenius_index_scans_total',
    help: 'Index scans (pg_stat_user_indexes.idx_scan)',
    labelNames: labels,
    registers: [registry],
  });
  const read = new prom.Counter({
    name: 'chatgenius_index_tuples_read_total',
    help: 'Index entries returned by scans (idx_tup_read)',
    labelNames: labels,
    registers: [registry],
  });
  const fetched = new prom.Counter({
    name: 'chatgenius_index_tuples_fetched_total',
    help: 'Live rows fetched by index scans (idx_tup_fetch)',
    labelNames: labels,
    registers: [registry],
  });
  for (const i of facts.indexes) {
    const l = { schema: i.schemaname, table: i.relname, index: i.indexrelname };
    scans.inc(l, Number(i.idx_scan));
    read.inc(l, Number(i.idx_tup_read));
    fetched.inc(l, Number(i.idx_tup_fetch));
  }
  const calls = new prom.Counter({
    name: 'chatgenius_trigger_executions_total',
    help: 'Calls of trigger functions (pg_stat_user_functions.calls; needs track_functions)',
    labelNames: ['schema', 'function'],
    registers: [registry],
  });
  const seconds = new prom.Counter({
    name: 'chatgenius_trigger_execution_seconds_total',
    help: 'Time spent in trigger functions (pg_stat_user_functions.total_time)',
    labelNames: ['schema', 'function'],
    registers: [registry],
  });
  for (const f of facts.functions) {
    calls.inc({ schema: f.schemaname, function: f.funcname }, Number(f.calls));
    seconds.inc({ schema: f.schemaname, function: f.funcname }, Number(f.total_time) / 1000);
  }
  const migrations = new prom.Gauge({ name: 'chatgenius_migrations', help: 'Migrations by state', labelNames: ['schema', 'state'], registers: [registry] });
  migrations.set({ schema: engine.schema, state: 'applied' }, facts.applied);
  migrations.set({ schema: engine.schema, state: 'pending' }, facts.pending);
  const queue = new prom.Gauge({
    name: 'chatgenius_notification_queue_usage_ratio',
    help: 'pg_notification_queue_usage(): a full queue makes COMMITs of notifying writes fail',
    registers: [registry],
  });
  queue.set(facts.queueUsage);
  return { registry, facts, note: facts.trackFunctions === 'none' ? TRACK_FUNCTIONS_NOTE(facts.database) : null };
}
