/**
 * Deterministic demo data for the ChatGenius schema. Pure: no I/O, no clock; the same options give
 * the same rows on every machine.
 *
 * Shape of the data:
 * - users (one well-known `demo@example.com`), each with settings, a status and 1-3 sync states;
 *   about 1% soft-deleted;
 * - channels whose member counts are heavy-tailed (Pareto; `general` has everyone), one owner each,
 *   a few admins; about 4% soft-deleted (their messages stop at the deletion);
 * - messages spread over channels by a heavy-tailed weight, and over time by a bursty process
 *   (mixture of short and long gaps) warped onto a diurnal, weekly and growing activity curve; the
 *   author is always a member who had joined (and was not deleted) at that moment; ~1.5% soft-deleted;
 * - reactions (~15% of messages), files (~3%), read receipts (each member has a read position per
 *   channel and has read the last few messages before it);
 * - every id is a ULID whose time part is the row's created_at (ms).
 *
 * Memory stays proportional to users + channels + memberships, never to messages: the message
 * stream is a k-way merge (by time) of per-channel generators whose timestamps come from two
 * passes over the same seeded gap sequence (sum first, then normalised prefix sums).
 */
import { chance, createRng, exponential, int, logNormal, pareto, pick, zipfIndex, type Rng } from './prng.js';
import { ulidAt } from './ulid.js';
import * as W from './words.js';

export type Value = string | number | boolean | null;
export type Row = Value[];

/** Columns of each table, in the order rows list them (the spec's columns, all of them). */
export const TABLE_COLUMNS = {
  users: ['id', 'auth0_id', 'email', 'username', 'full_name', 'avatar_url', 'created_at', 'updated_at', 'deleted_at'],
  user_settings: ['user_id', 'theme', 'notifications_enabled', 'preferences'],
  user_status: ['user_id', 'status', 'last_seen', 'custom_status'],
  sync_state: ['id', 'user_id', 'last_sync', 'sync_type', 'metadata'],
  channels: ['id', 'name', 'description', 'created_at', 'updated_at', 'deleted_at'],
  channel_members: ['channel_id', 'user_id', 'role', 'joined_at'],
  messages: ['id', 'channel_id', 'user_id', 'content', 'created_at', 'updated_at', 'deleted_at', 'metadata'],
  files: ['id', 'message_id', 'name', 'type', 'size', 'url', 'created_at'],
  reactions: ['id', 'message_id', 'user_id', 'emoji', 'created_at'],
  message_reads: ['message_id', 'user_id', 'read_at'],
} as const;

export type TableName = keyof typeof TABLE_COLUMNS;
/** Load order: parents before children. */
export const TABLE_ORDER: readonly TableName[] = [
  'users', 'user_settings', 'user_status', 'sync_state', 'channels', 'channel_members',
  'messages', 'files', 'reactions', 'message_reads',
];
export type ActivityTable = 'messages' | 'files' | 'reactions' | 'message_reads';
export type StaticTable = Exclude<TableName, ActivityTable>;

export interface GenerateOptions {
  users: number;
  channels: number;
  messages: number;
  seed: string | number;
  /** Last instant of the generated history, ms since epoch. Default 2026-01-01T00:00:00Z. */
  endTime?: number;
  /** Length of the history in days. Default 180. */
  spanDays?: number;
}

export const DEFAULT_SEED = 'chatgenius';
export const DEFAULT_SIZE = { users: 300, channels: 40, messages: 30_000 } as const;
export const DEFAULT_END_TIME = Date.UTC(2026, 0, 1);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** How many of the latest messages before a member's read position carry a receipt. */
const READ_TAIL = 3;

const iso = (ms: number): string => new Date(ms).toISOString();

/** Validate sizes: whole numbers, at least one user and channel, messages >= 0. */
export function normaliseOptions(o: GenerateOptions): Required<GenerateOptions> {
  const whole = (n: number, name: string, min: number): number => {
    if (!Number.isInteger(n) || n < min || n > 100_000_000) throw new RangeError(`${name} must be a whole number >= ${min}, got ${n}`);
    return n;
  };
  return {
    users: whole(o.users, 'users', 1),
    channels: whole(o.channels, 'channels', 1),
    messages: whole(o.messages, 'messages', 0),
    seed: o.seed,
    endTime: o.endTime ?? DEFAULT_END_TIME,
    spanDays: o.spanDays ?? 180,
  };
}

