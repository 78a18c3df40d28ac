/**
 * The app's traffic for live-database tests: n real pg clients, each inserting a message and a
 * read receipt for it in a loop (autocommit, valid ULID ids as the app sends them), optionally
 * reading a channel's newest messages between writes. Counts writes, errors and each client's
 * longest wait for one operation (its stall), and records when each write completed.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A valid ULID (what the app sends: the spec's tables have no id default). */
export function ulid(): string {
  const r = randomBytes(25);
  return `0${[...r].map((b) => B32[b & 31]).join('')}`;
}

export interface TrafficResult {
  writes: number;
  reads: number;
  errors: string[];
  /** The longest any one operation (insert, or read) waited, over all clients. */
  longestStallMs: number;
  /** Per client: its longest operation. */
  stallsMs: number[];
  /** Completion time (Date.now()) of every write. */
  writeTimes: number[];
}

export interface Writers {
  stop(): Promise<TrafficResult>;
  writes(): number;
  /** Each client's longest operation since the last call (or the start), then start a new period. */
  period(): number[];
}

/**
 * n writer clients, each: insert a message, then a read receipt for it, in a loop (autocommit,
 * like the app); plus `readers` clients reading a channel's newest messages in a loop.
 */
export async function startWriters(
  url: string,
  n: number,
  users: string[],
  channels: string[],
  opts: { readers?: number; readReceipts?: boolean } = {},
): Promise<Writers> {
  let running = true;
  let writes = 0;
  let reads = 0;
  const errors: string[] = [];
  const writeTimes: number[] = [];
  const readers = opts.readers ?? 0;
  const clients: pg.Client[] = [];
  for (let i = 0; i < n + readers; i++) {
    const c = new pg.Client({ connectionString: url, application_name: i < n ? `writer-${i}` : `reader-${i - n}` });
    c.on('error', () => {});
    await c.connect();
    clients.push(c);
  }
  const stalls = clients.map(() => 0);
  let periodStalls = clients.map(() => 0);
  const loops = clients.map(async (c, i) => {
    let k = 0;
    while (running) {
      const user = users[(i + k) % users.length]!;
      const channel = channels[k % channels.length]!;
      k++;
      const t0 = Date.now();
      try {
        if (i < n) {
          const id = ulid();
          await c.query('INSERT INTO messages (id, channel_id, user_id, content) VALUES ($1, $2, $3, $4)', [id, channel, user, `hello ${k}`]);
          writes++;
          writeTimes.push(Date.now());
          if (opts.readReceipts !== false) {
            const t1 = Date.now();
            await c.query('INSERT INTO message_reads (message_id, user_id) VALUES ($1, $2)', [id, user]);
            writes++;
            writeTimes.push(Date.now());
            stalls[i] = Math.max(stalls[i]!, Date.now() - t1, t1 - t0);
            periodStalls[i] = Math.max(periodStalls[i]!, Date.now() - t1, t1 - t0);
            continue;
          }
        } else {
          await c.query('SELECT id, content FROM messages WHERE channel_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 20', [channel]);
          reads++;
        }
      } catch (e) {
        errors.push(`${(e as { code?: string }).code}: ${(e as Error).message}`);
      }
      stalls[i] = Math.max(stalls[i]!, Date.now() - t0);
      periodStalls[i] = Math.max(periodStalls[i]!, Date.now() - t0);
    }
  });
  return {
    writes: () => writes,
    period() {
      const out = periodStalls;
      periodStalls = clients.map(() => 0);
      return out;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
      return { writes, reads, errors, longestStallMs: Math.max(0, ...stalls), stallsMs: stalls, writeTimes };
    },
  };
}
