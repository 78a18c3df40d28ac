/**
 * A monitoring client for the online bench: samples pg_stat_activity every few milliseconds and
 * reports which statement of the migration (the session named chatgenius-db) the app's clients
 * were queued behind (wait_event_type Lock), for how long, and how long the app's own queries ran.
 */
import pg from 'pg';

export interface WatchReport {
  /** Per migration statement (first 100 characters): the longest stretch with app clients waiting on a lock, and the most at once. */
  queued: Array<{ statement: string; longestMs: number; mostWaiting: number; migrationWait: string; blockers: string }>;
  /** The longest a single app query ran (any reason), in ms. */
  longestAppQueryMs: number;
  /** Per app client (writer-N, reader-N): its longest unbroken wait for a lock, in ms (sampled). */
  lockWaitMs: Map<string, number>;
}

export async function watchLocks(url: string, everyMs = 20): Promise<{ stop(): Promise<WatchReport> }> {
  const c = new pg.Client({ connectionString: url, application_name: 'bench-watch' });
  await c.connect();
  let running = true;
  const stretches = new Map<string, { longestMs: number; mostWaiting: number; migrationWait: string; blockers: string }>();
  let open: { key: string; since: number } | null = null;
  let longestAppQueryMs = 0;
  const lockWaitMs = new Map<string, number>();
  const waitingSince = new Map<string, number>();
  const loop = (async () => {
    while (running) {
      const t = Date.now();
      const { rows } = await c.query<{ pid: number; app: string; state: string; wet: string | null; we: string | null; q: string; ms: number; blocked_by: number[] }>(
        `SELECT pid, application_name AS app, state, wait_event_type AS wet, wait_event AS we, left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS q,
                (extract(epoch FROM clock_timestamp() - query_start) * 1000)::int AS ms, pg_blocking_pids(pid) AS blocked_by
           FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      );
      const mig = rows.find((r) => r.app === 'chatgenius-db');
      const app = rows.filter((r) => /^(writer|reader)-/.test(r.app));
      for (const r of app) if (r.state === 'active') longestAppQueryMs = Math.max(longestAppQueryMs, r.ms);
      const waiting = app.filter((r) => r.state === 'active' && r.wet === 'Lock');
      for (const r of app) {
        if (r.state === 'active' && r.wet === 'Lock') {
          const since = waitingSince.get(r.app) ?? t - Math.min(r.ms, everyMs);
          waitingSince.set(r.app, since);
          lockWaitMs.set(r.app, Math.max(lockWaitMs.get(r.app) ?? 0, Date.now() - since));
        } else {
          waitingSince.delete(r.app);
          if (!lockWaitMs.has(r.app)) lockWaitMs.set(r.app, 0);
        }
      }
      if (waiting.length > 0 && mig) {
        const key = mig.state === 'active' ? mig.q : `(${mig.state}) ${mig.q}`;
        if (!open || open.key !== key) open = { key, since: t };
        const s = stretches.get(key) ?? { longestMs: 0, mostWaiting: 0, migrationWait: '', blockers: '' };
        if (mig.wet === 'Lock') {
          const by = rows.filter((r) => mig.blocked_by.includes(r.pid)).map((r) => `${r.app} ${r.state} ${r.ms} ms`);
          if (by.length) s.blockers = by.join(', ');
        }
        s.longestMs = Math.max(s.longestMs, Date.now() - open.since);
        s.mostWaiting = Math.max(s.mostWaiting, waiting.length);
        if (mig.wet) s.migrationWait = `${mig.wet}/${mig.we}`;
        stretches.set(key, s);
      } else open = null;
      const left = everyMs - (Date.now() - t);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop.catch(() => undefined);
      await c.end().catch(() => undefined);
      const queued = [...stretches.entries()].map(([statement, s]) => ({ statement, ...s })).sort((a, b) => b.longestMs - a.longestMs);
      return { queued, longestAppQueryMs, lockWaitMs };
    },
  };
}