/** Activity over time: hourly weights (diurnal, weekly, slow growth) and their prefix sums. */
class ActivityCurve {
  readonly weights: Float64Array;
  readonly cum: Float64Array;
  constructor(readonly t0: number, readonly t1: number) {
    const n = Math.max(1, Math.ceil((t1 - t0) / HOUR));
    this.weights = new Float64Array(n);
    this.cum = new Float64Array(n + 1);
    // UTC hour weights: quiet nights, busy working hours (a spread of time zones smooths it).
    const diurnal = [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 0.9, 1, 1, 0.95, 0.8, 0.95, 1, 1, 0.95, 0.85, 0.7, 0.55, 0.45, 0.35, 0.28, 0.2];
    for (let i = 0; i < n; i++) {
      const d = new Date(t0 + i * HOUR);
      const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
      this.weights[i] = diurnal[d.getUTCHours()]! * (weekend ? 0.35 : 1) * (0.4 + (0.6 * i) / n);
      this.cum[i + 1] = this.cum[i]! + this.weights[i]!;
    }
  }
  toWeight(ms: number): number {
    const x = Math.min(Math.max(ms - this.t0, 0), this.t1 - this.t0);
    const slot = Math.min(Math.floor(x / HOUR), this.weights.length - 1);
    return this.cum[slot]! + ((x - slot * HOUR) / HOUR) * this.weights[slot]!;
  }
  fromWeight(w: number): number {
    let lo = 0;
    let hi = this.weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.cum[mid]! <= w) lo = mid;
      else hi = mid - 1;
    }
    const frac = Math.min(Math.max((w - this.cum[lo]!) / this.weights[lo]!, 0), 1);
    return Math.min(Math.floor(this.t0 + lo * HOUR + frac * HOUR), this.t1);
  }
}

export interface SeedWorld {
  options: Required<GenerateOptions>;
  t0: number;
  t1: number;
  userIds: string[];
  userCreated: Float64Array;
  /** NaN when not deleted. */
  userDeleted: Float64Array;
  userFirst: Uint8Array;
  userLast: Uint8Array;
  channels: ChannelPlan[];
}

export interface ChannelPlan {
  index: number;
  id: string;
  name: string;
  createdMs: number;
  /** NaN when not deleted. */
  deletedMs: number;
  /** User indexes; position 0 is the owner. */
  members: Int32Array;
  joined: Float64Array;
  roles: Array<'owner' | 'admin' | 'member'>;
  messageCount: number;
  /** Read position per member position (ms): messages up to here are read. */
  readUntil: Float64Array;
  /** Time window the channel's messages fall in. */
  startMs: number;
  endMs: number;
  /** Sum of the channel's n+1 gaps (first pass). */
  gapSum: number;
}

function gap(rng: Rng): number {
  // Bursty: mostly short gaps (a conversation), sometimes long silences.
  return rng() < 0.8 ? exponential(rng, 0.15) : exponential(rng, 4);
}

