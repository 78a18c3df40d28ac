/**
 * Typed events. The engine, the tunnel and the pool never print: they call `emit(event)`.
 * The terminal UI and the JSON-lines logger are two listeners.
 */
export interface LockHolder {
  pid: number;
  applicationName: string | null;
  clientAddr: string | null;
  since: string | null; // ISO time the holder's session started its current state
  user: string | null;
  /** pg_stat_activity.state: 'idle' (a client that holds the lock and does nothing), 'active', 'idle in transaction'... */
  state?: string | null;
}

export interface PlannedStep {
  version: string;
  name: string;
  file: string;
  direction: 'up' | 'down';
  transactional: boolean;
}

export type ChatgeniusEvent =
  | { type: 'connect:start'; target: string; attempt: number }
  | { type: 'connect:done'; target: string; ms: number; serverVersion?: string }
  | { type: 'retry'; operation: string; attempt: number; maxRetries: number; delayMs: number; code?: string; message: string }
  | { type: 'tunnel:connecting'; host: string; port: number; attempt: number }
  | { type: 'tunnel:open'; host: string; localPort: number; remote: string; ms: number }
  | { type: 'tunnel:hostkey'; host: string; fingerprint: string; status: 'known' | 'pinned' | 'new-accepted' | 'unknown' | 'changed' }
  | { type: 'tunnel:closed'; host: string; reason?: string }
  | { type: 'lock:wait'; holder: LockHolder | null }
  | { type: 'lock:acquired'; waitedMs: number }
  | { type: 'plan'; direction: 'up' | 'down'; steps: PlannedStep[]; applied: number }
  | { type: 'migration:start'; version: string; name: string; direction: 'up' | 'down' }
  | { type: 'migration:done'; version: string; name: string; direction: 'up' | 'down'; durationMs: number }
  /**
   * A run was stopped (Ctrl-C, a lost connection) while this migration ran: its transaction was
   * rolled back. `confirmed`: the journal was read after the stop; false when the connection was
   * gone and the server's rollback is inferred (it commits nothing of an unfinished transaction).
   */
  | { type: 'migration:interrupted'; version: string; name: string; direction: 'up' | 'down'; reason: 'cancelled' | 'connection-lost'; confirmed: boolean }
  | { type: 'migration:failed'; version: string; name: string; direction: 'up' | 'down'; code?: string; message: string; statement?: string }
  | { type: 'notice'; level: 'info' | 'warn'; message: string; data?: Record<string, unknown> }
  | { type: 'query'; sql: string; durationMs: number; ok: boolean }
  /** rows/totalRows: the current table's; loaded: rows sent so far over all tables. */
  | { type: 'seed:progress'; table: string; rows: number; totalRows: number; percent: number; loaded: number };

export type EventType = ChatgeniusEvent['type'];
export type Emit = (event: ChatgeniusEvent) => void;
export const noEmit: Emit = () => {};

/** Fan one event out to several listeners (UI + logger), isolating listener failures. */
export function fanOut(...listeners: Array<Emit | undefined>): Emit {
  const ls = listeners.filter((l): l is Emit => typeof l === 'function');
  return (event) => {
    for (const l of ls) {
      try {
        l(event);
      } catch {
        /* a broken listener must never break a migration */
      }
    }
  };
}