/** Build the small part of the world (users, channels, memberships, message counts). */
export function planWorld(input: GenerateOptions): SeedWorld {
  const options = normaliseOptions(input);
  const { seed } = options;
  const t1 = options.endTime;
  const t0 = t1 - options.spanDays * DAY;
  const span = t1 - t0;
  const U = options.users;
  const C = options.channels;

  // Users: created mostly early (growth), ~1% soft-deleted later on.
  const ru = createRng(seed, 'users');
  const userIds: string[] = new Array(U);
  const userCreated = new Float64Array(U);
  const userDeleted = new Float64Array(U).fill(NaN);
  const userFirst = new Uint8Array(U);
  const userLast = new Uint8Array(U);
  for (let i = 0; i < U; i++) {
    const created = i === 0 ? t0 : Math.floor(t0 + Math.pow(ru(), 1.6) * span * 0.6);
    userCreated[i] = created;
    userIds[i] = ulidAt(created, ru.u32);
    userFirst[i] = Math.floor(ru() * W.FIRST_NAMES.length);
    userLast[i] = Math.floor(ru() * W.LAST_NAMES.length);
    if (i > 0 && ru() < 0.01) userDeleted[i] = Math.floor(created + (0.3 + 0.65 * ru()) * (t1 - created));
  }

  // Channels.
  const rc = createRng(seed, 'channels');
  const perm = new Int32Array(U);
  for (let i = 0; i < U; i++) perm[i] = i;
  const channels: ChannelPlan[] = [];
  const weights: number[] = [];
  for (let c = 0; c < C; c++) {
    const createdMs = c === 0 ? t0 + HOUR : c === 1 ? t0 + 2 * HOUR : Math.floor(t0 + 3 * HOUR + Math.pow(rc(), 1.5) * span * 0.7);
    const deletedMs = c > 1 && rc() < 0.04 ? Math.floor(createdMs + (0.5 + 0.45 * rc()) * (t1 - createdMs)) : NaN;
    const endMs = Number.isNaN(deletedMs) ? t1 : deletedMs;
    // Owner: a user who existed (and was not deleted) when the channel was made; user 0 always qualifies.
    let owner = 0;
    for (let tries = 0; tries < 20; tries++) {
      const u = Math.floor(rc() * U);
      if (userCreated[u]! <= createdMs && Number.isNaN(userDeleted[u]!)) {
        owner = u;
        break;
      }
    }
    const size = c === 0 ? U : Math.min(U, Math.max(2, Math.floor(pareto(rc, Math.max(3, U / 60), 1.2))));
    // Partial Fisher-Yates over a persistent permutation: `size` distinct users.
    const members = new Int32Array(size);
    members[0] = owner;
    let filled = 1;
    for (let k = 0; filled < size && k < U; k++) {
      const j = k + Math.floor(rc() * (U - k));
      const tmp = perm[k]!;
      perm[k] = perm[j]!;
      perm[j] = tmp;
      if (perm[k] !== owner) members[filled++] = perm[k]!;
    }
    const joined = new Float64Array(size);
    const roles: ChannelPlan['roles'] = new Array(size);
    let admins = 0;
    for (let p = 0; p < size; p++) {
      const u = members[p]!;
      if (p === 0) {
        joined[p] = createdMs;
        roles[p] = 'owner';
        continue;
      }
      const earliest = Math.max(createdMs, userCreated[u]!);
      let j = Math.floor(earliest + exponential(rc, 3 * DAY));
      const limit = Math.min(endMs, Number.isNaN(userDeleted[u]!) ? t1 : userDeleted[u]!);
      if (j >= limit) j = earliest;
      joined[p] = j;
      roles[p] = admins < 5 && rc() < 0.05 ? (admins++, 'admin') : 'member';
    }
    const startMs = createdMs + 10 * MINUTE;
    const readUntil = new Float64Array(size);
    for (let p = 0; p < size; p++) {
      const u = members[p]!;
      const r = rc();
      let until = r < 0.55 ? t1 : r < 0.85 ? t1 - exponential(rc, 2 * DAY) : t1 - exponential(rc, 20 * DAY);
      if (!Number.isNaN(userDeleted[u]!)) until = Math.min(until, userDeleted[u]!);
      readUntil[p] = Math.floor(until);
    }
    const activeShare = Math.max(endMs - startMs, 0) / span;
    weights.push(Math.pow(size, 0.6) * logNormal(rc, 0, 1) * activeShare * (c === 0 ? 1.5 : 1));
    const name = c < W.CHANNEL_NAMES.length ? W.CHANNEL_NAMES[c]! : `${pick(rc, W.PROJECT_WORDS)}-${pick(rc, ['team', 'dev', 'launch', 'sync', 'chat'])}-${c}`;
    channels.push({
      index: c, id: ulidAt(createdMs, rc.u32), name, createdMs, deletedMs, members, joined, roles,
      messageCount: 0, readUntil, startMs, endMs: endMs - MINUTE, gapSum: 0,
    });
  }

  // Message counts: largest remainder over the weights (exact total).
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const exact = weights.map((w) => (w / total) * options.messages);
  let assigned = 0;
  channels.forEach((ch, c) => {
    ch.messageCount = ch.endMs > ch.startMs ? Math.floor(exact[c]!) : 0;
    assigned += ch.messageCount;
  });
  const order = channels
    .map((ch, c) => ({ c, rem: ch.endMs > ch.startMs ? exact[c]! - Math.floor(exact[c]!) : -1 }))
    .sort((a, b) => b.rem - a.rem || a.c - b.c);
  for (let k = 0; assigned < options.messages; k = (k + 1) % order.length) {
    const ch = channels[order[k]!.c]!;
    if (ch.endMs > ch.startMs || order.every((o) => o.rem < 0)) {
      ch.messageCount++;
      assigned++;
    }
  }
  // First pass over each channel's gap sequence.
  for (const ch of channels) {
    const rg = createRng(seed, 'gaps', ch.index);
    let s = 0;
    for (let k = 0; k <= ch.messageCount; k++) s += gap(rg);
    ch.gapSum = s;
  }
  return { options, t0, t1, userIds, userCreated, userDeleted, userFirst, userLast, channels };
}

function userNames(world: SeedWorld, u: number): { first: string; last: string } {
  return { first: W.FIRST_NAMES[world.userFirst[u]!]!, last: W.LAST_NAMES[world.userLast[u]!]! };
}

/** Rows of the tables that do not grow with messages. */
export function* staticRows(world: SeedWorld, table: StaticTable): Generator<Row> {
  const { seed } = world.options;
  const { t1 } = world;
  const U = world.userIds.length;
  const del = (u: number): number | null => (Number.isNaN(world.userDeleted[u]!) ? null : world.userDeleted[u]!);
  switch (table) {
    case 'users': {
      const r = createRng(seed, 'users-rows');
      for (let u = 0; u < U; u++) {
        const id = world.userIds[u]!;
        const created = world.userCreated[u]!;
        const deleted = del(u);
        const auth = `auth0|${r.u32().toString(16).padStart(8, '0')}${r.u32().toString(16).padStart(8, '0')}${r.u32().toString(16).padStart(8, '0')}`;
        if (u === 0) {
          yield [id, auth, 'demo@example.com', 'demo', 'Demo User', null, iso(created), iso(created), null];
          continue;
        }
        const { first, last } = userNames(world, u);
        const local = `${first}.${last}.${u}`;
        const email = `${chance(r, 0.1) ? local : local.toLowerCase()}@${pick(r, W.EMAIL_DOMAINS)}`;
        const avatar = chance(r, 0.7) ? `https://avatars.example.com/${id}.png` : null;
        const updated = deleted ?? Math.min(t1, Math.floor(created + r() * (t1 - created) * 0.2));
        yield [id, auth, email, `${first}${last}${u}`.toLowerCase(), `${first} ${last}`, avatar, iso(created), iso(updated), deleted === null ? null : iso(deleted)];
      }
      return;
    }
    case 'user_settings': {
      const r = createRng(seed, 'settings');
      for (let u = 0; u < U; u++) {
        const x = r();
        const theme = x < 0.45 ? 'light' : x < 0.8 ? 'dark' : 'system';
        const prefs = { language: pick(r, W.LANGUAGES), timezone: pick(r, W.TIMEZONES), compact: chance(r, 0.2) };
        yield [world.userIds[u]!, theme, chance(r, 0.85), JSON.stringify(prefs)];
      }
      return;
    }
    case 'user_status': {
      const r = createRng(seed, 'status');
      for (let u = 0; u < U; u++) {
        const deleted = del(u);
        const x = r();
        const status = deleted !== null ? 'offline' : x < 0.2 ? 'online' : x < 0.35 ? 'away' : x < 0.45 ? 'busy' : 'offline';
        const seen = deleted ?? Math.max(world.userCreated[u]!, Math.floor(t1 - exponential(r, DAY)));
        yield [world.userIds[u]!, status, iso(seen), chance(r, 0.2) ? pick(r, W.CUSTOM_STATUS) : null];
      }
      return;
    }
    case 'sync_state': {
      const r = createRng(seed, 'sync');
      for (let u = 0; u < U; u++) {
        const devices = 1 + zipfIndex(r, 3);
        const until = del(u) ?? t1;
        for (let d = 0; d < devices; d++) {
          const at = Math.max(world.userCreated[u]!, Math.floor(until - exponential(r, 3 * DAY)));
          const meta = { device: pick(r, W.DEVICES), app_version: `1.${int(r, 0, 9)}.${int(r, 0, 20)}` };
          yield [ulidAt(at, r.u32), world.userIds[u]!, iso(at), d === 0 || chance(r, 0.3) ? 'full' : 'incremental', JSON.stringify(meta)];
        }
      }
      return;
    }
    case 'channels': {
      const r = createRng(seed, 'channel-rows');
      for (const ch of world.channels) {
        const deleted = Number.isNaN(ch.deletedMs) ? null : ch.deletedMs;
        const updated = deleted ?? Math.floor(ch.createdMs + r() * (t1 - ch.createdMs) * 0.1);
        yield [ch.id, ch.name, pick(r, W.CHANNEL_TOPICS), iso(ch.createdMs), iso(updated), deleted === null ? null : iso(deleted)];
      }
      return;
    }
    case 'channel_members': {
      for (const ch of world.channels) {
        for (let p = 0; p < ch.members.length; p++) {
          yield [ch.id, world.userIds[ch.members[p]!]!, ch.roles[p]!, iso(ch.joined[p]!)];
        }
      }
      return;
    }
  }
}

interface Stream {
  ch: ChannelPlan;
  rng: Rng;
  left: number;
  cum: number;
  w0: number;
  wLen: number;
  next: number;
  /** Members ordered by read position; pointer to the first not yet handled. */
  readOrder: Int32Array;
  readPtr: number;
  /** The last READ_TAIL messages (ring). */
  tailIds: string[];
  tailCount: number;
}

/** A binary min-heap of streams keyed by (next time, channel index). */
class StreamHeap {
  private items: Stream[] = [];
  private less(a: Stream, b: Stream): boolean {
    return a.next < b.next || (a.next === b.next && a.ch.index < b.ch.index);
  }
  get size(): number {
    return this.items.length;
  }
  push(s: Stream): void {
    const a = this.items;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  peek(): Stream | undefined {
    return this.items[0];
  }
  /** Re-position the top after its key grew, or remove it (`remove`). */
  fixTop(remove: boolean): void {
    const a = this.items;
    if (remove) {
      const last = a.pop()!;
      if (a.length === 0) return;
      a[0] = last;
    }
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
      if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
}

export type ActivityRow = [ActivityTable, Row];

/**
 * Messages in time order, each followed by its files and reactions, with read receipts emitted as
 * members' read positions are passed. Lazy: one row at a time.
 */
export function* activityRows(world: SeedWorld): Generator<ActivityRow> {
  const { seed } = world.options;
  const { t1 } = world;
  const curve = new ActivityCurve(world.t0, world.t1);
  const r = createRng(seed, 'activity');
  const heap = new StreamHeap();
  const streams: Stream[] = [];
  for (const ch of world.channels) {
    const readOrder = Int32Array.from({ length: ch.members.length }, (_, p) => p).sort(
      (a, b) => ch.readUntil[a]! - ch.readUntil[b]! || a - b,
    );
    const s: Stream = {
      ch, rng: createRng(seed, 'gaps', ch.index), left: ch.messageCount, cum: 0,
      w0: curve.toWeight(ch.startMs), wLen: curve.toWeight(ch.endMs) - curve.toWeight(ch.startMs), next: 0,
      readOrder, readPtr: 0, tailIds: new Array(READ_TAIL), tailCount: 0,
    };
    streams.push(s);
    if (s.left > 0) {
      advance(s);
      heap.push(s);
    }
  }
  function advance(s: Stream): void {
    s.cum += gap(s.rng);
    s.next = Math.max(curve.fromWeight(s.w0 + (s.wLen * s.cum) / s.ch.gapSum), s.ch.startMs);
  }
  const userIds = world.userIds;
  function* receipts(s: Stream, before: number): Generator<ActivityRow> {
    const ch = s.ch;
    while (s.readPtr < s.readOrder.length && ch.readUntil[s.readOrder[s.readPtr]!]! < before) {
      const p = s.readOrder[s.readPtr++]!;
      const n = Math.min(s.tailCount, READ_TAIL);
      const readAt = iso(ch.readUntil[p]!);
      const uid = userIds[ch.members[p]!]!;
      for (let k = n; k >= 1; k--) {
        yield ['message_reads', [s.tailIds[(s.tailCount - k) % READ_TAIL]!, uid, readAt]];
      }
    }
  }
  const live = (u: number, at: number): boolean => !(world.userDeleted[u]! <= at);

  while (heap.size > 0) {
    const s = heap.peek()!;
    const ch = s.ch;
    const t = s.next;
    yield* receipts(s, t);

    // Author: a Zipf-ranked member who had joined and was not deleted at t; else the owner.
    let pos = 0;
    for (let tries = 0; tries < 8; tries++) {
      const p = zipfIndex(r, ch.members.length);
      if (ch.joined[p]! <= t && live(ch.members[p]!, t)) {
        pos = p;
        break;
      }
    }
    const author = ch.members[pos]!;
    const id = ulidAt(t, r.u32);
    const content = messageText(r, world);
    let metadata: string | null = null;
    let updated = t;
    let deleted: number | null = null;
    const x = r();
    if (x < 0.05) metadata = JSON.stringify({ mentions: [userIds[ch.members[Math.floor(r() * ch.members.length)]!]] });
    else if (x < 0.07) metadata = JSON.stringify({ links: [`https://example.com/docs/${int(r, 1, 999)}`] });
    else if (x < 0.1) {
      updated = Math.min(t1, Math.floor(t + exponential(r, 10 * MINUTE)));
      metadata = JSON.stringify({ edited: true });
    }
    if (r() < 0.015) {
      deleted = Math.min(t1, Math.floor(t + exponential(r, 6 * HOUR)));
      updated = Math.max(updated, deleted);
    }
    yield ['messages', [id, ch.id, userIds[author]!, content, iso(t), iso(updated), deleted === null ? null : iso(deleted), metadata]];

    if (r() < 0.03) {
      const kind = pick(r, W.FILE_KINDS);
      const fid = ulidAt(t, r.u32);
      const name = `${pick(r, kind.base)}-${int(r, 1, 400)}.${kind.ext}`;
      const size = Math.max(1, Math.round(logNormal(r, kind.mu, 1)));
      yield ['files', [fid, id, name, kind.type, size, `https://files.example.com/${fid}/${name}`, iso(t)]];
    }
    if (r() < 0.15) {
      const k = 1 + zipfIndex(r, 6);
      const seen: string[] = [];
      for (let j = 0; j < k; j++) {
        const p = Math.floor(r() * ch.members.length);
        const emoji = W.EMOJI[zipfIndex(r, W.EMOJI.length)]!;
        const at = Math.min(t1, Math.floor(t + exponential(r, 30 * MINUTE)));
        const u = ch.members[p]!;
        const key = `${p}|${emoji}`;
        if (seen.includes(key) || ch.joined[p]! > at || !live(u, at)) continue;
        seen.push(key);
        yield ['reactions', [ulidAt(at, r.u32), id, userIds[u]!, emoji, iso(at)]];
      }
    }

    s.tailIds[s.tailCount % READ_TAIL] = id;
    s.tailCount++;
    s.left--;
    if (s.left > 0) {
      advance(s);
      heap.fixTop(false);
    } else heap.fixTop(true);
  }
  for (const s of streams) yield* receipts(s, Infinity);
}

function messageText(r: Rng, world: SeedWorld): string {
  const x = r();
  if (x < 0.01) return 'Can someone check this query?\n```\nSELECT id, content\n\tFROM messages\n WHERE channel_id = $1\n```';
  let text: string = pick(r, W.OPENERS);
  text = (text ? `${text} ` : '') + pick(r, W.PHRASES);
  if (x > 0.8) text += `, and ${pick(r, W.PHRASES)}`;
  if (x > 0.95) {
    const u = Math.floor(r() * world.userIds.length);
    text = `@${W.FIRST_NAMES[world.userFirst[u]!]!.toLowerCase()} ${text}`;
  }
  return text + pick(r, W.CLOSERS);
}

/** Everything, table by table: the plan plus lazy row sources. */
export function generateSeed(options: GenerateOptions): {
  world: SeedWorld;
  staticRows(table: StaticTable): Generator<Row>;
  activityRows(): Generator<ActivityRow>;
} {
  const world = planWorld(options);
  return { world, staticRows: (t) => staticRows(world, t), activityRows: () => activityRows(world) };
}
